"""Warning outcome of one run: hazard onsets of the RSI applications, detection and false alarms.

For HLW, IVS and SLW the hazard is not another actor but a zone: their lead time is measured
against the vehicle's entry into the zone of a scenario road event (HLW: events, IVS/SLW:
signs; a sign's zone is its reference path's corridor, else its radius). Detection: each
expected warning raised with its lead time (``expect.warnings``). False alarm: a benign twin
(``expect.no_warnings``) in which any warning was raised, or for ``no_warnings_of`` one of
those applications' warnings. The robustness sweep adds these up
over runs (``sim_nodes.report.warning_rates``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sim_nodes.scenarios.schema import RoadEventConfig

ZONE_APPS = {'HLW': 'event', 'IVS': 'sign', 'SLW': 'sign'}


def _in_zone(ev: RoadEventConfig, x: float, y: float) -> bool:
    if ev.path_m:
        p = np.asarray(ev.path_m, dtype=float)
        a, b = p[:-1], p[1:]
        ab = b - a
        u = np.clip(
            ((x - a[:, 0]) * ab[:, 0] + (y - a[:, 1]) * ab[:, 1])
            / np.maximum((ab**2).sum(axis=1), 1e-9),
            0.0,
            1.0,
        )
        d = np.hypot(a[:, 0] + u * ab[:, 0] - x, a[:, 1] + u * ab[:, 1] - y)
        if len(p) == 1:
            d = np.hypot(p[:, 0] - x, p[:, 1] - y)
        return bool(d.min() <= ev.path_radius_m)
    return bool(np.hypot(ev.position_m[0] - x, ev.position_m[1] - y) <= ev.radius_m)


def zone_entry_time(
    vehicle: str,
    app: str,
    all_xy: Sequence[tuple[float, dict[str, Any]]],
    events: Sequence[RoadEventConfig],
) -> float | None:
    """First time ``vehicle`` is inside the zone of an event of ``app``'s kind (None: never)."""
    kind = ZONE_APPS[app]
    zones = [
        ev
        for ev in events
        if (ev.event_type != 0) == (kind == 'event') and (kind == 'event' or ev.sign_type != 0)
    ]
    for t, pos in all_xy:
        me = pos.get(vehicle)
        if me is not None and any(t >= ev.start_s and _in_zone(ev, *me[:2]) for ev in zones):
            return t
    return None


def detection(expect: Any, first: list[dict[str, Any]], producing: bool) -> dict[str, Any]:
    """Expected warnings met (raised with the lead time) and whether a benign twin raised any."""
    met = 0
    for w in expect.warnings:
        leads = [
            f['lead_time_s']
            for f in first
            if f['application'] == w.application
            and (not w.vehicle or f['vehicle'] == w.vehicle)
            and f['lead_time_s'] is not None
        ]
        met += bool(leads) and max(leads) >= w.min_lead_time_s
    benign = bool(expect.no_warnings or expect.no_warnings_of)
    if expect.no_warnings_of and not expect.no_warnings:
        first = [f for f in first if f['application'] in expect.no_warnings_of]
    return {
        'expected': len(expect.warnings),
        'detected': met if producing else None,
        'benign': benign,
        'false_alarm': (bool(first) if producing else None) if benign else None,
    }

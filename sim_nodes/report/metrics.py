"""Metrics of one run, as the plain JSON-able dict written to ``metrics.json``.

Everything except the ``timing`` section is a deterministic function of scenario and seed.
Warning lead time = conflict time - first warning of that application to that vehicle, where
the conflict time is the vehicle's first collision, or else the moment of its closest approach
to any other actor (the situation the warning was about).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sim_nodes.report.mot_metrics import evaluate_mot
from sim_nodes.report.outcome import ZONE_APPS, detection, zone_entry_time
from sim_nodes.report.probe import Probe
from sim_nodes.world.world import WorldEvent


def percentiles(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    a = np.asarray(values, dtype=float)
    return {
        'n': int(a.size),
        'mean': _r(a.mean()),
        'p50': _r(np.percentile(a, 50)),
        'p95': _r(np.percentile(a, 95)),
        'p99': _r(np.percentile(a, 99)),
        'max': _r(a.max()),
    }


def _r(x: float, digits: int = 4) -> float:
    return round(float(x), digits)


def conflict_time(vehicle: str, probe: Probe, events: Sequence[WorldEvent]) -> float | None:
    for e in events:
        if e.kind == 'collision' and vehicle in e.actors:
            return e.t_s
    best, best_t = math.inf, None
    for t, pos in probe.all_xy:
        me = pos.get(vehicle)
        if me is None or len(pos) < 2:
            continue
        others = np.array([p for n, p in pos.items() if n != vehicle])
        d = float(np.min(np.hypot(others[:, 0] - me[0], others[:, 1] - me[1])))
        if d < best:
            best, best_t = d, t
    return best_t


def warning_metrics(
    probe: Probe, events: Sequence[WorldEvent], road_events: Sequence[Any] = ()
) -> dict[str, Any]:
    first: dict[tuple[str, str], float] = {}
    for w in probe.warnings:
        first.setdefault((w.vehicle, w.application), w.t_s)
    out = []
    for (vehicle, app), t in sorted(first.items()):
        if app in ZONE_APPS:  # the hazard is a zone ahead, not another actor
            tc = zone_entry_time(vehicle, app, probe.all_xy, road_events)
        else:
            tc = conflict_time(vehicle, probe, events)
        out.append(
            {
                'vehicle': vehicle,
                'application': app,
                'first_t_s': _r(t),
                'conflict_t_s': None if tc is None else _r(tc),
                'lead_time_s': None if tc is None else _r(tc - t),
            }
        )
    by_app: dict[str, int] = {}
    for w in probe.warnings:
        by_app[w.application] = by_app.get(w.application, 0) + 1
    return {
        'count': len(probe.warnings),
        'by_application': by_app,
        'first': out,
        'topics': list(probe.topics.get('warnings', [])),
    }


def _map_matching(probe: Probe) -> dict[str, Any] | None:
    if not probe.topics.get('lanes'):
        return None
    n = probe.lane_epochs
    return {
        'epochs': n,
        'on_true_lane_ratio': _r(probe.lane_hits / n) if n else None,
        'off_map': probe.lane_off_map,
        'topics': list(probe.topics['lanes']),
    }


def compute_metrics(
    *,
    scenario: Any,
    built: Any,
    probe: Probe,
    events: Sequence[WorldEvent],
    channel: Any,
    simulated_s: float,
    wall_s: float,
    cpu_s: float,
    interrupted: bool,
    failures: list[dict[str, Any]],
    stacks: Any,
    stops: Sequence[tuple[float, str]] = (),
) -> dict[str, Any]:
    collisions = [e for e in events if e.kind == 'collision']
    violations = [e for e in events if e.kind == 'red_light_violation']
    pdr = channel.delivery_ratio if channel is not None else None
    tracking = evaluate_mot(probe.track_frames).as_dict() if probe.track_frames else None
    warnings = warning_metrics(probe, events, scenario.road_events)
    warnings['detection'] = detection(scenario.expect, warnings['first'], bool(warnings['topics']))
    stop_counts: dict[str, int] = {}
    for _, name in stops:
        stop_counts[name] = stop_counts.get(name, 0) + 1
    return {
        'scenario': scenario.name,
        'seed': scenario.seed,
        'duration_s': scenario.duration_s,
        'simulated_s': _r(simulated_s, 3),
        'interrupted': interrupted,
        'actors': {
            'vehicles': len(built.vehicles),
            'connected': len(built.connected()),
            'pedestrians': len(built.pedestrians),
            'rsus': len(scenario.rsus),
        },
        'collisions': {
            'count': len(collisions),
            'events': [{'t_s': _r(e.t_s, 2), 'actors': list(e.actors)} for e in collisions],
        },
        'red_light_violations': {
            'count': len(violations),
            'events': [
                {'t_s': _r(e.t_s, 2), 'vehicle': e.actors[0], 'lane': e.detail} for e in violations
            ],
        },
        'warnings': warnings,
        'stops': {
            'by_vehicle': stop_counts,
            'events': [{'t_s': _r(t, 2), 'vehicle': v} for t, v in stops],
        },
        'positioning': {
            'gnss_fix_error_m': percentiles(probe.gnss_errors_m),
            'fused_error_m': percentiles(probe.fused_errors_m),
            'fused_topics': list(probe.topics.get('fused', [])),
        },
        'v2x': {
            'packet_delivery_ratio': None if pdr is None else _r(pdr),
            'attempts': 0 if channel is None else channel.attempts,
            'delivered': 0 if channel is None else channel.delivered,
            'latency_ms': percentiles([x * 1000 for x in channel.latencies_s]) if channel else None,
            'rsu_to_car_latency_ms': {
                kind: percentiles([x * 1000 for x in values])
                for kind, values in sorted(probe.e2e_latency_s.items())
            },
        },
        'map_matching': _map_matching(probe),
        'rsu_events': {**probe.rsu_events.metrics(), 'topics': probe.topics['rsu_events']},
        'tracking': tracking,
        'tracking_topics': list(probe.topics.get('tracks', [])),
        'stacks': {'built': len(stacks.built), 'skipped': list(stacks.skipped)},
        'failures': failures,
        'timing': {  # the only part that differs between identical runs
            'wall_s': _r(wall_s, 3),
            'cpu_s': _r(cpu_s, 3),
            'real_time_factor': _r(simulated_s / wall_s, 2) if wall_s > 0 else None,
            'cpu_real_time_factor': _r(simulated_s / cpu_s, 2) if cpu_s > 0 else None,
        },
    }

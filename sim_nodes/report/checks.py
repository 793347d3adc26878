"""A scenario's expected outcome (its ``expect:`` section) checked against the run's metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim_nodes.scenarios.schema import Expectation


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # 'pass' | 'fail' | 'n/a' (cannot be judged in this run, with the reason)
    detail: str


def evaluate(expect: Expectation, metrics: dict[str, Any]) -> list[Check]:
    out: list[Check] = []

    def bound(name: str, value: float | None, limit: float, *, upper: bool) -> None:
        if value is None:
            out.append(Check(name, 'n/a', 'not measured in this run'))
            return
        ok = value <= limit if upper else value >= limit
        rel = '<=' if upper else '>='
        out.append(Check(name, 'pass' if ok else 'fail', f'{value:g} {rel} {limit:g} expected'))

    if expect.max_collisions >= 0:
        bound('max_collisions', metrics['collisions']['count'], expect.max_collisions, upper=True)
    if expect.min_collisions >= 0:
        bound('min_collisions', metrics['collisions']['count'], expect.min_collisions, upper=False)
    rlv = metrics['red_light_violations']['count']
    if expect.max_red_light_violations >= 0:
        bound('max_red_light_violations', rlv, expect.max_red_light_violations, upper=True)
    if expect.min_red_light_violations >= 0:
        bound('min_red_light_violations', rlv, expect.min_red_light_violations, upper=False)
    if expect.min_packet_delivery_ratio >= 0:
        bound(
            'min_packet_delivery_ratio',
            metrics['v2x']['packet_delivery_ratio'],
            expect.min_packet_delivery_ratio,
            upper=False,
        )
    if expect.max_positioning_error_p95_m >= 0:
        pos = metrics['positioning']
        stats = pos['fused_error_m'] or pos['gnss_fix_error_m']
        bound(
            'max_positioning_error_p95_m',
            None if stats is None else stats['p95'],
            expect.max_positioning_error_p95_m,
            upper=True,
        )
    if expect.min_lane_match_ratio >= 0:
        lanes = metrics.get('map_matching') or {}
        bound(
            'min_lane_match_ratio',
            lanes.get('on_true_lane_ratio'),
            expect.min_lane_match_ratio,
            upper=False,
        )
    stops = metrics.get('stops', {}).get('by_vehicle', {})
    for vehicle, most in expect.max_stops:
        bound(f'max_stops {vehicle}', stops.get(vehicle, 0), most, upper=True)
    for vehicle, least in expect.min_stops:
        bound(f'min_stops {vehicle}', stops.get(vehicle, 0), least, upper=False)
    warn = metrics['warnings']
    producing = bool(warn['topics'])
    if expect.no_warnings:
        if not producing:
            out.append(Check('no_warnings', 'n/a', 'no application publishes warnings in this run'))
        else:
            n = warn['count']
            out.append(Check('no_warnings', 'pass' if n == 0 else 'fail', f'{n} warnings raised'))
    for app in expect.no_warnings_of:
        if not producing:
            out.append(Check(f'no {app} warnings', 'n/a', 'no application publishes warnings'))
            continue
        n = warn['by_application'].get(app, 0)
        out.append(Check(f'no {app} warnings', 'pass' if n == 0 else 'fail', f'{n} raised'))
    for w in expect.warnings:
        name = f'warning {w.application}' + (f' to {w.vehicle}' if w.vehicle else '')
        if not producing:
            out.append(Check(name, 'n/a', 'no application publishes warnings in this run'))
            continue
        hits = [
            f
            for f in warn['first']
            if f['application'] == w.application and (not w.vehicle or f['vehicle'] == w.vehicle)
        ]
        if not hits:
            out.append(Check(name, 'fail', 'not raised'))
            continue
        lead = max((f['lead_time_s'] for f in hits if f['lead_time_s'] is not None), default=None)
        ok = lead is not None and lead >= w.min_lead_time_s
        out.append(
            Check(
                name,
                'pass' if ok else 'fail',
                f'lead time {lead} s, at least {w.min_lead_time_s:g} s expected',
            )
        )
    return out


def passed(checks: list[Check]) -> bool:
    return all(c.status != 'fail' for c in checks)

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
    out.extend(rsu_event_checks(expect, metrics.get('rsu_events') or {}))
    out += perception_checks(expect, metrics.get('cooperative_perception'))
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


def rsu_event_checks(expect: Expectation, rsu: dict[str, Any]) -> list[Check]:
    """Expected RSU events raised (in time) and received by the named cars; absent kinds."""
    out: list[Check] = []
    if not (expect.rsu_events or expect.no_rsu_events):
        return out
    if not rsu.get('topics'):
        reason = 'no RSU publishes rsu/events in this run'
        out += [Check(f'RSU event {e.kind}', 'n/a', reason) for e in expect.rsu_events]
        out += [Check(f'no RSU event {k}', 'n/a', reason) for k in expect.no_rsu_events]
        return out
    raised: dict[str, dict[str, Any]] = rsu.get('raised', {})
    received: dict[str, dict[str, Any]] = rsu.get('received', {})
    for e in expect.rsu_events:
        name = f'RSU event {e.kind}' + (f' at {e.rsu}' if e.rsu else '')
        hits = [
            (v[e.kind]['first_t_s'], r)
            for r, v in sorted(raised.items())
            if e.kind in v and (not e.rsu or r == e.rsu)
        ]
        if not hits:
            out.append(Check(name, 'fail', 'not raised'))
        else:
            t, r = min(hits)
            late = e.by_s >= 0 and t > e.by_s
            limit = f', by {e.by_s:g} s expected' if e.by_s >= 0 else ''
            out.append(Check(name, 'fail' if late else 'pass', f'raised at {r} at {t:g} s{limit}'))
        for car in e.received_by:
            got = received.get(car, {}).get(e.kind)
            ok = got is not None and (not e.rsu or got['rsu'] == e.rsu)
            detail = (
                'not received'
                if got is None
                else f'received from {got["rsu"]} at {got["first_t_s"]:g} s'
            )
            out.append(Check(f'{name} received by {car}', 'pass' if ok else 'fail', detail))
    for kind in expect.no_rsu_events:
        hits = [
            (v[kind]['first_t_s'], r, v[kind]['description'])
            for r, v in raised.items()
            if kind in v
        ]
        detail = (
            'not raised'
            if not hits
            else 'raised: ' + '; '.join(f'{r} at {t:g} s ({d})' for t, r, d in sorted(hits))
        )
        out.append(Check(f'no RSU event {kind}', 'fail' if hits else 'pass', detail))
    return out


def perception_checks(expect: Expectation, section: dict[str, Any] | None) -> list[Check]:
    """``expect.perception`` and the fused bounds against ``cooperative_perception``."""
    out: list[Check] = []
    fused = (section or {}).get('sources', {}).get('fused') or {}
    for key, metric, upper in (
        ('min_fused_recall', 'recall', False),
        ('min_fused_precision', 'precision', False),
        ('max_fused_position_rmse_m', 'position_rmse_m', True),
    ):
        limit = getattr(expect, key)
        if limit < 0:
            continue
        value = fused.get(metric)
        if value is None:
            out.append(Check(key, 'n/a', 'no fused output scored in this run'))
            continue
        ok = value <= limit if upper else value >= limit
        rel = '<=' if upper else '>='
        out.append(Check(key, 'pass' if ok else 'fail', f'{value:g} {rel} {limit:g} expected'))
    for q in expect.perception:
        name = f'perception {q.target} for {q.vehicle}'
        target = ((section or {}).get('targets', {}).get(q.vehicle) or {}).get(q.target)
        if target is None:
            out.append(Check(name, 'n/a', f'{q.vehicle} has no fused output in this run'))
            continue
        first = target['first_seen_s']
        if q.min_lead_time_s >= 0:
            out.append(_lead_check(name, first, q.min_lead_time_s, section))
        if q.max_duplicates >= 0:
            n = target['fused_duplicates']
            ok = n <= q.max_duplicates
            split = target.get('fused_split_by_a_source', 0)
            out.append(
                Check(
                    f'{name}: duplicates',
                    'pass' if ok else 'fail',
                    f'{n} duplicate fused objects (sources not associated), at most '
                    f'{q.max_duplicates} expected; {split} more where one source reported it '
                    'twice',
                )
            )
        if q.min_source_kinds >= 0:
            n = target['fused_max_source_kinds']
            ok = n >= q.min_source_kinds
            out.append(
                Check(
                    f'{name}: sources',
                    'pass' if ok else 'fail',
                    f'seen by {n} source kinds at once, at least {q.min_source_kinds} expected',
                )
            )
    return out


def _lead_check(
    name: str, first: dict[str, float], min_lead_s: float, section: dict[str, Any] | None
) -> Check:
    fused, onboard = first.get('fused'), first.get('onboard')
    name = f'{name}: lead over the onboard lidar'
    if fused is None:
        return Check(name, 'fail', 'never in the fused output')
    if 'onboard' not in (section or {}).get('sources', {}):
        return Check(name, 'n/a', 'the vehicle has no onboard perception in this run')
    if onboard is None:
        return Check(name, 'pass', f'fused from {fused} s; the onboard lidar alone never saw it')
    lead = round(onboard - fused, 3)
    ok = lead >= min_lead_s
    return Check(
        name,
        'pass' if ok else 'fail',
        f'fused at {fused} s, onboard alone at {onboard} s: lead {lead} s, '
        f'at least {min_lead_s:g} s expected',
    )


def passed(checks: list[Check]) -> bool:
    return all(c.status != 'fail' for c in checks)

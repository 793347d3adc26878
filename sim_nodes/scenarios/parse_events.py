"""YAML → the scenario's road events (RSI the RSUs broadcast) and stop-count expectations."""

from __future__ import annotations

from sim_nodes.errors import ScenarioError
from sim_nodes.scenarios.fields import Fields
from sim_nodes.scenarios.schema import RoadEventConfig

_INF = float('inf')


def road_event(f: Fields) -> RoadEventConfig:
    x, y = f.take_floats('position_m', 2)
    path = []
    for i, q in enumerate(f.take_list('path_m', [])):
        ok = isinstance(q, list) and len(q) == 2
        if not ok or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in q):
            raise ScenarioError(f.file, f'{f.at("path_m")}[{i}]', 'a point [x_m, y_m]', q)
        path.append((float(q[0]), float(q[1])))
    out = RoadEventConfig(
        id=f.take_int('id', lo=0, hi=65535),
        rsu=f.take_str('rsu'),
        position_m=(x, y),
        radius_m=f.take_float('radius_m', 20.0, lo=0.0, hi=5000.0),
        path_m=tuple(path),
        path_radius_m=f.take_float('path_radius_m', 2.0, lo=0.0, hi=100.0),
        event_type=f.take_int('event_type', 0, lo=0, hi=65535),
        sign_type=f.take_int('sign_type', 0, lo=0, hi=65535),
        description=f.take_str('description', ''),
        start_s=f.take_float('start_s', 0.0, lo=0.0),
        end_s=f.take_float('end_s', _INF, lo=0.0),
    )
    f.done()
    if not (out.event_type or out.sign_type):
        raise f.fail('event_type', 'an event_type or a sign_type other than 0', 0)
    if len(out.path_m) > 32:
        raise f.fail('path_m', 'at most 32 points (RSI reference path)', len(out.path_m))
    if out.end_s <= out.start_s:
        raise f.fail('end_s', f'a time after start_s ({out.start_s})', out.end_s)
    return out


def stop_counts(f: Fields, key: str) -> tuple[tuple[str, int], ...]:
    """``{vehicle: count}`` → sorted pairs (vehicle names are checked against the scenario)."""
    sub = f.child(key, {})
    out = tuple((name, sub.take_int(name, lo=0, hi=1000)) for name in sorted(sub.data))
    sub.done()
    return out

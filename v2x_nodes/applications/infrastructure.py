"""Evaluators of the vehicle-to-infrastructure applications: HLW, IVS, SLW (RSI events and
signs, map speed limits), RLVW and GLOSA (SPAT + the lane position's stop line)."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from v2x_nodes.applications.hysteresis import Finding
from v2x_nodes.applications.kinematics import FloatArray, time_to_reach_one
from v2x_nodes.applications.scene import Scene
from v2x_nodes.applications.signals import (
    find_phase,
    glosa_band,
    green_windows,
    is_red_at,
    note_ignored,
    spat_is_stale,
)
from v2x_nodes.applications.spec import LEVEL_CAUTION, LEVEL_INFO, LEVEL_WARNING, Params
from v2x_runtime import messages as m

PATH_STEP_M = 2.0
BRAKING_MPS2 = 0.3  # the own deceleration from which the driver counts as braking
_SPEED = re.compile(r'([0-9]+(?:\.[0-9]+)?)\s*(km/h|kmh|m/s)?', re.IGNORECASE)


def _active(scene: Scene, ev: Any) -> bool:
    start, end = m.to_ns(ev.start_time), m.to_ns(ev.end_time)
    return (not start or start <= scene.now_ns) and (not end or scene.now_ns <= end)


def live_events(scene: Scene, max_age_s: float) -> list[Any]:
    """The RSI events and signs in their validity window and heard within ``max_age_s``.

    RSUs repeat RSI while an event lasts; one not heard for longer is stale (the RSU went
    quiet or withdrew it: an RSI without an end time would otherwise stay for ever). Stale
    ones are ignored for triggering and counted (``stale_events``)."""
    out = []
    for received_ns, ev in scene.events:
        if (scene.now_ns - received_ns) * 1e-9 > max_age_s:
            note_ignored(scene.cache, 'stale_events', id(ev))
        elif _active(scene, ev):
            out.append(ev)
    return out


def zone_distances(scene: Scene, events: list[tuple[str, Any]], range_m: float) -> list[float]:
    """Distance along the ego path to each event's zone (0 inside; inf when not on the path
    within ``range_m``). A zone is its position's circle plus its path's corridor.

    HLW, IVS and SLW (twice: warning and advice) ask about the same zones each cycle with
    different ranges: the path is sampled and each zone searched once per cycle, over the
    whole path, in ``scene.cache``; a range keeps the hits within its prefix of the same
    samples (the same grid ``np.arange`` gives for the shorter range)."""
    cache = scene.cache
    sampled = cache.get('zone_path')
    if sampled is None:
        path = scene.path_xy
        seg = np.diff(path, axis=0)
        s_tab = np.concatenate(([0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))))
        s_all = np.arange(0.0, float(s_tab[-1]) + PATH_STEP_M / 2, PATH_STEP_M)
        px = np.interp(s_all, s_tab, path[:, 0])
        py = np.interp(s_all, s_tab, path[:, 1])
        sampled = cache['zone_path'] = (s_all, px, py, float(s_tab[-1]))
    s_all, px, py, length = sampled
    n = len(np.arange(0.0, min(range_m, length) + PATH_STEP_M / 2, PATH_STEP_M))
    half_lane = 0.5 * scene.ego.lane_width
    out = []
    for _, ev in events:
        key = ('zone_hit', id(ev))
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = _first_hit(px, py, _zone_points(ev, half_lane))
        out.append(float(s_all[hit]) if hit < n else math.inf)
    return out


def _zone_points(ev: Any, half_lane: float) -> FloatArray:
    """(x, y, radius) rows of an event's zone: its circle, path points and corridor."""
    pts = [(ev.position.x, ev.position.y, max(ev.radius_m, half_lane))]
    pr = max(ev.path_radius_m, half_lane)
    pts += [(q.x, q.y, pr) for q in ev.path]
    if len(ev.path) > 1:  # the corridor between path points, densified
        xs = np.array([q.x for q in ev.path])
        ys = np.array([q.y for q in ev.path])
        d = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(xs), np.diff(ys)))))
        u = np.arange(0.0, d[-1], PATH_STEP_M)
        pts += [(x, y, pr) for x, y in zip(np.interp(u, d, xs), np.interp(u, d, ys), strict=True)]
    return np.array(pts)


def _first_hit(px: FloatArray, py: FloatArray, z: FloatArray) -> int:
    """Index of the first path sample inside the zone; len(px) when none is."""
    inside = np.hypot(px[:, None] - z[None, :, 0], py[:, None] - z[None, :, 1]) <= z[None, :, 2]
    hit = inside.any(axis=1)
    return int(np.argmax(hit)) if hit.any() else len(px)


def _warn_distance(scene: Scene, p: Params) -> float:
    return max(p['min_distance_m'], scene.ego.speed * p['warning_time_s'])


def _zone_app(scene: Scene, p: Params, app: str, signs: bool, level: int) -> list[Finding]:
    events = [(k, ev) for ev in live_events(scene, p['event_max_age_s'])
              for k in [f'{ev.id}'] if (int(ev.sign_type) != 0) == signs
              and (signs or int(ev.event_type) != 0)]  # fmt: skip
    if not events:
        return []
    warn = _warn_distance(scene, p)
    dists = zone_distances(scene, events, warn + p['clear_margin'] + 10.0)
    out = []
    for (key, ev), d in zip(events, dists, strict=True):
        if math.isfinite(d):
            code = ev.sign_type if signs else ev.event_type
            text = ev.description or f'{"sign" if signs else "event"} {code}'
            ttc = d / scene.ego.speed if scene.ego.speed > 0.1 else math.inf
            out.append(Finding(app, key, d - warn, level, ttc, d, text))
    return out


def hlw(scene: Scene, p: Params) -> list[Finding]:
    """Hazardous location: an RSI event (event_type != 0) zone on the path ahead within
    max(min distance, speed × warning time)."""
    return _zone_app(scene, p, 'HLW', signs=False, level=LEVEL_CAUTION)


def ivs(scene: Scene, p: Params) -> list[Finding]:
    """In-vehicle signage: an RSI sign (sign_type != 0) whose zone is on the path ahead."""
    return _zone_app(scene, p, 'IVS', signs=True, level=LEVEL_INFO)


def sign_speed_mps(text: str) -> float:
    """The speed value of a speed-limit sign's description ('60', '60 km/h', '限速60'); NaN."""
    match = _SPEED.search(text or '')
    if not match:
        return math.nan
    value = float(match.group(1))
    return value if (match.group(2) or '').lower() == 'm/s' else value / 3.6


def speed_limit(scene: Scene, p: Params) -> float:
    """The lowest limit in force: the map's (LanePosition) and speed-limit signs whose zone
    the vehicle is in."""
    limits = [scene.ego.speed_limit] if math.isfinite(scene.ego.speed_limit) else []
    codes = {int(c) for c in p['sign_types']}
    signs = [(f'{ev.id}', ev) for ev in live_events(scene, p['event_max_age_s'])
             if int(ev.sign_type) in codes]  # fmt: skip
    if signs:
        for (_, ev), d in zip(signs, zone_distances(scene, signs, 5.0), strict=True):
            v = sign_speed_mps(ev.description)
            if d == 0.0 and math.isfinite(v) and v > 0:
                limits.append(v)
    return min(limits) if limits else math.nan


def slw(scene: Scene, p: Params) -> list[Finding]:
    """Speed limit: own speed above the limit in force plus the tolerance (margin in m/s)."""
    limit = speed_limit(scene, p)
    if not math.isfinite(limit):
        return []
    margin = limit + p['tolerance_mps'] - scene.ego.speed
    return [Finding('SLW', 'speed_limit', margin, LEVEL_CAUTION, math.inf, math.nan,
                    f'Speed limit {limit * 3.6:.0f} km/h')]  # fmt: skip


def slw_advice(scene: Scene, p: Params) -> dict[str, Any] | None:
    limit = speed_limit(scene, p)
    if not math.isfinite(limit):
        return None
    return {'min_speed_mps': 0.0, 'max_speed_mps': limit,
            'recommended_speed_mps': min(scene.ego.speed, limit), 'stop': False,
            'distance_m': math.nan, 'text': f'Limit {limit * 3.6:.0f} km/h'}  # fmt: skip


def _phase(scene: Scene, p: Params):  # type: ignore[no-untyped-def]
    e = scene.ego
    if e.signal_group <= 0 or not (0.0 < e.stop_line_m <= p['range_m']):
        return None
    ph = find_phase(scene.spat, e.intersection_id, e.signal_group, scene.now_ns,
                    p['spat_max_age_s'])  # fmt: skip
    if ph is None and spat_is_stale(scene.spat, e.intersection_id, scene.now_ns,
                                    p['spat_max_age_s']):  # fmt: skip
        note_ignored(scene.cache, 'stale_spat', e.intersection_id)
    return ph


def rlvw(scene: Scene, p: Params) -> list[Finding]:
    """Red light violation: the light of the lane is red at our arrival at the stop line and
    stopping before it needs at least ``warn_decel_mps2`` (after ``reaction_time_s`` when the
    driver is not braking yet), more than the driver brakes now. A driver who brakes as for
    any red light gets no warning; one who keeps going gets it while a firm stop is possible.
    The margin is in m/s² (``warn_decel_mps2`` - deceleration needed)."""
    ph = _phase(scene, p)
    e = scene.ego
    if ph is None or e.speed < p['min_speed_mps']:
        return []
    d = e.stop_line_m
    accel = e.accel
    t_arr = time_to_reach_one(d, e.speed, max(accel, 0.0))
    if not is_red_at(ph, t_arr):
        return []
    braking = accel <= -BRAKING_MPS2
    room = d if braking else d - e.speed * p['reaction_time_s']
    need = e.speed * e.speed / (2.0 * room) if room > 0.0 else math.inf
    if braking and -accel >= need:
        return []  # stopping in time
    margin = p['warn_decel_mps2'] - min(need, 1e3)
    return [Finding('RLVW', f'phase {ph.phase_id}', margin, LEVEL_WARNING, t_arr, d,
                    'Red light ahead: stop')]  # fmt: skip


def glosa(scene: Scene, p: Params) -> list[Finding]:
    """GLOSA raises no warning; its output is the speed advice."""
    return []


def glosa_advice(scene: Scene, p: Params) -> dict[str, Any] | None:
    """The speed band that reaches the stop line on green, or stop when none does."""
    ph = _phase(scene, p)
    if ph is None:
        return None
    e = scene.ego
    v_max = e.speed_limit if math.isfinite(e.speed_limit) else p['max_speed_mps']
    band = glosa_band(e.stop_line_m, green_windows(ph), p['min_speed_mps'], v_max,
                      p['margin_s'])  # fmt: skip
    base = {'distance_m': e.stop_line_m, 'phase_id': ph.phase_id}
    if band is None:
        return base | {'min_speed_mps': 0.0, 'max_speed_mps': 0.0,
                       'recommended_speed_mps': math.nan, 'stop': True,
                       'text': 'Stop at the line'}  # fmt: skip
    rec = min(max(e.speed, band.min_mps), band.max_mps)
    return base | {
        'min_speed_mps': band.min_mps,
        'max_speed_mps': band.max_mps,
        'recommended_speed_mps': rec,
        'stop': False,
        'text': f'{band.min_mps * 3.6:.0f}-{band.max_mps * 3.6:.0f} km/h for green',
    }

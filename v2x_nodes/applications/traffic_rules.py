"""What other road users are expected to do at stop lines: the rules of the road as the
applications' prediction needs them.

A CTRA prediction carries a car that approaches its red light at speed straight into the
junction; in signalised traffic that is the commonest false intersection-collision alarm.
A law-abiding driver who can still stop comfortably will stop, so a crossing vehicle is only
predicted into the conflict zone when its light is not red at its arrival or when it can no
longer stop (it needs harder braking than ``stop_decel_mps2`` and is not braking that hard):
the red-light runner. Likewise a vehicle standing at a stop line, or at the tail of such a
queue, is waiting, not abnormal (AVW).

Per target these need the lanelet it is on (``Scene.lane_key``), the stop line ahead of it
on the map and the SPAT phase of that stop line's signal group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np

from v2x_nodes.applications.kinematics import (
    BoolArray,
    EgoTrack,
    FloatArray,
    member,
    time_to_reach,
)
from v2x_nodes.applications.lanes import LaneIndex
from v2x_nodes.applications.scene import Scene
from v2x_nodes.applications.signals import GREEN, PhaseTiming, find_phase, is_red_at
from v2x_nodes.applications.targets import VRU_CLASSES
from vehicle_nodes.hdmap.geometry import segment_crossings
from vehicle_nodes.hdmap.model import TrafficLight

MAX_STOP_LINE_M = 150.0  # stop lines farther ahead of a target do not matter this cycle


def stop_line_distances(scene: Scene, idx: np.ndarray) -> tuple[np.ndarray, list]:
    """Distance along its lanes from each target ``idx`` to the next stop line (inf: none,
    or no map) and that stop line's traffic light (None: none / stop sign).

    Each target is projected onto its lanelet (its nearest centre-line sample) and the stop
    line ahead of that sample comes from the map once per sample (``LaneIndex.stop_lines``);
    ICW, LTA and AVW ask about overlapping targets, so a cycle computes each target once
    (``scene.cache``)."""
    lanes = scene.lanes
    if lanes is None:
        return np.full(len(idx), math.inf), [None] * len(idx)
    cached = scene.cache.get('stop_lines')
    if cached is None:
        n = len(scene.targets)
        cached = scene.cache['stop_lines'] = (np.full(n, np.nan), np.full(n, None, dtype=object))
    dist, light = cached
    need = idx[np.isnan(dist[idx])]  # (a target asked twice is computed twice, the same)
    if len(need):
        key = scene.lane_key[need]
        on = key != 0
        dist[need[~on]] = math.inf
        need = need[on]
        near = scene.cache.get('lane_near')  # (the lane match's nearest samples)
        if near is None:
            samples = lanes.nearest_samples(key[on], scene.x[need], scene.y[need])
        else:
            samples = lanes.nearest_of_near(key[on], scene.x[need], scene.y[need],
                                            near[0][need], near[1][need])  # fmt: skip
        dist[need], light[need] = lanes.stop_lines(samples, MAX_STOP_LINE_M)
    return dist[idx], light[idx].tolist()


def light_phase(scene: Scene, light: TrafficLight, spat_max_age_s: float) -> PhaseTiming | None:
    """The fresh SPAT phase of ``light`` (None: not heard). A light that names no
    intersection (-1) is one of the junction the ego approaches."""
    inter = light.intersection_id if light.intersection_id >= 0 else scene.ego.intersection_id
    return find_phase(scene.spat, inter, light.signal_group, scene.now_ns, spat_max_age_s)


def expected_to_stop(
    scene: Scene, idx: np.ndarray, *, stop_decel_mps2: float, spat_max_age_s: float
) -> BoolArray:
    """Targets ``idx`` that face red at their arrival at the stop line ahead and can still
    stop before it braking no harder than ``stop_decel_mps2`` (or already brake that hard)."""
    out = np.zeros(len(idx), dtype=bool)
    if not len(idx) or not scene.spat or scene.lanes is None:
        return out
    t = scene.targets
    dist, lights = stop_line_distances(scene, idx)
    cand = [j for j, light in enumerate(lights)
            if light is not None and light.signal_group > 0 and math.isfinite(dist[j])]  # fmt: skip
    if not cand:
        return out
    ci = idx[cand]
    speed, accel = t.speed[ci], t.accel[ci]
    arrival = time_to_reach(dist[cand], speed, np.maximum(accel, 0.0))
    phases: dict[tuple[int, int], PhaseTiming | None] = {}  # one signal group, many targets
    for j, d, v, a, t_arr in zip(cand, dist[cand].tolist(), speed.tolist(), accel.tolist(),
                                 arrival.tolist(), strict=True):  # fmt: skip
        light = lights[j]
        group = (light.intersection_id, light.signal_group)
        if group not in phases:
            phases[group] = light_phase(scene, light, spat_max_age_s)
        ph = phases[group]
        if ph is None or not math.isfinite(t_arr) or not is_red_at(ph, t_arr):
            continue
        need = v * v / (2.0 * max(d, 0.1))
        out[j] = need <= stop_decel_mps2 or -a >= need
    return out


def waiting(scene: Scene, idx: np.ndarray, *, queue_gap_m: float, slow_mps: float) -> BoolArray:
    """Targets ``idx`` that stand at a stop line (within ``queue_gap_m`` before it) or in a
    queue that reaches one: followed forward from the target, each next slow vehicle (not a
    road user on foot or on a bicycle) in the same lane is within ``queue_gap_m``."""
    out = np.zeros(len(idx), dtype=bool)
    if not len(idx):
        return out
    t = scene.targets
    slow = ((t.speed <= slow_mps) & ~member(t.cls, VRU_CLASSES)).nonzero()[0]
    lon, lat = scene.lon[slow], scene.lat[slow]
    half = 0.5 * scene.ego.lane_width
    if scene.lanes is None:  # geometry only: the own lane's stop line
        to_line = scene.ego.stop_line_m - scene.lon
    else:  # every target the queue walk below may visit, at once
        visit = np.concatenate((idx, slow))
        to_line = np.full(len(t), math.inf)
        to_line[visit] = stop_line_distances(scene, visit)[0]

    def held_at_line(i: int) -> bool:
        return bool(to_line[i] <= queue_gap_m)

    # a target at its line needs no walk: those tested at once (most: queues at a red)
    out = to_line[idx] <= queue_gap_m
    for j in (~out).nonzero()[0].tolist():
        cur = int(idx[j])
        for _ in range(len(slow) + 1):
            if held_at_line(cur):
                out[j] = True
                break
            ahead = lon - float(scene.lon[cur])
            near = (ahead > 0.0) & (ahead <= queue_gap_m) & (np.abs(lat - scene.lat[cur]) < half)
            if not near.any():
                break
            cur = int(slow[near][np.argmin(ahead[near])])
    return out


# --- crosswalks: who yields to whom -----------------------------------------------------
# A walker on a crosswalk that the own path crosses has the right of way (Road Traffic Safety
# Law of the PRC, art. 47: a vehicle approaching a crosswalk slows down and stops for
# pedestrians crossing): the driver is expected to yield, and is only warned once yielding
# comfortably is no longer possible. A walker waiting off the carriageway at a crosswalk
# that crosses a straight-on movement showing green faces red (a signal plan never gives
# both green) and is expected to keep waiting.

AT_CROSSWALK_M = 1.5  # a road user this far beyond a crosswalk's edge is still at it
KERB_MARGIN_M = 0.5  # a walker this far beyond a lane's edge is off the carriageway


@dataclass(frozen=True)
class Crosswalks:
    """The map's crosswalk centre lines as segments (one row per segment)."""

    a: FloatArray  # (S, 2) segment starts
    b: FloatArray  # (S, 2) segment ends
    owner: np.ndarray  # (S,) crosswalk index
    half_width: FloatArray  # (C,) per crosswalk, m

    def __len__(self) -> int:
        return len(self.half_width)


_CROSSWALKS: WeakKeyDictionary[Any, Crosswalks] = WeakKeyDictionary()


def crosswalks(lanes: LaneIndex) -> Crosswalks:
    """The crosswalk lanelets of the map (each once, not its inverted twin); cached per map."""
    hit = _CROSSWALKS.get(lanes.map)
    if hit is not None:
        return hit
    a, b, owner, half = [], [], [], []
    for ll in lanes.map.lanelets.values():
        if ll.subtype != 'crosswalk' or ll.inverted or len(ll.centre_xy) < 2:
            continue
        a.append(ll.centre_xy[:-1])
        b.append(ll.centre_xy[1:])
        owner.append(np.full(len(ll.centre_xy) - 1, len(half), dtype=np.int64))
        half.append(0.5 * float(np.mean(ll.width_m)))
    if half:
        out = Crosswalks(np.concatenate(a), np.concatenate(b), np.concatenate(owner),
                         np.array(half))  # fmt: skip
    else:
        out = Crosswalks(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0))
    _CROSSWALKS[lanes.map] = out
    return out


def crosswalk_at(cw: Crosswalks, x: FloatArray, y: FloatArray, margin_m: float) -> np.ndarray:
    """Per point, the crosswalk it is on or at (within ``margin_m`` of its area), -1 none."""
    out = np.full(len(x), -1, dtype=np.int64)
    if not len(cw) or not len(x):
        return out
    d = cw.b - cw.a  # (S, 2)
    len2 = np.maximum(np.einsum('ij,ij->i', d, d), 1e-12)
    px = x[:, None] - cw.a[None, :, 0]
    py = y[:, None] - cw.a[None, :, 1]
    u = np.clip((px * d[None, :, 0] + py * d[None, :, 1]) / len2[None, :], 0.0, 1.0)
    dist = np.hypot(px - u * d[None, :, 0], py - u * d[None, :, 1])  # (N, S)
    excess = dist - cw.half_width[cw.owner][None, :]
    j = np.argmin(excess, axis=1)
    rows = np.arange(len(x))
    inside = excess[rows, j] <= margin_m
    out[inside] = cw.owner[j[inside]]
    return out


def path_crossings(cw: Crosswalks, path_xy: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per crosswalk: arc length along ``path_xy`` where the path first crosses its centre
    line (inf: not at all) and |sin| of the crossing angle there."""
    n = len(cw)
    s_cross, sin_cross = np.full(n, math.inf), np.ones(n)
    if not n or len(path_xy) < 2:
        return s_cross, sin_cross
    p0 = path_xy[:-1, None, :]  # (P, 1, 2): path segments against crosswalk segments (S)
    ok, t, sin, seg_len = segment_crossings(p0, path_xy[1:, None, :] - p0, cw.a, cw.b - cw.a)
    s0 = np.concatenate(([0.0], np.cumsum(seg_len[:, 0])[:-1]))
    s = np.where(ok, s0[:, None] + t * seg_len, np.inf)  # (P, S)
    for c in range(n):
        cols = (cw.owner == c).nonzero()[0]
        sub = s[:, cols]
        if np.isfinite(sub).any():
            k = np.unravel_index(np.argmin(sub), sub.shape)
            s_cross[c] = sub[k]
            sin_cross[c] = sin[:, cols][k]
    return s_cross, sin_cross


def crosswalk_ahead(scene: Scene, idx: np.ndarray) -> tuple[np.ndarray, FloatArray]:
    """Per road user ``idx``: the crosswalk it is at (-1: none, or one the own path does not
    cross) and the distance from the own front to that crosswalk's near edge along the path
    (<= 0: we are on it already; inf: no crosswalk)."""
    at = np.full(len(idx), -1, dtype=np.int64)
    edge = np.full(len(idx), math.inf)
    if scene.lanes is None or not len(idx):
        return at, edge
    cw = crosswalks(scene.lanes)
    if not len(cw):
        return at, edge
    key = ('crosswalk_crossings',)
    crossing = scene.cache.get(key)
    if crossing is None:
        crossing = scene.cache[key] = path_crossings(cw, scene.path_xy)
    s_cross, sin_cross = crossing
    c = crosswalk_at(cw, scene.x[idx], scene.y[idx], AT_CROSSWALK_M)
    has = c >= 0
    c_ok = np.where(has, c, 0)
    s = np.where(has, s_cross[c_ok], math.inf)
    # the near edge lies half a width before the centre line, more when crossed at a slant
    half = cw.half_width[c_ok] / np.maximum(sin_cross[c_ok], 0.5)
    crossed = has & np.isfinite(s)
    at[crossed] = c[crossed]
    edge[crossed] = (s - half - 0.5 * scene.ego.length)[crossed]
    return at, edge


def ego_yields(
    scene: Scene, edge_m: FloatArray, *, reaction_s: float, yield_decel_mps2: float
) -> BoolArray:
    """Will the own driver stop before a crosswalk ``edge_m`` ahead, as the walker on it may
    expect? Yes while stopping needs no more than ``yield_decel_mps2`` after ``reaction_s``,
    or the car already brakes as hard as stopping there needs."""
    e = scene.ego
    v = max(e.speed, 0.0)
    ahead = np.isfinite(edge_m) & (edge_m > 0.0)
    d = np.where(ahead, edge_m, 1.0)
    with np.errstate(divide='ignore'):
        room = d - v * reaction_s
        need_later = np.where(room > 0.0, v * v / (2.0 * np.maximum(room, 1e-9)), np.inf)
        need_now = v * v / (2.0 * d)
    return ahead & ((need_later <= yield_decel_mps2) | (-e.accel >= need_now))


def on_carriageway(lanes: LaneIndex, x: FloatArray, y: FloatArray) -> BoolArray:
    """Points within a drivable lane (up to ``KERB_MARGIN_M`` beyond its edge); stricter
    than the lane match, whose tolerance for position noise reaches the kerb."""
    if not len(x):
        return np.zeros(0, dtype=bool)
    dist, i = lanes.tree.query(np.column_stack((x, y)))
    return dist <= lanes.half_width[i] + KERB_MARGIN_M


def straight_green(scene: Scene, spat_max_age_s: float, within_s: float) -> bool:
    """Is the own movement through the junction ahead straight on and green now (and not
    red within ``within_s``)? Then no crosswalk across it shows green to walkers."""
    if scene.lanes is None or not scene.spat:
        return False
    for k in scene.path_keys:
        ll = scene.lanes.map.lanelets[k]
        light = ll.traffic_light
        if light is None:
            continue
        if ll.turn_direction != 'straight' or light.signal_group <= 0:
            return False
        ph = light_phase(scene, light, spat_max_age_s)
        return ph is not None and ph.light in GREEN and not is_red_at(ph, within_s)
    return False


def drive_on_track(scene: Scene) -> EgoTrack:
    """The own prediction if the driver does not yield: braking no lower than the lowest
    speed limit of the lanes ahead (slowing for a turn, not stopping), else as now."""
    e = scene.ego
    if e.accel >= 0.0:
        return scene.track
    v = max(e.speed, 0.0)
    limits = [scene.lanes.map.lanelets[k].speed_limit_mps for k in scene.path_keys] if (
        scene.lanes is not None) else []  # fmt: skip
    floor = min([v, *(s for s in limits if math.isfinite(s))])
    if v <= floor:  # braking below the lanes' speed: for something, maybe to yield
        return scene.track
    a = max(e.accel, -9.0)
    t = scene.track.t_s + max(scene.now_ns - e.stamp_ns, 0) * 1e-9
    t1 = (v - floor) / -a
    s = np.where(t < t1, v * t + 0.5 * a * t * t, v * t1 + 0.5 * a * t1 * t1 + floor * (t - t1))
    path = scene.path_xy
    seg = np.diff(path, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    keep = seg_len > 1e-9
    seg, seg_len, start = seg[keep], seg_len[keep], path[:-1][keep]
    table = np.concatenate(([0.0], np.cumsum(seg_len)))
    i = np.clip(np.searchsorted(table, s, side='right') - 1, 0, len(seg) - 1)
    u = (s - table[i]) / seg_len[i]
    return EgoTrack(scene.track.t_s, start[i, 0] + u * seg[i, 0], start[i, 1] + u * seg[i, 1],
                    np.arctan2(seg[i, 1], seg[i, 0]), s)  # fmt: skip

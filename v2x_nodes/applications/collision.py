"""Collision and conflict search of a subset of targets against the ego prediction.

Only the targets an application searches are CTRA-predicted (FCW, ICW, LTA and VRUCW search
nearly disjoint subsets: own lane, crossing, oncoming, road users on foot or two wheels; a few tens
of the hundreds of targets around a junction), and only those that can reach the ego
vehicle within the horizon; the footprint test itself runs only where the centres come
close enough (``first_collision``).
"""

from __future__ import annotations

import numpy as np

from v2x_nodes.applications.kinematics import (
    BoolArray,
    CollisionParams,
    EgoTrack,
    FloatArray,
    ego_along_path,
    first_collision,
    member,
    predict_ctra,
)
from v2x_nodes.applications.scene import Scene
from v2x_nodes.applications.targets import VRU_CLASSES

SHARED_PREDICTION = 48  # up to this many reachable targets are predicted at once
# A vehicle turns no tighter than this (a car's turning circle is 10-12 m across): its yaw
# rate is at most speed / radius. A standing car's reported heading jitters (a roadside
# box fit), and CTRA turned it on the spot: 0.1 rad/s put a car waiting at its red 30°
# across the next lane within 5 s.
MIN_TURN_RADIUS_M = 5.0


def time_to_collision(scene: Scene, idx: np.ndarray, params: CollisionParams,
                      *, use_accel: bool = True, use_turn: bool = True,
                      track: EgoTrack | None = None) -> FloatArray:  # fmt: skip
    """First predicted footprint overlap (s from now, inf: none) of targets ``idx`` with the
    ego prediction ``track`` (default: the scene's)."""
    if len(idx) == 0:
        return np.zeros(0)
    near = _reachable(scene)[idx]
    if not near.all():  # cannot reach us within the horizon: no collision
        ttc = np.full(len(idx), np.inf)
        if near.any():
            ttc[near] = time_to_collision(scene, idx[near], params, use_accel=use_accel,
                                          use_turn=use_turn, track=track)  # fmt: skip
        return ttc
    tx, ty, tc = _predict(scene, idx, use_accel, use_turn)
    t = scene.targets
    ttc, _ = first_collision(scene.track if track is None else track,
                             ego_length_m=scene.ego.length, ego_width_m=scene.ego.width, tx=tx,
                             ty=ty, tcourse=tc, tspeed=t.speed[idx][:, None],
                             length_m=t.length[idx], width_m=t.width[idx],
                             params=params)  # fmt: skip
    return ttc


MOVEMENTS = ('straight', 'left', 'right')  # the junction's connector lanelets say where they go


def in_junction(scene: Scene, idx: np.ndarray) -> np.ndarray:
    """Which targets ``idx`` are on a connector lanelet of a junction (one with a turn
    direction: past their stop line, committed to a movement)."""
    out = np.zeros(len(idx), dtype=bool)
    if scene.lanes is None:
        return out
    lanelets = scene.lanes.map.lanelets
    for j, key in enumerate(scene.lane_key[idx].tolist()):
        out[j] = key != 0 and lanelets[key].turn_direction in MOVEMENTS
    return out


def time_to_collision_on_lanes(scene: Scene, idx: np.ndarray,
                               params: CollisionParams) -> FloatArray:  # fmt: skip
    """First footprint overlap of targets ``idx`` predicted along their lanes instead of
    CTRA: from the lanelet each is on through its successors (straight on where there are
    several) at its speed and acceleration. For a vehicle inside the junction on a connector
    lanelet: CTRA holds its yaw rate while it speeds up out of a turn, which swings a
    right-turner wide across the lanes beside its exit (a car waiting at its stop line there
    was warned of it, in the default scenario); the lane is where it goes. inf: no overlap,
    or the target is off the map."""
    ttc = np.full(len(idx), np.inf)
    lanes = scene.lanes
    if lanes is None or not len(idx):
        return ttc
    t = scene.targets
    steps = scene.track.t_s
    length = scene.track.s_m[-1] + float(np.max(t.speed[idx])) * float(steps[-1]) + 50.0
    rows, xs, ys, cs = [], [], [], []
    for j, i in enumerate(idx.tolist()):
        key = int(scene.lane_key[i])
        if not key:
            continue
        x, y = float(scene.x[i]), float(scene.y[i])
        s0 = lanes.project(key, x, y)
        path = lanes.path_xy(lanes.path_keys(key, s0, length, ''), s0, x, y)
        if not (np.hypot(*np.diff(path, axis=0).T) > 1e-9).any():  # at the map's end
            c = float(t.course[i])
            path = np.array([[x, y], [x + np.cos(c), y + np.sin(c)]])
        track = ego_along_path(path, float(t.speed[i]), float(t.accel[i]), steps)
        rows.append(j)
        xs.append(track.x_m)
        ys.append(track.y_m)
        cs.append(track.heading_rad)
    if not rows:
        return ttc
    sel = idx[rows]
    found, _ = first_collision(scene.track, ego_length_m=scene.ego.length,
                               ego_width_m=scene.ego.width, tx=np.array(xs), ty=np.array(ys),
                               tcourse=np.array(cs), tspeed=t.speed[sel][:, None],
                               length_m=t.length[sel], width_m=t.width[sel],
                               params=params)  # fmt: skip
    ttc[rows] = found
    return ttc


def _predict(scene: Scene, idx: np.ndarray, use_accel: bool,
             use_turn: bool) -> tuple[FloatArray, FloatArray, FloatArray]:  # fmt: skip
    """CTRA predictions of targets ``idx`` (all reachable). With a few reachable targets
    (a car's cycle) all of them are predicted once a scene and FCW, ICW, LTA and VRUCW take
    their rows: one call instead of one per application, the same rows (the prediction is
    row by row); with many, each application predicts only its own."""
    if use_accel and use_turn:
        shared = scene.cache.get('ctra')
        if shared is None:
            near = _reachable(scene).nonzero()[0]
            shared = scene.cache['ctra'] = (
                (near, _ctra(scene, near, True, True)) if len(near) <= SHARED_PREDICTION else ()
            )
        if shared:
            near, (x, y, course) = shared
            rows = np.searchsorted(near, idx)  # idx are reachable: rows of ``near``
            return x[rows], y[rows], course[rows]
    return _ctra(scene, idx, use_accel, use_turn)


def _ctra(scene: Scene, idx: np.ndarray, use_accel: bool,
          use_turn: bool) -> tuple[FloatArray, FloatArray, FloatArray]:  # fmt: skip
    t = scene.targets
    accel = t.accel[idx] if use_accel else np.zeros(len(idx))
    rate = np.zeros(len(idx))
    if use_turn:
        rate = t.yaw_rate[idx]
        bound = np.where(member(t.cls[idx], VRU_CLASSES), np.inf,
                         t.speed[idx] / MIN_TURN_RADIUS_M)  # fmt: skip
        rate = np.clip(rate, -bound, bound)
    return predict_ctra(scene.x[idx], scene.y[idx], course_rad=t.course[idx],
                        speed_mps=t.speed[idx], accel_mps2=accel, yaw_rate_radps=rate,
                        t_s=scene.track.t_s)  # fmt: skip


def _reachable(scene: Scene) -> BoolArray:
    """Targets that can reach the ego vehicle within the horizon (computed once a scene)."""
    near = scene.cache.get('reachable')
    if near is None:
        t = scene.targets
        horizon = float(scene.track.t_s[-1])
        reach = (scene.ego.speed + t.speed) * horizon + 10.0 + 0.5 * t.length
        near = scene.cache['reachable'] = scene.distance <= reach
    return near

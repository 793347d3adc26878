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
    first_collision,
    predict_ctra,
)
from v2x_nodes.applications.scene import Scene

SHARED_PREDICTION = 48  # up to this many reachable targets are predicted at once


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
    rate = t.yaw_rate[idx] if use_turn else np.zeros(len(idx))
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

"""Collision and conflict search of a subset of targets against the ego prediction.

The CTRA prediction of the targets is shared by every application of the cycle (FCW, ICW,
LTA, VRUCW search different subsets of the same predicted tracks): it is computed once per
scene, for every target that could reach the ego vehicle within the horizon, and cached on
the scene.
"""

from __future__ import annotations

import numpy as np

from v2x_nodes.applications.kinematics import (
    CollisionParams,
    FloatArray,
    first_collision,
    predict_ctra,
)
from v2x_nodes.applications.scene import Scene


def time_to_collision(scene: Scene, idx: np.ndarray, params: CollisionParams,
                      *, use_accel: bool = True, use_turn: bool = True) -> FloatArray:  # fmt: skip
    """First predicted footprint overlap (s from now, inf: none) of targets ``idx``."""
    if len(idx) == 0:
        return np.zeros(0)
    t = scene.targets
    rows, tx, ty, tc = predicted(scene, use_accel=use_accel, use_turn=use_turn)
    r = rows[idx]
    near = r >= 0
    if not near.all():  # cannot reach us within the horizon: no collision
        ttc = np.full(len(idx), np.inf)
        if near.any():
            ttc[near] = time_to_collision(scene, idx[near], params, use_accel=use_accel,
                                          use_turn=use_turn)  # fmt: skip
        return ttc
    tx, ty, tc = tx[r], ty[r], tc[r]
    speed = np.broadcast_to(t.speed[idx][:, None], tx.shape)
    ttc, _ = first_collision(scene.track, ego_length_m=scene.ego.length,
                             ego_width_m=scene.ego.width, tx=tx, ty=ty, tcourse=tc, tspeed=speed,
                             length_m=t.length[idx], width_m=t.width[idx],
                             params=params)  # fmt: skip
    return ttc


def predicted(
    scene: Scene, *, use_accel: bool = True, use_turn: bool = True
) -> tuple[np.ndarray, FloatArray, FloatArray, FloatArray]:
    """The cycle's CTRA prediction: row per target (-1: too far to reach us within the
    horizon, not predicted) and positions / course (rows, K) at the ego track's times."""
    key = ('ctra', use_accel, use_turn)
    hit = scene.cache.get(key)
    if hit is not None:
        return hit
    t = scene.targets
    horizon = float(scene.track.t_s[-1])
    reach = (scene.ego.speed + t.speed) * horizon + 10.0 + 0.5 * t.length
    near = np.flatnonzero(scene.distance <= reach)
    rows = np.full(len(t), -1, dtype=np.int64)
    rows[near] = np.arange(len(near))
    accel = t.accel[near] if use_accel else np.zeros(len(near))
    rate = t.yaw_rate[near] if use_turn else np.zeros(len(near))
    tx, ty, tc = predict_ctra(scene.x[near], scene.y[near], course_rad=t.course[near],
                              speed_mps=t.speed[near], accel_mps2=accel, yaw_rate_radps=rate,
                              t_s=scene.track.t_s)  # fmt: skip
    out = (rows, tx, ty, tc)
    scene.cache[key] = out
    return out

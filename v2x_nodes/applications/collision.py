"""Collision and conflict search of a subset of targets against the ego prediction."""

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
    accel = t.accel[idx] if use_accel else np.zeros(len(idx))
    rate = t.yaw_rate[idx] if use_turn else np.zeros(len(idx))
    tx, ty, tc = predict_ctra(scene.x[idx], scene.y[idx], course_rad=t.course[idx],
                              speed_mps=t.speed[idx], accel_mps2=accel, yaw_rate_radps=rate,
                              t_s=scene.track.t_s)  # fmt: skip
    speed = np.broadcast_to(t.speed[idx][:, None], tx.shape)
    ttc, _ = first_collision(scene.track, ego_length_m=scene.ego.length,
                             ego_width_m=scene.ego.width, tx=tx, ty=ty, tcourse=tc, tspeed=speed,
                             length_m=t.length[idx], width_m=t.width[idx],
                             params=params)  # fmt: skip
    return ttc

"""Collision and conflict search of a subset of targets against the ego prediction.

The CTRA prediction of the targets is shared by every application of the cycle (FCW, ICW,
LTA, VRUCW search different subsets of the same predicted tracks): each target is predicted
at most once per scene, when an application first asks for it, and kept in the scene's
cache. Only the targets some application searches are predicted (a few tens of the
hundreds around a junction), and only those that can reach the ego vehicle within the
horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from v2x_nodes.applications.kinematics import (
    BoolArray,
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
    pred = _prediction(scene, use_accel, use_turn)
    near = pred.reachable[idx]
    if not near.all():  # cannot reach us within the horizon: no collision
        ttc = np.full(len(idx), np.inf)
        if near.any():
            ttc[near] = time_to_collision(scene, idx[near], params, use_accel=use_accel,
                                          use_turn=use_turn)  # fmt: skip
        return ttc
    tx, ty, tc = pred.rows(scene, idx)
    t = scene.targets
    ttc, _ = first_collision(scene.track, ego_length_m=scene.ego.length,
                             ego_width_m=scene.ego.width, tx=tx, ty=ty, tcourse=tc,
                             tspeed=t.speed[idx][:, None], length_m=t.length[idx],
                             width_m=t.width[idx], params=params)  # fmt: skip
    return ttc


def predicted(
    scene: Scene, *, use_accel: bool = True, use_turn: bool = True
) -> tuple[np.ndarray, FloatArray, FloatArray, FloatArray]:
    """The CTRA prediction of every target that can reach us within the horizon: row per
    target (-1: too far, not predicted) and positions / course (rows, K) at the ego track's
    times."""
    pred = _prediction(scene, use_accel, use_turn)
    near = np.flatnonzero(pred.reachable)
    rows = np.full(len(pred.reachable), -1, dtype=np.int64)
    rows[near] = np.arange(len(near))
    return (rows, *pred.rows(scene, near))


@dataclass
class _Prediction:
    """One scene's CTRA tracks, filled per target on demand."""

    use_accel: bool
    use_turn: bool
    reachable: BoolArray  # (N,) within reach of the ego vehicle over the horizon
    done: BoolArray  # (N,) predicted already
    x: FloatArray  # (N, K), valid where ``done``
    y: FloatArray
    course: FloatArray

    def rows(self, scene: Scene, idx: np.ndarray) -> tuple[FloatArray, FloatArray, FloatArray]:
        todo = idx[~self.done[idx]]
        if len(todo):  # (a repeated index is predicted twice, identically)
            t = scene.targets
            accel = t.accel[todo] if self.use_accel else np.zeros(len(todo))
            rate = t.yaw_rate[todo] if self.use_turn else np.zeros(len(todo))
            x, y, c = predict_ctra(scene.x[todo], scene.y[todo], course_rad=t.course[todo],
                                   speed_mps=t.speed[todo], accel_mps2=accel,
                                   yaw_rate_radps=rate, t_s=scene.track.t_s)  # fmt: skip
            self.x[todo], self.y[todo], self.course[todo] = x, y, c
            self.done[todo] = True
        return self.x[idx], self.y[idx], self.course[idx]


def _prediction(scene: Scene, use_accel: bool, use_turn: bool) -> _Prediction:
    key = ('ctra', use_accel, use_turn)
    pred = scene.cache.get(key)
    if pred is None:
        t = scene.targets
        horizon = float(scene.track.t_s[-1])
        reach = (scene.ego.speed + t.speed) * horizon + 10.0 + 0.5 * t.length
        n, k = len(t), len(scene.track.t_s)
        pred = _Prediction(use_accel, use_turn, scene.distance <= reach, np.zeros(n, dtype=bool),
                           np.empty((n, k)), np.empty((n, k)), np.empty((n, k)))  # fmt: skip
        scene.cache[key] = pred
    return pred

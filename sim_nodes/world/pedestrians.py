"""Pedestrians (and cyclists) walking along paths, waiting at the kerb for their signal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rsu_nodes.signals.plan import Light
from sim_nodes.world.batch import PolylineBatch
from sim_nodes.world.lanes import polyline_lengths


@dataclass(frozen=True)
class PedestrianSpec:
    """A walker: a path, where on it the kerb is, which pedestrian group protects it."""

    name: str
    path: np.ndarray  # (K, 2) m
    wait_at_m: float = -1.0  # arc length of the kerb; < 0: never waits (jaywalker, path only)
    signal_key: int = 0  # index into the world's signal keys; 0 = unsignalised
    speed_mps: float = 1.4
    spawn_s: float = 0.0
    obey_signals: bool = True
    participant_class: int = 5  # Participant.CLASS_PEDESTRIAN (4 = cyclist)
    size_m: tuple[float, float, float] = (0.5, 0.5, 1.75)
    crossing_width_m: float = 4.0  # of the crosswalk (when ``wait_at_m`` >= 0)


class Crowd:
    """State of every pedestrian of a scenario."""

    def __init__(self, specs: Sequence[PedestrianSpec]) -> None:
        self.specs = list(specs)
        n = self.n = len(specs)
        self.paths = PolylineBatch(
            [s.path for s in specs] or [np.zeros((2, 2))],
            [polyline_lengths(s.path) for s in specs] or [np.array([0.0, 1.0])],
        )
        f = np.array
        self.length = f([s.size_m[0] for s in specs], dtype=float)
        self.width = f([s.size_m[1] for s in specs], dtype=float)
        self.height = f([s.size_m[2] for s in specs], dtype=float)
        self.route_length = f([polyline_lengths(s.path)[-1] for s in specs], dtype=float)
        self.speed = f([s.speed_mps for s in specs], dtype=float)
        self.wait_at = f([s.wait_at_m for s in specs], dtype=float)
        self.key = f([s.signal_key for s in specs], dtype=np.int64)
        self.obey = f([s.obey_signals for s in specs], dtype=bool)
        self.spawn_s = f([s.spawn_s for s in specs], dtype=float)
        # a crosswalk walker's path: kerb approach, crossing, the same beyond the far kerb
        self.far_kerb = self.route_length - self.wait_at
        self.crossing_half = f([0.5 * s.crossing_width_m for s in specs], dtype=float)
        self.klass = f([s.participant_class for s in specs], dtype=np.uint8)
        self.active = np.zeros(n, dtype=bool)
        self.done = np.zeros(n, dtype=bool)
        self.crashed = np.zeros(n, dtype=bool)
        self.s = np.zeros(n)
        self.x = np.zeros(n)
        self.y = np.zeros(n)
        self.yaw = np.zeros(n)
        self.v = np.zeros(n)

    def step(self, t_s: float, dt: float, lights: np.ndarray) -> None:
        self.active |= (self.spawn_s <= t_s) & ~self.done
        act = np.flatnonzero(self.active)
        if act.size == 0:
            return
        s = self.s[act]
        want = np.where(self.crashed[act], 0.0, self.speed[act])
        nxt = s + want * dt
        at_kerb = (self.wait_at[act] >= 0) & (s <= self.wait_at[act]) & (nxt >= self.wait_at[act])
        light = lights[self.key[act]]
        walk_light = (light == int(Light.PROTECTED_GREEN)) | (self.key[act] == 0)
        hold = at_kerb & self.obey[act] & ~walk_light
        nxt = np.where(hold, np.maximum(s, self.wait_at[act]), nxt)
        self.v[act] = (nxt - s) / dt
        self.s[act] = nxt
        pos, heading = self.paths.at(act, nxt)
        self.x[act], self.y[act] = pos[:, 0], pos[:, 1]
        moving = self.v[act] > 0.05
        self.yaw[act] = np.where(moving | (t_s <= self.spawn_s[act] + dt), heading, self.yaw[act])
        finished = act[nxt >= self.route_length[act]]
        self.active[finished] = False
        self.done[finished] = True

    def obstacles(self, horizon_s: float = 1.5) -> np.ndarray:
        """(M, 5): x, y now, x, y in ``horizon_s`` at the current velocity, radius (m)."""
        act = self.active
        v = self.v[act]
        radius = 0.5 * np.maximum(self.length[act], self.width[act])
        return np.column_stack(
            [
                self.x[act],
                self.y[act],
                self.x[act] + v * np.cos(self.yaw[act]) * horizon_s,
                self.y[act] + v * np.sin(self.yaw[act]) * horizon_s,
                radius,
            ]
        )

    def crossings(self, behind_m: float = 2.0) -> np.ndarray:
        """(W, 5) for the walkers crossing at a crosswalk (on it, or stepping onto it, and
        moving): the rest of their way over it as a segment from ``behind_m`` behind them to
        the far kerb (x0, y0, x1, y1), and the crosswalk's half width (m). A driver yields
        while this segment crosses the own path; a walker waiting at the kerb is not in it."""
        act = np.flatnonzero(self.active & (self.wait_at >= 0))
        s = self.s[act]
        crossing = (s >= self.wait_at[act] - 1.0) & (s < self.far_kerb[act]) & (self.v[act] > 0.05)
        act = act[crossing]
        if act.size == 0:
            return np.zeros((0, 5))
        end, _ = self.paths.at(act, self.far_kerb[act])
        c, sn = np.cos(self.yaw[act]), np.sin(self.yaw[act])
        return np.column_stack([self.x[act] - c * behind_m, self.y[act] - sn * behind_m,
                                end[:, 0], end[:, 1], self.crossing_half[act]])  # fmt: skip

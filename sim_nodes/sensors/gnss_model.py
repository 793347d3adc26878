"""GNSS position error: RTK fixed / float / single point, multipath jumps and outages.

Per vehicle the error is a first-order Gauss-Markov process per axis (slowly wandering, as
real receiver errors are), with standard deviation and correlation time of the mode; a
multipath event adds a horizontal jump of ``multipath_jump_m`` in a random direction for
``multipath_duration_s`` (Poisson arrivals at ``multipath_rate_per_min``); during an outage no
fix is produced. The reported covariance is the mode's nominal one: a receiver does not know
about its multipath error, which is exactly what positioning filters must survive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim_nodes.scenarios.schema import GnssConfig


@dataclass(frozen=True)
class ModeErrors:
    horizontal_sigma_m: float
    vertical_sigma_m: float
    correlation_s: float
    navsat_status: int  # sensor_msgs/NavSatStatus: 0 FIX, 2 GBAS_FIX


MODES = {
    'rtk_fixed': ModeErrors(0.015, 0.03, 5.0, 2),
    'rtk_float': ModeErrors(0.25, 0.45, 20.0, 2),
    'single': ModeErrors(1.5, 3.0, 60.0, 0),
}


class GnssErrorModel:
    """Error state of ``names`` (connected vehicles); ``sample`` advances it by ``dt``."""

    def __init__(self, names: Sequence[str], cfg: GnssConfig, rng: np.random.Generator) -> None:
        self.names = list(names)
        self.cfg = cfg
        base = MODES[cfg.mode]
        self.mode = ModeErrors(
            cfg.horizontal_sigma_m if cfg.horizontal_sigma_m >= 0 else base.horizontal_sigma_m,
            cfg.vertical_sigma_m if cfg.vertical_sigma_m >= 0 else base.vertical_sigma_m,
            base.correlation_s,
            base.navsat_status,
        )
        self.rng = rng
        n = len(self.names)
        self.sigma = np.array([self.mode.horizontal_sigma_m] * 2 + [self.mode.vertical_sigma_m])
        self.error = rng.standard_normal((n, 3)) * self.sigma
        self.jump = np.zeros((n, 3))
        self.jump_until = np.full(n, -np.inf)
        index = {name: i for i, name in enumerate(self.names)}
        self.outages = [
            (
                o.start_s,
                o.end_s,
                np.array([index[v] for v in o.vehicles if v in index], dtype=int)
                if o.vehicles
                else np.arange(n),
            )
            for o in cfg.outages
        ]

    def sample(self, t_s: float, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """(n, 3) ENU error in m and (n,) availability at time ``t_s``."""
        n = len(self.names)
        a = np.exp(-dt / self.mode.correlation_s)
        self.error = a * self.error + np.sqrt(1 - a * a) * self.sigma * self.rng.standard_normal(
            (n, 3)
        )
        rate = self.cfg.multipath_rate_per_min / 60.0
        starts = self.rng.random(n) < 1.0 - np.exp(-rate * dt)
        starts &= t_s >= self.jump_until
        if starts.any():
            angle = self.rng.uniform(0.0, 2 * np.pi, starts.sum())
            self.jump[starts] = (
                np.column_stack([np.cos(angle), np.sin(angle), np.zeros(angle.size)])
                * self.cfg.multipath_jump_m
            )
            self.jump_until[starts] = t_s + self.cfg.multipath_duration_s
        jumping = t_s < self.jump_until
        available = np.ones(n, bool)
        for start, end, who in self.outages:
            if start <= t_s < end:
                available[who] = False
        return self.error + np.where(jumping[:, None], self.jump, 0.0), available

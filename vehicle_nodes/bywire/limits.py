"""Actuation limits: the envelope every gate output stays inside, and the limiter that keeps it.

Longitudinal: acceleration in [-max_decel, max_accel], its change bounded by ``max_jerk``.
Lateral: the road-wheel angle is bounded by the actuator (``max_steer_rad``) and by the lateral
acceleration the bicycle model predicts at the current speed, a_lat = v² · tan(δ) / L, so
δ_max(v) = atan(a_lat_max · L / v²); its change is bounded by ``max_steer_rate_radps``.

The angle envelope is hard. When δ_max(v) shrinks faster than the rate limit allows (the speed
rose sharply), the output follows the envelope: lateral acceleration wins over steering rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vehicle_nodes.bywire.errors import GateConfigError


@dataclass(frozen=True)
class Limits:
    """The actuation envelope, SI units."""

    max_accel_mps2: float = 2.0
    max_decel_mps2: float = 6.0  # positive number; the floor is -max_decel_mps2
    max_jerk_mps3: float = 10.0
    max_steer_rad: float = 0.6
    max_steer_rate_radps: float = 0.6
    max_lat_accel_mps2: float = 3.0
    wheelbase_m: float = 2.8
    max_step_s: float = 0.1  # a longer gap between cycles counts as this long for the rates

    def __post_init__(self) -> None:
        for name in (
            'max_accel_mps2',
            'max_decel_mps2',
            'max_jerk_mps3',
            'max_steer_rad',
            'max_steer_rate_radps',
            'max_lat_accel_mps2',
            'wheelbase_m',
            'max_step_s',
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise GateConfigError(f'limits: {name} must be finite and > 0, got {value}')
        if self.max_steer_rad >= math.pi / 2:
            raise GateConfigError(
                f'limits: max_steer_rad must be below pi/2, got {self.max_steer_rad}'
            )

    def steer_limit_rad(self, speed_mps: float) -> float:
        """δ_max at ``speed_mps``: the smaller of the actuator limit and the lateral-accel one."""
        v2 = speed_mps * speed_mps
        if v2 <= 1e-9:
            return self.max_steer_rad
        return min(self.max_steer_rad, math.atan(self.max_lat_accel_mps2 * self.wheelbase_m / v2))

    def clamp_accel(self, accel_mps2: float) -> float:
        return min(self.max_accel_mps2, max(-self.max_decel_mps2, accel_mps2))


def _clip(value: float, bound: float) -> float:
    return min(bound, max(-bound, value))


@dataclass
class Limiter:
    """Holds the last output and moves it toward each new target within the limits."""

    limits: Limits
    accel_mps2: float = 0.0
    steer_rad: float = 0.0

    def reset(self, accel_mps2: float, steer_rad: float, speed_mps: float) -> None:
        """Track the vehicle's measured state (while the gate is not in control): no jump later."""
        lim = self.limits
        self.accel_mps2 = lim.clamp_accel(accel_mps2) if math.isfinite(accel_mps2) else 0.0
        bound = lim.steer_limit_rad(speed_mps)
        self.steer_rad = _clip(steer_rad, bound) if math.isfinite(steer_rad) else 0.0

    def step(
        self,
        accel_mps2: float,
        steer_rad: float,
        speed_mps: float,
        dt_s: float,
        *,
        jerk_mps3: float | None = None,
    ) -> tuple[float, float]:
        """One limited output toward the target; ``jerk_mps3`` may only tighten the jerk."""
        lim = self.limits
        dt = min(max(dt_s, 0.0), lim.max_step_s)
        jerk = lim.max_jerk_mps3 if jerk_mps3 is None else min(jerk_mps3, lim.max_jerk_mps3)
        target_a = lim.clamp_accel(accel_mps2)
        self.accel_mps2 = lim.clamp_accel(
            self.accel_mps2 + _clip(target_a - self.accel_mps2, jerk * dt)
        )
        bound = lim.steer_limit_rad(speed_mps)
        target_d = _clip(steer_rad, bound)
        moved = self.steer_rad + _clip(target_d - self.steer_rad, lim.max_steer_rate_radps * dt)
        self.steer_rad = _clip(moved, bound)
        return self.accel_mps2, self.steer_rad

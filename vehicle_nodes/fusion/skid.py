"""Loss of control: when the localisation's rolling model stops holding, and when again.

The rolling model (``ekf.py``) needs tyres that grip; a car that skids or spins slides along
a course its heading no longer shows. Two physical tests reveal it: the yaw rate × speed
(the lateral acceleration a gripping car would need) beyond ``grip_limit_mps2`` (above about
1 g no road tyre holds it; seen at the first IMU sample of a fast spin), or a GNSS velocity
moving sideways to the heading faster than ``side_slip_mps`` and beyond the chi-square gate
(slow spins and skids, the antenna's yaw rate × lever arm accounted for; 0.4 m/s, 8σ of a
0.05 m/s Doppler: a slide at 4 m/s and 0.4 rad/s never passes 0.53 m/s sideways, and with
1 m/s it stayed unseen, 0.5 m off with every fix gated until the reset). The filter then
runs the sliding model (``slide.py``) and goes back to rolling once its side slip has stayed
under ``exit_lateral_mps`` (and the grip test passes) for ``exit_hold_s``: grip regained, or
the car at rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vehicle_nodes.fusion.ekf import FloatArray, PlanarEkf, S
from vehicle_nodes.fusion.errors import ConfigError


@dataclass(frozen=True)
class SkidConfig:
    grip_limit_mps2: float = 11.0
    side_slip_mps: float = 0.4
    exit_lateral_mps: float = 0.2  # below side_slip_mps: no flapping at the threshold
    exit_hold_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ('grip_limit_mps2', 'side_slip_mps', 'exit_lateral_mps', 'exit_hold_s'):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ConfigError(f'SkidConfig.{name} must be finite and > 0, got {value}')
        if self.exit_lateral_mps >= self.side_slip_mps:
            raise ConfigError(f'SkidConfig.exit_lateral_mps ({self.exit_lateral_mps}) must be '
                              f'below side_slip_mps ({self.side_slip_mps})')  # fmt: skip


@dataclass(frozen=True)
class Skid:
    """One detected loss of control: when, why, and what was seen."""

    t_s: float
    reason: str  # 'grip_limit' | 'side_slip'
    speed_mps: float
    yaw_rate_radps: float
    lateral_mps: float  # the side slip seen (NaN for grip_limit: not measured yet)


class SkidMonitor:
    """Switches a ``PlanarEkf`` between its rolling and sliding models; keeps the skids."""

    def __init__(self, config: SkidConfig | None = None) -> None:
        self.cfg = config or SkidConfig()
        self.skids: list[Skid] = []
        self._calm_since: float | None = None  # sliding: side slip small since

    def after_predict(self, ekf: PlanarEkf, t_s: float, since_fix_s: float) -> None:
        """Rolling: start sliding when no tyre could hold the turn. Sliding: end it once the
        side slip has stayed small for ``exit_hold_s``."""
        cfg = self.cfg
        if not ekf.sliding:
            if abs(ekf.turn_accel_mps2) > cfg.grip_limit_mps2:
                v = float(ekf.x[S.V])
                self._start(ekf, t_s, 'grip_limit', lateral=math.nan, lateral_sigma=0.5 * abs(v),
                            since_fix_s=since_fix_s)  # fmt: skip
            return
        w = ekf.yaw_rate_radps
        lateral, _ = ekf.lateral_velocity()
        speed = math.hypot(float(ekf.x[S.V]), float(ekf.x[-1]))  # |(v_east, v_north)|
        if abs(lateral) < cfg.exit_lateral_mps and abs(speed * w) <= cfg.grip_limit_mps2:
            if self._calm_since is None:
                self._calm_since = t_s
            elif t_s - self._calm_since >= cfg.exit_hold_s:
                ekf.end_slide()
                self._calm_since = None
        else:
            self._calm_since = None

    def before_velocity(
        self, ekf: PlanarEkf, t_s: float, v_enu_mps: FloatArray, cov: FloatArray,
        since_fix_s: float,
    ) -> None:  # fmt: skip
        """Rolling: start sliding when this GNSS velocity moves sideways to the heading."""
        if ekf.sliding:
            return
        lateral, var = ekf.velocity_slip(v_enu_mps, cov)
        if abs(lateral) > self.cfg.side_slip_mps and lateral * lateral > ekf.gate(1) * var:
            self._start(ekf, t_s, 'side_slip', lateral=lateral, lateral_sigma=abs(lateral),
                        since_fix_s=since_fix_s)  # fmt: skip

    def _start(self, ekf: PlanarEkf, t_s: float, reason: str, *, lateral: float,
               lateral_sigma: float, since_fix_s: float) -> None:  # fmt: skip
        v, w = float(ekf.x[S.V]), ekf.yaw_rate_radps
        # what the rolling model missed since the last accepted fix (the slip grew from 0)
        missed = 0.5 * lateral_sigma * min(max(since_fix_s, 0.0), 1.0)
        ekf.start_slide(max(lateral_sigma, 1.0), missed * missed)
        self._calm_since = None
        self.skids.append(Skid(t_s, reason, v, w, lateral))

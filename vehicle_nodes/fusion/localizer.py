"""Measurement handling around the EKF: time order, alignment, fix types, outages, jumps.

The IMU clocks the filter. An IMU sample has a real IMU's integration semantics: its yaw
rate and acceleration are the means over the period that ends at its stamp, so the sample
propagates the state over that period (from the filter's time to its stamp); a measurement
between two samples propagates with the latest sample (zero-order hold: the best guess
until the next sample tells what the period really held). The VehicleStatus yaw rate and
acceleration stand in when the IMU is silent. Each measurement first propagates the state
to its stamp, then updates it. Until a heading is known (GNSS heading, GNSS
velocity above ``align_min_speed_mps``, or two fixes far enough apart) the filter is not
aligned and holds no state. GNSS positions are weighted by their covariance, floored per
fix type so a receiver cannot claim more than its fix type allows; without a covariance the
fix type's default is used. Rejected fixes (chi-square gate) leave the filter dead
reckoning; if the GNSS keeps disagreeing for ``reset_after_s``, its position is taken.

Loss of control (``skid.py``): while the car slides the filter runs the sliding model and
refuses the wheel speed (counted as ``skidding``: locked or spinning wheels do not tell the
ground speed), and skips the at-rest bias updates.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import numpy as np

from v2x_runtime.frozen import assemble
from vehicle_nodes.fusion.ekf import FilterConfig, FloatArray, PlanarEkf, S, UpdateResult
from vehicle_nodes.fusion.skid import Skid, SkidConfig, SkidMonitor


class FixKind(enum.IntEnum):
    """GNSS solution kind (same values as the GNSS driver's fix type)."""

    NO_FIX = 0
    SINGLE = 1
    DGNSS = 2
    RTK_FLOAT = 3
    RTK_FIXED = 4


SIGMA_FLOOR_M = {FixKind.SINGLE: 0.5, FixKind.DGNSS: 0.2, FixKind.RTK_FLOAT: 0.05,
                 FixKind.RTK_FIXED: 0.005}  # fmt: skip
DEFAULT_SIGMA_M = {FixKind.SINGLE: 3.0, FixKind.DGNSS: 0.8, FixKind.RTK_FLOAT: 0.3,
                   FixKind.RTK_FIXED: 0.03}  # fmt: skip


# Input noise densities ((rad/s)²·s, (m/s²)²·s) when the IMU is silent: the by-wire kit's
# yaw rate and acceleration are coarser; with nothing at all, the vehicle may turn and brake.
STATUS_INPUT_PSD = (0.02**2, 0.5**2)
NO_INPUT_PSD = (0.1**2, 2.0**2)
# Added to a GNSS velocity covariance: the floor of its weight.
_VELOCITY_FLOOR = np.eye(2) * 1e-4


class Outcome(enum.Enum):
    """What became of one measurement; anything but ACCEPTED/BUFFERED is a counted reject."""

    ACCEPTED = 'accepted'
    BUFFERED = 'buffered'  # kept for alignment
    GATED = 'innovation_gate'
    STALE = 'stale_stamp'
    NO_FIX = 'no_fix'
    NOT_FINITE = 'not_finite'
    RESET = 'gnss_reset'  # accepted by re-initialising the position
    SKIDDING = 'skidding'  # a wheel speed while the car slides: not a ground speed


@dataclass(frozen=True)
class LocalizerConfig:
    filter: FilterConfig = field(default_factory=FilterConfig)
    max_imu_gap_s: float = 0.2
    stale_tolerance_s: float = 0.05
    align_min_speed_mps: float = 1.0
    align_min_baseline_m: float = 5.0
    reset_after_s: float = 5.0
    wheel_speed_sigma_mps: float = 0.05
    gnss_timeout_s: float = 1.5
    # Standstill (zero-velocity update): every wheel speed within ``standstill_speed_mps`` for
    # ``standstill_hold_s`` pins the speed to 0 (σ ``zupt_sigma_mps``) and the raw yaw rate and
    # acceleration to their biases, ungated: the wheels are the authority on standing still.
    standstill_speed_mps: float = 0.15
    standstill_hold_s: float = 0.5
    zupt_sigma_mps: float = 0.005
    # ... unless a GNSS velocity within ``standstill_hold_s`` said faster than this (+ 3σ): the
    # locked wheels of a sliding car read 0 as well
    standstill_gnss_mps: float = 0.5
    skid: SkidConfig = field(default_factory=SkidConfig)


@dataclass(frozen=True)
class Estimate:
    t_s: float
    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float
    yaw_rate_radps: float
    gyro_bias_radps: float
    accel_bias_mps2: float
    covariance: FloatArray  # 6×6 over the state S
    gnss_age_s: float  # time since the last accepted GNSS position (inf: never)
    dead_reckoning: bool = False  # no GNSS accepted for ``gnss_timeout_s``
    lateral_speed_mps: float = 0.0  # sideways (left) ground speed of the rear axle
    lateral_speed_var_m2ps2: float = 1e-4  # its variance (the rolling model: 1e-4)
    sliding: bool = False  # the car has lost grip: the sliding model runs


def _all_finite(a: FloatArray) -> bool:
    """``np.isfinite(a).all()`` for the few values of a measurement, on floats (cheaper)."""
    return all(map(math.isfinite, a.ravel().tolist()))


class Localizer:
    """GNSS/IMU/wheel-speed localisation in one local ENU frame."""

    def __init__(self, config: LocalizerConfig | None = None) -> None:
        self.cfg = config or LocalizerConfig()
        self.ekf = PlanarEkf(self.cfg.filter)
        self.aligned = False
        self.t_s: float | None = None
        self._imu: tuple[float, float, float] | None = None  # t, gyro, accel
        self._status: tuple[float, float, float] | None = None  # t, yaw rate, accel
        self._speed: tuple[float, float] | None = None  # t, wheel speed
        self._rest_since: float | None = None  # first wheel speed of the current still spell
        self._gnss_moving_t = -math.inf  # latest GNSS velocity that said moving
        self._first_fix: tuple[float, float, float] | None = None  # t, x, y (antenna)
        self._last_fix: tuple[float, FloatArray, FloatArray] | None = None
        self._last_accept_t = -math.inf
        self._first_reject_t: float | None = None
        self.last_update: UpdateResult | None = None  # the latest gated update (diagnostics)
        self._skid = SkidMonitor(self.cfg.skid)
        self._grip_limit = self.cfg.skid.grip_limit_mps2

    # -- time ---------------------------------------------------------------------------
    def _inputs(self, t: float) -> tuple[float, float, tuple[float, float] | None]:
        """Yaw rate, acceleration and, for stand-ins, their (larger) noise densities."""
        gap = self.cfg.max_imu_gap_s
        # |t - stamp|: a sample also covers the period before its stamp (see on_imu)
        if self._imu is not None and abs(t - self._imu[0]) <= gap:
            return self._imu[1], self._imu[2], None
        if self._status is not None and abs(t - self._status[0]) <= gap:
            return self._status[1], self._status[2], STATUS_INPUT_PSD
        return 0.0, 0.0, NO_INPUT_PSD

    def _stale(self, t: float) -> bool:
        """``t`` is older than the filter by more than the tolerance."""
        return self.t_s is not None and t - self.t_s < -self.cfg.stale_tolerance_s

    def _advance(self, t: float) -> bool:
        """Predict to ``t``; False when ``t`` is older than the filter by the tolerance."""
        if self.t_s is None:
            self.t_s = t
            return True
        if self._stale(t):
            return False
        dt = t - self.t_s
        if dt > 0.0:
            if self.aligned:
                gyro, accel, psd = self._inputs(self.t_s)
                # Long gaps in small steps, so the Jacobians stay valid.
                steps = max(1, math.ceil(dt / 0.05))
                for _ in range(steps):
                    self.ekf.predict(dt / steps, gyro, accel, input_psd=psd)
                if self.ekf.sliding or abs(self.ekf.turn_accel_mps2) > self._grip_limit:
                    self._skid.after_predict(self.ekf, t, t - self._last_accept_t)
            self.t_s = t
        return True

    @property
    def sliding(self) -> bool:
        """The car has lost grip: the sliding model runs (``skid.py``)."""
        return self.ekf.sliding

    @property
    def skids(self) -> list[Skid]:
        """Every loss of control seen, in order (the node counts them)."""
        return self._skid.skids

    # -- measurements ---------------------------------------------------------------------
    def on_imu(self, t_s: float, gyro_z_radps: float, accel_x_mps2: float) -> Outcome:
        """A sample: the mean yaw rate and acceleration over the period ending at ``t_s``."""
        if not (math.isfinite(gyro_z_radps) and math.isfinite(accel_x_mps2) and math.isfinite(t_s)):
            return Outcome.NOT_FINITE
        if self._stale(t_s):
            return Outcome.STALE
        # taken before the prediction: the sample describes the period up to its own stamp
        self._imu = (t_s, gyro_z_radps, accel_x_mps2)
        self._advance(t_s)
        if self.aligned and self.standstill and not self.ekf.sliding:
            self.ekf.update_yaw_rate_at_rest(gyro_z_radps, self.cfg.filter.gyro_noise_radps)
            self.ekf.update_accel_at_rest(accel_x_mps2, self.cfg.filter.accel_noise_mps2)
        return Outcome.ACCEPTED

    @property
    def standstill(self) -> bool:
        """The wheels have reported standing still for ``standstill_hold_s`` (and are fresh)."""
        if self._rest_since is None or self._speed is None or self.t_s is None:
            return False
        cfg = self.cfg
        fresh = self.t_s - self._speed[0] <= cfg.max_imu_gap_s
        if not (fresh and self._speed[0] - self._rest_since >= cfg.standstill_hold_s):
            return False
        return self.t_s - self._gnss_moving_t > cfg.standstill_hold_s

    def on_vehicle_status(self, t_s: float, speed_mps: float, yaw_rate_radps: float,
                          accel_mps2: float) -> Outcome:  # fmt: skip
        if not all(map(math.isfinite, (t_s, speed_mps, yaw_rate_radps, accel_mps2))):
            return Outcome.NOT_FINITE
        self._status = (t_s, yaw_rate_radps, accel_mps2)
        return self.on_wheel_speed(t_s, speed_mps)

    def on_wheel_speed(self, t_s: float, speed_mps: float) -> Outcome:
        if not (math.isfinite(t_s) and math.isfinite(speed_mps)):
            return Outcome.NOT_FINITE
        if not self._advance(t_s):
            return Outcome.STALE
        self._speed = (t_s, speed_mps)
        if abs(speed_mps) > self.cfg.standstill_speed_mps:
            self._rest_since = None
        elif self._rest_since is None:
            self._rest_since = t_s
        if not self.aligned:
            return Outcome.BUFFERED
        if self.ekf.sliding:
            return Outcome.SKIDDING
        if self.standstill:
            # Zero-velocity update. Without it an acceleration offset that appears at the stop
            # (road grade, pitch on braking: g·sinθ is 0.3 m/s² on 3 %) drove the speed away
            # faster than the slow bias walk could follow, then the chi-square gate refused every
            # wheel/GNSS speed and the stopped car "crept" at metres per second.
            self.ekf.update_speed(0.0, self.cfg.zupt_sigma_mps, gate=False)
            return Outcome.ACCEPTED
        res = self.last_update = self.ekf.update_speed(speed_mps, self.cfg.wheel_speed_sigma_mps)
        return Outcome.ACCEPTED if res.accepted else Outcome.GATED

    def on_heading(self, t_s: float, yaw_rad: float, sigma_rad: float) -> Outcome:
        if not all(map(math.isfinite, (t_s, yaw_rad, sigma_rad))) or sigma_rad <= 0.0:
            return Outcome.NOT_FINITE
        if not self._advance(t_s):
            return Outcome.STALE
        if not self.aligned:
            if self._last_fix is not None and t_s - self._last_fix[0] < 1.0:
                self._align(self._last_fix[1], self._last_fix[2], yaw_rad, sigma_rad)
                return Outcome.ACCEPTED
            return Outcome.BUFFERED
        res = self.last_update = self.ekf.update_yaw(yaw_rad, sigma_rad)
        return Outcome.ACCEPTED if res.accepted else Outcome.GATED

    def on_gnss_velocity(self, t_s: float, v_enu_mps: FloatArray, cov: FloatArray) -> Outcome:
        v = np.asarray(v_enu_mps, float)
        cov = np.asarray(cov, float)
        if not (_all_finite(v) and _all_finite(cov) and math.isfinite(t_s)):
            return Outcome.NOT_FINITE
        if not self._advance(t_s):
            return Outcome.STALE
        speed = float(np.hypot(*v))
        if speed > self.cfg.standstill_gnss_mps + 3.0 * math.sqrt(max(cov[0, 0], cov[1, 1])):
            self._gnss_moving_t = t_s
        if not self.aligned:
            if speed >= self.cfg.align_min_speed_mps and self._last_fix is not None:
                sigma = math.sqrt(max(float(np.trace(cov)), 1e-6)) / speed
                t_fix, xy_fix, cov_fix = self._last_fix
                xy_now = np.asarray(xy_fix, float) + v * (t_s - t_fix)  # the fix, at this epoch
                heading = math.atan2(v[1], v[0])
                self._align(xy_now, cov_fix, heading, sigma, speed_mps=speed)
                return Outcome.ACCEPTED
            return Outcome.BUFFERED
        cov = cov + _VELOCITY_FLOOR
        self._skid.before_velocity(self.ekf, t_s, v, cov, t_s - self._last_accept_t)
        res = self.ekf.update_velocity(v, cov)
        self.last_update = res
        return Outcome.ACCEPTED if res.accepted else Outcome.GATED

    def on_gnss_position(
        self, t_s: float, xy_m: FloatArray, cov_m2: FloatArray | None, kind: FixKind
    ) -> Outcome:
        """Antenna position in the map frame, with its 2×2 ENU covariance (None: unknown)."""
        if kind == FixKind.NO_FIX:
            return Outcome.NO_FIX
        xy = np.asarray(xy_m, float)
        if not (_all_finite(xy) and math.isfinite(t_s)):
            return Outcome.NOT_FINITE
        cov = self._weight(cov_m2, kind)
        if cov is None:
            return Outcome.NOT_FINITE
        if not self._advance(t_s):
            return Outcome.STALE
        self._last_fix = (t_s, xy, cov)
        if not self.aligned:
            return self._try_align_from_baseline(t_s, xy, cov)
        res = self.last_update = self.ekf.update_position(xy, cov)
        if res.accepted:
            self._last_accept_t = t_s
            self._first_reject_t = None
            return Outcome.ACCEPTED
        if self._first_reject_t is None:
            self._first_reject_t = t_s
        if t_s - self._first_reject_t >= self.cfg.reset_after_s:
            self._reset_position(xy, cov)
            self._last_accept_t = t_s
            self._first_reject_t = None
            return Outcome.RESET
        return Outcome.GATED

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _weight(cov_m2: FloatArray | None, kind: FixKind) -> FloatArray | None:
        floor = SIGMA_FLOOR_M[kind] ** 2
        if cov_m2 is None:
            return np.eye(2) * DEFAULT_SIGMA_M[kind] ** 2
        cov = np.asarray(cov_m2, float)
        a, b, d = float(cov[0, 0]), 0.5 * float(cov[0, 1] + cov[1, 0]), float(cov[1, 1])
        if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(d)) or a <= 0.0 or d <= 0.0:
            return None
        # Eigenvalues of the symmetric 2×2 in closed form (no eigh per fix); only those
        # below the floor move, along their eigenvectors.
        mean, half = 0.5 * (a + d), math.hypot(0.5 * (a - d), b)
        lo, hi = mean - half, mean + half
        if lo >= floor:
            return np.array([[a, b], [b, d]])
        if hi <= floor:
            return np.eye(2) * floor
        # one eigenvalue raised: C + (floor - lo) u uᵀ, u the unit eigenvector of lo
        if b != 0.0:
            ux, uy = b, lo - a
        else:  # diagonal: the smaller axis
            ux, uy = (1.0, 0.0) if a <= d else (0.0, 1.0)
        norm = math.hypot(ux, uy)
        ux, uy = ux / norm, uy / norm
        k = floor - lo
        return np.array([[a + k * ux * ux, b + k * ux * uy], [b + k * ux * uy, d + k * uy * uy]])

    def _try_align_from_baseline(self, t_s: float, xy: FloatArray, cov: FloatArray) -> Outcome:
        moving = self._speed is not None and abs(self._speed[1]) >= self.cfg.align_min_speed_mps
        if self._first_fix is None or not moving:
            self._first_fix = (t_s, float(xy[0]), float(xy[1]))
            return Outcome.BUFFERED
        dx, dy = xy[0] - self._first_fix[1], xy[1] - self._first_fix[2]
        base = math.hypot(dx, dy)
        if base < self.cfg.align_min_baseline_m:
            return Outcome.BUFFERED
        if t_s - self._first_fix[0] > 2.0 * base / max(abs(self._speed[1]), 0.1):  # type: ignore[index]
            self._first_fix = (t_s, float(xy[0]), float(xy[1]))
            return Outcome.BUFFERED
        yaw = math.atan2(dy, dx) + (math.pi if self._speed[1] < 0 else 0.0)  # type: ignore[index]
        sigma = 2.0 * math.sqrt(float(np.trace(cov))) / base + 0.05
        self._align(xy, cov, yaw, sigma)
        return Outcome.ACCEPTED

    def _align(
        self,
        xy_ant: FloatArray,
        cov: FloatArray,
        yaw: float,
        yaw_sigma: float,
        *,
        speed_mps: float | None = None,
    ) -> None:
        lever = np.asarray(self.cfg.filter.lever_arm_m, float)
        c, s = math.cos(yaw), math.sin(yaw)
        base = np.asarray(xy_ant) - np.array(
            [c * lever[0] - s * lever[1], s * lever[0] + c * lever[1]]
        )
        if speed_mps is None:  # no GNSS speed: the wheel speed if any (else standing)
            speed_mps = self._speed[1] if self._speed is not None else 0.0
        speed = speed_mps
        pos_sigma = math.sqrt(max(float(np.max(np.diag(cov))), 1e-6))
        self.ekf.initialise_at_base_link(float(base[0]), float(base[1]), yaw, speed,
                                         (pos_sigma, pos_sigma, min(yaw_sigma, math.pi),
                                          1.0))  # fmt: skip
        self.aligned = True
        self._last_accept_t = self.t_s if self.t_s is not None else -math.inf

    def _reset_position(self, xy_ant: FloatArray, cov: FloatArray) -> None:
        ekf = self.ekf
        ekf.x[:2] += np.asarray(xy_ant) - ekf.antenna_position()
        ekf.P[:2, :] = 0.0
        ekf.P[:, :2] = 0.0
        ekf.P[:2, :2] = cov

    def estimate(self) -> Estimate | None:
        """The current state (at ``t_s``), or None before alignment."""
        if not self.aligned or self.t_s is None:
            return None
        x, cov = self.ekf.base_link()
        lateral, lateral_var = self.ekf.lateral_velocity()
        return assemble(  # every fix: the frozen __init__'s setattr per field costs more
            Estimate,
            t_s=self.t_s, x_m=float(x[S.X]), y_m=float(x[S.Y]), yaw_rad=float(x[S.YAW]),
            speed_mps=float(x[S.V]), yaw_rate_radps=self.ekf.yaw_rate_radps,
            gyro_bias_radps=float(x[S.BG]), accel_bias_mps2=float(x[S.BA]),
            covariance=cov, gnss_age_s=self.t_s - self._last_accept_t,
            dead_reckoning=self.t_s - self._last_accept_t > self.cfg.gnss_timeout_s,
            lateral_speed_mps=lateral, lateral_speed_var_m2ps2=lateral_var,
            sliding=self.ekf.sliding,
        )  # fmt: skip

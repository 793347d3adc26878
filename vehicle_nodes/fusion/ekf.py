"""A planar extended Kalman filter for GNSS + IMU + wheel-speed fusion.

State (REP 103, map frame ENU): ``[x_m, y_m, yaw_rad, speed_mps, gyro_bias_radps,
accel_bias_mps2]`` of the rear axle's centre, the point of a car that moves along its
heading without side slip (``base_link`` lies ``rear_axle_m`` ahead of it; in a turn any
other point also moves sideways, at yaw rate × its distance from the axle: 1 m/s for 1.4 m
at 0.7 rad/s, 2 m of position error over a right-angle turn if left out). The IMU's yaw rate
and longitudinal acceleration drive the prediction (strapdown on the plane); GNSS position
and velocity are measured at the antenna, offset by the lever arm (from base_link, plus
``rear_axle_m``); wheel speed (the rear axle's) and GNSS heading are direct measurements.
Every update is gated by the chi-square test on its normalised innovation; covariance
updates use the Joseph form. A car that has lost grip (skids, spins) breaks the rolling
model's premise; ``start_slide``/``end_slide`` switch to the sliding model of ``slide.py``
(ENU ground velocity instead of the speed along the heading) and back.

Per step the work is a handful of fixed-size numpy operations on preallocated arrays: the
Jacobian F is one buffer with six entries rewritten, the process noise a diagonal add, and
the scalar updates (wheel speed, heading, the at-rest biases, whose H picks one state) take
the Joseph form in closed form with outer products instead of 6×6 products with H.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import chdtri

from vehicle_nodes.fusion import slide
from vehicle_nodes.fusion.errors import ConfigError, FusionError

FloatArray = NDArray[np.float64]


class S(enum.IntEnum):
    """Indices into the state vector."""

    X = 0
    Y = 1
    YAW = 2
    V = 3
    BG = 4
    BA = 5


N = len(S)
_EYE = np.eye(N)
_DIAG = slice(None, None, N + 1)  # the diagonal of a flat (ravelled) N×N matrix


@dataclass(frozen=True)
class FilterConfig:
    """Noise model (continuous-time densities) and gating. Units in the names."""

    gyro_noise_radps: float = 0.005  # white noise σ of one yaw-rate sample at 100 Hz
    accel_noise_mps2: float = 0.05
    gyro_bias_walk_radps_per_sqrt_s: float = 5e-5
    accel_bias_walk_mps2_per_sqrt_s: float = 5e-4
    position_walk_m_per_sqrt_s: float = 0.001  # what the planar model leaves out
    lever_arm_m: tuple[float, float] = (0.0, 0.0)  # antenna in base_link (x fwd, y left)
    rear_axle_m: float = 0.0  # base_link ahead of the rear axle (0: base_link on the axle)
    gate_probability: float = 0.999
    initial_gyro_bias_sigma_radps: float = 0.02
    initial_accel_bias_sigma_mps2: float = 0.2
    imu_rate_hz: float = 100.0
    # sliding model: the ground velocity's random walk (a sliding tyre's friction, up to µg)
    slide_velocity_walk_mps_per_sqrt_s: float = 4.0

    def __post_init__(self) -> None:
        for name in ('gyro_noise_radps', 'accel_noise_mps2', 'gyro_bias_walk_radps_per_sqrt_s',
                     'accel_bias_walk_mps2_per_sqrt_s', 'position_walk_m_per_sqrt_s',
                     'initial_gyro_bias_sigma_radps', 'initial_accel_bias_sigma_mps2',
                     'imu_rate_hz', 'slide_velocity_walk_mps_per_sqrt_s'):  # fmt: skip
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ConfigError(f'FilterConfig.{name} must be finite and > 0, got {value}')
        if not (math.isfinite(self.rear_axle_m) and abs(self.rear_axle_m) <= 20.0):
            raise ConfigError(f'FilterConfig.rear_axle_m must be within ±20 m, got '
                              f'{self.rear_axle_m}')  # fmt: skip
        if not 0.5 < self.gate_probability < 1.0:
            raise ConfigError(
                'FilterConfig.gate_probability must be within (0.5, 1), '
                f'got {self.gate_probability}'
            )


@dataclass(frozen=True)
class UpdateResult:
    accepted: bool
    nis: float  # normalised innovation squared
    gate: float  # the chi-square bound it was tested against


def _rot(yaw: float) -> FloatArray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s], [s, c]])


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


class PlanarEkf:
    """The filter itself: predict with IMU inputs, update with measurements."""

    def __init__(self, config: FilterConfig | None = None) -> None:
        self.cfg = config or FilterConfig()
        self.x = np.zeros(N)
        self.P = np.eye(N)
        self.yaw_rate_radps = 0.0  # last bias-corrected yaw rate
        self.turn_accel_mps2 = 0.0  # speed × yaw rate of the last rolling prediction
        # the antenna from the state's point (the rear axle)
        lx, ly = self.cfg.lever_arm_m
        self._lever = np.array([lx + self.cfg.rear_axle_m, ly], dtype=float)
        self._lever_x = lx + self.cfg.rear_axle_m
        # the chi-square quantile (what scipy.stats.chi2.ppf computes, without importing it)
        self._gates = {d: float(chdtri(d, 1.0 - self.cfg.gate_probability)) for d in (1, 2)}
        dt_imu = 1.0 / self.cfg.imu_rate_hz
        # Sample σ at the IMU rate → continuous density, so any dt integrates consistently.
        self._q_gyro = self.cfg.gyro_noise_radps**2 * dt_imu
        self._q_accel = self.cfg.accel_noise_mps2**2 * dt_imu
        cfg = self.cfg
        walk = cfg.position_walk_m_per_sqrt_s**2
        # process noise densities per state; [2], [3] are replaced for stand-in inputs
        self._q = np.array([walk, walk, self._q_gyro, self._q_accel,
                            cfg.gyro_bias_walk_radps_per_sqrt_s**2,
                            cfg.accel_bias_walk_mps2_per_sqrt_s**2])  # fmt: skip
        self._q_inputs = np.empty(N)
        self._F = np.eye(N)
        self._J = np.eye(N)  # base_link's Jacobian: identity but for two entries
        self._H2 = np.zeros((2, N))  # the position/velocity Jacobians: rewritten in full
        self.sliding = False  # the state is slide.py's (ENU velocity) while True
        self._H2_slide = np.zeros((2, slide.N_SLIDE))
        slide_q = cfg.slide_velocity_walk_mps_per_sqrt_s**2
        self._q_slide = np.array([walk, walk, self._q_gyro, slide_q, self._q[4], self._q[5],
                                  slide_q])  # fmt: skip

    def initialise(
        self, x_m: float, y_m: float, yaw_rad: float, speed_mps: float,
        sigmas: tuple[float, float, float, float],
    ) -> None:  # fmt: skip
        """Start from a position (base_link), heading and speed with their 1-σ."""
        self.x = np.array([x_m, y_m, _wrap(yaw_rad), speed_mps, 0.0, 0.0])
        s = [
            *sigmas,
            self.cfg.initial_gyro_bias_sigma_radps,
            self.cfg.initial_accel_bias_sigma_mps2,
        ]
        self.P = np.diag(np.square(s))
        self.sliding = False

    def predict(
        self, dt_s: float, gyro_z_radps: float, accel_x_mps2: float, *,
        input_psd: tuple[float, float] | None = None,
    ) -> None:  # fmt: skip
        """Propagate by ``dt_s`` with the measured yaw rate and longitudinal acceleration.

        ``input_psd``: (yaw rate, acceleration) noise densities ((rad/s)²·s, (m/s²)²·s) to use
        instead of the IMU's, when the inputs are stand-ins (vehicle status, or none at all).
        """
        if dt_s <= 0.0:
            return
        if self.sliding:
            q = self._q_slide
            if input_psd is not None:
                q = q.copy()
                q[S.YAW] = input_psd[0]
            w = gyro_z_radps - float(self.x[S.BG])
            self.x, self.P = slide.predict_slide(self.x, self.P, dt_s, w, q)
            self.yaw_rate_radps = w
            return
        x, y, yaw, v, bg, ba = self.x.tolist()
        w = gyro_z_radps - bg
        a = accel_x_mps2 - ba
        c, s = math.cos(yaw), math.sin(yaw)
        # Midpoint heading keeps the position step second-order accurate on arcs.
        ym = yaw + 0.5 * w * dt_s
        vm = v + 0.5 * a * dt_s
        cm, sm = math.cos(ym), math.sin(ym)
        self.x = np.array(
            [x + vm * cm * dt_s, y + vm * sm * dt_s, _wrap(yaw + w * dt_s), v + a * dt_s, bg, ba]
        )
        F = self._F  # noqa: N806  (identity but for these six entries)
        F[0, 2] = -v * s * dt_s
        F[0, 3] = c * dt_s
        F[1, 2] = v * c * dt_s
        F[1, 3] = s * dt_s
        F[2, 4] = -dt_s
        F[3, 5] = -dt_s
        q = self._q
        if input_psd is not None:
            q = self._q_inputs
            q[:] = self._q
            q[2], q[3] = input_psd
        P = F @ self.P @ F.T  # noqa: N806
        P.ravel()[_DIAG] += q * dt_s  # a view: matmul gives a C-contiguous array
        self.P = P
        self.yaw_rate_radps = w
        self.turn_accel_mps2 = v * w  # what a gripping tyre must give (skid.py's test)

    def gate(self, dof: int) -> float:
        """The chi-square bound of a ``dof``-dimensional innovation (1 or 2)."""
        return self._gates[dof]

    def _update_one(self, j: int, r: float, var: float, gate: bool) -> UpdateResult:
        """The update for a measurement of state ``j`` alone (H = e_j), variance ``var``.

        Joseph form in closed form: with p = P e_j and K = p / S, (I - K Hᵀ) P (I - K Hᵀ)ᵀ +
        K var Kᵀ = P - K pᵀ - p Kᵀ + S K Kᵀ.
        """
        P = self.P  # noqa: N806
        p = P[:, j].copy()
        S_ = float(p[j]) + var  # noqa: N806
        nis = r * r / S_
        bound = self._gates[1]
        if gate and not nis <= bound:
            return UpdateResult(False, nis, bound)
        K = p / S_  # noqa: N806
        self.x = self.x + K * r
        self.x[S.YAW] = _wrap(self.x[S.YAW])
        Kc = K[:, None]  # noqa: N806  (np.outer's own product, without its wrapper)
        Kp = Kc * p[None, :]  # noqa: N806
        P = P - Kp - Kp.T + S_ * (Kc * K[None, :])  # noqa: N806
        self.P = 0.5 * (P + P.T)
        return UpdateResult(True, nis, bound)

    def _update(self, r: FloatArray, H: FloatArray, R: FloatArray, gate: bool) -> UpdateResult:  # noqa: N803
        PHt = self.P @ H.T  # noqa: N806
        S_ = H @ PHt + R  # noqa: N806
        if len(r) == 1:
            S_inv = 1.0 / S_  # noqa: N806
        else:  # 2×2: the closed form beats a general inverse (on floats: the same IEEE ops)
            (s00, s01), (s10, s11) = S_.tolist()
            det = s00 * s11 - s01 * s10
            S_inv = np.array([[s11 / det, -s01 / det], [-s10 / det, s00 / det]])  # noqa: N806
        nis = float(r @ S_inv @ r)
        bound = self._gates[len(r)]
        if gate and not nis <= bound:
            return UpdateResult(False, nis, bound)
        K = PHt @ S_inv  # noqa: N806
        self.x = self.x + K @ r
        self.x[S.YAW] = _wrap(self.x[S.YAW])
        A = (slide.EYE7 if self.sliding else _EYE) - K @ H  # noqa: N806
        self.P = A @ self.P @ A.T + K @ R @ K.T
        self.P = 0.5 * (self.P + self.P.T)
        return UpdateResult(True, nis, bound)

    def antenna_position(self) -> FloatArray:
        return self.x[:2] + _rot(self.x[S.YAW]) @ self._lever

    def base_link(self) -> tuple[FloatArray, FloatArray]:
        """The state and its covariance with x, y moved to base_link (``rear_axle_m`` ahead
        of the rear axle along the heading). While sliding: in the rolling layout S, the
        speed being the forward component of the ground velocity (``lateral_velocity``
        gives the other)."""
        d = self.cfg.rear_axle_m
        x, P = slide.from_slide(self.x, self.P) if self.sliding else (self.x, self.P)  # noqa: N806
        if d == 0.0:
            return x.copy(), P.copy()
        c, s = math.cos(x[S.YAW]), math.sin(x[S.YAW])
        x = x.copy()
        x[0] += c * d
        x[1] += s * d
        J = self._J  # noqa: N806
        J[0, 2], J[1, 2] = -s * d, c * d
        return x, J @ P @ J.T

    def lateral_velocity(self) -> tuple[float, float]:
        """The rear axle's sideways (left) ground velocity in m/s and its variance: 0 with
        the rolling model's 1e-4 (no side slip), estimated while sliding."""
        if not self.sliding:
            return 0.0, 1e-4
        return slide.body_velocity(self.x)[1], slide.lateral_variance(self.x, self.P)

    def start_slide(self, lateral_sigma_mps: float, position_var_m2: float) -> None:
        """Switch to the sliding model (the car has lost grip): the velocity keeps its value
        along the heading, with ``lateral_sigma_mps`` across it, and the position takes
        ``position_var_m2`` more (what the rolling model missed before the skid was seen)."""
        if self.sliding:
            return
        self.x, self.P = slide.to_slide(self.x, self.P, lateral_sigma_mps, position_var_m2)
        self.sliding = True

    def end_slide(self) -> None:
        """Back to the rolling model (grip regained or stopped): the speed is the forward
        component of the ground velocity."""
        if not self.sliding:
            return
        self.x, self.P = slide.from_slide(self.x, self.P)
        self.sliding = False
        self.turn_accel_mps2 = 0.0  # the next rolling prediction sets it

    def initialise_at_base_link(
        self, x_m: float, y_m: float, yaw_rad: float, speed_mps: float,
        sigmas: tuple[float, float, float, float],
    ) -> None:  # fmt: skip
        """``initialise`` from base_link's position (the rear axle lies behind it)."""
        d = self.cfg.rear_axle_m
        self.initialise(x_m - math.cos(yaw_rad) * d, y_m - math.sin(yaw_rad) * d, yaw_rad,
                        speed_mps, sigmas)  # fmt: skip

    def update_position(
        self, z_xy_m: FloatArray, cov_m2: FloatArray, *, gate: bool = True
    ) -> UpdateResult:
        """GNSS antenna position (ENU, m) with its 2×2 covariance."""
        yaw = self.x[S.YAW]
        lx, ly = self._lever
        c, s = math.cos(yaw), math.sin(yaw)
        H = self._H2_slide if self.sliding else self._H2  # noqa: N806
        H.fill(0.0)
        H[0, 0] = H[1, 1] = 1.0
        H[0, 2] = -s * lx - c * ly
        H[1, 2] = c * lx - s * ly
        return self._update(np.asarray(z_xy_m) - self.antenna_position(), H, cov_m2, gate)

    def update_velocity(
        self, z_enu_mps: FloatArray, cov_m2ps2: FloatArray, *, gate: bool = True
    ) -> UpdateResult:
        """GNSS antenna velocity over ground (ENU east/north, m/s) with its 2×2 covariance."""
        if self.sliding:
            pred, H = slide.antenna_velocity(self.x, self.yaw_rate_radps, self._lever)  # noqa: N806
            return self._update(np.asarray(z_enu_mps) - pred, H, cov_m2ps2, gate)
        yaw, v = self.x[S.YAW], self.x[S.V]
        lx, ly = self._lever
        w = self.yaw_rate_radps
        body = np.array([v - w * ly, w * lx])
        rot = _rot(yaw)
        drot = np.array([[-math.sin(yaw), -math.cos(yaw)], [math.cos(yaw), -math.sin(yaw)]])
        H = self._H2  # noqa: N806
        H.fill(0.0)
        H[:, 2] = drot @ body
        H[:, 3] = rot[:, 0]
        H[:, 4] = rot @ np.array([ly, -lx])
        return self._update(np.asarray(z_enu_mps) - rot @ body, H, cov_m2ps2, gate)

    def update_speed(
        self, speed_mps: float, sigma_mps: float, *, gate: bool = True
    ) -> UpdateResult:
        """Wheel speed (signed, m/s).

        :raises FusionError: while sliding (wheels do not tell a sliding car's ground speed).
        """
        if self.sliding:
            raise FusionError('PlanarEkf.update_speed: wheel speed while sliding')
        return self._update_one(S.V, speed_mps - float(self.x[S.V]), sigma_mps**2, gate)

    def update_yaw_rate_at_rest(self, gyro_z_radps: float, sigma_radps: float) -> UpdateResult:
        """Zero angular-rate update: standing still, the raw yaw rate *is* the gyro bias."""
        return self._update_one(S.BG, gyro_z_radps - float(self.x[S.BG]), sigma_radps**2, False)

    def update_accel_at_rest(self, accel_x_mps2: float, sigma_mps2: float) -> UpdateResult:
        """Zero acceleration update: standing still, the raw longitudinal acceleration is the
        bias plus g·sin(grade): the offset to remove (a step the bias walk follows slowly)."""
        return self._update_one(S.BA, accel_x_mps2 - float(self.x[S.BA]), sigma_mps2**2, False)

    def velocity_slip(self, z_enu_mps: FloatArray, cov_m2ps2: FloatArray) -> tuple[float, float]:
        """The sideways part of a GNSS velocity's innovation, rolling model: (m/s, its
        variance, measurement and heading uncertainty included): how fast the car moves across
        its heading beyond what yaw rate × lever arm explains, i.e. its side slip."""
        yaw, v = self.x[S.YAW].item(), self.x[S.V].item()
        c, s = math.cos(yaw), math.sin(yaw)
        lx = self._lever_x
        z0, z1 = np.asarray(z_enu_mps, float).tolist()
        (c00, c01), (c10, c11) = np.asarray(cov_m2ps2, float).tolist()
        # the measurement in the body frame minus the predicted antenna velocity there
        lateral = -s * z0 + c * z1 - self.yaw_rate_radps * lx
        var = s * s * c00 - s * c * (c01 + c10) + c * c * c11
        P = self.P  # noqa: N806
        var += v * v * P[S.YAW, S.YAW].item() + lx * lx * P[S.BG, S.BG].item()
        return lateral, var

    def update_yaw(self, yaw_rad: float, sigma_rad: float, *, gate: bool = True) -> UpdateResult:
        """A heading measurement (dual-antenna GNSS), ENU yaw."""
        return self._update_one(S.YAW, _wrap(yaw_rad - float(self.x[S.YAW])), sigma_rad**2, gate)

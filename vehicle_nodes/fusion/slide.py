"""The sliding-car motion model: the EKF's state while the car skids or spins.

The rolling model (``ekf.py``) makes the rear axle move along the heading at the wheel speed.
A car that has lost grip does not: it slides along the course it had while the body yaws
(a spin: 1.2 rad/s with the velocity fixed in the map), so its velocity is off its heading by
any angle and the wheels no longer tell the ground speed. Kept on the rolling model, the
prediction swings round with the heading and leaves the car tens of metres off within
seconds, while the chi-square gate refuses the RTK fixes that say so.

While sliding the state is ``[x_m, y_m, yaw_rad, v_east_mps, gyro_bias_radps,
accel_bias_mps2, v_north_mps]`` (the rolling state with the speed replaced by the rear
axle's ENU ground velocity, ``v_north`` appended): position integrates that velocity,
which is a random walk (``slide_velocity_walk``: friction forces of a sliding tyre are
neither known nor measured here: the node reads only the longitudinal accelerometer, which
cannot tell the deceleration of a car moving sideways); the heading still integrates the
gyro. GNSS position and velocity observe it directly, the heading stays observable
through the lever arm. The conversions between the two layouts are exact for the mean and
first-order (Jacobian) for the covariance.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# The rolling state's indices (ekf.S: this module sits below ekf.py, which imports it) and the
# sliding state's: the ENU velocity takes the speed's place and appends its north component.
X, Y, YAW, V, BG, BA = range(6)
VE, VN = V, 6
N_SLIDE = 7
EYE7 = np.eye(N_SLIDE)


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


def to_slide(
    x: FloatArray, cov: FloatArray, lateral_sigma_mps: float, position_var_m2: float
) -> tuple[FloatArray, FloatArray]:
    """Rolling state and covariance → sliding ones. The velocity starts along the heading
    with ``lateral_sigma_mps`` of uncertainty across it (the slip the rolling model could not
    hold), the position with ``position_var_m2`` more (what it missed before the skid was seen)."""
    yaw, v = float(x[YAW]), float(x[V])
    c, s = math.cos(yaw), math.sin(yaw)
    xs = np.empty(N_SLIDE)
    xs[:6] = x
    xs[VE], xs[VN] = v * c, v * s
    T = np.zeros((N_SLIDE, 6))  # noqa: N806
    for i in (X, Y, YAW, BG, BA):
        T[i, i] = 1.0
    T[VE, YAW], T[VE, V] = -v * s, c
    T[VN, YAW], T[VN, V] = v * c, s
    Ps = T @ cov @ T.T  # noqa: N806
    across = np.array([-s, c])
    idx = np.ix_((VE, VN), (VE, VN))
    Ps[idx] += lateral_sigma_mps**2 * np.outer(across, across)
    Ps[X, X] += position_var_m2
    Ps[Y, Y] += position_var_m2
    return xs, 0.5 * (Ps + Ps.T)


def body_velocity(x: FloatArray) -> tuple[float, float]:
    """(forward, left) ground velocity of the rear axle in the body frame, sliding state."""
    yaw = float(x[YAW])
    c, s = math.cos(yaw), math.sin(yaw)
    ve, vn = float(x[VE]), float(x[VN])
    return ve * c + vn * s, -ve * s + vn * c


def from_slide(x: FloatArray, cov: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Sliding state → rolling state: the speed is the forward component of the velocity
    (the sideways one is dropped: called when it has died away, or for the S-layout view)."""
    yaw = float(x[YAW])
    c, s = math.cos(yaw), math.sin(yaw)
    forward, left = body_velocity(x)
    xr = x[:6].copy()
    xr[V] = forward
    T = np.zeros((6, N_SLIDE))  # noqa: N806
    for i in (X, Y, YAW, BG, BA):
        T[i, i] = 1.0
    T[V, YAW], T[V, VE], T[V, VN] = left, c, s
    Pr = T @ cov @ T.T  # noqa: N806
    return xr, 0.5 * (Pr + Pr.T)


def lateral_variance(x: FloatArray, cov: FloatArray) -> float:
    """Variance of the sideways body velocity (first order), sliding state."""
    yaw = float(x[YAW])
    c, s = math.cos(yaw), math.sin(yaw)
    forward, _ = body_velocity(x)
    g = np.zeros(N_SLIDE)
    g[YAW], g[VE], g[VN] = -forward, -s, c
    return float(g @ cov @ g)


def predict_slide(
    x: FloatArray, cov: FloatArray, dt_s: float, yaw_rate_radps: float, q: FloatArray,
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """Propagate by ``dt_s``: position on the (constant) ENU velocity, heading on the
    bias-corrected yaw rate; ``q`` the process noise densities per state."""
    xs = x.copy()
    xs[X] += x[VE] * dt_s
    xs[Y] += x[VN] * dt_s
    xs[YAW] = _wrap(float(x[YAW]) + yaw_rate_radps * dt_s)
    F = EYE7.copy()  # noqa: N806
    F[X, VE] = F[Y, VN] = dt_s
    F[YAW, BG] = -dt_s
    Ps = F @ cov @ F.T  # noqa: N806
    Ps[np.diag_indices(N_SLIDE)] += q * dt_s
    return xs, Ps


def antenna_velocity(
    x: FloatArray, yaw_rate_radps: float, lever_m: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Predicted antenna ground velocity (ENU) and its 2×7 Jacobian, sliding state: the rear
    axle's velocity plus yaw rate × the lever arm (``lever_m`` from the rear axle, body)."""
    yaw = float(x[YAW])
    c, s = math.cos(yaw), math.sin(yaw)
    lx, ly = float(lever_m[0]), float(lever_m[1])
    arm = np.array([-s * lx - c * ly, c * lx - s * ly])  # d(R lever)/dyaw = R (−ly, lx)
    pred = np.array([x[VE], x[VN]]) + yaw_rate_radps * arm
    H = np.zeros((2, N_SLIDE))  # noqa: N806
    H[0, VE] = H[1, VN] = 1.0
    H[:, YAW] = yaw_rate_radps * np.array([-c * lx + s * ly, -s * lx - c * ly])
    H[:, BG] = -arm
    return pred, H

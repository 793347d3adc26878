"""The filter's cheaper algebra gives the same bits as the textbook numpy forms.

``PlanarEkf`` reuses its Jacobian buffers, adds the process noise through a flat view of the
diagonal, forms the outer products and the 2×2 inverse without numpy's wrappers. Each step
here starts from a random state and covariance and is compared, bit for bit, with the same
step written as it was before (fresh ``np.zeros``/``np.eye``, ``np.outer``, fancy-indexed
diagonal, the inverse as one array divided by its determinant).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vehicle_nodes.fusion.ekf import FilterConfig, N, PlanarEkf, S, _wrap

SETTINGS = settings(max_examples=300, deadline=None)
finite = st.floats(-50.0, 50.0, allow_nan=False)


def _filter(seed: int, lever: tuple[float, float], rear_axle: float) -> PlanarEkf:
    rng = np.random.default_rng(seed)
    ekf = PlanarEkf(FilterConfig(lever_arm_m=lever, rear_axle_m=rear_axle, imu_rate_hz=10.0))
    ekf.x = rng.normal(0.0, 3.0, N)
    a = rng.normal(0.0, 0.5, (N, N))
    ekf.P = a @ a.T + np.eye(N) * 1e-3
    ekf.yaw_rate_radps = float(rng.normal(0.0, 0.3))
    return ekf


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.tobytes() == b.tobytes()


levers = st.tuples(st.floats(-2.0, 2.0), st.floats(-1.0, 1.0))


@SETTINGS
@given(st.integers(0, 2**32 - 1), levers, st.floats(0.001, 0.2), finite, finite, st.booleans())
def test_predict_same_bits(seed, lever, dt, gyro, accel, stand_in) -> None:
    ekf = _filter(seed, lever, 1.38)
    x0, p0 = ekf.x.copy(), ekf.P.copy()
    psd = (0.02**2, 0.5**2) if stand_in else None
    ekf.predict(dt, gyro, accel, input_psd=psd)
    yaw, v = x0[S.YAW], x0[S.V]
    c, s = math.cos(yaw), math.sin(yaw)
    F = np.eye(N)  # noqa: N806
    F[0, 2], F[0, 3], F[1, 2], F[1, 3] = -v * s * dt, c * dt, v * c * dt, s * dt
    F[2, 4] = F[3, 5] = -dt
    q = ekf._q.copy()
    if psd is not None:
        q[2], q[3] = psd
    expected = F @ p0 @ F.T
    expected[np.diag_indices(N)] += q * dt
    assert _same(ekf.P, expected)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.sampled_from([S.V, S.YAW, S.BG, S.BA]), finite,
       st.floats(1e-3, 2.0))  # fmt: skip
def test_scalar_update_same_bits(seed, j, r, sigma) -> None:
    ekf = _filter(seed, (0.0, 0.0), 0.0)
    x0, p0 = ekf.x.copy(), ekf.P.copy()
    res = ekf._update_one(int(j), r, sigma**2, False)
    p = p0[:, j].copy()
    s_ = float(p[j]) + sigma**2
    k = p / s_
    x = x0 + k * r
    x[S.YAW] = _wrap(x[S.YAW])
    kp = np.outer(k, p)
    expected = p0 - kp - kp.T + s_ * np.outer(k, k)
    expected = 0.5 * (expected + expected.T)
    assert res.accepted
    assert _same(ekf.x, x)
    assert _same(ekf.P, expected)


def _reference_update(ekf: PlanarEkf, x0, p0, r, H, R):  # noqa: N803
    pht = p0 @ H.T
    s_ = H @ pht + R
    det = s_[0, 0] * s_[1, 1] - s_[0, 1] * s_[1, 0]
    s_inv = np.array([[s_[1, 1], -s_[0, 1]], [-s_[1, 0], s_[0, 0]]]) / det
    nis = float(r @ s_inv @ r)
    k = pht @ s_inv
    x = x0 + k @ r
    x[S.YAW] = _wrap(x[S.YAW])
    a = np.eye(N) - k @ H
    p = a @ p0 @ a.T + k @ R @ k.T
    return nis, x, 0.5 * (p + p.T)


def _cov(draw_a: float, draw_b: float, draw_c: float) -> np.ndarray:
    return np.array([[draw_a, draw_c], [draw_c, draw_b]]) + np.eye(2) * (abs(draw_c) + 1e-3)


@SETTINGS
@given(st.integers(0, 2**32 - 1), levers, st.tuples(finite, finite), st.floats(1e-4, 4.0),
       st.floats(1e-4, 4.0), st.floats(-1.0, 1.0))  # fmt: skip
def test_position_update_same_bits(seed, lever, z, a, b, c) -> None:
    ekf = _filter(seed, lever, 1.38)
    x0, p0 = ekf.x.copy(), ekf.P.copy()
    cov = _cov(a, b, c)
    lx, ly = ekf._lever
    yaw = x0[S.YAW]
    cy, sy = math.cos(yaw), math.sin(yaw)
    H = np.zeros((2, N))  # noqa: N806
    H[0, 0] = H[1, 1] = 1.0
    H[0, 2] = -sy * lx - cy * ly
    H[1, 2] = cy * lx - sy * ly
    r = np.asarray(z) - ekf.antenna_position()
    nis, x, p = _reference_update(ekf, x0, p0, r, H, cov)
    res = ekf.update_position(np.asarray(z), cov, gate=False)
    assert res.nis == nis
    assert _same(ekf.x, x)
    assert _same(ekf.P, p)


@SETTINGS
@given(st.integers(0, 2**32 - 1), levers, st.tuples(finite, finite), st.floats(1e-4, 4.0),
       st.floats(1e-4, 4.0), st.floats(-1.0, 1.0))  # fmt: skip
def test_velocity_update_same_bits(seed, lever, z, a, b, c) -> None:
    ekf = _filter(seed, lever, 1.38)
    x0, p0 = ekf.x.copy(), ekf.P.copy()
    cov = _cov(a, b, c)
    yaw, v = x0[S.YAW], x0[S.V]
    lx, ly = ekf._lever
    w = ekf.yaw_rate_radps
    body = np.array([v - w * ly, w * lx])
    rot = np.array([[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]])
    drot = np.array([[-math.sin(yaw), -math.cos(yaw)], [math.cos(yaw), -math.sin(yaw)]])
    H = np.zeros((2, N))  # noqa: N806
    H[:, 2] = drot @ body
    H[:, 3] = rot[:, 0]
    H[:, 4] = rot @ np.array([ly, -lx])
    nis, x, p = _reference_update(ekf, x0, p0, np.asarray(z) - rot @ body, H, cov)
    res = ekf.update_velocity(np.asarray(z), cov, gate=False)
    assert res.nis == nis
    assert _same(ekf.x, x)
    assert _same(ekf.P, p)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.floats(-3.0, 3.0))
def test_base_link_same_bits(seed, rear_axle) -> None:
    ekf = _filter(seed, (0.0, 0.0), rear_axle)
    for _ in range(2):  # the Jacobian buffer is reused: twice, with different states
        x, cov = ekf.base_link()
        yaw = ekf.x[S.YAW]
        c, s = math.cos(yaw), math.sin(yaw)
        expected_x = ekf.x.copy()
        if rear_axle == 0.0:
            expected_cov = ekf.P.copy()
        else:
            expected_x[0] += c * rear_axle
            expected_x[1] += s * rear_axle
            J = np.eye(N)  # noqa: N806
            J[0, 2], J[1, 2] = -s * rear_axle, c * rear_axle
            expected_cov = J @ ekf.P @ J.T
        assert _same(x, expected_x)
        assert _same(cov, expected_cov)
        ekf.x = ekf.x + 0.3

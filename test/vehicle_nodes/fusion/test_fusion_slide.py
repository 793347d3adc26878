"""The sliding model's algebra (``slide.py``): layout conversions, Jacobians, side slip."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vehicle_nodes.fusion import slide
from vehicle_nodes.fusion.ekf import FilterConfig, PlanarEkf, S

SETTINGS = settings(max_examples=200, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def _random(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 5.0, n)
    x[S.YAW] = rng.uniform(-math.pi, math.pi)
    a = rng.normal(0.0, 0.5, (n, n))
    return x, a @ a.T + np.eye(n) * 1e-3


def _numeric_jacobian(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    cols = []
    for i in range(x.size):
        d = np.zeros(x.size)
        d[i] = eps
        cols.append((f(x + d) - f(x - d)) / (2 * eps))
    return np.column_stack(cols)


def test_the_sliding_indices_extend_the_rolling_ones():
    assert tuple(S) == (slide.X, slide.Y, slide.YAW, slide.V, slide.BG, slide.BA)
    assert slide.VE == S.V and len(S) + 1 == slide.N_SLIDE


@SETTINGS
@given(seeds)
def test_rolling_to_sliding_and_back_is_the_identity(seed):
    x, p = _random(seed, 6)
    xs, ps = slide.to_slide(x, p, 0.0, 0.0)
    assert slide.body_velocity(xs) == pytest.approx((x[S.V], 0.0), abs=1e-9)
    xr, pr = slide.from_slide(xs, ps)
    np.testing.assert_allclose(xr, x, atol=1e-9)
    np.testing.assert_allclose(pr, p, atol=1e-9)


@SETTINGS
@given(seeds, st.floats(0.1, 10.0), st.floats(0.0, 4.0))
def test_entering_the_slide_adds_uncertainty_across_the_heading_only(seed, sigma, pos_var):
    x, p = _random(seed, 6)
    _, p0 = slide.to_slide(x, p, 0.0, 0.0)
    xs, ps = slide.to_slide(x, p, sigma, pos_var)
    added = ps - p0
    c, s = math.cos(x[S.YAW]), math.sin(x[S.YAW])
    vel = np.ix_((slide.VE, slide.VN), (slide.VE, slide.VN))
    np.testing.assert_allclose(added[vel], sigma**2 * np.outer([-s, c], [-s, c]), atol=1e-9)
    assert added[S.X, S.X] == pytest.approx(pos_var) and added[S.Y, S.Y] == pytest.approx(pos_var)
    assert np.all(np.linalg.eigvalsh(ps) > 0.0)  # rank 7 once the slip has a variance
    # the forward speed keeps its variance: the added slip is across the heading
    _, pr = slide.from_slide(xs, ps)
    assert pr[S.V, S.V] == pytest.approx(p[S.V, S.V], rel=1e-9, abs=1e-9)


@SETTINGS
@given(seeds, st.floats(-2.0, 2.0), st.floats(-1.0, 1.0), st.floats(-2.0, 2.0))
def test_antenna_velocity_jacobian_matches_finite_differences(seed, lx, ly, gyro):
    x, _ = _random(seed, slide.N_SLIDE)
    lever = np.array([lx, ly])

    def f(state):
        return slide.antenna_velocity(state, gyro - state[S.BG], lever)[0]

    _, h = slide.antenna_velocity(x, gyro - x[S.BG], lever)
    np.testing.assert_allclose(h, _numeric_jacobian(f, x), atol=1e-6)


@SETTINGS
@given(seeds, st.floats(0.001, 0.2), st.floats(-2.0, 2.0))
def test_predict_slide_propagates_with_its_jacobian(seed, dt, gyro):
    x, p = _random(seed, slide.N_SLIDE)
    q = np.zeros(slide.N_SLIDE)

    def f(state):
        out, _ = slide.predict_slide(state, p, dt, gyro - state[S.BG], q)
        return out

    xs, ps = slide.predict_slide(x, p, dt, gyro - x[S.BG], q)
    assert (xs[S.X], xs[S.Y]) == pytest.approx((x[S.X] + x[slide.VE] * dt,
                                                x[S.Y] + x[slide.VN] * dt))  # fmt: skip
    jac = _numeric_jacobian(f, x)
    np.testing.assert_allclose(ps, jac @ p @ jac.T, atol=1e-7)


@SETTINGS
@given(seeds)
def test_lateral_variance_is_the_first_order_variance(seed):
    x, p = _random(seed, slide.N_SLIDE)
    g = _numeric_jacobian(lambda s: np.array([slide.body_velocity(s)[1]]), x)[0]
    assert slide.lateral_variance(x, p) == pytest.approx(float(g @ p @ g), rel=1e-6)


@SETTINGS
@given(seeds, st.floats(-3.0, 3.0), st.floats(-1.0, 1.0))
def test_velocity_slip_is_the_sideways_part_beyond_the_lever_arm(seed, slip, yaw_rate):
    """A GNSS velocity the rolling model explains has no slip; one moved sideways by ``slip``
    (body left) shows exactly that."""
    x, p = _random(seed, 6)
    ekf = PlanarEkf(FilterConfig(lever_arm_m=(1.2, 0.3), rear_axle_m=1.4))
    ekf.x, ekf.P, ekf.yaw_rate_radps = x, p, yaw_rate
    lx, ly = ekf._lever
    yaw, v = x[S.YAW], x[S.V]
    c, s = math.cos(yaw), math.sin(yaw)
    body = np.array([v - yaw_rate * ly, yaw_rate * lx + slip])
    z = np.array([c * body[0] - s * body[1], s * body[0] + c * body[1]])
    lateral, var = ekf.velocity_slip(z, np.eye(2) * 1e-4)
    assert lateral == pytest.approx(slip, abs=1e-9)
    assert var >= 1e-4 + v * v * p[S.YAW, S.YAW] - 1e-12


@SETTINGS
@given(seeds, st.floats(-3.0, 3.0), st.floats(-3.0, 3.0))
def test_sliding_updates_keep_the_covariance_symmetric_positive(seed, dx, dv):
    x, p = _random(seed, 6)
    ekf = PlanarEkf(FilterConfig(lever_arm_m=(1.2, 0.3)))
    ekf.x, ekf.P, ekf.yaw_rate_radps = x, p, 0.8
    ekf.start_slide(2.0, 0.1)
    ekf.predict(0.1, 0.8, 0.0)
    ant = ekf.antenna_position()
    ekf.update_position(ant + dx, np.eye(2) * 4e-4, gate=False)
    ekf.update_velocity(np.array([dv, -dv]), np.eye(2) * 1e-3, gate=False)
    ekf.update_yaw(0.3, 0.01, gate=False)
    assert ekf.P.shape == (7, 7)
    np.testing.assert_array_equal(ekf.P, ekf.P.T)
    assert np.all(np.linalg.eigvalsh(ekf.P) > 0.0)
    x6, p6 = ekf.base_link()
    assert x6.shape == (6,) and p6.shape == (6, 6)
    ekf.end_slide()
    assert not ekf.sliding and ekf.P.shape == (6, 6)
    assert np.all(np.linalg.eigvalsh(ekf.P) > 0.0)

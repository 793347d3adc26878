import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vehicle_nodes.fusion import ConfigError, FilterConfig, PlanarEkf
from vehicle_nodes.fusion.ekf import S

finite = st.floats(-1e3, 1e3, allow_nan=False)
yaw = st.floats(-math.pi, math.pi)


def fresh(lever=(0.0, 0.0), yaw_rad=0.0, speed=10.0) -> PlanarEkf:
    ekf = PlanarEkf(FilterConfig(lever_arm_m=lever))
    ekf.initialise(0.0, 0.0, yaw_rad, speed, (0.1, 0.1, 0.05, 0.2))
    return ekf


def assert_psd(p):
    np.testing.assert_allclose(p, p.T, atol=1e-12)
    assert np.linalg.eigvalsh(p).min() > -1e-12


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(['predict', 'pos', 'vel', 'speed', 'yaw']),
            st.floats(-5, 5),
            st.floats(-5, 5),
            st.floats(1e-3, 0.5),
        ),
        min_size=1,
        max_size=40,
    ),
    yaw,
    st.tuples(st.floats(-3, 3), st.floats(-1, 1)),
)
def test_covariance_stays_symmetric_positive_definite(ops, yaw0, lever):
    ekf = fresh(lever, yaw0)
    for op, a, b, c in ops:
        if op == 'predict':
            ekf.predict(c, 0.1 * a, b)
        elif op == 'pos':
            ekf.update_position(ekf.antenna_position() + np.array([a * c, b * c]), np.eye(2) * c**2)
        elif op == 'vel':
            ekf.update_velocity(np.array([a, b]), np.eye(2) * c)
        elif op == 'speed':
            ekf.update_speed(10.0 + a, c)
        else:
            ekf.update_yaw(a, c)
        assert_psd(ekf.P)
        assert np.all(np.isfinite(ekf.x))
        assert -math.pi <= ekf.x[S.YAW] < math.pi


@given(yaw, st.floats(0.0, 40.0), st.floats(0.001, 1.0))
def test_straight_prediction_moves_along_the_heading(yaw0, speed, dt):
    ekf = fresh(yaw_rad=yaw0, speed=speed)
    ekf.predict(dt, 0.0, 0.0)
    assert ekf.x[S.X] == pytest.approx(speed * dt * math.cos(yaw0), abs=1e-9)
    assert ekf.x[S.Y] == pytest.approx(speed * dt * math.sin(yaw0), abs=1e-9)
    assert ekf.x[S.V] == pytest.approx(speed)


@given(st.floats(0.05, 0.5), st.floats(1.0, 20.0))
def test_constant_turn_ends_on_the_circle(yaw_rate, speed):
    ekf = fresh(speed=speed)
    for _ in range(100):
        ekf.predict(0.01, yaw_rate, 0.0)
    radius = speed / yaw_rate
    # Centre of the circle is (0, radius) for a start at the origin heading east.
    assert math.hypot(ekf.x[S.X], ekf.x[S.Y] - radius) == pytest.approx(radius, rel=1e-6)
    assert ekf.x[S.YAW] == pytest.approx(math.remainder(yaw_rate * 1.0, 2 * math.pi), abs=1e-9)


@given(st.floats(-2, 2), st.floats(-2, 2))
def test_accepted_position_update_shrinks_the_uncertainty(dx, dy):
    ekf = fresh()
    before = np.trace(ekf.P[:2, :2])
    res = ekf.update_position(np.array([dx, dy]) * 0.01, np.eye(2) * 0.01)
    assert res.accepted
    assert np.trace(ekf.P[:2, :2]) < before


def test_gate_rejects_a_far_fix_and_leaves_the_state():
    ekf = fresh()
    x, p = ekf.x.copy(), ekf.P.copy()
    res = ekf.update_position(np.array([50.0, 0.0]), np.eye(2) * 0.01)
    assert not res.accepted and res.nis > res.gate
    np.testing.assert_array_equal(ekf.x, x)
    np.testing.assert_array_equal(ekf.P, p)
    # Ungated, the same measurement is taken.
    assert ekf.update_position(np.array([50.0, 0.0]), np.eye(2) * 0.01, gate=False).accepted


@given(yaw, st.floats(-3, 3), st.floats(-1, 1))
def test_lever_arm_puts_base_link_behind_the_antenna(yaw0, lx, ly):
    ekf = PlanarEkf(FilterConfig(lever_arm_m=(lx, ly)))
    ekf.initialise(0.0, 0.0, yaw0, 0.0, (1.0, 1.0, 1e-4, 0.1))
    ant = np.array(
        [lx * math.cos(yaw0) - ly * math.sin(yaw0), lx * math.sin(yaw0) + ly * math.cos(yaw0)]
    )
    np.testing.assert_allclose(ekf.antenna_position(), ant, atol=1e-12)
    # An antenna fix at (10, 5) moves base_link to (10, 5) minus the rotated lever arm.
    for _ in range(20):
        ekf.update_position(np.array([10.0, 5.0]), np.eye(2) * 1e-4, gate=False)
    np.testing.assert_allclose(ekf.x[:2], np.array([10.0, 5.0]) - ant, atol=1e-3)


def test_velocity_update_observes_gyro_bias_through_the_lever_arm():
    """With a lever arm, lateral antenna velocity in a turn tells yaw rate apart from bias."""
    ekf = fresh(lever=(2.0, 0.0), speed=0.0)
    ekf.initialise(0.0, 0.0, 0.0, 0.0, (0.1, 0.1, 0.01, 0.01))
    true_bias = 0.01
    for _ in range(300):
        ekf.predict(0.01, true_bias, 0.0)  # standing still, the gyro reads its bias
        ekf.update_velocity(np.zeros(2), np.eye(2) * 1e-4)
    assert ekf.x[S.BG] == pytest.approx(true_bias, abs=2e-3)


@pytest.mark.parametrize(
    ('field', 'value', 'match'),
    [
        ('gyro_noise_radps', 0.0, 'gyro_noise_radps must be finite and > 0'),
        ('imu_rate_hz', math.nan, 'imu_rate_hz'),
        ('gate_probability', 1.0, 'gate_probability must be within'),
    ],
)
def test_config_errors_name_the_field(field, value, match):
    with pytest.raises(ConfigError, match=match):
        FilterConfig(**{field: value})

"""Tight turns: the IMU sample covers the period ending at its stamp, and a base_link ahead
of the rear axle slides sideways (the filter tracks the rear axle, rear_axle_m)."""

import math

import numpy as np
import pytest

from vehicle_nodes.fusion import FilterConfig, FixKind, Localizer, LocalizerConfig, Outcome


def aligned(yaw: float, speed: float = 0.0, **filter_kw) -> Localizer:
    loc = Localizer(LocalizerConfig(filter=FilterConfig(imu_rate_hz=10.0, **filter_kw)))
    loc.on_wheel_speed(0.0, speed)
    loc.on_gnss_position(0.0, np.zeros(2), np.eye(2) * 1e-4, FixKind.RTK_FIXED)
    assert loc.on_heading(0.0, yaw, 0.001) is Outcome.ACCEPTED
    return loc


def test_a_sample_is_applied_to_the_period_ending_at_its_stamp():
    """The car turns at 0.5 rad/s from 1 s on; each 10 Hz sample is the mean over the 0.1 s
    before its stamp. After the sample at 2 s the heading has turned 0.5 rad, not 0.45 (a
    sample held over the next period lags one period: 4 degrees here, 8 at 0.7 rad/s and
    10 Hz in the simulator's right turns)."""
    loc = aligned(0.0)
    for k in range(1, 21):
        t = k / 10
        loc.on_imu(t, 0.5 if t > 1.0 + 1e-9 else 0.0, 0.0)
    assert loc.estimate().yaw_rad == pytest.approx(0.5, abs=1e-6)
    # a measurement between two samples holds the latest one (the best guess so far)
    loc.on_wheel_speed(2.05, 0.0)
    assert loc.estimate().yaw_rad == pytest.approx(0.525, abs=1e-6)


def drive_turn(rear_axle_m: float) -> float:
    """A right-angle turn at 7 m/s and 0.7 rad/s of a car whose base_link (and antenna) is
    1.4 m ahead of the rear axle; returns the worst base_link error (m) of a filter
    configured with ``rear_axle_m``."""
    d, v, dt = 1.4, 7.0, 0.01
    loc = aligned(0.0, v, rear_axle_m=rear_axle_m, gyro_noise_radps=0.002)
    rng = np.random.default_rng(1)
    rear = np.array([-d, 0.0])  # base_link starts at the origin
    yaw, worst = 0.0, 0.0
    for k in range(1, 801):
        t = k * dt
        w = -0.7 if 2.0 < t <= 2.0 + (math.pi / 2) / 0.7 else 0.0
        mid = yaw + 0.5 * w * dt
        rear += v * dt * np.array([math.cos(mid), math.sin(mid)])
        yaw += w * dt
        base = rear + d * np.array([math.cos(yaw), math.sin(yaw)])
        loc.on_imu(t, w, 0.0)
        if k % 2 == 0:
            loc.on_wheel_speed(t, v)  # the wheels: the rear axle's speed
        if k % 10 == 0:
            fix = base + rng.normal(0.0, 0.01, 2)
            loc.on_gnss_position(t, fix, np.eye(2) * 1e-4, FixKind.RTK_FIXED)
            est = loc.estimate()
            worst = max(worst, math.hypot(est.x_m - base[0], est.y_m - base[1]))
    return worst


def test_base_link_ahead_of_the_rear_axle_slides_in_a_turn():
    assert drive_turn(rear_axle_m=1.4) < 0.05
    # modelled as if base_link moved along its heading: it ends up a metre or two off
    assert drive_turn(rear_axle_m=0.0) > 0.5

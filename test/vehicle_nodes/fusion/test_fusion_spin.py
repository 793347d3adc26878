"""Loss of control: a car that spins and slides to a stop stays tracked with RTK fixes.

The rolling model (velocity along the heading, wheels = ground speed) cannot follow a car
whose body yaws at 1.2 rad/s while it slides on along its course: before the sliding model
the prediction swung round with the heading, the gate refused every RTK fix and the estimate
ended tens of metres off (the CLW scenario's `skidder`: 35 m, reset after 5 s).
"""

import logging
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import LocalFrame
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.fusion import FilterConfig, FixKind, Localizer, LocalizerConfig, Outcome
from vehicle_nodes.fusion.node import LocalizationFilter
from vehicle_nodes.fusion.simulate import SensorModel, replay, simulate, simulate_spin
from vehicle_nodes.fusion.skid import SkidConfig


def make(model: SensorModel, **cfg) -> Localizer:
    return Localizer(LocalizerConfig(filter=FilterConfig(lever_arm_m=model.lever_arm_m), **cfg))


def spin(model=None, *, seed=1, speed=14.0, rate=1.2, wheels_locked=True, duration=14.0):
    model = model or SensorModel()
    drive = simulate_spin(duration, speed, model, seed, skid_at_s=6.0, spin_rate_radps=rate,
                          wheels_locked=wheels_locked)  # fmt: skip
    loc = make(model)
    r = replay(drive, loc, fix_kind=FixKind.RTK_FIXED, fix_sigma_m=model.gnss_sigma_m,
               velocity_sigma_mps=model.gnss_velocity_sigma_mps)  # fmt: skip
    return r, loc


@pytest.mark.parametrize('seed', [1, 2, 3])
@pytest.mark.parametrize('wheels_locked', [True, False])
def test_a_spinning_car_is_followed_with_rtk_fixes(seed, wheels_locked):
    """14 m/s, 1.2 rad/s spin from 6 s, sliding to a stop at 3 m/s² (as the CLW scenario):
    every RTK fix is taken and the error stays at centimetres (on the rolling model alone:
    > 10 m within 3 s and the fixes gated, then reset)."""
    r, loc = spin(seed=seed, wheels_locked=wheels_locked)
    after = r.t_s > 2.0
    assert r.error_m[after].max() < 0.15, r.error_m[after].max()
    assert math.sqrt(np.mean(r.error_m[after] ** 2)) < 0.05
    outs = [o for t, o in r.outcomes if t > 2.0]
    assert Outcome.RESET.value not in outs
    assert outs.count(Outcome.GATED.value) <= 2  # the gate's false alarms only
    # seen at once: by the yaw rate × speed (16.8 m/s²) or the antenna's sideways velocity
    assert len(loc.skids) == 1
    assert loc.skids[0].t_s == pytest.approx(6.0, abs=0.02)
    # stopped (at 10.7 s) and calm for skid_exit_hold_s: back on the rolling model
    assert not loc.sliding
    assert abs(loc.estimate().speed_mps) < 0.1


@pytest.mark.parametrize(('speed', 'rate'), [(6.0, 1.0), (4.0, 0.4)])
def test_a_slow_spin_is_seen_by_its_side_slip(speed, rate):
    """6 m/s at 1.0 rad/s is 6 m/s², 4 m/s at 0.4 rad/s 1.6 m/s² (a tyre could hold those
    turns): the GNSS velocity moving across the heading reveals the slide. (With a 1 m/s
    threshold the second was never seen: 0.5 m off, every fix gated until the reset.)"""
    r, loc = spin(seed=4, speed=speed, rate=rate)
    assert r.error_m[r.t_s > 2.0].max() < 0.15
    assert [s.reason for s in loc.skids] == ['side_slip']
    assert 6.0 <= loc.skids[0].t_s < 6.5
    assert abs(loc.skids[0].lateral_mps) > SkidConfig().side_slip_mps


def test_locked_wheels_of_a_straight_skid_are_no_standstill():
    """Braking with locked wheels, no spin: the wheels read 0 while the car slides on at 14 m/s
    (the rolling model holds: no slide). Taken as a standstill, the zero-velocity update
    pinned the speed to 0 and the gate then refused every fix (> 20 m off); the GNSS velocity
    now vetoes the standstill and the wheel speeds are refused by the gate."""
    r, loc = spin(seed=9, rate=0.0)
    assert r.error_m[r.t_s > 2.0].max() < 0.15
    assert Outcome.RESET.value not in [o for _, o in r.outcomes]
    assert abs(loc.estimate().speed_mps) < 0.1  # stopped at the end: the standstill again


def test_a_multipath_jump_during_the_spin_is_still_refused():
    model = SensorModel(jumps=((7.5, 4.0, -3.0),))
    r, loc = spin(model, seed=5)
    assert len(loc.skids) == 1 and loc.skids[0].t_s < 7.5  # the jump comes mid-slide
    jumped = [o for t, o in r.outcomes if abs(t - 7.5) < 0.06]
    assert jumped == [Outcome.GATED.value]
    assert r.error_at(7.5) < 0.15
    assert r.error_m[r.t_s > 2.0].max() < 0.15


def test_the_sliding_estimate_reports_its_side_slip():
    """While sliding, the estimate carries the sideways velocity (odometry twist.linear.y)."""
    model = SensorModel()
    drive = simulate_spin(8.0, 14.0, model, 6, skid_at_s=6.0, spin_rate_radps=1.2)
    loc = make(model)
    replay(drive, loc, fix_kind=FixKind.RTK_FIXED, fix_sigma_m=0.02, velocity_sigma_mps=0.03)
    est = loc.estimate()
    assert est.sliding
    j = round(est.t_s * 100)
    course = drive.truth[0, 2]
    ground = 14.0 - 3.0 * (est.t_s - 6.0)
    slip = course - drive.truth[j, 2]
    assert est.speed_mps == pytest.approx(ground * math.cos(slip), abs=0.2)
    assert est.lateral_speed_mps == pytest.approx(ground * math.sin(slip), abs=0.2)
    # the velocity's random walk between the 10 Hz GNSS epochs: ~1.3 m/s after 0.1 s
    assert 0.0 < est.lateral_speed_var_m2ps2 < 2.0


def test_wheel_speeds_of_a_sliding_car_are_counted_not_used():
    model = SensorModel()
    drive = simulate_spin(7.0, 14.0, model, 7, skid_at_s=6.0, spin_rate_radps=1.2)
    loc = make(model)
    replay(drive, loc, fix_kind=FixKind.RTK_FIXED, fix_sigma_m=0.02, velocity_sigma_mps=0.03)
    assert loc.sliding
    assert loc.on_wheel_speed(loc.t_s + 0.01, 0.0) is Outcome.SKIDDING


@pytest.mark.parametrize('seed', [1, 2, 3])
def test_ordinary_drives_never_look_like_a_skid(seed):
    model = SensorModel()
    loc = make(model)
    replay(simulate(60.0, 15.0, model, seed), loc, fix_kind=FixKind.RTK_FIXED,
           fix_sigma_m=0.02, velocity_sigma_mps=0.03)  # fmt: skip
    assert loc.skids == []


def test_tight_turn_at_the_grip_limit_is_no_skid():
    """0.7 rad/s at 15 m/s is 10.5 m/s²: at the limit of a good tyre, not beyond it."""
    loc = make(SensorModel(), skid=SkidConfig(grip_limit_mps2=11.0))
    loc.on_wheel_speed(0.0, 15.0)
    loc.on_gnss_position(0.0, np.zeros(2), np.eye(2) * 1e-4, FixKind.RTK_FIXED)
    assert loc.on_heading(0.0, 0.0, 0.001) is Outcome.ACCEPTED
    for k in range(1, 31):
        loc.on_imu(0.01 * k, 0.7, 0.0)
    assert not loc.sliding
    loc.on_imu(0.31, 0.8, 0.0)  # 12 m/s²: no tyre holds that
    assert loc.sliding
    assert loc.skids[0].reason == 'grip_limit'


def test_the_node_counts_the_skid_and_publishes_the_side_slip(caplog):
    """LocalizationFilter in the embedded runtime: the skid is counted and logged with what
    revealed it, wheel speeds while sliding are counted as ``skidding``, the odometry carries
    the side slip in twist.linear.y, and the end of the slide is counted too."""
    model = SensorModel(imu_rate_hz=100.0)
    drive = simulate_spin(13.0, 14.0, model, 8, skid_at_s=6.0, spin_rate_radps=1.2)
    origin = (31.2837, 121.1638, 10.0)
    frame = LocalFrame(*origin)
    rt = EmbeddedRuntime(seed=1)
    try:
        node = rt.add_component(LocalizationFilter, name='localization', namespace='/car',
                                parameters={'origin_lat_deg': origin[0],
                                            'origin_lon_deg': origin[1],
                                            'origin_alt_m': origin[2],
                                            'lever_arm_x_m': model.lever_arm_m[0],
                                            'lever_arm_y_m': model.lever_arm_m[1]})  # fmt: skip
        odom = []
        rt.subscribe('/car/localization/odometry', 'nav_msgs/msg/Odometry', odom.append)
        vec = m.msg_class('geometry_msgs/msg/Vector3')
        for t, gz, ax in zip(drive.t_imu_s, drive.gyro_radps, drive.accel_mps2, strict=True):
            msg = m.new('sensor_msgs/msg/Imu', header=m.header(round(t * 1e9), 'base_link'),
                        angular_velocity=vec(x=0.0, y=0.0, z=float(gz)),
                        linear_acceleration=vec(x=float(ax), y=0.0, z=9.81))  # fmt: skip
            rt.publish('/car/imu/data', msg, at_ns=round(t * 1e9) + 1)
        for t, v in zip(drive.t_wheel_s, drive.wheel_mps, strict=True):
            msg = m.new('v2x_stack/msg/VehicleStatus', header=m.header(round(t * 1e9), 'base_link'),
                        speed_mps=float(v))  # fmt: skip
            rt.publish('/car/vehicle/status', msg, at_ns=round(t * 1e9) + 1)
        for t, xy, v in zip(drive.t_gnss_s, drive.gnss_xy_m, drive.gnss_v_mps, strict=True):
            stamp = round(t * 1e9)
            lat, lon, alt = frame.to_geodetic(xy[0], xy[1], 0.0)
            fix = m.new('sensor_msgs/msg/NavSatFix', header=m.header(stamp, 'gnss'),
                        status=m.new('sensor_msgs/msg/NavSatStatus', status=2, service=1),
                        latitude=float(lat), longitude=float(lon), altitude=float(alt),
                        position_covariance=np.diag([4e-4, 4e-4, 1.6e-3]).reshape(9),
                        position_covariance_type=2)  # fmt: skip
            cov = np.zeros(36)
            cov[0] = cov[7] = 0.03**2
            twist = m.new('geometry_msgs/msg/TwistWithCovariance', covariance=cov,
                          twist=m.new('geometry_msgs/msg/Twist',
                                      linear=vec(x=float(v[0]), y=float(v[1]), z=0.0)))  # fmt: skip
            vel = m.new('geometry_msgs/msg/TwistWithCovarianceStamped',
                        header=m.header(stamp, 'gnss'), twist=twist)  # fmt: skip
            rt.publish('/car/localization/gnss/fix', fix, at_ns=stamp + 2)
            rt.publish('/car/localization/gnss/velocity', vel, at_ns=stamp + 2)
        with caplog.at_level(logging.INFO):
            rt.run(duration_s=13.0)
    finally:
        rt.close()
    counters = node.ctx.diagnostics.counters
    assert counters['skid_detected'] == 1
    assert counters['skid_ended'] == 1  # at rest (10.7 s) and calm for 1 s
    assert counters['rejected.skidding'] >= 150  # 50 Hz wheels over the 4.7 s slide
    # every RTK fix taken; gated: only the locked wheels' 0 m/s before the slide was seen
    assert counters['fix_used'] == drive.t_gnss_s.size and 'gnss_reset' not in counters
    assert counters['rejected.innovation_gate'] <= 2
    assert 'loss of control at 6.0' in caplog.text
    worst, lateral = 0.0, []
    for msg in odom:
        t = m.to_ns(msg.header.stamp) * 1e-9
        j = round(t * 100)
        p = msg.pose.pose.position
        worst = max(worst, math.hypot(p.x - drive.truth[j, 0], p.y - drive.truth[j, 1]))
        if 6.5 < t < 10.0:
            lateral.append(abs(msg.twist.twist.linear.y))
    assert worst < 0.15
    assert max(lateral) > 5.0  # sideways at up to the ground speed


@settings(max_examples=10, deadline=None)
@given(st.floats(4.0, 25.0), st.floats(0.4, 2.5), st.booleans(), st.integers(0, 2**16))
def test_any_spin_is_followed_within_decimetres(speed, rate, wheels_locked, seed):
    """Property: from 4 to 25 m/s, spinning at 0.4 to 2.5 rad/s, wheels locked or rolling,
    the RTK-aided estimate stays within 0.3 m of the truth, without a reset."""
    model = SensorModel()
    drive = simulate_spin(8.0 + speed / 3.0, speed, model, seed, skid_at_s=6.0,
                          spin_rate_radps=rate, wheels_locked=wheels_locked)  # fmt: skip
    r = replay(drive, make(model), fix_kind=FixKind.RTK_FIXED, fix_sigma_m=0.02,
               velocity_sigma_mps=0.03)  # fmt: skip
    assert r.error_m[r.t_s > 2.0].max() < 0.3
    assert Outcome.RESET.value not in [o for _, o in r.outcomes]

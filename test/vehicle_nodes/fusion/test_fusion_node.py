"""LocalizationFilter in the embedded runtime, fed with a simulated drive as ROS messages."""

import math

import numpy as np
import pytest

from geo import LocalFrame
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.fusion.errors import ConfigError
from vehicle_nodes.fusion.node import LocalizationFilter
from vehicle_nodes.fusion.ros_conversions import odometry_to_pose, quaternion_to_yaw
from vehicle_nodes.fusion.simulate import SensorModel, simulate

ORIGIN = (31.2837, 121.1638, 10.0)
NS = '/car1'


def ns(t):
    return round(t * 1e9)


def imu_msg(t, gz, ax):
    return m.new(
        'sensor_msgs/msg/Imu',
        header=m.header(ns(t), 'base_link'),
        angular_velocity=m.new('geometry_msgs/msg/Vector3', z=gz),
        linear_acceleration=m.new('geometry_msgs/msg/Vector3', x=ax),
    )


def fix_msg(t, frame, xy, sigma, status=2):
    lat, lon, alt = frame.to_geodetic(xy[0], xy[1], 0.0)
    cov = np.diag([sigma**2, sigma**2, (2 * sigma) ** 2]).reshape(9)
    return m.new(
        'sensor_msgs/msg/NavSatFix',
        header=m.header(ns(t), 'gnss'),
        status=m.new('sensor_msgs/msg/NavSatStatus', status=status, service=1),
        latitude=float(lat),
        longitude=float(lon),
        altitude=float(alt),
        position_covariance=cov,
        position_covariance_type=2,
    )


def vel_msg(t, v, sigma):
    cov = np.zeros((6, 6))
    cov[0, 0] = cov[1, 1] = sigma**2
    twist = m.new(
        'geometry_msgs/msg/Twist', linear=m.new('geometry_msgs/msg/Vector3', x=v[0], y=v[1])
    )
    return m.new(
        'geometry_msgs/msg/TwistWithCovarianceStamped',
        header=m.header(ns(t), 'gnss'),
        twist=m.new(
            'geometry_msgs/msg/TwistWithCovariance', twist=twist, covariance=cov.reshape(36)
        ),
    )


def status_msg(t, speed):
    return m.new(
        'v2x_stack/msg/VehicleStatus', header=m.header(ns(t), 'base_link'), speed_mps=speed
    )


def feed(rt, drive, model, frame, *, nan_imu_at=(), jump_at=None):
    for t, gz, ax in zip(drive.t_imu_s, drive.gyro_radps, drive.accel_mps2, strict=True):
        bad = any(abs(t - b) < 1e-6 for b in nan_imu_at)
        rt.publish(f'{NS}/imu/data', imu_msg(t, math.nan if bad else gz, ax), at_ns=ns(t) + 1)
    for t, v in zip(drive.t_wheel_s, drive.wheel_mps, strict=True):
        rt.publish(f'{NS}/vehicle/status', status_msg(t, v), at_ns=ns(t) + 1)
    for i, t in enumerate(drive.t_gnss_s):
        if not drive.gnss_valid[i]:
            continue
        xy = drive.gnss_xy_m[i] + (
            (5.0, 0.0) if jump_at is not None and abs(t - jump_at) < 1e-6 else 0.0
        )
        rt.publish(
            f'{NS}/localization/gnss/fix',
            fix_msg(t, frame, xy, model.gnss_sigma_m),
            at_ns=ns(t) + 2,
        )
        rt.publish(
            f'{NS}/localization/gnss/velocity',
            vel_msg(t, drive.gnss_v_mps[i], 0.03),
            at_ns=ns(t) + 2,
        )


@pytest.fixture
def runtime():
    rt = EmbeddedRuntime(seed=1)
    yield rt
    rt.close()


def add_filter(rt, model, **params):
    return rt.add_component(
        LocalizationFilter,
        name='localization',
        namespace=NS,
        parameters={
            'origin_lat_deg': ORIGIN[0],
            'origin_lon_deg': ORIGIN[1],
            'origin_alt_m': ORIGIN[2],
            'lever_arm_x_m': model.lever_arm_m[0],
            'lever_arm_y_m': model.lever_arm_m[1],
            **params,
        },
    )


def test_odometry_fix_and_tf_follow_the_truth(runtime):
    model = SensorModel(outages_s=((15.0, 25.0),))
    drive = simulate(30.0, 15.0, model, 3)
    frame = LocalFrame(*ORIGIN)
    node = add_filter(runtime, model)
    odom, fixes, tfs = [], [], []
    runtime.subscribe(f'{NS}/localization/odometry', 'nav_msgs/msg/Odometry', odom.append)
    runtime.subscribe(f'{NS}/localization/fix', 'sensor_msgs/msg/NavSatFix', fixes.append)
    runtime.subscribe(f'{NS}/tf', 'tf2_msgs/msg/TFMessage', tfs.append)
    feed(runtime, drive, model, frame, nan_imu_at=(5.0, 5.01), jump_at=10.0)
    runtime.run(duration_s=30.0)

    assert len(odom) > 1000 and len(fixes) == len(odom) == len(tfs)
    errors = {}
    for msg in odom:
        pose = odometry_to_pose(msg)
        j = round(pose.t_s * 100)
        errors[round(pose.t_s, 2)] = math.hypot(
            pose.x_m - drive.truth[j, 0], pose.y_m - drive.truth[j, 1]
        )
        assert msg.header.frame_id == 'map' and msg.child_frame_id == 'base_link'
    settled = [e for t, e in errors.items() if 3.0 < t < 15.0]
    assert math.sqrt(np.mean(np.square(settled))) < 0.05
    end_of_outage = max(e for t, e in errors.items() if 24.5 < t < 25.0)
    assert end_of_outage < 1.0
    # The fused fix and the transform say the same as the odometry.
    last_fix, last_tf, last_odom = fixes[-1], tfs[-1].transforms[0], odom[-1]
    e, n, _ = frame.to_enu(last_fix.latitude, last_fix.longitude, 0.0)
    p = last_odom.pose.pose.position
    assert (float(e), float(n)) == pytest.approx((p.x, p.y), abs=1e-3)
    assert last_tf.child_frame_id == 'base_link' and last_tf.header.frame_id == 'map'
    assert last_tf.transform.translation.x == pytest.approx(p.x)
    assert quaternion_to_yaw(last_tf.transform.rotation) == pytest.approx(
        quaternion_to_yaw(last_odom.pose.pose.orientation)
    )
    assert last_fix.position_covariance[0] == pytest.approx(last_odom.pose.covariance[0])
    # Bad input was counted, not fatal.
    counters = node.ctx.diagnostics.counters
    assert counters['rejected.not_finite'] == 2
    assert counters['rejected.innovation_gate'] >= 1
    assert counters['rejected.gnss_silent'] == 1  # the outage
    assert counters['fix_used'] >= 190  # 20 s of 10 Hz fixes, less the jump


def test_missing_origin_fails_at_start(runtime):
    with pytest.raises(ConfigError, match='origin_lat_deg/origin_lon_deg must be set'):
        runtime.add_component(LocalizationFilter, name='localization')


def test_no_fix_is_counted(runtime):
    model = SensorModel()
    node = add_filter(runtime, model)
    frame = LocalFrame(*ORIGIN)
    runtime.publish(f'{NS}/localization/gnss/fix', fix_msg(0.1, frame, (0.0, 0.0), 0.02, status=-1))
    runtime.run(duration_s=0.5)
    assert node.ctx.diagnostics.counters['rejected.no_fix'] == 1

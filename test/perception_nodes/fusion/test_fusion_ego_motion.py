"""Onboard perception on a moving vehicle: detections in base_link → map by the odometry, then
the lidar branch's ObjectTracker tracks in the map (over-ground velocities)."""

import math

import numpy as np

from perception_nodes.fusion.ego_motion import EgoMotionCompensation
from perception_nodes.object_tracker import ObjectTracker
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

S = 1_000_000_000
ARRAY = 'v2x_stack/msg/ParticipantArray'
# the ego drives a 40 m radius left turn at 8 m/s; the road users stand still or drive east
RADIUS_M, SPEED_MPS = 40.0, 8.0
STATIC = np.array([[20.0, 30.0], [-10.0, 45.0], [35.0, 5.0]])
MOVER0, MOVER_V = np.array([-20.0, 20.0]), np.array([5.0, 0.0])


def _ego(t):
    a = SPEED_MPS * t / RADIUS_M
    return RADIUS_M * math.sin(a), RADIUS_M * (1 - math.cos(a)), a  # x, y, yaw


def _odometry(t):
    x, y, yaw = _ego(t)
    msg = m.new('nav_msgs/msg/Odometry', header=m.header(round(t * S), 'map'))
    msg.pose.pose.position.x, msg.pose.pose.position.y = x, y
    msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    cov = np.zeros(36)
    cov[0] = cov[7] = 0.01
    cov[35] = 1e-5
    msg.pose.covariance = cov
    msg.twist.twist.linear.x = SPEED_MPS
    msg.twist.twist.angular.z = SPEED_MPS / RADIUS_M
    return msg


def _detections(t, rng):
    x, y, yaw = _ego(t)
    world = np.vstack([STATIC, MOVER0 + MOVER_V * t])
    c, s = math.cos(yaw), math.sin(yaw)
    body = (world - [x, y]) @ np.array([[c, -s], [s, c]])  # R(yaw)ᵀ applied to each row
    body += rng.normal(0, 0.1, body.shape)
    header = m.header(round(t * S), 'base_link')
    parts = [
        m.new(
            'v2x_stack/msg/Participant',
            header=header,
            id=k + 1,
            participant_class=1,
            source=6,
            position=m.new('geometry_msgs/msg/Point', x=bx, y=by, z=0.8),
            size=m.new('geometry_msgs/msg/Vector3', x=4.5, y=1.8, z=1.5),
            covariance=np.diag([0.01, 0.01, -1.0, -1.0]).ravel(),
            confidence=0.9,
            heading_rad=-yaw,
            heading_variance=0.01,
        )
        for k, (bx, by) in enumerate(body)
    ]
    return m.new(ARRAY, header=header, participants=parts)


def _run(compensate):
    rng = np.random.default_rng(4)
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    if compensate:
        comp = rt.add_component(EgoMotionCompensation, name='ego_motion')
        rt.add_component(
            ObjectTracker,
            name='tracker',
            remappings={'perception/detections': 'perception/detections_map'},
        )
    else:
        comp = None
        rt.add_component(ObjectTracker, name='tracker')
    got = []
    rt.subscribe('/perception/objects', ARRAY, got.append)
    for k in range(0, 250):
        rt.publish('/localization/odometry', _odometry(k * 0.02), at_ns=round(k * 0.02 * S))
    for k in range(1, 50):
        t = k * 0.1
        rt.publish('/perception/detections', _detections(t, rng), at_ns=round(t * S) + 1000)
    rt.run(duration_s=5.0)
    return got, comp


def test_static_objects_have_no_velocity_once_compensated():
    got, comp = _run(True)
    last = got[-1]
    assert last.header.frame_id == 'map'
    speeds = sorted(math.hypot(p.velocity.x, p.velocity.y) for p in last.participants)
    assert len(speeds) == 4
    assert max(speeds[:3]) < 0.6  # three parked cars
    assert abs(speeds[3] - 5.0) < 0.8  # the mover at its over-ground speed
    for p in last.participants:  # positions in the map
        d = np.min(
            np.hypot(
                *(np.vstack([STATIC, MOVER0 + MOVER_V * 4.9]) - [p.position.x, p.position.y]).T
            )
        )
        assert d < 0.7
    assert dict(comp.ctx.diagnostics.key_values())['received'] == '49'


def test_without_compensation_the_parked_cars_seem_to_move():
    got, _ = _run(False)
    speeds = [math.hypot(p.velocity.x, p.velocity.y) for p in got[-1].participants]
    # the ego's own motion seen backwards: parked cars get metres per second (< 0.6 above)
    assert sum(v > 1.5 for v in speeds) >= 3 and max(speeds) > 8.0


def test_no_odometry_and_wrong_frame_are_counted():
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    comp = rt.add_component(EgoMotionCompensation, name='ego_motion')
    out = []
    rt.subscribe('/perception/detections_map', ARRAY, out.append)
    rng = np.random.default_rng(1)
    rt.publish('/perception/detections', _detections(0.1, rng), at_ns=S // 10)
    wrong = _detections(0.2, rng)
    wrong.header.frame_id = 'map'
    rt.publish('/perception/detections', wrong, at_ns=S // 5)
    rt.run(duration_s=0.5)
    d = dict(comp.ctx.diagnostics.key_values())
    assert d['rejected.no_odometry'] == '1' and d['rejected.unknown_frame'] == '1'
    assert out == []


def test_sensor_mount_offset_and_yaw():
    """A lidar 1.5 m ahead of base_link, turned left 90°: a point 10 m ahead of the lidar is
    1.5 m ahead and 10 m left of base_link."""
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    rt.add_component(
        EgoMotionCompensation,
        name='ego_motion',
        parameters={'sensor_frame': 'lidar', 'sensor_mount': [1.5, 0.0, math.pi / 2]},
    )
    out = []
    rt.subscribe('/perception/detections_map', ARRAY, out.append)
    rt.publish('/localization/odometry', _odometry(0.0), at_ns=0)  # ego at the origin, yaw 0
    header = m.header(0, 'lidar')
    part = m.new(
        'v2x_stack/msg/Participant',
        header=header,
        id=1,
        position=m.new('geometry_msgs/msg/Point', x=10.0, y=0.0),
        covariance=np.diag([0.01, 0.04, -1.0, -1.0]).ravel(),
    )
    rt.publish('/perception/detections', m.new(ARRAY, header=header, participants=[part]), at_ns=1)
    rt.run(duration_s=0.1)
    p = out[0].participants[0]
    assert math.isclose(p.position.x, 1.5, abs_tol=1e-9) and math.isclose(p.position.y, 10.0)
    cov = np.asarray(p.covariance).reshape(4, 4)
    assert cov[0, 0] > 0.04 and 0.01 < cov[1, 1] < 0.04  # axes swapped, pose error added
    assert cov[2, 2] == -1.0  # velocity still unknown
    assert math.isclose(p.heading_rad, math.pi / 2)

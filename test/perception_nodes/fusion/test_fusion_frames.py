"""base_link → map with the ego pose uncertainty; odometry parsing and the pose buffer."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perception_nodes.fusion import frames
from perception_nodes.fusion.errors import ObjectInputError, TransformError
from perception_nodes.fusion.frames import EgoPose, PoseBuffer, body_to_map, pose_from_odometry
from v2x_runtime import messages as m


def _ego(stamp=0, x=10.0, y=-3.0, yaw=0.7, vx=8.0, vy=0.0, wz=0.1, pose_cov=None, vel_cov=None):
    return EgoPose(
        stamp,
        x,
        y,
        yaw,
        vx,
        vy,
        wz,
        np.diag([0.04, 0.04, 1e-4]) if pose_cov is None else pose_cov,
        np.diag([0.01, 0.01]) if vel_cov is None else vel_cov,
    )


@settings(max_examples=50, deadline=None)
@given(st.floats(-math.pi, math.pi), st.floats(-50, 50), st.floats(-50, 50))
def test_position_round_trip_by_the_inverse_transform(yaw, bx, by):
    ego = _ego(yaw=yaw)
    x = np.array([[bx, by, 1.0, -2.0]])
    out, p = body_to_map(x, np.eye(4)[None] * 0.1, ego, velocity_relative=False)
    c, s = math.cos(yaw), math.sin(yaw)
    back = np.array([[c, s], [-s, c]]) @ (out[0, :2] - [ego.x_m, ego.y_m])
    assert np.allclose(back, [bx, by], atol=1e-9)
    assert np.isclose(np.hypot(*out[0, 2:]), np.hypot(1.0, -2.0))
    assert (np.linalg.eigvalsh(p[0]) > 0).all()


def test_covariance_matches_monte_carlo():
    """Sample the ego pose, the ego twist and the body object; compare the map spread."""
    rng = np.random.default_rng(7)
    ego = _ego(pose_cov=np.diag([0.09, 0.04, (2 * math.pi / 180) ** 2]))
    xb = np.array([30.0, 5.0, -1.0, 0.5])
    pb = np.diag([0.04, 0.09, 0.25, 0.16])
    want_x, want_p = body_to_map(xb[None], pb[None], ego, velocity_relative=True)
    n = 40000
    pose = rng.multivariate_normal([ego.x_m, ego.y_m, ego.yaw_rad], ego.pose_cov, n)
    twist = rng.multivariate_normal([ego.vx_body_mps, ego.vy_body_mps], ego.vel_cov, n)
    obj = rng.multivariate_normal(xb, pb, n)
    c, s = np.cos(pose[:, 2]), np.sin(pose[:, 2])
    px = pose[:, 0] + c * obj[:, 0] - s * obj[:, 1]
    py = pose[:, 1] + s * obj[:, 0] + c * obj[:, 1]
    vbx = obj[:, 2] + twist[:, 0] - ego.yaw_rate_rps * obj[:, 1]
    vby = obj[:, 3] + twist[:, 1] + ego.yaw_rate_rps * obj[:, 0]
    vx, vy = c * vbx - s * vby, s * vbx + c * vby
    emp = np.cov(np.stack([px, py, vx, vy]))
    assert np.allclose(np.mean([px, py, vx, vy], axis=1), want_x[0], atol=0.02)
    assert np.allclose(emp, want_p[0], rtol=0.08, atol=0.01)


def test_relative_velocity_adds_the_ego_motion():
    ego = _ego(yaw=0.0, wz=0.0)
    out, _ = body_to_map(np.zeros((1, 4)), np.eye(4)[None], ego, velocity_relative=True)
    assert np.allclose(out[0, 2:], [8.0, 0.0])
    out, _ = body_to_map(np.zeros((1, 4)), np.eye(4)[None], ego, velocity_relative=False)
    assert np.allclose(out[0, 2:], [0.0, 0.0])


def _odom(stamp_ns, x=1.0, y=2.0, yaw=0.3, vx=5.0, cov=None):
    msg = m.new('nav_msgs/msg/Odometry', header=m.header(stamp_ns, 'map'))
    msg.pose.pose.position.x, msg.pose.pose.position.y = x, y
    msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    if cov is not None:
        msg.pose.covariance = cov
    msg.twist.twist.linear.x = vx
    return msg


def test_odometry_parsing_and_unset_covariance_floor():
    pose = pose_from_odometry(_odom(5))
    assert (pose.x_m, pose.y_m, pose.stamp_ns) == (1.0, 2.0, 5)
    assert math.isclose(pose.yaw_rad, 0.3)
    assert (np.diag(pose.pose_cov) > 0).all()
    with pytest.raises(ObjectInputError, match='non-finite'):
        pose_from_odometry(_odom(5, x=math.nan))
    bad = np.zeros(36)
    bad[1] = math.inf
    with pytest.raises(ObjectInputError, match='covariance'):
        pose_from_odometry(_odom(5, cov=bad))


def test_the_pose_of_the_latest_message_is_remembered_for_that_message_only():
    cov = np.zeros(36)
    cov[0], cov[7], cov[35], cov[5] = 0.04, 0.09, 0.001, 0.002
    msg = _odom(5, cov=cov)
    first = pose_from_odometry(msg)
    assert pose_from_odometry(msg) is first  # fusion and ego motion: the same message
    again = pose_from_odometry(_odom(5, cov=cov))  # equal content, another message
    assert again is not first
    for a, b in ((first, again), (first, frames._pose_from_odometry(msg))):
        assert a.__dict__.keys() == b.__dict__.keys()
        for k, v in a.__dict__.items():
            assert np.array_equal(v, getattr(b, k)), k
    assert first.pose_cov.tolist() == [[0.04, 0.0, 0.002], [0.0, 0.09, 0.0], [0.0, 0.0, 0.001]]


def test_pose_buffer_nearest_moved_by_twist_and_gap_errors():
    buf = PoseBuffer(horizon_s=1.0, max_gap_s=0.1)
    with pytest.raises(TransformError, match='no odometry'):
        buf.lookup(0)
    for k in (3, 1, 2):  # out of order insertion
        buf.add(pose_from_odometry(_odom(k * 100_000_000, x=float(k), yaw=0.0, vx=10.0)))
    got = buf.lookup(250_000_000)  # nearest: 0.2 s or 0.3 s (tie → either), moved by 10 m/s
    assert math.isclose(got.x_m, 2.5, abs_tol=1e-9)
    with pytest.raises(TransformError, match='within 0.100 s'):
        buf.lookup(1_000_000_000)
    buf.add(pose_from_odometry(_odom(5_000_000_000)))  # horizon drops the old ones
    with pytest.raises(TransformError):
        buf.lookup(300_000_000)

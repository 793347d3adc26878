"""The localization outputs built with the message classes serialise as with ``m.new``.

``estimate_to_odometry``, ``estimate_to_navsatfix`` and ``estimate_to_tf`` give every field to
the class itself, and the node hands the odometry and the TF one shared header and rotation.
Each case here builds the same outputs the former way (``m.new`` with its defaults, one header
and quaternion per message) from a random estimate and compares the CDR bytes.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import LocalFrame
from v2x_runtime import messages as m
from vehicle_nodes.fusion.ekf import S
from vehicle_nodes.fusion.localizer import Estimate
from vehicle_nodes.fusion.ros_conversions import (
    _POSE_SLOTS,
    _POSE_TEMPLATE,
    _STATE_SLOTS,
    _TWIST_TEMPLATE,
    UNKNOWN_VARIANCE,
    estimate_to_navsatfix,
    estimate_to_odometry,
    estimate_to_tf,
    stamp_header,
    yaw_to_quaternion,
)

FRAME = LocalFrame(31.2837, 121.1638, 0.0)


def _quaternion(yaw: float):
    return m.new('geometry_msgs/msg/Quaternion', x=0.0, y=0.0, z=math.sin(0.5 * yaw),
                 w=math.cos(0.5 * yaw))  # fmt: skip


def _odometry_plain(est: Estimate, frame_id: str, child: str):
    p = est.covariance.reshape(36)
    pose_cov = _POSE_TEMPLATE.copy()
    pose_cov[_POSE_SLOTS] = p[_STATE_SLOTS]
    twist_cov = _TWIST_TEMPLATE.copy()
    twist_cov[0] = p[S.V * 7]
    twist_cov[35] = p[S.BG * 7]
    pose = m.new('geometry_msgs/msg/Pose',
                 position=m.new('geometry_msgs/msg/Point', x=est.x_m, y=est.y_m, z=0.0),
                 orientation=_quaternion(est.yaw_rad))  # fmt: skip
    twist = m.new('geometry_msgs/msg/Twist',
                  linear=m.new('geometry_msgs/msg/Vector3', x=est.speed_mps),
                  angular=m.new('geometry_msgs/msg/Vector3', z=est.yaw_rate_radps))  # fmt: skip
    return m.new(
        'nav_msgs/msg/Odometry',
        header=m.header(round(est.t_s * 1e9), frame_id),
        child_frame_id=child,
        pose=m.new('geometry_msgs/msg/PoseWithCovariance', pose=pose, covariance=pose_cov),
        twist=m.new('geometry_msgs/msg/TwistWithCovariance', twist=twist, covariance=twist_cov),
    )


def _fix_plain(est: Estimate, alt: float, alt_var: float, frame_id: str):
    lat, lon, _ = FRAME.geodetic_of(est.x_m, est.y_m, 0.0)
    cov = np.zeros((3, 3))
    cov[:2, :2] = est.covariance[:2, :2]
    cov[2, 2] = alt_var if math.isfinite(alt_var) else UNKNOWN_VARIANCE
    status = m.new('sensor_msgs/msg/NavSatStatus', status=-1 if est.dead_reckoning else 0,
                   service=0)  # fmt: skip
    return m.new(
        'sensor_msgs/msg/NavSatFix',
        header=m.header(round(est.t_s * 1e9), frame_id),
        status=status,
        latitude=float(lat),
        longitude=float(lon),
        altitude=alt if math.isfinite(alt) else 0.0,
        position_covariance=cov.reshape(9),
        position_covariance_type=3,
    )


def _tf_plain(est: Estimate, parent: str, child: str):
    transform = m.new(
        'geometry_msgs/msg/Transform',
        translation=m.new('geometry_msgs/msg/Vector3', x=est.x_m, y=est.y_m, z=0.0),
        rotation=_quaternion(est.yaw_rad),
    )
    stamped = m.new('geometry_msgs/msg/TransformStamped',
                    header=m.header(round(est.t_s * 1e9), parent), child_frame_id=child,
                    transform=transform)  # fmt: skip
    return m.new('tf2_msgs/msg/TFMessage', transforms=[stamped])


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    t_s=st.floats(0.0, 1e6, allow_nan=False),
    dead=st.booleans(),
    alt=st.sampled_from([3.5, math.nan]),
    alt_var=st.sampled_from([0.04, math.nan]),
)
def test_localization_outputs_serialise_as_with_m_new(seed, t_s, dead, alt, alt_var):
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 0.7, (6, 6))
    x, y, yaw, v, w = rng.normal(0.0, [300.0, 300.0, 3.0, 10.0, 0.5])
    est = Estimate(t_s, x, y, yaw, v, w, 1e-3, 1e-2, a @ a.T, 0.3, dead)
    header, rotation = stamp_header(t_s, 'map'), yaw_to_quaternion(yaw)
    pairs = [
        (estimate_to_odometry(est, 'map', 'base_link'), _odometry_plain(est, 'map', 'base_link')),
        (
            estimate_to_odometry(est, 'map', 'base_link', header=header, orientation=rotation),
            _odometry_plain(est, 'map', 'base_link'),
        ),
        (
            estimate_to_navsatfix(est, FRAME, alt, alt_var, 'gnss'),
            _fix_plain(est, alt, alt_var, 'gnss'),
        ),
        (estimate_to_tf(est, 'map', 'base_link'), _tf_plain(est, 'map', 'base_link')),
        (
            estimate_to_tf(est, 'map', 'base_link', header=header, rotation=rotation),
            _tf_plain(est, 'map', 'base_link'),
        ),
    ]
    for fast, plain in pairs:
        assert m.serialize(fast) == m.serialize(plain)

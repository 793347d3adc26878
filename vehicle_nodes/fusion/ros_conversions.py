"""Conversions between the filter's values and ROS messages (Odometry, NavSatFix, TF, Imu).

Pairs where both directions are used: ``estimate_to_odometry`` / ``odometry_to_pose``,
``yaw_to_quaternion`` / ``quaternion_to_yaw``. NavSatFix status → fix kind follows
sensor_msgs/NavSatStatus: NO_FIX -1, FIX 0 (single), SBAS 1 (DGNSS), GBAS 2 (RTK).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from v2x_runtime import messages as m
from v2x_runtime.frozen import assemble
from vehicle_nodes.fusion.ekf import S
from vehicle_nodes.fusion.localizer import Estimate, FixKind
from vehicle_nodes.hdmap.frame import GeodeticFrame

NAVSAT_TO_KIND = {-1: FixKind.NO_FIX, 0: FixKind.SINGLE, 1: FixKind.DGNSS, 2: FixKind.RTK_FIXED}
UNKNOWN_VARIANCE = 1e6  # for the odometry axes a planar filter does not estimate


def yaw_to_quaternion(yaw_rad: float) -> Any:
    return _classes().yaw(yaw_rad)


def stamp_header(t_s: float, frame_id: str) -> Any:
    """The header of an output stamped ``t_s`` (rounded to the nanosecond)."""
    return m.header(round(t_s * 1e9), frame_id)


def quaternion_to_yaw(q: Any) -> float:
    """ENU yaw of a quaternion (the rotation about z; roll and pitch are ignored)."""
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


# Odometry covariances are 6×6 over (x, y, z, roll, pitch, yaw): where the filter's (x, y, yaw)
# block goes (flat indices), and the fixed entries of a planar model.
_POSE_SLOTS = np.array([a * 6 + b for a in (0, 1, 5) for b in (0, 1, 5)])
_STATE_SLOTS = np.array([i * 6 + j for i in (S.X, S.Y, S.YAW) for j in (S.X, S.Y, S.YAW)])
_POSE_TEMPLATE = np.zeros(36)
_POSE_TEMPLATE[[14, 21, 28]] = UNKNOWN_VARIANCE  # z, roll, pitch
_TWIST_TEMPLATE = np.zeros(36)
_TWIST_TEMPLATE[[7, 14]] = 1e-4  # no side slip, no climb: the planar model
_TWIST_TEMPLATE[[21, 28]] = UNKNOWN_VARIANCE


class _Classes:
    """The message classes the 50 Hz outputs are built with: every field given by keyword to
    the class itself (half the cost of ``m.new``, which fills defaults first); looked up once."""

    def __init__(self) -> None:
        c = m.msg_class
        self.point, self.vector = c('geometry_msgs/msg/Point'), c('geometry_msgs/msg/Vector3')
        self.quaternion, self.pose = c('geometry_msgs/msg/Quaternion'), c('geometry_msgs/msg/Pose')
        self.twist = c('geometry_msgs/msg/Twist')
        self.pose_cov = c('geometry_msgs/msg/PoseWithCovariance')
        self.twist_cov = c('geometry_msgs/msg/TwistWithCovariance')
        self.odometry = c('nav_msgs/msg/Odometry')
        self.status, self.fix = c('sensor_msgs/msg/NavSatStatus'), c('sensor_msgs/msg/NavSatFix')
        self.transform = c('geometry_msgs/msg/Transform')
        self.stamped = c('geometry_msgs/msg/TransformStamped')
        self.tf = c('tf2_msgs/msg/TFMessage')

    def yaw(self, yaw_rad: float) -> Any:
        """``yaw_to_quaternion``."""
        return self.quaternion(x=0.0, y=0.0, z=math.sin(0.5 * yaw_rad), w=math.cos(0.5 * yaw_rad))


_CLASSES: list[_Classes] = []


def _classes() -> _Classes:
    if not _CLASSES:
        _CLASSES.append(_Classes())
    return _CLASSES[0]


def estimate_to_odometry(
    est: Estimate, frame_id: str, child_frame_id: str, *, header: Any = None,
    orientation: Any = None,
) -> Any:  # fmt: skip
    """``header`` / ``orientation``: made here unless given (the TF of the same estimate
    shares them: a message is never changed once published)."""
    c = _classes()
    P = est.covariance.reshape(36)  # noqa: N806
    pose_cov = _POSE_TEMPLATE.copy()
    pose_cov[_POSE_SLOTS] = P[_STATE_SLOTS]
    twist_cov = _TWIST_TEMPLATE.copy()
    twist_cov[0] = P[S.V * 7]
    twist_cov[35] = P[S.BG * 7]
    twist_cov[7] = est.lateral_speed_var_m2ps2  # 1e-4 but while sliding (the template's)
    if orientation is None:
        orientation = c.yaw(est.yaw_rad)
    pose = c.pose(position=c.point(x=est.x_m, y=est.y_m, z=0.0), orientation=orientation)
    twist = c.twist(linear=c.vector(x=est.speed_mps, y=est.lateral_speed_mps, z=0.0),
                    angular=c.vector(x=0.0, y=0.0, z=est.yaw_rate_radps))  # fmt: skip
    return c.odometry(
        header=stamp_header(est.t_s, frame_id) if header is None else header,
        child_frame_id=child_frame_id,
        pose=c.pose_cov(pose=pose, covariance=pose_cov),
        twist=c.twist_cov(twist=twist, covariance=twist_cov),
    )


@dataclass(frozen=True)
class OdometryPose:
    """What the map matcher needs from an Odometry message."""

    t_s: float
    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float
    sigma_m: float
    yaw_sigma_rad: float


def odometry_to_pose(msg: Any) -> OdometryPose:
    cov = np.asarray(msg.pose.covariance, float)
    p = msg.pose.pose.position
    return assemble(
        OdometryPose,
        t_s=m.to_ns(msg.header.stamp) * 1e-9,
        x_m=float(p.x),
        y_m=float(p.y),
        yaw_rad=quaternion_to_yaw(msg.pose.pose.orientation),
        speed_mps=float(msg.twist.twist.linear.x),
        sigma_m=math.sqrt(max(float(cov[0]), float(cov[7]), 0.0)),
        yaw_sigma_rad=math.sqrt(max(float(cov[35]), 0.0)),
    )


@dataclass(frozen=True)
class GnssPosition:
    xy_m: np.ndarray  # map frame ENU of the antenna
    cov_m2: np.ndarray | None  # 2×2 ENU; None when the receiver gave none
    kind: FixKind
    altitude_m: float
    altitude_var_m2: float


def navsatfix_to_position(msg: Any, frame: GeodeticFrame) -> GnssPosition:
    """NavSatFix → antenna position in the map frame (may hold NaN: the caller checks)."""
    kind = NAVSAT_TO_KIND.get(int(msg.status.status), FixKind.NO_FIX)
    lat, lon, alt = float(msg.latitude), float(msg.longitude), float(msg.altitude)
    if kind == FixKind.NO_FIX or not (math.isfinite(lat) and math.isfinite(lon)):
        return GnssPosition(np.array([math.nan, math.nan]), None, kind, alt, math.nan)
    h = alt if math.isfinite(alt) else 0.0
    enu_of = getattr(frame, 'enu_of', None)  # geo.LocalFrame's float path: no array round trip
    e, n, _ = enu_of(lat, lon, h) if enu_of is not None else frame.to_enu(lat, lon, h)
    cov9 = np.asarray(msg.position_covariance, float).reshape(3, 3)
    known = int(msg.position_covariance_type) != 0
    return GnssPosition(np.array([float(e), float(n)]), cov9[:2, :2].copy() if known else None,
                        kind, alt, float(cov9[2, 2]) if known else math.nan)  # fmt: skip


def estimate_to_navsatfix(
    est: Estimate, frame: GeodeticFrame, altitude_m: float, altitude_var_m2: float, frame_id: str
) -> Any:
    """The fused position as a NavSatFix (covariance: ENU, known diagonal and xy terms)."""
    geodetic_of = getattr(frame, 'geodetic_of', None)  # geo.LocalFrame: one PROJ call on floats
    if geodetic_of is not None:
        lat, lon, _ = geodetic_of(est.x_m, est.y_m, 0.0)
    else:
        lat, lon, _ = frame.to_geodetic(est.x_m, est.y_m, 0.0)
    cov = np.zeros((3, 3))
    cov[:2, :2] = est.covariance[:2, :2]
    cov[2, 2] = altitude_var_m2 if math.isfinite(altitude_var_m2) else UNKNOWN_VARIANCE
    c = _classes()
    status = c.status(status=-1 if est.dead_reckoning else 0, service=0)
    return c.fix(
        header=stamp_header(est.t_s, frame_id),
        status=status,
        latitude=float(lat),
        longitude=float(lon),
        altitude=altitude_m if math.isfinite(altitude_m) else 0.0,
        position_covariance=cov.reshape(9),
        position_covariance_type=3,  # COVARIANCE_TYPE_KNOWN
    )


def estimate_to_tf(
    est: Estimate, parent: str, child: str, *, header: Any = None, rotation: Any = None
) -> Any:
    """``header`` / ``rotation``: made here unless given (see ``estimate_to_odometry``)."""
    c = _classes()
    if rotation is None:
        rotation = c.yaw(est.yaw_rad)
    transform = c.transform(translation=c.vector(x=est.x_m, y=est.y_m, z=0.0), rotation=rotation)
    if header is None:
        header = stamp_header(est.t_s, parent)
    stamped = c.stamped(header=header, child_frame_id=child, transform=transform)
    return c.tf(transforms=[stamped])

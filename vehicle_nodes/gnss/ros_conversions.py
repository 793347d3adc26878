"""GnssFix → ROS messages (NavSatFix, velocity twist, heading Imu), and NavSatFix → GnssFix.

Conventions (REP 103/105): position covariance is ENU (m²), velocity is (east, north, up) in
the twist's ``linear`` and stamped in ``frame_id``, heading is an ENU yaw in an Imu
orientation whose roll/pitch variances are "unknown" (1e6 rad²) and whose rates and
accelerations are flagged absent (covariance[0] = -1), as sensor_msgs/Imu documents.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from geo import course_speed_to_enu_velocity, heading_deg_to_yaw
from v2x_runtime import messages as m
from vehicle_nodes.gnss.records import Constellation, CovarianceKind, FixType, GnssFix

NAVSAT_STATUS_NO_FIX = -1
NAVSAT_STATUS_FIX = 0
NAVSAT_STATUS_SBAS_FIX = 1
NAVSAT_STATUS_GBAS_FIX = 2
UNKNOWN_VARIANCE = 1e6

# NavSatStatus.status per fix type. Dead reckoning is flagged as a plain fix: its covariance
# (UERE 10 m) says how little to trust it, and fix_type says what it is.
FIX_TO_NAVSAT_STATUS = {
    FixType.NO_FIX: NAVSAT_STATUS_NO_FIX,
    FixType.SINGLE: NAVSAT_STATUS_FIX,
    FixType.DGNSS: NAVSAT_STATUS_SBAS_FIX,
    FixType.RTK_FLOAT: NAVSAT_STATUS_GBAS_FIX,
    FixType.RTK_FIXED: NAVSAT_STATUS_GBAS_FIX,
    FixType.DEAD_RECKONING: NAVSAT_STATUS_FIX,
}


def fix_to_navsatfix(fix: GnssFix, stamp_ns: int, frame_id: str) -> Any:
    status = m.new(
        'sensor_msgs/msg/NavSatStatus',
        status=FIX_TO_NAVSAT_STATUS[fix.fix_type],
        service=int(fix.systems),
    )
    return m.new(
        'sensor_msgs/msg/NavSatFix',
        header=m.header(stamp_ns, frame_id),
        status=status,
        latitude=fix.lat_deg,
        longitude=fix.lon_deg,
        altitude=fix.alt_m,
        position_covariance=np.asarray(fix.covariance_m2, dtype=np.float64).reshape(9).copy(),
        position_covariance_type=int(fix.covariance_kind),
    )


def navsatfix_to_fix(msg: Any) -> GnssFix:
    """The inverse as far as NavSatFix carries it (fix type from status; RTK becomes FIXED)."""
    inverse = {
        NAVSAT_STATUS_NO_FIX: FixType.NO_FIX,
        NAVSAT_STATUS_FIX: FixType.SINGLE,
        NAVSAT_STATUS_SBAS_FIX: FixType.DGNSS,
        NAVSAT_STATUS_GBAS_FIX: FixType.RTK_FIXED,
    }
    return GnssFix(
        time_s=None,
        date=None,
        fix_type=inverse.get(int(msg.status.status), FixType.NO_FIX),
        lat_deg=float(msg.latitude),
        lon_deg=float(msg.longitude),
        alt_m=float(msg.altitude),
        alt_is_ellipsoidal=True,
        covariance_m2=np.asarray(msg.position_covariance, dtype=float).reshape(3, 3).copy(),
        covariance_kind=CovarianceKind(int(msg.position_covariance_type)),
        systems=Constellation(int(msg.status.service) & 0xF),
    )


def fix_to_twist(fix: GnssFix, stamp_ns: int, frame_id: str, speed_sigma_mps: float) -> Any:
    """ENU ground velocity. Without a course only the speed is known: zero vector with a
    variance that covers any direction (speed² + sigma²)."""
    speed = fix.speed_mps if fix.speed_mps is not None else 0.0
    if fix.course_deg is not None:
        v_east, v_north = course_speed_to_enu_velocity(speed, fix.course_deg)
        horizontal_var = speed_sigma_mps**2
    else:
        v_east = v_north = 0.0
        horizontal_var = speed**2 + speed_sigma_mps**2
    cov = np.zeros(36)
    cov[0] = cov[7] = horizontal_var
    cov[14] = UNKNOWN_VARIANCE  # vertical speed: NMEA does not give it
    cov[21] = cov[28] = cov[35] = UNKNOWN_VARIANCE  # angular rates: not measured
    twist = m.new(
        'geometry_msgs/msg/Twist',
        linear=m.new('geometry_msgs/msg/Vector3', x=float(v_east), y=float(v_north), z=0.0),
    )
    return m.new(
        'geometry_msgs/msg/TwistWithCovarianceStamped',
        header=m.header(stamp_ns, frame_id),
        twist=m.new('geometry_msgs/msg/TwistWithCovariance', twist=twist, covariance=cov),
    )


def heading_to_imu(heading_deg: float, stamp_ns: int, frame_id: str, sigma_deg: float) -> Any:
    """True heading (deg) → Imu with a yaw-only ENU orientation."""
    yaw = float(heading_deg_to_yaw(heading_deg))
    orientation = m.new(
        'geometry_msgs/msg/Quaternion', x=0.0, y=0.0, z=math.sin(yaw / 2), w=math.cos(yaw / 2)
    )
    orientation_cov = np.diag([UNKNOWN_VARIANCE, UNKNOWN_VARIANCE, math.radians(sigma_deg) ** 2])
    absent = np.zeros(9)
    absent[0] = -1.0
    return m.new(
        'sensor_msgs/msg/Imu',
        header=m.header(stamp_ns, frame_id),
        orientation=orientation,
        orientation_covariance=orientation_cov.reshape(9),
        angular_velocity_covariance=absent.copy(),
        linear_acceleration_covariance=absent.copy(),
    )


def imu_to_heading_deg(msg: Any) -> float:
    """The true heading (deg) of a yaw-only Imu orientation (inverse of heading_to_imu)."""
    q = msg.orientation
    yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
    return (90.0 - math.degrees(yaw)) % 360.0

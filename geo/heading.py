"""Heading conventions: REP 103 yaw (rad, 0 = east, counter-clockwise) ↔ true heading
(deg, 0 = north, clockwise) as receivers (HDT/THS), V2X messages and compasses give it."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from geo.datums import FloatArray


def yaw_to_heading_deg(yaw_rad: ArrayLike) -> FloatArray:
    """ENU yaw (rad) → true heading in [0, 360) deg."""
    heading = np.mod(90.0 - np.degrees(np.asarray(yaw_rad, dtype=np.float64)), 360.0)
    return np.where(heading >= 360.0, 0.0, heading)


def heading_deg_to_yaw(heading_deg: ArrayLike) -> FloatArray:
    """True heading (deg, clockwise from north) → ENU yaw in [-pi, pi) rad."""
    yaw = np.radians(90.0 - np.asarray(heading_deg, dtype=np.float64))
    return wrap_angle_rad(yaw)


def wrap_angle_rad(angle_rad: ArrayLike) -> FloatArray:
    """Wrap angles to [-pi, pi)."""
    return np.mod(np.asarray(angle_rad, dtype=np.float64) + np.pi, 2.0 * np.pi) - np.pi


def course_speed_to_enu_velocity(
    speed_mps: ArrayLike, course_deg: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Speed over ground and course (true, clockwise from north) → (v_east, v_north) m/s."""
    speed = np.asarray(speed_mps, dtype=np.float64)
    course = np.radians(np.asarray(course_deg, dtype=np.float64))
    return speed * np.sin(course), speed * np.cos(course)

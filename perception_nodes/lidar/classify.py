"""Class by shape: trapezoid memberships on box length, width and height, one score per class.

A box gets the class whose membership (the product over its three dimensions) is highest, with
that score as confidence; below ``min_confidence`` it is UNKNOWN. Memberships are 1 inside the
class's core range and fall linearly to 0 over ``softness`` (a fraction of the range), so a box
just outside a bound is still that class with lower confidence, not a hard miss.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from perception_nodes.lidar.boxes import Boxes
from perception_nodes.lidar.errors import LidarConfigError


class ObjectClass(enum.IntEnum):
    """Values of Participant.CLASS_* (msg/Participant.msg)."""

    UNKNOWN = 0
    CAR = 1
    TRUCK = 2
    MOTORCYCLE = 3
    CYCLIST = 4
    PEDESTRIAN = 5
    OBSTACLE = 6


@dataclass(frozen=True)
class SizeRange:
    """Core [lo, hi] ranges (m) of length, width and height for one class."""

    length_m: tuple[float, float]
    width_m: tuple[float, float]
    height_m: tuple[float, float]

    def check(self, name: str) -> None:
        for dim, (lo, hi) in (
            ('length', self.length_m),
            ('width', self.width_m),
            ('height', self.height_m),
        ):
            if not 0.0 <= lo < hi:
                raise LidarConfigError(
                    f'class thresholds {name}.{dim}: expected 0 <= lo < hi, got ({lo}, {hi})'
                )


def _default_ranges() -> dict[ObjectClass, SizeRange]:
    return {
        ObjectClass.CAR: SizeRange((1.6, 5.6), (1.4, 2.2), (1.1, 2.1)),
        ObjectClass.TRUCK: SizeRange((5.8, 18.0), (2.1, 2.7), (2.2, 4.2)),
        ObjectClass.CYCLIST: SizeRange((1.3, 2.2), (0.05, 1.0), (1.2, 2.0)),
        ObjectClass.PEDESTRIAN: SizeRange((0.2, 1.0), (0.05, 0.9), (1.0, 2.1)),
    }


@dataclass(frozen=True)
class ClassThresholds:
    """Size ranges per class, the membership fall-off and the confidence floor."""

    ranges: dict[ObjectClass, SizeRange] = field(default_factory=_default_ranges)
    softness: float = 0.35
    min_confidence: float = 0.3

    def __post_init__(self) -> None:
        for cls, rng in self.ranges.items():
            rng.check(cls.name.lower())
        if not 0.0 < self.softness <= 2.0:
            raise LidarConfigError(f'class softness: expected (0, 2], got {self.softness}')
        if not 0.0 <= self.min_confidence < 1.0:
            raise LidarConfigError(
                f'class min_confidence: expected [0, 1), got {self.min_confidence}'
            )

    @cached_property
    def table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per class and dimension (C, 3, 1): lower and upper core bounds and the ramp width;
        and the class codes (C,). Built on first use, not per frame (frozen: read-only)."""
        lo = np.array([[r.length_m[0], r.width_m[0], r.height_m[0]] for r in self.ranges.values()])
        hi = np.array([[r.length_m[1], r.width_m[1], r.height_m[1]] for r in self.ranges.values()])
        ramp = self.softness * np.maximum(hi - lo, 0.2)
        codes = np.array([int(c) for c in self.ranges], dtype=np.uint8)
        tables = (lo[..., None], hi[..., None], ramp[..., None], codes)
        for array in tables:
            array.flags.writeable = False
        return tables


def classify_boxes(
    length_m: np.ndarray, width_m: np.ndarray, height_m: np.ndarray, thresholds: ClassThresholds
) -> tuple[np.ndarray, np.ndarray]:
    """Class (int array of ObjectClass values) and confidence (0..1) for each box.

    All classes and dimensions in one (C, 3, K) pass: a frame holds a handful of boxes, so
    the cost is the count of numpy calls, not their size.
    """
    n = len(length_m)
    if n == 0:
        return np.zeros(0, np.uint8), np.zeros(0, np.float32)
    lo, hi, ramp, class_codes = thresholds.table
    dims = np.stack([length_m, width_m, height_m])[None]  # (1, 3, K)
    # min(1 - (lo - v) / ramp, 1 - (v - hi) / ramp) clipped to [0, 1]: _membership per cell
    member = 1.0 - np.maximum(lo - dims, dims - hi) / ramp
    np.clip(member, 0.0, 1.0, out=member)
    scores = member.prod(axis=1)  # (C, K)
    best = np.argmax(scores, axis=0)
    conf = scores[best, np.arange(n)]
    codes = class_codes[best]
    codes[conf < thresholds.min_confidence] = ObjectClass.UNKNOWN
    return codes, conf.astype(np.float32)


@dataclass(frozen=True)
class FaceRule:
    """What a vehicle seen only by its rear (or front) face looks like: an I-shaped box about
    a car wide, shallow along the line of sight and car-tall. Shape alone takes it for a
    cyclist (1.8 x 0.6 x 1.5 m). A face is across the line of sight; a cyclist is so only while
    crossing, and then its rider's head (>= 1.7 m) stands above a car's roof: the height band
    separates them (an SUV taller than 1.7 m seen end-on stays a cyclist)."""

    width_m: tuple[float, float] = (1.6, 2.3)  # the face's extent across the line of sight
    max_depth_m: float = 0.9
    height_m: tuple[float, float] = (1.1, 1.7)
    max_angle_rad: float = 0.35  # face normal to line of sight


def vehicle_faces(
    boxes: Boxes,
    class_id: np.ndarray,
    rule: FaceRule,
    sensor_xy_m: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Mask of boxes that are a car's rear/front face and not yet a vehicle (callers set CAR)."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=bool)
    length_m, width_m, height_m = boxes.length_m, boxes.width_m, boxes.height_m
    # the long axis (the face) across the line of sight: |cos| of their angle near 0
    across = np.abs(np.cos(boxes.sight_angle(sensor_xy_m))) <= np.sin(rule.max_angle_rad)
    shape = (
        (length_m >= rule.width_m[0])
        & (length_m <= rule.width_m[1])
        & (width_m <= rule.max_depth_m)
        & (height_m >= rule.height_m[0])
        & (height_m <= rule.height_m[1])
    )
    vehicle = (class_id == ObjectClass.CAR) | (class_id == ObjectClass.TRUCK)
    return across & shape & ~vehicle

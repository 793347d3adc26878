"""Surfaces seen edge-on: thin point lines along the line of sight, which no road user makes.

A convex body seen from outside always turns a face across the line of sight towards the
sensor: a box at angle ``a`` to the beam shows ``length * sin(a) + width * cos(a)`` across it,
at least its width (>= 0.3 m for any road user). Points that lie on a line running along the
line of sight and are only centimetres wide are therefore a flat surface met at grazing
incidence - a facade, a fence, a noise barrier - whose range noise spreads the returns along
it. By extent alone such a fragment, 1.3-2.2 m long and 1.2-2 m tall, is a cyclist (the
cyclist class must accept thin boxes: a cyclist broadside shows a single face), which is how a
building wall two metres beside a roadside lidar raised a false VRUCW (issue 9, seed 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception_nodes.lidar.boxes import Boxes
from perception_nodes.lidar.errors import LidarConfigError


@dataclass(frozen=True)
class EdgeOnRule:
    """How thin (m) and how close to the line of sight (rad) an edge-on surface is."""

    max_width_m: float = 0.1  # range noise across a grazing wall: a few cm
    max_angle_rad: float = 0.52  # 30 deg between the long axis and the line of sight
    min_length_m: float = 0.3  # shorter: the long axis has no meaning

    def __post_init__(self) -> None:
        if not (self.max_width_m > 0 and 0 < self.max_angle_rad < 0.5 * np.pi):
            raise LidarConfigError(
                'edge-on rule: expected max_width_m > 0 and 0 < max_angle_rad < pi/2, got '
                f'{self.max_width_m}, {self.max_angle_rad}'
            )


def edge_on_surfaces(
    boxes: Boxes, rule: EdgeOnRule, sensor_xy_m: tuple[float, float] = (0.0, 0.0)
) -> np.ndarray:
    """Mask of boxes that are a thin line of points along the line of sight."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=bool)
    radial = np.abs(np.sin(boxes.sight_angle(sensor_xy_m))) <= np.sin(rule.max_angle_rad)
    thin = (boxes.width_m <= rule.max_width_m) & (boxes.length_m >= rule.min_length_m)
    return radial & thin

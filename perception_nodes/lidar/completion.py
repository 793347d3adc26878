"""Box completion: grow boxes seen only in part to their class's typical size, away from the sensor.

A lidar sees the faces turned towards it; a far car may show one face and a roof line, a
pedestrian one arc. Once a box has a class, any dimension smaller than the class's typical one
is grown to it while the edge nearer the sensor stays put, since the near edge is the one the
points actually touched.
"""

from __future__ import annotations

import numpy as np

from perception_nodes.lidar.boxes import Boxes
from perception_nodes.lidar.classify import ObjectClass

# typical (length, width) in m; what a partial view is grown to
TYPICAL_SIZE_M: dict[ObjectClass, tuple[float, float]] = {
    ObjectClass.CAR: (4.5, 1.85),
    ObjectClass.TRUCK: (7.0, 2.5),
    ObjectClass.CYCLIST: (1.75, 0.65),
    ObjectClass.PEDESTRIAN: (0.6, 0.55),
}


def complete_boxes(
    boxes: Boxes, class_id: np.ndarray, sensor_xy_m: tuple[float, float] = (0.0, 0.0)
) -> Boxes:
    """Boxes with length/width raised to the typical size of their class (unknown untouched)."""
    if len(boxes) == 0:
        return boxes
    typical_l = np.zeros(len(boxes))
    typical_w = np.zeros(len(boxes))
    for cls, (length, width) in TYPICAL_SIZE_M.items():
        sel = class_id == cls
        typical_l[sel], typical_w[sel] = length, width
    grow_l = np.maximum(typical_l - boxes.length_m, 0.0)
    grow_w = np.maximum(typical_w - boxes.width_m, 0.0)
    c, s = np.cos(boxes.yaw_rad), np.sin(boxes.yaw_rad)
    dx = sensor_xy_m[0] - boxes.center_m[:, 0]
    dy = sensor_xy_m[1] - boxes.center_m[:, 1]
    toward_u = np.sign(c * dx + s * dy)  # which way the sensor lies along the box axes
    toward_v = np.sign(-s * dx + c * dy)
    shift_u = -toward_u * grow_l / 2.0
    shift_v = -toward_v * grow_w / 2.0
    center = boxes.center_m.copy()
    center[:, 0] += c * shift_u - s * shift_v
    center[:, 1] += s * shift_u + c * shift_v
    return Boxes(
        center, boxes.length_m + grow_l, boxes.width_m + grow_w, boxes.height_m, boxes.yaw_rad,
        boxes.n_points,
    )

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

_N_CODES = max(int(c) for c in ObjectClass) + 1
_TYPICAL_L = np.zeros(_N_CODES)
_TYPICAL_W = np.zeros(_N_CODES)
for _cls, (_length, _width) in TYPICAL_SIZE_M.items():
    _TYPICAL_L[_cls], _TYPICAL_W[_cls] = _length, _width


def complete_boxes(
    boxes: Boxes, class_id: np.ndarray, sensor_xy_m: tuple[float, float] = (0.0, 0.0)
) -> Boxes:
    """Boxes with length/width raised to the typical size of their class (unknown untouched)."""
    if len(boxes) == 0:
        return boxes
    typical_l = np.take(_TYPICAL_L, class_id, mode='clip')  # one lookup, no mask per class
    typical_w = np.take(_TYPICAL_W, class_id, mode='clip')
    # a vehicle seen end-on is about as long as wide: its hidden length runs away from the
    # sensor, so make the more radial box axis the length axis before growing
    length, width, yaw = boxes.length_m.copy(), boxes.width_m.copy(), boxes.yaw_rad.copy()
    vehicle = (class_id == ObjectClass.CAR) | (class_id == ObjectClass.TRUCK)
    short = vehicle & (length < 0.75 * typical_l)
    if short.any():
        radial = np.arctan2(
            boxes.center_m[:, 1] - sensor_xy_m[1], boxes.center_m[:, 0] - sensor_xy_m[0]
        )
        off = np.abs(np.sin(yaw - radial))  # 0 when the length axis is radial
        swap = short & (off > np.sqrt(0.5))
        length[swap], width[swap] = boxes.width_m[swap], boxes.length_m[swap]
        yaw[swap] = yaw[swap] + 0.5 * np.pi
    # a pedestrian shows one arc of its body and has no useful yaw: centre it behind the
    # arc's centroid (2r/pi for a half circle) and face it along the line of sight
    center = boxes.center_m.copy()
    ped = class_id == ObjectClass.PEDESTRIAN
    if ped.any():
        rel = boxes.centroid_m[ped] - np.asarray(sensor_xy_m)
        dist = np.maximum(np.hypot(rel[:, 0], rel[:, 1]), 1e-6)
        behind = (2.0 / np.pi) * 0.5 * np.hypot(*TYPICAL_SIZE_M[ObjectClass.PEDESTRIAN])
        center[ped, :2] = boxes.centroid_m[ped] + rel / dist[:, None] * behind * 0.5
        yaw[ped] = np.arctan2(rel[:, 1], rel[:, 0])
        length[ped] = np.minimum(length[ped], TYPICAL_SIZE_M[ObjectClass.PEDESTRIAN][0])
        width[ped] = np.minimum(width[ped], TYPICAL_SIZE_M[ObjectClass.PEDESTRIAN][1])
    boxes = Boxes(center, length, width, boxes.height_m, yaw, boxes.n_points, boxes.centroid_m)
    grow_l = np.maximum(typical_l - boxes.length_m, 0.0)
    grow_w = np.maximum(typical_w - boxes.width_m, 0.0)
    c, s = np.cos(boxes.yaw_rad), np.sin(boxes.yaw_rad)
    dx = sensor_xy_m[0] - boxes.center_m[:, 0]
    dy = sensor_xy_m[1] - boxes.center_m[:, 1]
    toward_u = np.sign(c * dx + s * dy)  # which way the sensor lies along the box axes
    toward_v = np.sign(-s * dx + c * dy)
    shift_u = -toward_u * grow_l / 2.0
    shift_v = -toward_v * grow_w / 2.0
    shift_u[ped] = shift_v[ped] = 0.0  # already placed from the centroid
    center = boxes.center_m.copy()
    center[:, 0] += c * shift_u - s * shift_v
    center[:, 1] += s * shift_u + c * shift_v
    return Boxes(
        center,
        boxes.length_m + grow_l,
        boxes.width_m + grow_w,
        boxes.height_m,
        boxes.yaw_rad,
        boxes.n_points,
        boxes.centroid_m,
    )

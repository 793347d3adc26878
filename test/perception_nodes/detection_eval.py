"""Precision/recall of lidar detections against synthetic truth (helper for the tests).

A truth object counts when its class matches, it lies within the class's range and at least
half of it is visible (its points in the scene over its points when cast alone). Detections
are matched to truths one-to-one by BEV IoU (Hungarian), a match needs IoU >= 0.5 and the same
class. A detection that overlaps a truth that does not count (too occluded, too far) is neither
a true nor a false positive, as in KITTI's "don't care" regions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from perception_nodes.lidar.classify import ObjectClass
from perception_nodes.lidar.geometry import bev_iou_matrix
from perception_nodes.lidar.pipeline import Detections
from perception_nodes.lidar.synthetic import Frame

IOU_MIN = 0.5
MIN_VISIBLE = 0.5


@dataclass
class ClassScore:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.tp / max(self.tp + self.fn, 1)

    @property
    def precision(self) -> float:
        return self.tp / max(self.tp + self.fp, 1)


def score_frame(
    frame: Frame, det: Detections, cls: ObjectClass, range_m: float, score: ClassScore
) -> None:
    objs = frame.objects
    truth = np.array([o.as_bev() for o in objs]).reshape(-1, 5)
    boxes = det.boxes.bev()
    iou = bev_iou_matrix(truth, boxes)
    rows, cols = linear_sum_assignment(-iou) if iou.size else (np.zeros(0, int),) * 2
    matched = {int(r): int(c) for r, c in zip(rows, cols, strict=True) if iou[r, c] >= IOU_MIN}
    visible = frame.visible_fraction()
    counts = np.array(
        [
            o.cls == cls and np.hypot(o.x_m, o.y_m) <= range_m and visible[k] >= MIN_VISIBLE
            for k, o in enumerate(objs)
        ],
        dtype=bool,
    )
    used = set()
    for k in np.nonzero(counts)[0]:
        j = matched.get(int(k))
        if j is not None and det.class_id[j] == cls:
            score.tp += 1
            used.add(j)
        else:
            o = objs[k]
            score.fn += 1
            score.misses.append(f'{cls.name} at ({o.x_m:.1f}, {o.y_m:.1f}) vis {visible[k]:.2f}')
    for j in range(len(boxes)):
        if det.class_id[j] != cls or j in used:
            continue
        if np.hypot(boxes[j, 0], boxes[j, 1]) > range_m:
            continue
        overlapping = np.nonzero(iou[:, j] > 0.0)[0]
        if any(not counts[k] and objs[k].cls != cls for k in overlapping if iou[k, j] >= IOU_MIN):
            score.fp += 1  # a confident box on another kind of object
            continue
        if any(not counts[k] for k in overlapping):
            continue  # don't care: a hidden or far object
        score.fp += 1

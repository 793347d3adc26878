"""The detection pipeline: ROI → background → ground → clusters → boxes → classes.

Two set-ups share it. A static roadside lidar (``use_background=True``) learns a voxel
background and the ground surface over its first frames and reports nothing until both are
ready. A vehicle lidar (``use_background=False``) estimates the ground on every frame in its own
frame and can cut out the ego body with ``ego_box_m``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from perception_nodes.lidar.background import BackgroundConfig, BackgroundModel
from perception_nodes.lidar.boxes import Boxes, fit_boxes
from perception_nodes.lidar.classify import (
    ClassThresholds,
    FaceRule,
    ObjectClass,
    classify_boxes,
    vehicle_faces,
)
from perception_nodes.lidar.clustering import ClusterConfig, cluster_points
from perception_nodes.lidar.completion import complete_boxes
from perception_nodes.lidar.errors import LidarConfigError
from perception_nodes.lidar.grid import BevGrid
from perception_nodes.lidar.ground import GroundConfig, GroundModel
from perception_nodes.lidar.merging import MergeConfig, merge_vehicle_pieces
from perception_nodes.lidar.roi import RegionOfInterest
from perception_nodes.lidar.rows import select_rows
from perception_nodes.lidar.structure import EdgeOnRule, edge_on_surfaces


@dataclass(frozen=True)
class PipelineConfig:
    """Everything the pipeline needs; see docs/perception.md for tuning."""

    roi_polygon_m: tuple[tuple[float, float], ...] = (
        (-80.0, -80.0),
        (80.0, -80.0),
        (80.0, 80.0),
        (-80.0, 80.0),
    )
    roi_z_min_m: float = -12.0
    roi_z_max_m: float = 4.0
    use_background: bool = True
    background: BackgroundConfig = field(default_factory=BackgroundConfig)
    ground: GroundConfig = field(default_factory=GroundConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    classes: ClassThresholds = field(default_factory=ClassThresholds)
    merge: MergeConfig | None = field(default_factory=MergeConfig)
    ego_box_m: tuple[float, float, float, float] | None = None  # x_min, x_max, y_min, y_max
    max_box_length_m: float = 20.0
    min_box_height_m: float = 0.3
    # static structure: no road user covers more ground than an 18 x 2.7 m truck (a building
    # corner seen as an L is 15 x 11 m), and none is a needle taller than a person (a wall
    # seen edge-on at grazing incidence: a few points, 0.1 m wide, 4 m tall)
    max_box_area_m2: float = 60.0
    slender_footprint_m: float = 0.3
    max_slender_height_m: float = 2.5
    face_rule: FaceRule | None = field(default_factory=FaceRule)
    # a thin line of points along the line of sight is a wall met at grazing incidence
    edge_on: EdgeOnRule | None = field(default_factory=EdgeOnRule)

    def __post_init__(self) -> None:
        if self.ego_box_m is not None:
            x0, x1, y0, y1 = self.ego_box_m
            if not (x0 < x1 and y0 < y1):
                raise LidarConfigError(
                    f'ego_box_m: expected x_min < x_max and y_min < y_max, got {self.ego_box_m}'
                )


@dataclass(frozen=True)
class Detections:
    """One frame's objects (arrays of K) and what each step kept, with its time (ms)."""

    boxes: Boxes
    class_id: np.ndarray
    confidence: np.ndarray
    learning: bool
    counts: dict[str, int]
    timings_ms: dict[str, float]

    def __len__(self) -> int:
        return len(self.boxes)


class DetectionPipeline:
    """Stateful (background, ground); feed frames in time order with ``process``."""

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config
        self._build()

    def _build(self) -> None:
        config = self.config
        self.roi = RegionOfInterest(
            np.asarray(config.roi_polygon_m),
            z_min_m=config.roi_z_min_m,
            z_max_m=config.roi_z_max_m,
        )
        x0, y0, x1, y1 = self.roi.bounds
        self.ground = GroundModel(
            BevGrid.covering(x0, y0, x1, y1, config.ground.cell_m), config.ground
        )
        self.background: BackgroundModel | None = None
        if config.use_background:
            self.background = BackgroundModel(
                (x0, y0, config.roi_z_min_m, x1, y1, config.roi_z_max_m), config.background
            )

    @property
    def learning(self) -> bool:
        return self.background is not None and not self.background.ready

    def reset(self) -> None:
        """Forget the background and the ground (e.g. after the lidar moved or time jumped)."""
        self._build()

    def process(self, xyz_m: np.ndarray) -> Detections:
        """Detect objects in one frame of finite points (N, 3) in the sensor frame."""
        times: dict[str, float] = {}
        counts = {'input': int(xyz_m.shape[0])}
        t0 = time.perf_counter()
        pts = select_rows(self.roi.mask(xyz_m), xyz_m)
        if self.config.ego_box_m is not None:
            x0, x1, y0, y1 = self.config.ego_box_m
            ego = (pts[:, 0] > x0) & (pts[:, 0] < x1) & (pts[:, 1] > y0) & (pts[:, 1] < y1)
            pts = select_rows(~ego, pts)
        counts['roi'] = int(pts.shape[0])
        t1 = time.perf_counter()
        times['roi'] = (t1 - t0) * 1e3

        if self.background is not None:
            was_learning = not self.background.ready
            if was_learning:
                self.ground.accumulate(pts)
                self.background.observe(pts)
                if self.background.ready:
                    self.ground.finish()
                    self.ground.refine(pts)
                times['background'] = (time.perf_counter() - t1) * 1e3
                return self._empty(counts, times, learning=True)
        else:
            self.ground.estimate(pts)
        # Ground first: the learned surface is a small grid (cache-resident) and leaves ~10 %
        # of the points, so the background's random reads into its large voxel grid run on
        # those only. Ground voxels of the background model are then never consulted, so its
        # later updates observe the object band alone (cheaper, and the same foreground).
        heights = self.ground.height_above(pts)
        above = self.ground.object_mask(heights)
        ground_z = np.compress(above, pts[:, 2] - heights)
        pts = select_rows(above, pts)
        counts['objects'] = int(pts.shape[0])
        t2 = time.perf_counter()
        times['ground'] = (t2 - t1) * 1e3

        if self.background is not None:
            self.background.observe(pts)
            fg = self.background.foreground_mask(pts)
            pts = select_rows(fg, pts)
            ground_z = np.compress(fg, ground_z)
        counts['foreground'] = int(pts.shape[0])
        t3 = time.perf_counter()
        times['background'] = (t3 - t2) * 1e3

        labels, n_clusters = cluster_points(pts[:, :2], self.config.cluster)
        if self.config.merge is not None:
            labels, n_clusters = merge_vehicle_pieces(
                pts, labels, n_clusters, ground_z, self.config.merge
            )
        t4 = time.perf_counter()
        times['cluster'] = (t4 - t3) * 1e3

        boxes = fit_boxes(pts, labels, n_clusters, ground_z)
        cfg = self.config
        slender = (boxes.length_m < cfg.slender_footprint_m) & (
            boxes.height_m > cfg.max_slender_height_m
        )
        sane = (
            (boxes.length_m <= cfg.max_box_length_m)
            & (boxes.length_m * boxes.width_m <= cfg.max_box_area_m2)
            & (boxes.height_m >= cfg.min_box_height_m)
            & ~slender
        )
        edge_on = np.zeros(len(boxes), dtype=bool)
        if cfg.edge_on is not None:
            edge_on = edge_on_surfaces(boxes, cfg.edge_on) & sane
            sane &= ~edge_on
        counts['edge_on'] = int(np.count_nonzero(edge_on))
        counts['static_dropped'] = int(np.count_nonzero(~sane))
        if not sane.all():
            boxes = boxes.select(sane)
        class_id, confidence = classify_boxes(
            boxes.length_m, boxes.width_m, boxes.height_m, cfg.classes
        )
        face = np.zeros(len(boxes), dtype=bool)
        if cfg.face_rule is not None:
            face = vehicle_faces(boxes, class_id, cfg.face_rule)
            class_id[face] = ObjectClass.CAR
            confidence[face] = np.maximum(confidence[face], 0.5)
        counts['faces'] = int(np.count_nonzero(face))
        boxes = complete_boxes(boxes, class_id)
        counts['clusters'] = n_clusters
        counts['boxes'] = len(boxes)
        times['boxes'] = (time.perf_counter() - t4) * 1e3
        return Detections(boxes, class_id, confidence, False, counts, times)

    @staticmethod
    def _empty(counts: dict[str, int], times: dict[str, float], *, learning: bool) -> Detections:
        z = np.zeros(0)
        boxes = Boxes(np.zeros((0, 3)), z, z, z, z, np.zeros(0, dtype=np.int64), np.zeros((0, 2)))
        return Detections(
            boxes, np.zeros(0, np.uint8), np.zeros(0, np.float32), learning, counts, times
        )

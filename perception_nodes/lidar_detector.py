"""LidarDetector component: PointCloud2 → objects (ParticipantArray) and markers.

Topics: in ``lidar/points`` (sensor_msgs/msg/PointCloud2); out ``perception/detections``
(v2x_stack/msg/ParticipantArray, sensor frame, source LIDAR, ids per frame) and
``perception/markers`` (visualization_msgs/msg/MarkerArray).
Parameters: see the declarations below and docs/perception.md. ``use_background`` false is the
vehicle set-up (issue 10): no background model, ground estimated per frame, ego box cut out.

Bad input is counted and dropped: wrong fields, bad layout, oversized clouds, NaN/inf points
(counted, the rest of the cloud is used), clouds older than the last one, a lidar that stops
(``lidar_silent`` status after ``timeout_s``).
"""

from __future__ import annotations

from typing import Any

from perception_nodes.lidar.background import BackgroundConfig
from perception_nodes.lidar.classify import ClassThresholds, ObjectClass, SizeRange
from perception_nodes.lidar.cloud import cloud_from_msg
from perception_nodes.lidar.clustering import ClusterConfig
from perception_nodes.lidar.errors import LidarConfigError, LidarError
from perception_nodes.lidar.ground import GroundConfig
from perception_nodes.lidar.pipeline import DetectionPipeline, PipelineConfig
from perception_nodes.markers import MARKER_ARRAY, MarkerThrottle, participant_markers
from perception_nodes.participants import PARTICIPANT_ARRAY, detections_to_msg
from v2x_runtime import QOS_SENSOR, Component, ComponentContext, ParameterError
from v2x_runtime import messages as m
from v2x_runtime.diagnostics import OK, WARN

POINTCLOUD2 = 'sensor_msgs/msg/PointCloud2'
_SIZE_DEFAULTS = ClassThresholds().ranges


def _size_param(ctx: ComponentContext, cls: ObjectClass) -> SizeRange:
    r = _SIZE_DEFAULTS[cls]
    name = f'class_{cls.name.lower()}_size_m'
    values = ctx.declare_parameter(
        name,
        [*r.length_m, *r.width_m, *r.height_m],
        f'{cls.name.lower()} core size ranges: length lo, hi, width lo, hi, height lo, hi (m)',
    )
    if len(values) != 6:
        raise ParameterError(f'{ctx.name}: parameter {name}: expected 6 numbers, got {values}')
    v = [float(x) for x in values]
    return SizeRange((v[0], v[1]), (v[2], v[3]), (v[4], v[5]))


class LidarDetector(Component):
    """Objects from one lidar. Topics: in `lidar/points`, out `perception/detections`,
    `perception/markers`. Parameters: see declarations."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        d = PipelineConfig()
        p = ctx.declare_parameter
        roi = p(
            'roi_polygon_m',
            [c for xy in d.roi_polygon_m for c in xy],
            'Region of interest polygon in the sensor frame: x0, y0, x1, y1, ... (m)',
        )
        if len(roi) < 6 or len(roi) % 2:
            raise ParameterError(
                f'{ctx.name}: parameter roi_polygon_m: expected an even count >= 6, got {roi}'
            )
        self.max_points = p(
            'max_points', 400_000, 'Clouds with more points are rejected', range=(1, 5_000_000)
        )
        self.timeout_s = p(
            'timeout_s', 1.0, 'No cloud for this long: lidar_silent status', range=(0.05, 60.0)
        )
        self.time_reset_s = p(
            'time_reset_s',
            5.0,
            'A stamp this far behind the last starts a new timeline (replay '
            'loop, clock reset); smaller steps back are rejected',
            range=(0.0, 1e6),
        )
        self.marker_throttle = MarkerThrottle(
            p('markers_period_s', 0.5, 'Markers at most this often (0: every frame)',
              range=(0.0, 60.0))
        )  # fmt: skip
        ego = p('ego_box_m', [0.0], 'Ego body cut-out x_min, x_max, y_min, y_max (m); [0] = none')
        if len(ego) not in (1, 4):
            raise ParameterError(
                f'{ctx.name}: parameter ego_box_m: expected 4 numbers (or [0] for none), got {ego}'
            )
        try:
            self.config = PipelineConfig(
                roi_polygon_m=tuple(zip(roi[0::2], roi[1::2], strict=True)),
                roi_z_min_m=p(
                    'roi_z_min_m', d.roi_z_min_m, 'Lowest z kept (m)', range=(-100.0, 100.0)
                ),
                roi_z_max_m=p(
                    'roi_z_max_m', d.roi_z_max_m, 'Highest z kept (m)', range=(-100.0, 100.0)
                ),
                use_background=p(
                    'use_background', True, 'Static lidar: learn a background; false for a vehicle'
                ),
                background=BackgroundConfig(
                    voxel_xy_m=p(
                        'background_voxel_xy_m', 0.3, 'Background voxel (m)', range=(0.05, 5.0)
                    ),
                    voxel_z_m=p(
                        'background_voxel_z_m',
                        0.2,
                        'Background voxel height (m)',
                        range=(0.05, 5.0),
                    ),
                    learn_frames=p(
                        'background_frames',
                        20,
                        'Frames learned before detecting',
                        range=(1, 10_000),
                    ),
                    occupied_fraction=p(
                        'background_occupied_fraction',
                        0.2,
                        'Share of updates a background voxel is occupied',
                        range=(0.01, 1.0),
                    ),
                    update_every=p(
                        'background_update_every',
                        10,
                        'After learning, every n-th frame updates the model',
                        range=(1, 100_000),
                    ),
                    window_updates=p(
                        'background_window_updates',
                        600,
                        'Updates remembered before counts are halved',
                        range=(1, 30_000),
                    ),
                    range_tolerance_m=p(
                        'background_range_tolerance_m',
                        0.1,
                        'A point within this of background along its beam is background '
                        '(~3-5 sigma of the range noise; 0: off)',
                        range=(0.0, 5.0),
                    ),
                ),
                ground=GroundConfig(
                    cell_m=p('ground_cell_m', 1.0, 'Ground grid cell (m)', range=(0.1, 10.0)),
                    window_m=p(
                        'ground_window_m',
                        5.0,
                        'Ground opening window, > object width',
                        range=(0.1, 50.0),
                    ),
                    min_height_m=p(
                        'object_min_height_m',
                        0.25,
                        'Points lower than this over ground are ground (m)',
                        range=(0.0, 5.0),
                    ),
                    max_height_m=p(
                        'object_max_height_m',
                        4.5,
                        'Points higher than this over ground are ignored (m)',
                        range=(0.1, 50.0),
                    ),
                ),
                cluster=ClusterConfig(
                    azimuth_step_deg=p(
                        'cluster_azimuth_step_deg', 0.5, 'Polar cell angle', range=(0.01, 10.0)
                    ),
                    range_step_m=p(
                        'cluster_range_step_m', 0.25, 'Polar cell depth at 0 m', range=(0.01, 10.0)
                    ),
                    range_growth=p(
                        'cluster_range_growth',
                        0.01,
                        'Polar cell depth growth per metre of range',
                        range=(0.0, 1.0),
                    ),
                    min_points=p(
                        'cluster_min_points', 5, 'Smaller clusters are dropped', range=(1, 100_000)
                    ),
                ),
                classes=ClassThresholds(
                    ranges={cls: _size_param(ctx, cls) for cls in _SIZE_DEFAULTS},
                    min_confidence=p(
                        'class_min_confidence',
                        0.3,
                        'Below this score a box is UNKNOWN',
                        range=(0.0, 0.99),
                    ),
                ),
                ego_box_m=tuple(ego) if len(ego) == 4 else None,
            )
            self.pipeline = DetectionPipeline(self.config)
        except LidarConfigError as err:
            raise ParameterError(f'{ctx.name}: {err}') from None
        self.pub = ctx.create_publisher('perception/detections', PARTICIPANT_ARRAY, QOS_SENSOR)
        self.markers = ctx.create_publisher('perception/markers', MARKER_ARRAY, QOS_SENSOR)
        ctx.create_subscription('lidar/points', POINTCLOUD2, self.on_cloud, QOS_SENSOR)
        ctx.create_timer(max(self.timeout_s / 2.0, 0.05), self.on_watchdog)
        self.last_stamp_ns: int | None = None
        self.last_arrival_ns: int | None = None
        self.silent = False

    def on_cloud(self, msg: Any) -> None:
        diag = self.ctx.diagnostics
        stamp_ns = m.to_ns(msg.header.stamp)
        if self.last_stamp_ns is not None and stamp_ns <= self.last_stamp_ns:
            back_s = (self.last_stamp_ns - stamp_ns) / 1e9
            if back_s <= self.time_reset_s:
                diag.reject(
                    'time_backwards', f'cloud stamp {stamp_ns} ns is {back_s:.3f} s behind the last'
                )
                return
            diag.count('time_reset')
            self.ctx.logger.warning(f'cloud stamps jumped back {back_s:.1f} s: new timeline')
        try:
            cloud = cloud_from_msg(msg, max_points=self.max_points)
        except LidarError as err:
            diag.reject(err.reason, str(err))
            return
        self.last_arrival_ns = self.ctx.now_ns()
        if self.silent:
            self.silent = False
            diag.set_status(OK, 'ok')
        diag.count('received')
        if cloud.n_nonfinite:
            diag.count('nonfinite_points', cloud.n_nonfinite)
        if cloud.size == 0:
            diag.reject(
                'empty', f'cloud at {stamp_ns} ns has no finite points ({cloud.n_input} received)'
            )
            return
        self.last_stamp_ns = stamp_ns
        det = self.pipeline.process(cloud.xyz_m)
        for step, ms in det.timings_ms.items():
            diag.observe(f'step_{step}_ms', ms)
        diag.observe('latency_s', (self.ctx.now_ns() - stamp_ns) / 1e9)
        if det.learning:
            diag.count('learning_frames')
            return
        diag.count('detections', len(det))
        out = detections_to_msg(det, stamp_ns=stamp_ns, frame_id=msg.header.frame_id)
        self.pub.publish(out)
        if self.marker_throttle.due(stamp_ns):
            self.markers.publish(
                participant_markers(
                    out, namespace='lidar_detections', lifetime_s=self.marker_throttle.lifetime_s
                )
            )

    def on_watchdog(self) -> None:
        if self.last_arrival_ns is None or self.silent:
            return
        idle_s = (self.ctx.now_ns() - self.last_arrival_ns) / 1e9
        if idle_s > self.timeout_s:
            self.silent = True
            self.ctx.diagnostics.count('lidar_silent')
            self.ctx.diagnostics.set_status(WARN, f'no point cloud for {idle_s:.1f} s')
            self.ctx.logger.warning(f'lidar silent for {idle_s:.1f} s', throttle_s=10.0)

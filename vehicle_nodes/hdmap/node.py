"""The map-matching component: fused odometry → lane-level position on the HD map."""

from __future__ import annotations

import math
from typing import Any

from geo import LocalFrame
from v2x_runtime import QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m
from v2x_runtime.resources import resource_path
from vehicle_nodes.fusion.ros_conversions import odometry_to_pose
from vehicle_nodes.hdmap.errors import HdMapError
from vehicle_nodes.hdmap.loader import load_map
from vehicle_nodes.hdmap.matching import LaneMatch, LaneMatcher


class MapMatcher(Component):
    """Lane-level map matching (HMM over candidate lanelets) of the fused pose.

    Topics: in `localization/odometry` (nav_msgs/Odometry in the map frame); out
    `localization/lane` (v2x_stack/LanePosition). Parameters: `map_file` (Lanelet2 OSM),
    `projection` ('local_xy': the nodes' local_x/local_y tags are the map frame; 'origin':
    project lat/lon about `origin_lat_deg`/`origin_lon_deg`/`origin_alt_m`, the same origin
    as the localisation filter's). A map that does not parse fails at start (file, element).
    Rejects: not_finite (NaN pose); counters: matched, off_map.
    """

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        path = p('map_file', '', 'Lanelet2 OSM map file')
        projection = p('projection', 'local_xy', 'Where map coordinates come from',
                       choices=('local_xy', 'origin'))  # fmt: skip
        lat = p('origin_lat_deg', 0.0, 'Map frame origin latitude (WGS84)', range=(-90.0, 90.0))
        lon = p('origin_lon_deg', 0.0, 'Map frame origin longitude', range=(-180.0, 180.0))
        alt = p('origin_alt_m', 0.0, 'Map frame origin ellipsoidal height', range=(-1e3, 1e4))
        self.frame_id = p('frame_id', 'map', 'Frame the odometry must be in')
        if not path:
            raise HdMapError(f'{ctx.name}: parameter map_file must name a Lanelet2 OSM file')
        if projection == 'origin' and lat == 0.0 and lon == 0.0:
            raise HdMapError(f'{ctx.name}: projection origin needs origin_lat_deg/origin_lon_deg')
        frame = LocalFrame(lat, lon, alt) if projection == 'origin' else None
        self.map = load_map(resource_path(path), frame)  # MapParseError names the file and element
        self.matcher = LaneMatcher(self.map)
        self.pub = ctx.create_publisher(
            'localization/lane', 'v2x_stack/msg/LanePosition', QOS_SENSOR
        )
        ctx.create_subscription('localization/odometry', 'nav_msgs/msg/Odometry', self.on_odometry,
                                QOS_SENSOR)  # fmt: skip
        ctx.logger.info(f'{path}: {len(self.map.lanelets)} lanelets, '
                        f'{len(self.map.traffic_lights)} traffic lights')  # fmt: skip

    def on_odometry(self, msg: Any) -> None:
        if msg.header.frame_id and msg.header.frame_id != self.frame_id:
            self.ctx.diagnostics.reject('wrong_frame', f'odometry in {msg.header.frame_id!r}, '
                                        f'expected {self.frame_id!r}')  # fmt: skip
            return
        pose = odometry_to_pose(msg)
        if not (math.isfinite(pose.x_m) and math.isfinite(pose.y_m)):
            self.ctx.diagnostics.reject('not_finite', f'pose ({pose.x_m}, {pose.y_m})')
            return
        match = self.matcher.update(
            pose.t_s, pose.x_m, pose.y_m,
            yaw_rad=pose.yaw_rad if math.isfinite(pose.yaw_rad) else math.nan,
            speed_mps=pose.speed_mps, sigma_m=pose.sigma_m, yaw_sigma_rad=pose.yaw_sigma_rad,
        )  # fmt: skip
        self.ctx.diagnostics.count('matched' if match.lanelet_id >= 0 else 'off_map')
        self.pub.publish(lane_position(match, msg.header))


def lane_position(match: LaneMatch, header: Any) -> Any:
    """``LaneMatch`` → v2x_stack/msg/LanePosition (same stamp and frame as the pose); every
    field given to the class itself (``m.new`` would fill defaults first: one per fix)."""
    return m.msg_class('v2x_stack/msg/LanePosition')(
        header=header,
        lanelet_id=match.lanelet_id,
        arc_length_m=match.arc_length_m,
        lateral_offset_m=match.lateral_offset_m,
        lane_heading_rad=match.lane_heading_rad,
        lane_width_m=match.lane_width_m,
        speed_limit_mps=match.speed_limit_mps,
        stop_line_distance_m=match.stop_line_distance_m,
        signal_group=match.signal_group,
        intersection_id=match.intersection_id,
        confidence=match.confidence,
    )

"""The map-matching component: fused odometry → lane-level position on the HD map, with the
stop line, signal group and intersection from received MapData where the HD map has none."""

from __future__ import annotations

import math
from typing import Any

from geo import LocalFrame
from v2x_runtime import QOS_LATCHED, QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m
from v2x_runtime.resources import resource_path
from vehicle_nodes.fusion.ros_conversions import odometry_to_pose
from vehicle_nodes.hdmap.errors import HdMapError
from vehicle_nodes.hdmap.loader import load_map
from vehicle_nodes.hdmap.mapdata_lanes import MANEUVER_LEFT, MANEUVER_RIGHT, node_lanes
from vehicle_nodes.hdmap.mapdata_matching import MapDataMatch, MapDataMatchConfig, MapDataMatcher
from vehicle_nodes.hdmap.mapdata_store import MapDataStore
from vehicle_nodes.hdmap.matching import OFF_MAP, LaneMatch, LaneMatcher

_STATUS = m.msg_class('v2x_stack/msg/VehicleStatus')  # its LIGHT_* bits: msg/ is their source
LIGHT_LEFT_TURN, LIGHT_RIGHT_TURN, LIGHT_HAZARD = (
    _STATUS.LIGHT_LEFT_TURN,
    _STATUS.LIGHT_RIGHT_TURN,
    _STATUS.LIGHT_HAZARD,
)
# Where a matched lanelet already lies past its stop line (the HD map gives none ahead), a MAP
# lane that still ends this close ahead is the same line seen through MAP's resolution.
HD_LINE_MARGIN_M = 0.5


class MapMatcher(Component):
    """Lane-level map matching (HMM over candidate lanelets) of the fused pose, and the stop
    line ahead from the HD map or, where it has none, from received MapData.

    Topics: in `localization/odometry` (nav_msgs/Odometry in the map frame), `v2x/map`
    (v2x_stack/IntersectionMap from the V2X receiver), `vehicle/status` (VehicleStatus: the
    turn indicator picks the phase of a lane with several); out `localization/lane`
    (v2x_stack/LanePosition). Parameters: `map_file` (Lanelet2 OSM; '' runs on MapData
    alone), `projection` ('local_xy': the nodes' local_x/local_y tags are the map frame;
    'origin': project lat/lon about `origin_lat_deg`/`origin_lon_deg`/`origin_alt_m`, the same
    origin as the localisation filter's), `use_v2x_map`, `v2x_map_timeout_s`,
    `v2x_map_default_width_m`, `v2x_map_heading_tolerance_rad` (docs/hdmap.md). A map that
    does not parse fails at start (file, element). Rejects: not_finite (NaN pose),
    wrong_frame, v2x_map_wrong_frame,
    v2x_map_lane.<too_few_points|not_finite|no_length|connections>; counters: matched,
    off_map, v2x_map_stop_line (a fix whose stop line came from MapData),
    v2x_map_stale (a node dropped, not heard for the timeout).
    """

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        path = p('map_file', '', "Lanelet2 OSM map file ('': stop lines from MapData only)")
        projection = p('projection', 'local_xy', 'Where map coordinates come from',
                       choices=('local_xy', 'origin'))  # fmt: skip
        lat = p('origin_lat_deg', 0.0, 'Map frame origin latitude (WGS84)', range=(-90.0, 90.0))
        lon = p('origin_lon_deg', 0.0, 'Map frame origin longitude', range=(-180.0, 180.0))
        alt = p('origin_alt_m', 0.0, 'Map frame origin ellipsoidal height', range=(-1e3, 1e4))
        self.frame_id = p('frame_id', 'map', 'Frame the odometry must be in')
        self.use_v2x_map = p(
            'use_v2x_map', True, 'Stop line from received MapData where the HD map has none'
        )
        timeout_s = p('v2x_map_timeout_s', 10.0, 'Drop a MapData node not heard for this long',
                      range=(1.0, 3600.0))  # fmt: skip
        width_m = p('v2x_map_default_width_m', 3.5, 'Width of MapData lanes without laneWidth',
                    range=(1.0, 10.0))  # fmt: skip
        tolerance = p('v2x_map_heading_tolerance_rad', 0.785,
                      'Largest heading gap to a MapData lane', range=(0.1, 1.57))  # fmt: skip
        if projection == 'origin' and lat == 0.0 and lon == 0.0:
            raise HdMapError(f'{ctx.name}: projection origin needs origin_lat_deg/origin_lon_deg')
        if not path and not self.use_v2x_map:
            raise HdMapError(f'{ctx.name}: map_file is empty and use_v2x_map is false: '
                             'no source of lane positions')  # fmt: skip
        self.matcher: LaneMatcher | None = None
        if path:
            frame = LocalFrame(lat, lon, alt) if projection == 'origin' else None
            self.map = load_map(resource_path(path), frame)  # MapParseError names file, element
            self.matcher = LaneMatcher(self.map)
            ctx.logger.info(f'{path}: {len(self.map.lanelets)} lanelets, '
                            f'{len(self.map.traffic_lights)} traffic lights')  # fmt: skip
        else:
            ctx.logger.info('no map_file: stop lines and signal groups from MapData only')
        self.mapdata = MapDataStore(timeout_s)
        self.mapdata_matcher = MapDataMatcher(
            MapDataMatchConfig(default_width_m=width_m, heading_tolerance_rad=tolerance)
        )
        self.turn = 0  # MANEUVER_* bit of the turn indicator; 0: off or hazard
        self.pub = ctx.create_publisher(
            'localization/lane', 'v2x_stack/msg/LanePosition', QOS_SENSOR
        )
        ctx.create_subscription('localization/odometry', 'nav_msgs/msg/Odometry', self.on_odometry,
                                QOS_SENSOR)  # fmt: skip
        if self.use_v2x_map:
            ctx.create_subscription('v2x/map', 'v2x_stack/msg/IntersectionMap', self.on_map,
                                    QOS_LATCHED)  # fmt: skip
            ctx.create_subscription('vehicle/status', 'v2x_stack/msg/VehicleStatus',
                                    self.on_status, QOS_SENSOR)  # fmt: skip

    def on_map(self, msg: Any) -> None:
        diag = self.ctx.diagnostics
        if msg.header.frame_id and msg.header.frame_id != self.frame_id:
            diag.reject('v2x_map_wrong_frame', f'MAP node {msg.node_id} in '
                        f'{msg.header.frame_id!r}, expected {self.frame_id!r}')  # fmt: skip
            return
        now = self.ctx.now_ns()
        self._prune(now)
        lanes = self.mapdata.refresh(msg, now)
        if lanes is None:
            lanes = node_lanes(msg)
            self.mapdata.put(lanes, now, msg)
        for problem in lanes.problems:  # counted every time the MAP is heard
            diag.reject(f'v2x_map_lane.{problem.reason}', problem.detail)

    def on_status(self, msg: Any) -> None:
        lights = int(msg.lights)
        if lights & LIGHT_HAZARD or not lights & (LIGHT_LEFT_TURN | LIGHT_RIGHT_TURN):
            self.turn = 0
        else:
            self.turn = MANEUVER_LEFT if lights & LIGHT_LEFT_TURN else MANEUVER_RIGHT

    def _prune(self, now_ns: int) -> None:
        gone = self.mapdata.prune(now_ns)
        if gone:
            self.ctx.diagnostics.count('v2x_map_stale', len(gone))

    def on_odometry(self, msg: Any) -> None:
        if msg.header.frame_id and msg.header.frame_id != self.frame_id:
            self.ctx.diagnostics.reject('wrong_frame', f'odometry in {msg.header.frame_id!r}, '
                                        f'expected {self.frame_id!r}')  # fmt: skip
            return
        pose = odometry_to_pose(msg)
        if not (math.isfinite(pose.x_m) and math.isfinite(pose.y_m)):
            self.ctx.diagnostics.reject('not_finite', f'pose ({pose.x_m}, {pose.y_m})')
            return
        yaw = pose.yaw_rad if math.isfinite(pose.yaw_rad) else math.nan
        if self.matcher is not None:
            match = self.matcher.update(
                pose.t_s, pose.x_m, pose.y_m, yaw_rad=yaw, speed_mps=pose.speed_mps,
                sigma_m=pose.sigma_m, yaw_sigma_rad=pose.yaw_sigma_rad,
            )  # fmt: skip
        else:
            match = OFF_MAP
        self.ctx.diagnostics.count('matched' if match.lanelet_id >= 0 else 'off_map')
        found = self._from_mapdata(match, pose, yaw) if len(self.mapdata) else None
        if found is not None:
            self.ctx.diagnostics.count('v2x_map_stop_line')
            self.pub.publish(lane_position_from_mapdata(match, found, msg.header))
            return
        self.pub.publish(lane_position(match, msg.header))

    def _from_mapdata(self, match: LaneMatch, pose: Any, yaw: float) -> MapDataMatch | None:
        """The MAP lane's stop line where the HD map gives none ahead, or one without a signal
        group; None where the HD map's stays."""
        hd_none = match.stop_line_distance_m == math.inf
        if not (hd_none or match.signal_group == 0):
            return None
        self._prune(self.ctx.now_ns())
        seg = self.mapdata.segments
        if seg is None:
            return None
        found = self.mapdata_matcher.match(
            seg, pose.x_m, pose.y_m, yaw_rad=yaw, speed_mps=pose.speed_mps,
            sigma_m=pose.sigma_m, yaw_sigma_rad=pose.yaw_sigma_rad, turn=self.turn,
            start_heading=self.mapdata.start_heading,
        )  # fmt: skip
        if found is None:
            return None
        if hd_none and match.lanelet_id >= 0 and found.stop_line_distance_m < HD_LINE_MARGIN_M:
            return None  # on the line: the HD map has the car past it (MAP points are 1 cm)
        return found


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


def lane_position_from_mapdata(match: LaneMatch, found: MapDataMatch, header: Any) -> Any:
    """The stop line, signal group and intersection of a MapData lane. On the HD map (a
    lanelet without a stop line ahead) the lanelet's fields stay and the confidence is both
    matches' product; off it, the lane fields are the MapData lane's, ``lanelet_id`` -1."""
    on_map = match.lanelet_id >= 0
    lane = found.lane
    return m.msg_class('v2x_stack/msg/LanePosition')(
        header=header,
        lanelet_id=match.lanelet_id,
        arc_length_m=match.arc_length_m if on_map else found.arc_length_m,
        lateral_offset_m=match.lateral_offset_m if on_map else found.lateral_offset_m,
        lane_heading_rad=match.lane_heading_rad if on_map else found.lane_heading_rad,
        lane_width_m=match.lane_width_m if on_map else found.lane_width_m,
        speed_limit_mps=match.speed_limit_mps if on_map else lane.speed_limit_mps,
        stop_line_distance_m=found.stop_line_distance_m,
        signal_group=found.signal_group,
        intersection_id=found.intersection_id,
        confidence=(match.confidence if on_map else 1.0) * found.confidence,
    )

"""IntersectionExport (the HD map's intersection export) → IntersectionMap messages.

MapData is node-centred: a node lists the links that *enter* it. The intersection node gets
one link per arm (upstream node = the arm's far node) with the ingress lanes; each arm's far
node gets one link from the intersection with the egress lanes leading to it. Ingress lanes
connect to egress lanes through the export's movements: ``connectsTo`` names the egress lane,
its node (the arm node it runs to) and the movement's signal group as the SPAT phase id.
Centre lines run upstream to downstream (MapLane.msg), so ingress points are reversed (the
export lists them from the stop line outwards). Positions: the export's offsets from its
reference point, on the tangent plane there (``geo.LocalFrame``), and in the map frame.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from geo import LocalFrame
from v2x_runtime import messages as m
from vehicle_nodes.hdmap.export import ExportLane, IntersectionExport

MAP = 'v2x_stack/msg/IntersectionMap'
LANE = 'v2x_stack/msg/MapLane'
MANEUVER_BITS = {'straight': 1, 'left': 2, 'right': 4, 'u_turn': 8}
MAX_POINTS = 31


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """At most 31 points (the PointList limit), keeping both ends."""
    if len(points) <= MAX_POINTS:
        return points
    step = (len(points) - 1) / (MAX_POINTS - 1)
    return [points[round(i * step)] for i in range(MAX_POINTS)]


class MapBuilder:
    """Builds the IntersectionMap list of one export (geometry computed once)."""

    def __init__(
        self,
        export: IntersectionExport,
        ref_lat_deg: float,
        ref_lon_deg: float,
        *,
        region: int = 0,
        frame_id: str = 'map',
    ) -> None:
        self.export = export
        self.region = region
        self.frame_id = frame_id
        self.frame = LocalFrame(ref_lat_deg, ref_lon_deg, 0.0)
        self.ref_xy = export.ref_xy_m
        self._lanes = {ln.lane_id: self._lane(ln) for ln in export.lanes}

    def _geodetic(self, offset: tuple[float, float]) -> tuple[float, float]:
        lat, lon, _ = self.frame.to_geodetic(offset[0], offset[1], 0.0)
        return float(lat), float(lon)

    def _lane(self, lane: ExportLane) -> dict[str, Any]:
        pts = list(lane.points_m)
        if lane.kind == 'ingress':
            pts = pts[::-1]
        pts = _thin(pts)
        lat, lon, _ = self.frame.to_geodetic([p[0] for p in pts], [p[1] for p in pts], 0.0)
        moves = [mv for mv in self.export.movements if mv.ingress_lane_id == lane.lane_id]
        egress = {ln.lane_id: ln for ln in self.export.lanes}
        maneuvers = 0
        for name in lane.maneuvers:
            maneuvers |= MANEUVER_BITS.get(name, 0)
        return {
            'lane_id': lane.lane_id,
            'width_m': lane.width_m,
            'lane_type': m.msg_class(LANE).TYPE_VEHICLE,
            'maneuvers': maneuvers,
            'maneuvers_known': lane.kind == 'ingress',
            'speed_limit_mps': math.nan if lane.speed_limit_mps is None else lane.speed_limit_mps,
            'latitude_deg': np.asarray(lat, np.float64),
            'longitude_deg': np.asarray(lon, np.float64),
            'altitude_m': np.full(len(pts), math.nan),
            'points': [
                m.new('geometry_msgs/msg/Point', x=self.ref_xy[0] + x, y=self.ref_xy[1] + y, z=0.0)
                for x, y in pts
            ],
            'connection_region': np.full(len(moves), self.region, np.uint16),
            'connection_node_id': np.array(
                [egress[mv.egress_lane_id].arm_node_id for mv in moves], np.uint16
            ),
            'connection_lane_id': np.array([mv.egress_lane_id for mv in moves], np.uint8),
            'connection_phase_id': np.array([mv.signal_group for mv in moves], np.uint8),
        }

    def maps(self, stamp_ns: int) -> list[Any]:
        """One node per arm, then the intersection node, stamped ``stamp_ns``.

        The intersection comes last so that it is the value a transient-local (depth 1)
        subscriber that joins late gets first.
        """
        ex = self.export
        out = []
        for node in sorted(ex.nodes, key=lambda n: n.id == ex.intersection_id):
            lat, lon = self._geodetic(node.offset_m)
            if node.id == ex.intersection_id:
                lanes = [(ln.arm_node_id, ln) for ln in ex.lanes if ln.kind == 'ingress']
            else:
                lanes = [
                    (ex.intersection_id, ln)
                    for ln in ex.lanes
                    if ln.kind == 'egress' and ln.arm_node_id == node.id
                ]
            msgs = [
                m.new(
                    LANE,
                    upstream_region=self.region,
                    upstream_node_id=upstream,
                    **self._lanes[ln.lane_id],
                )
                for upstream, ln in lanes
            ]
            out.append(
                m.new(
                    MAP,
                    header=m.header(stamp_ns, self.frame_id),
                    region=self.region,
                    node_id=node.id,
                    name=node.name,
                    latitude_deg=lat,
                    longitude_deg=lon,
                    altitude_m=math.nan,
                    lanes=msgs,
                )
            )
        return out

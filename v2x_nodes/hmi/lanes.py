"""HD map (Lanelet2 OSM via ``vehicle_nodes.hdmap``) → the lane geometry the HMI draws."""

from __future__ import annotations

import numpy as np

from v2x_nodes.hmi.scene import LaneGeometry, StopLine
from vehicle_nodes.hdmap import HdMap, load_map


def lane_geometry(hd: HdMap) -> LaneGeometry:
    """Drivable lanelets (one per file id; inverted twins share the bounds) and stop lines."""
    seen_ways: set[int] = set()
    boundaries: list[np.ndarray] = []
    lanes: list[tuple[int, np.ndarray, np.ndarray]] = []
    stops: list[StopLine] = []
    seen_ids: set[int] = set()
    for key in sorted(hd.lanelets, key=abs):
        ll = hd.lanelets[key]
        if not ll.drivable or ll.id in seen_ids:
            continue
        seen_ids.add(ll.id)
        lanes.append((ll.id, np.asarray(ll.left_xy), np.asarray(ll.right_xy)))
        for marking, xy in ((ll.left, ll.left_xy), (ll.right, ll.right_xy)):
            if marking.way_id not in seen_ways:
                seen_ways.add(marking.way_id)
                boundaries.append(np.asarray(xy))
    for ll in hd.lanelets.values():
        light = ll.traffic_light
        if light is None or not ll.drivable:
            continue
        s_m = ll.stop_line_s_m if ll.has_stop_line else ll.length_m
        x, y = ll.point_at(s_m)
        yaw, half = ll.heading_at(s_m), ll.width_at(s_m) / 2.0
        across = np.array([-np.sin(yaw), np.cos(yaw)]) * half  # to the left of travel
        centre = np.array([x, y])
        points = np.array([centre + across, centre - across])
        stops.append(StopLine(ll.id, int(light.signal_group), points))
    stops.sort(key=lambda s: (s.lanelet_id, s.signal_group))
    if boundaries:
        allpts = np.concatenate(boundaries)
        bounds = np.array([allpts.min(axis=0), allpts.max(axis=0)])
    else:
        bounds = np.zeros((2, 2))
    return LaneGeometry(hd.path, tuple(boundaries), tuple(lanes), tuple(stops), bounds)


def load_lane_geometry(path: str) -> LaneGeometry:
    """Read a Lanelet2 OSM file (node ``local_x``/``local_y`` tags are the map frame).

    :raises vehicle_nodes.hdmap.HdMapError: the file does not parse (names file and element).
    """
    return lane_geometry(load_map(path))

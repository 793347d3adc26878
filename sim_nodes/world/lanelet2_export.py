"""The world's lane network written as a Lanelet2 map, so the car stacks load the same lanes.

A generated world (``four_arm``) has no map file; the stacks' ``MapMatcher`` (and the
applications) need one. ``write_lanelet2`` draws every lane as a lanelet whose bounds are its
centre line offset by half its width, with the HD map generator's writer
(``vehicle_nodes.hdmap.osm_writer``: nodes shared by position, so consecutive lanes connect in
the routing graph and parallel lanes share their boundary way). A signalised movement (a lane
with ``signal_group``, whose stop line is its start) gets a ``traffic_light`` regulatory
element with a stop line across its start and the group / intersection id as tags; crosswalks
become ``crosswalk`` lanelets. Reading the file back through ``hdmap_adapter`` gives the same
lanes, groups and successors (tested); the returned mapping names each lane's lanelet id.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim_nodes.world.lanes import Lane, LaneNetwork
from sim_nodes.world.manoeuvres import TURN_LEFT, TURN_RIGHT, lane_turn
from vehicle_nodes.hdmap.frame import GeodeticFrame
from vehicle_nodes.hdmap.osm_writer import OsmWriter

KMH_PER_MPS = 3.6


def _normals(points: np.ndarray) -> np.ndarray:
    """Left unit normals at the vertices (mean of the adjacent segments' directions)."""
    seg = np.diff(points, axis=0)
    seg /= np.linalg.norm(seg, axis=1, keepdims=True)
    tangent = np.vstack([seg[:1], seg[:-1] + seg[1:], seg[-1:]])
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    return np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)


def _joint(point: np.ndarray) -> tuple[int, int]:
    return round(float(point[0]) * 1000.0), round(float(point[1]) * 1000.0)


def _joint_normals(network: LaneNetwork) -> dict[tuple[int, int], np.ndarray]:
    """One normal per point where lanes meet, so that their bounds meet too: a straight
    (two-point) lane's if one touches it, else the mean (a curve's end chord is not its
    tangent)."""
    found: dict[tuple[int, int], list[tuple[bool, np.ndarray]]] = {}
    for lane in network.lanes.values():
        centre = np.asarray(lane.centreline, dtype=float)
        normals = _normals(centre)
        straight = len(centre) == 2
        for i in (0, -1):
            found.setdefault(_joint(centre[i]), []).append((straight, normals[i]))
    out = {}
    for key, items in found.items():
        straight = [n for s, n in items if s]
        chosen = straight[0] if straight else np.mean([n for _, n in items], axis=0)
        out[key] = chosen / np.linalg.norm(chosen)
    return out


def _offset(
    points: np.ndarray, offset_m: float, joints: dict[tuple[int, int], np.ndarray] | None = None
) -> np.ndarray:
    """The polyline shifted ``offset_m`` to its left (ends: the joint's normal if given)."""
    normal = _normals(points)
    for i in (0, -1):
        if joints is not None and _joint(points[i]) in joints:
            normal[i] = joints[_joint(points[i])]
    return points + offset_m * normal


class _Ways:
    """Boundary ways deduplicated by their node sequence (either direction)."""

    def __init__(self, writer: OsmWriter) -> None:
        self.writer = writer
        self.by_nodes: dict[tuple[int, ...], int] = {}

    def get(self, points: np.ndarray, **tags: str) -> int:
        nodes = tuple(self.writer.node(float(x), float(y)) for x, y in points)
        nodes = tuple(n for i, n in enumerate(nodes) if i == 0 or n != nodes[i - 1])
        for key in (nodes, nodes[::-1]):
            if key in self.by_nodes:
                return self.by_nodes[key]
        wid = self.writer.way(points, **tags)
        self.by_nodes[nodes] = wid
        return wid


_TURN_TAGS = {0: 'straight', TURN_LEFT: 'left', TURN_RIGHT: 'right'}


def _turns(lane: Lane) -> bool:
    return lane_turn(np.asarray(lane.centreline, dtype=float)) != 0


def lanelet2_writer(network: LaneNetwork) -> tuple[OsmWriter, dict[str, int]]:
    """Draw the network; returns the writer and lane id → lanelet (relation) id."""
    w = OsmWriter()
    ways = _Ways(w)
    ids: dict[str, int] = {}
    joints = _joint_normals(network)
    for lid in sorted(network.lanes):
        lane = network.lanes[lid]
        centre = np.asarray(lane.centreline, dtype=float)
        half = 0.5 * lane.width_m
        left_xy, right_xy = _offset(centre, half, joints), _offset(centre, -half, joints)
        left = ways.get(left_xy, type='line_thin', subtype='dashed')
        right = ways.get(right_xy, type='line_thin', subtype='dashed')
        tags = {
            'type': 'lanelet',
            'subtype': 'road',
            'location': 'urban',
            'one_way': 'yes',
            'speed_limit': f'{lane.speed_limit_mps * KMH_PER_MPS:.2f}',
            'sim_lane_id': lid,
        }
        if lane.signal_group > 0 or _turns(lane):
            # movements say where they go: the applications follow the indicated turn
            tags['turn_direction'] = _TURN_TAGS[lane_turn(centre)]
        rel = w.relation([('way', left, 'left'), ('way', right, 'right')], **tags)
        ids[lid] = rel
        if lane.signal_group > 0:
            ends = np.array([right_xy[0], left_xy[0]])
            stop = ways.get(ends, type='stop_line')
            light = w.way(ends + 2.0 * (centre[0] - centre[1]) / np.linalg.norm(
                centre[1] - centre[0]), type='traffic_light', subtype='red_yellow_green',
                signal_group=str(lane.signal_group))  # fmt: skip
            reg = w.relation(
                [('way', stop, 'ref_line'), ('way', light, 'refers')],
                type='regulatory_element', subtype='traffic_light',
                signal_group=str(lane.signal_group), intersection_id=str(lane.intersection_id),
            )  # fmt: skip
            w.add_member(rel, 'relation', reg, 'regulatory_element')
    for cid in sorted(network.crosswalks):
        cw = network.crosswalks[cid]
        path = np.asarray(cw.path, dtype=float)
        half = 0.5 * cw.width_m
        left = ways.get(_offset(path, half), type='line_thin', subtype='dashed')
        right = ways.get(_offset(path, -half), type='line_thin', subtype='dashed')
        w.relation(
            [('way', left, 'left'), ('way', right, 'right')],
            type='lanelet', subtype='crosswalk', one_way='no', sim_crosswalk_id=cid,
        )  # fmt: skip
    return w, ids


def write_lanelet2(network: LaneNetwork, path: str | Path, frame: GeodeticFrame) -> dict[str, int]:
    """Write the network as Lanelet2 OSM (lat/lon about ``frame``, plus local_x/local_y)."""
    writer, ids = lanelet2_writer(network)
    writer.write(path, frame)
    return ids

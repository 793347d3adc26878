"""The world's lane network → the HD map's intersection export (the RSU's MAP input).

The simulated RSU broadcasts MAP of the world it stands in. The world's network already
knows every movement exactly: a lane with ``signal_group > 0`` is a connector through the
junction (stop line at its start), its predecessors are the ingress lanes and its successors
the egress lanes. Exporting from that (instead of re-deriving it from the Lanelet2 file the
stacks load, whose traffic lights sit on the connectors and so have no approach lanelet for
``vehicle_nodes.hdmap.export_intersection`` to start from) gives the movements with their
signal groups. The output is the same ``IntersectionExport`` (format: docs/hdmap.md) that
``MapSource`` reads with ``export_file``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from geo.local_frame import LocalFrame
from sim_nodes.errors import MapError
from sim_nodes.world.lanes import Lane, LaneNetwork
from vehicle_nodes.hdmap.export import (
    FORMAT_VERSION,
    ExportLane,
    ExportMovement,
    ExportNode,
    IntersectionExport,
    write_export,
)

ARM_TOLERANCE_RAD = math.radians(30.0)
TURN_RAD = math.radians(30.0)
MAX_POINTS = 31  # MapData NodeList per lane


def _heading(points: np.ndarray, at_end: bool) -> float:
    a, b = (points[-2], points[-1]) if at_end else (points[0], points[1])
    return math.atan2(b[1] - a[1], b[0] - a[0])


def _wrap(a: float) -> float:
    return (a + math.pi) % (2 * math.pi) - math.pi


def maneuver(connector: Lane) -> str:
    """left / straight / right from the connector's heading change (right-hand traffic)."""
    turn = _wrap(_heading(connector.centreline, True) - _heading(connector.centreline, False))
    return 'left' if turn > TURN_RAD else 'right' if turn < -TURN_RAD else 'straight'


def _points(points: np.ndarray, ref: np.ndarray) -> tuple[tuple[float, float], ...]:
    if len(points) > MAX_POINTS:
        points = points[np.linspace(0, len(points) - 1, MAX_POINTS).round().astype(int)]
    return tuple((round(float(x), 3), round(float(y), 3)) for x, y in points - ref)


def export_from_network(
    network: LaneNetwork,
    intersection_id: int,
    frame: LocalFrame,
    lanelet_ids: Mapping[str, int],
) -> IntersectionExport:
    """The intersection ``intersection_id`` of ``network`` as an export.

    :raises MapError: the network has no signalised movement with that intersection id.
    """
    connectors = sorted(
        (ln for ln in network.lanes.values()
         if ln.intersection_id == intersection_id and ln.signal_group > 0),
        key=lambda ln: ln.id,
    )  # fmt: skip
    if not connectors:
        known = sorted({ln.intersection_id for ln in network.lanes.values() if ln.signal_group})
        raise MapError(
            f'no signalised movement of intersection {intersection_id} (map has {known})'
        )
    ids = {c.id for c in connectors}
    ingress = sorted({ln.id for ln in network.lanes.values() if ids & set(ln.successors)})
    egress = sorted({s for c in connectors for s in c.successors})
    centre = network.intersections.get(intersection_id)
    if centre is None:
        centre = np.mean([c.centreline[0] for c in connectors], axis=0)
    ref = np.asarray(centre, dtype=float)
    arms: list[float] = []

    def arm_of(heading: float) -> int:
        for i, h in enumerate(arms):
            if abs(_wrap(heading - h)) < ARM_TOLERANCE_RAD:
                return i
        arms.append(heading)
        return len(arms) - 1

    lanes: list[ExportLane] = []
    lane_no: dict[str, int] = {}
    for lid in ingress:
        ln = network.lanes[lid]
        arm = arm_of(_wrap(_heading(ln.centreline, True) + math.pi))
        lane_no[lid] = len(lanes) + 1
        moves = sorted({maneuver(network.lanes[s]) for s in ln.successors if s in ids})
        lanes.append(ExportLane(
            lane_no[lid], (lanelet_ids.get(lid, 0),), 'ingress', arm, 0, ln.width_m,
            ln.speed_limit_mps, tuple(moves), _points(ln.centreline[::-1], ref),
        ))  # fmt: skip
    for lid in egress:
        ln = network.lanes[lid]
        arm = arm_of(_heading(ln.centreline, False))
        lane_no[lid] = len(lanes) + 1
        lanes.append(ExportLane(
            lane_no[lid], (lanelet_ids.get(lid, 0),), 'egress', arm, 0, ln.width_m,
            ln.speed_limit_mps, (), _points(ln.centreline, ref),
        ))  # fmt: skip
    if len(lanes) > 255:
        raise MapError(f'intersection {intersection_id}: {len(lanes)} lanes, MAP allows 255')
    movements = [
        ExportMovement(
            lane_no[i], lane_no[s], lanelet_ids.get(c.id, 0), maneuver(c), c.signal_group
        )
        for c in connectors
        for i in ingress
        if c.id in network.lanes[i].successors
        for s in c.successors
    ]
    nodes = [ExportNode(intersection_id, f'intersection {intersection_id}', (0.0, 0.0))]
    for arm in range(len(arms)):
        far = max((ln.points_m[-1] for ln in lanes if ln.arm == arm), key=lambda p: math.hypot(*p))
        nodes.append(ExportNode(intersection_id * 100 + arm + 1, f'arm {arm}', far))
    lanes = [
        ExportLane(**{**ln.__dict__, 'arm_node_id': intersection_id * 100 + ln.arm + 1})
        for ln in lanes
    ]
    lat, lon, _ = frame.to_geodetic(float(ref[0]), float(ref[1]), 0.0)
    return IntersectionExport(
        FORMAT_VERSION, intersection_id, nodes[0].name, round(float(lat), 9),
        round(float(lon), 9), (round(float(ref[0]), 3), round(float(ref[1]), 3)),
        tuple(round(a, 6) + 0.0 for a in arms), tuple(nodes), tuple(lanes), tuple(movements),
    )  # fmt: skip


def write_network_export(
    network: LaneNetwork,
    intersection_id: int,
    frame: LocalFrame,
    lanelet_ids: Mapping[str, int],
    path: Path,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_export(export_from_network(network, intersection_id, frame, lanelet_ids), path)
    return path

"""Export one signalised intersection's geometry for the RSU's MAP builder.

The export follows the shape of a CSAE 53 / J2735 MapData node, in SI units and local
metres: the reference point, the intersection node and one upstream node per arm, ingress
and egress lanes with centre-line points as (east, north) offsets from the reference point,
lane attributes, and movements (ingress lane → egress lane, maneuver, signal group). Lane
points run from the stop line upstream (ingress) and from the junction outwards (egress),
as MAP lists them. Format: ``docs/hdmap.md``; written as JSON (``write_export``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vehicle_nodes.hdmap.errors import ExportError
from vehicle_nodes.hdmap.geometry import FloatArray, simplify, wrap_angle
from vehicle_nodes.hdmap.lanemap import HdMap
from vehicle_nodes.hdmap.model import Lanelet

FORMAT_VERSION = 1


@dataclass(frozen=True)
class ExportNode:
    id: int
    name: str
    offset_m: tuple[float, float]  # from the reference point, east/north


@dataclass(frozen=True)
class ExportLane:
    lane_id: int  # 1..255, unique within the intersection (MAP LaneID)
    lanelet_ids: tuple[int, ...]  # the map's lanelets, from the junction outwards
    kind: str  # 'ingress' or 'egress'
    arm: int  # index into ``IntersectionExport.arms_heading_rad``
    # The arm's far node: the link's upstream node (ingress) or where the lane leads (egress).
    arm_node_id: int
    width_m: float
    speed_limit_mps: float | None
    maneuvers: tuple[str, ...]  # allowed at the stop line: 'left', 'straight', 'right'
    points_m: tuple[tuple[float, float], ...]  # centre line offsets, from the junction outwards


@dataclass(frozen=True)
class ExportMovement:
    ingress_lane_id: int
    egress_lane_id: int
    connector_lanelet_id: int
    maneuver: str
    signal_group: int  # SPAT phase id


@dataclass(frozen=True)
class IntersectionExport:
    format_version: int
    intersection_id: int
    name: str
    ref_lat_deg: float | None
    ref_lon_deg: float | None
    ref_xy_m: tuple[float, float]  # reference point in the map frame
    arms_heading_rad: tuple[float, ...]  # outward ENU yaw of each arm
    nodes: tuple[ExportNode, ...]
    lanes: tuple[ExportLane, ...]
    movements: tuple[ExportMovement, ...]


def _chain(hd: HdMap, key: int, backwards: bool, reach_m: float) -> list[Lanelet]:
    """``key`` then its unique predecessors (or successors) up to ``reach_m``."""
    out = [hd.lanelets[key]]
    total = out[0].length_m
    while total < reach_m:
        nxt = (hd.routing.predecessors if backwards else hd.routing.successors).get(out[-1].key, ())
        if len(nxt) != 1 or any(ll.key == nxt[0] for ll in out):
            break
        out.append(hd.lanelets[nxt[0]])
        total += out[-1].length_m
    return out


def _points(chain: list[Lanelet], backwards: bool, ref: FloatArray, stop_s: float) -> FloatArray:
    parts = []
    for i, ll in enumerate(chain):
        pts = ll.centre_xy
        if i == 0 and backwards:
            pts = pts[ll.s_m <= stop_s + 1e-6]
        parts.append(pts[::-1] if backwards else pts)
    pts = np.concatenate(parts)
    keep = np.concatenate(([True], np.hypot(*np.diff(pts, axis=0).T) > 1e-6))
    return np.round(simplify(pts[keep], 0.05) - ref, 3) + 0.0


def export_intersection(
    hd: HdMap, intersection_id: int, *, name: str = '', reach_m: float = 150.0
) -> IntersectionExport:
    """Collect an intersection from the traffic lights tagged ``intersection_id``.

    :raises ExportError: no approach lane carries that intersection id.
    """
    approach = sorted(
        (ll for ll in hd.lanelets.values()
         if ll.traffic_light is not None and ll.traffic_light.intersection_id == intersection_id),
        key=lambda ll: ll.key,
    )  # fmt: skip
    if not approach:
        raise ExportError(f'{hd.path}: no lanelet has a traffic light with intersection_id '
                          f'{intersection_id}')  # fmt: skip
    stops = np.array([ll.point_at(ll.stop_line_s_m) for ll in approach])
    ref = stops.mean(axis=0)
    # Arms: cluster approach lanes by the outward direction (reverse of travel at the stop).
    arms: list[float] = []

    def arm_of(heading: float) -> int:
        for i, h in enumerate(arms):
            if abs(float(wrap_angle(heading - h))) < math.radians(30.0):
                return i
        arms.append(heading)
        return len(arms) - 1

    lanes: list[ExportLane] = []
    movements: list[ExportMovement] = []
    egress_ids: dict[int, int] = {}
    pending: list[tuple[int, int, Lanelet]] = []
    for ll in approach:
        out_heading = float(wrap_angle(ll.heading_at(ll.stop_line_s_m) + math.pi))
        arm = arm_of(out_heading)
        chain = _chain(hd, ll.key, True, reach_m)
        connectors = [hd.lanelets[k] for k in hd.routing.following(ll.key)]
        lane_id = len(lanes) + 1
        lanes.append(ExportLane(
            lane_id, tuple(c.id for c in chain), 'ingress', arm, 0,
            round(ll.width_at(ll.stop_line_s_m), 3),
            None if math.isnan(ll.speed_limit_mps) else round(ll.speed_limit_mps, 3),
            tuple(sorted({c.turn_direction or 'straight' for c in connectors})),
            tuple(map(tuple, _points(chain, True, ref, ll.stop_line_s_m))),
        ))  # fmt: skip
        pending.extend((lane_id, c.key, ll) for c in connectors)
    for lane_id, ckey, ll in pending:
        for ekey in hd.routing.following(ckey):
            if ekey not in egress_ids:
                e = hd.lanelets[ekey]
                arm = arm_of(e.heading_rad[0])
                chain = _chain(hd, ekey, False, reach_m)
                egress_ids[ekey] = len(lanes) + 1
                lanes.append(ExportLane(
                    egress_ids[ekey], tuple(c.id for c in chain), 'egress', arm, 0,
                    round(e.width_m[0], 3),
                    None if math.isnan(e.speed_limit_mps) else round(e.speed_limit_mps, 3),
                    (), tuple(map(tuple, _points(chain, False, ref, 0.0))),
                ))  # fmt: skip
            conn = hd.lanelets[ckey]
            group = ll.traffic_light.signal_group if ll.traffic_light else 0
            movements.append(ExportMovement(lane_id, egress_ids[ekey], conn.id,
                                            conn.turn_direction or 'straight', group))  # fmt: skip
    if len(lanes) > 255:
        raise ExportError(f'intersection {intersection_id}: {len(lanes)} lanes, MAP allows 255')
    # One upstream node per arm, at the far end of its longest lane.
    nodes = [ExportNode(intersection_id, name or f'intersection {intersection_id}', (0.0, 0.0))]
    for arm in range(len(arms)):
        far = max((ln.points_m[-1] for ln in lanes if ln.arm == arm),
                  key=lambda p: math.hypot(*p))  # fmt: skip
        nodes.append(ExportNode(intersection_id * 100 + arm + 1, f'arm {arm}', far))
    lanes = [
        ExportLane(**{**asdict(ln), 'arm_node_id': intersection_id * 100 + ln.arm + 1})
        for ln in lanes
    ]
    lat = lon = None
    if hd.frame is not None:
        la, lo, _ = hd.frame.to_geodetic(ref[0], ref[1], 0.0)
        lat, lon = round(float(la), 9), round(float(lo), 9)
    return IntersectionExport(
        FORMAT_VERSION, intersection_id, nodes[0].name, lat, lon,
        (round(float(ref[0]), 3), round(float(ref[1]), 3)), tuple(round(a, 6) + 0.0 for a in arms),
        tuple(nodes), tuple(lanes), tuple(movements),
    )  # fmt: skip


def write_export(export: IntersectionExport, path: str | Path) -> None:
    text = json.dumps(asdict(export), indent=1)
    # One line per point pair keeps the file reviewable.
    text = re.sub(r'\[\s+(-?[0-9.e+-]+),\s+(-?[0-9.e+-]+)\s+\]', r'[\1, \2]', text)
    Path(path).write_text(text + '\n', encoding='utf-8')


def read_export(path: str | Path) -> IntersectionExport:
    """Read a JSON export back into dataclasses. :raises ExportError: on a malformed file."""
    try:
        raw = json.loads(Path(path).read_text(encoding='utf-8'))
        if not isinstance(raw, dict):
            raise ExportError(f'{path}: expected a JSON object, got {type(raw).__name__}')
        if raw.get('format_version') != FORMAT_VERSION:
            raise ExportError(f'{path}: format_version {raw.get("format_version")!r}, '
                              f'expected {FORMAT_VERSION}')  # fmt: skip
        return IntersectionExport(
            **{**raw,
               'ref_xy_m': tuple(raw['ref_xy_m']),
               'arms_heading_rad': tuple(raw['arms_heading_rad']),
               'nodes': tuple(ExportNode(n['id'], n['name'], tuple(n['offset_m']))
                              for n in raw['nodes']),
               'lanes': tuple(ExportLane(**{**ln, 'lanelet_ids': tuple(ln['lanelet_ids']),
                                            'maneuvers': tuple(ln['maneuvers']),
                                            'points_m': tuple(map(tuple, ln['points_m']))})
                              for ln in raw['lanes']),
               'movements': tuple(ExportMovement(**mv) for mv in raw['movements'])}
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ExportError(f'{path}: not an intersection export ({err})') from None

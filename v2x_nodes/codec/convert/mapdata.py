"""MapData <-> IntersectionMap (msg/IntersectionMap.msg + msg/MapLane.msg), one per Node.

Lanes are grouped into one Link per upstream node, in the order they come; each lane keeps
its width, type, maneuvers, vehicle speed limit, centre line and connections. Lane attribute
bits other than the type alternative are not carried (they travel as zeros).
"""

from __future__ import annotations

import math
from itertools import accumulate
from typing import Any

import numpy as np

from geo import LocalFrame
from v2x_nodes.codec import units
from v2x_nodes.codec.convert.common import cls, header, point
from v2x_nodes.codec.errors import ConversionError
from v2x_nodes.codec.offsets import GeoPoint, absolutes_from_llv, enu, geodetic, offsets_llv
from v2x_nodes.codec.schema import load_schema
from v2x_runtime import messages as m

TYPE_UNKNOWN = 255
_LANE_TYPES = (
    ('vehicle', 8),
    ('crosswalk', 16),
    ('bikeLane', 16),
    ('sidewalk', 16),
    ('median', 16),
    ('striping', 16),
    ('trackedVehicle', 16),
    ('parking', 16),
)
_LANE_TYPE_INDEX = {name: i for i, (name, _) in enumerate(_LANE_TYPES)}
_MAX_SPEED = 'vehicleMaxSpeed'
# LaneAttributes of each lane type (the type's bits all zero), built once.
_LANE_ATTRIBUTES = [{'laneType': (name, (bytes(nbits // 8), nbits))} for name, nbits in _LANE_TYPES]


def _floats(values: Any) -> list[Any]:
    """Python numbers of a numpy array or list (numpy scalars make round() 20x slower)."""
    return values.tolist() if hasattr(values, 'tolist') else list(values)


def _node_ref(region: int, ident: int) -> dict[str, int]:
    return {'region': region, 'id': ident} if region else {'id': ident}


def _lane(
    lane: Any, origin: LocalFrame | None, field: str
) -> tuple[dict[str, Any], tuple[Any, Any, Any] | None]:
    """A lane's value without its points, and its centre line (lat, lon, alt) when it has one:
    the node's points are offset in one vectorised pass (``offsets_llv``)."""
    value: dict[str, Any] = {'laneID': int(lane.lane_id)}
    if math.isfinite(lane.width_m):
        value['laneWidth'] = min(max(round(lane.width_m * 100.0), 0), 32767)
    lane_type = int(lane.lane_type)
    if lane_type != TYPE_UNKNOWN:
        if lane_type >= len(_LANE_TYPES):
            raise ConversionError(f'{field}.lane_type', f'unknown lane type {lane.lane_type}')
        value['laneAttributes'] = _LANE_ATTRIBUTES[lane_type]
    if lane.maneuvers_known:
        value['maneuvers'] = units.int_to_bits(int(lane.maneuvers), 12)
    connections = []
    columns = zip(
        _floats(lane.connection_region),
        _floats(lane.connection_node_id),
        _floats(lane.connection_lane_id),
        _floats(lane.connection_phase_id),
        strict=True,
    )
    for region, node, lane_id, phase_id in columns:
        conn: dict[str, Any] = {'remoteIntersection': _node_ref(int(region), int(node))}
        if lane_id:
            conn['connectingLane'] = {'lane': int(lane_id)}
        if phase_id:
            conn['phaseId'] = int(phase_id)
        connections.append(conn)
    if connections:
        value['connectsTo'] = connections
    if math.isfinite(lane.speed_limit_mps):
        speed = units.speed_to_wire(lane.speed_limit_mps)
        value['speedLimits'] = [{'type': _MAX_SPEED, 'speed': speed}]
    lats, lons, alts = lane.latitude_deg, lane.longitude_deg, lane.altitude_m
    if not len(lats) and len(lane.points) and origin is not None:
        geo = [geodetic(origin, p.x, p.y, p.z) for p in lane.points]
        lats, lons, alts = [g[0] for g in geo], [g[1] for g in geo], [g[2] for g in geo]
    if len(lats) == 0:
        return value, None
    if not 2 <= len(lats) <= 31:
        raise ConversionError(f'{field}.latitude_deg', f'2..31 points, got {len(lats)}')
    if len(alts) != len(lats):
        alts = np.full(len(lats), math.nan)
    return value, (lats, lons, alts)


def map_from_intersections(
    maps: list[Any], *, msg_count: int = 0, origin: LocalFrame | None = None
) -> dict[str, Any]:
    """The MapData value of 1..63 IntersectionMap messages."""
    nodes = []
    for n, item in enumerate(maps):
        ref = GeoPoint.from_degrees(item.latitude_deg, item.longitude_deg, item.altitude_m)
        links: dict[tuple[int, int], list[dict[str, Any]]] = {}
        lines: list[tuple[dict[str, Any], tuple[Any, Any, Any]]] = []
        for i, lane in enumerate(item.lanes):
            key = (int(lane.upstream_region), int(lane.upstream_node_id))
            value, line = _lane(lane, origin, f'maps[{n}].lanes[{i}]')
            links.setdefault(key, []).append(value)
            if line is not None:
                lines.append((value, line))
        if lines:
            columns = [
                np.concatenate([np.asarray(line[k], float) for _, line in lines]) for k in (0, 1, 2)
            ]
            points = iter(offsets_llv(ref, *columns))
            for value, line in lines:
                value['points'] = [{'posOffset': next(points)} for _ in range(len(line[0]))]
        node: dict[str, Any] = {
            'id': _node_ref(int(item.region), int(item.node_id)),
            'refPos': ref.to_position3d(),
        }
        if item.name:
            node['name'] = item.name
        if links:
            node['inLinks'] = [
                {'upstreamNodeId': _node_ref(*key), 'lanes': lanes} for key, lanes in links.items()
            ]
        nodes.append(node)
    value: dict[str, Any] = {'msgCnt': msg_count % 128, 'nodes': nodes}
    if maps and m.to_ns(maps[0].header.stamp):
        value['timeStamp'] = units.moy_from_ns(m.to_ns(maps[0].header.stamp))
    return value


def _map_lane(
    lane: dict[str, Any],
    upstream: dict[str, int],
    line: tuple[np.ndarray, np.ndarray, np.ndarray],
    origin: LocalFrame | None,
) -> Any:
    attributes = lane.get('laneAttributes')
    lane_type = (
        _LANE_TYPE_INDEX.get(attributes['laneType'][0], TYPE_UNKNOWN)
        if attributes
        else TYPE_UNKNOWN
    )
    speed = math.nan
    for limit in lane.get('speedLimits', ()):
        if limit['type'] == _MAX_SPEED:
            speed = units.speed_from_wire(limit['speed'])
    lats, lons, alts = line
    points = []
    if origin is not None:
        geo = zip(lats.tolist(), lons.tolist(), alts.tolist(), strict=True)
        points = [point(*enu(origin, *g)) for g in geo]
    conns = lane.get('connectsTo', ())
    remote = [c['remoteIntersection'] for c in conns]
    return cls('v2x_stack/msg/MapLane')(
        upstream_region=upstream.get('region', 0),
        upstream_node_id=upstream['id'],
        lane_id=lane['laneID'],
        width_m=lane['laneWidth'] / 100.0 if 'laneWidth' in lane else math.nan,
        lane_type=lane_type,
        maneuvers=units.bits_to_int(lane['maneuvers']) if 'maneuvers' in lane else 0,
        maneuvers_known='maneuvers' in lane,
        speed_limit_mps=speed,
        latitude_deg=lats,
        longitude_deg=lons,
        altitude_m=alts,
        points=points,
        connection_region=np.array([r.get('region', 0) for r in remote], dtype=np.uint16),
        connection_node_id=np.array([r['id'] for r in remote], dtype=np.uint16),
        connection_lane_id=np.array(
            [c['connectingLane']['lane'] if 'connectingLane' in c else 0 for c in conns],
            dtype=np.uint8,
        ),
        connection_phase_id=np.array([c.get('phaseId', 0) for c in conns], dtype=np.uint8),
    )


def intersections_from_map(
    value: dict[str, Any], ref_ns: int, *, frame_id: str = 'map', origin: LocalFrame | None = None
) -> list[Any]:
    """IntersectionMap messages of a MapData (``ref_ns`` resolves the minute stamp)."""
    load_schema()
    stamp_ns = 0
    if 'timeStamp' in value:
        stamp_ns = units.ns_from_moy(value['timeStamp'], ref_ns) or 0
    out = []
    for node in value['nodes']:
        ref = GeoPoint.from_position3d(node['refPos'])
        lanes = [
            (lane, link['upstreamNodeId'])
            for link in node.get('inLinks', ())
            for lane in link['lanes']
        ]
        # Every point of the node converted in one pass, then split per lane (views).
        offsets = [p['posOffset'] for lane, _ in lanes for p in lane.get('points', ())]
        columns = absolutes_from_llv(ref, offsets)
        ends = list(accumulate(len(lane.get('points', ())) for lane, _ in lanes))
        starts = [0, *ends][: len(ends)]
        out.append(
            cls('v2x_stack/msg/IntersectionMap')(
                header=header(stamp_ns, frame_id),
                region=node['id'].get('region', 0),
                node_id=node['id']['id'],
                name=node.get('name', ''),
                latitude_deg=ref.lat_deg,
                longitude_deg=ref.lon_deg,
                altitude_m=ref.alt_m,
                lanes=[
                    _map_lane(lane, upstream, tuple(c[a:b] for c in columns), origin)
                    for (lane, upstream), a, b in zip(lanes, starts, ends, strict=True)
                ],
            )
        )
    return out

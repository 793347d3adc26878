"""MapSource: the example intersection through the codec's MapData, from JSON and Lanelet2."""

import json
import math
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import LocalFrame
from rsu_nodes.map.build import _thin
from rsu_nodes.map.node import MapSource
from v2x_nodes.codec import uper
from v2x_nodes.codec.convert import intersections_from_map, map_from_intersections
from v2x_runtime import ParameterError
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.hdmap.export import export_intersection
from vehicle_nodes.hdmap.loader import load_map

ROOT = Path(__file__).resolve().parents[3]
EXPORT = ROOT / 'config' / 'maps' / 'intersection.json'
OSM = ROOT / 'config' / 'maps' / 'intersection.osm'
MAP = 'v2x_stack/msg/IntersectionMap'
BITS = {'straight': 1, 'left': 2, 'right': 4}


def run_source(params: dict, duration_s: float = 2.5) -> list:
    rt = EmbeddedRuntime(seed=1)
    rt.add_component(MapSource, name='map', parameters=params)
    out: list = []
    rt.subscribe('/v2x/map_out', MAP, out.append)
    rt.run(duration_s=duration_s)
    rt.close()
    return out


def latest_nodes(msgs: list) -> list:
    nodes = {}
    for msg in msgs:
        nodes[msg.node_id] = msg
    return [nodes[k] for k in sorted(nodes)]


def round_trip(nodes: list) -> list:
    stamp = m.to_ns(nodes[0].header.stamp)
    data = uper.encode_frame(uper.MessageKind.MAP, map_from_intersections(nodes, msg_count=5))
    frame = uper.decode_frame(data)
    assert frame.kind == uper.MessageKind.MAP
    origin = LocalFrame(31.2837, 121.1638, 0.0)
    return intersections_from_map(frame.value, stamp, origin=origin)


def check_against_export(decoded: list, raw: dict) -> None:
    by_id = {n.node_id: n for n in decoded}
    assert sorted(by_id) == sorted(n['id'] for n in raw['nodes'])
    centre = by_id[raw['intersection_id']]
    ingress = [ln for ln in raw['lanes'] if ln['kind'] == 'ingress']
    assert sorted(ln.lane_id for ln in centre.lanes) == sorted(ln['lane_id'] for ln in ingress)
    lanes = {ln['lane_id']: ln for ln in raw['lanes']}
    frame = LocalFrame(raw['ref_lat_deg'], raw['ref_lon_deg'], 0.0)
    for lane in centre.lanes:
        src = lanes[lane.lane_id]
        assert lane.upstream_node_id == src['arm_node_id']
        assert lane.lane_type == 0 and lane.maneuvers_known
        assert lane.maneuvers == sum(BITS[x] for x in src['maneuvers'])
        assert lane.width_m == pytest.approx(src['width_m'], abs=0.01)
        assert lane.speed_limit_mps == pytest.approx(src['speed_limit_mps'], abs=0.02)
        # Upstream to downstream: the last point is the stop line.
        e, n, _ = frame.to_enu(lane.latitude_deg[-1], lane.longitude_deg[-1], 0.0)
        assert math.dist((float(e), float(n)), src['points_m'][0]) < 0.02
        assert lane.points[-1].x == pytest.approx(src['points_m'][0][0], abs=0.02)
        moves = [mv for mv in raw['movements'] if mv['ingress_lane_id'] == lane.lane_id]
        got = sorted(zip(lane.connection_lane_id.tolist(), lane.connection_phase_id.tolist(),
                         lane.connection_node_id.tolist(), strict=True))  # fmt: skip
        want = sorted(
            (mv['egress_lane_id'], mv['signal_group'], lanes[mv['egress_lane_id']]['arm_node_id'])
            for mv in moves
        )
        assert got == want
    for node in raw['nodes']:
        if node['id'] == raw['intersection_id']:
            continue
        egress = sorted(
            ln['lane_id']
            for ln in raw['lanes']
            if ln['kind'] == 'egress' and ln['arm_node_id'] == node['id']
        )
        got = by_id[node['id']]
        assert sorted(ln.lane_id for ln in got.lanes) == egress
        assert all(ln.upstream_node_id == raw['intersection_id'] for ln in got.lanes)
        e, n, _ = frame.to_enu(got.latitude_deg, got.longitude_deg, 0.0)
        assert math.dist((float(e), float(n)), node['offset_m']) < 0.02


def test_export_encodes_through_mapdata_with_every_lane_and_movement():
    msgs = run_source({})
    raw = json.loads(EXPORT.read_text())
    n_nodes = len(raw['nodes'])
    # At start and at every 1 Hz tick: all nodes, the intersection itself last.
    assert len(msgs) == 3 * n_nodes
    assert msgs[-1].node_id == raw['intersection_id']
    assert [m.to_ns(x.header.stamp) for x in msgs[::n_nodes]] == [0, 10**9, 2 * 10**9]
    decoded = round_trip(latest_nodes(msgs))
    check_against_export(decoded, raw)
    phase_ids = {int(p) for n in decoded for ln in n.lanes for p in ln.connection_phase_id}
    assert phase_ids == set(range(1, 13))


def test_lanelet2_map_gives_the_same_map():
    from_osm = latest_nodes(run_source({'map_file': str(OSM), 'origin_lat_deg': 31.2837,
                                        'origin_lon_deg': 121.1638}, 0.5))  # fmt: skip
    raw = asdict(export_intersection(load_map(OSM), 1))
    raw['ref_lat_deg'], raw['ref_lon_deg'] = 31.2837, 121.1638  # the map frame origin
    check_against_export(round_trip(from_osm), json.loads(json.dumps(raw)))


@pytest.mark.parametrize(
    'params, match',
    [
        ({'export_file': '/nonexistent/x.json'}, '/nonexistent/x.json'),
        ({'map_file': str(OSM)}, 'origin_lat_deg'),
        (
            {
                'map_file': str(OSM),
                'intersection_id': 9,
                'origin_lat_deg': 31.0,
                'origin_lon_deg': 121.0,
            },
            'intersection_id 9',
        ),
    ],
)
def test_bad_map_config_fails_at_start(params, match):
    rt = EmbeddedRuntime(seed=1)
    with pytest.raises(ParameterError, match=match):
        rt.add_component(MapSource, name='map', parameters=params)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 200))
def test_thin_keeps_ends_and_the_point_limit(n):
    pts = [(float(i), 0.0) for i in range(n)]
    out = _thin(pts)
    assert out[0] == pts[0] and out[-1] == pts[-1] and 2 <= len(out) <= 31

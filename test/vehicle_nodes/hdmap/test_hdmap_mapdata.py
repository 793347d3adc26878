"""MapMatcher without an HD map: the stop line, signal group and intersection of received MAP.

The MAP is what a simulated RSU broadcasts: the simulator's four-arm junction exported
(``export_from_network``), built into IntersectionMaps by the RSU's ``MapBuilder``, UPER-encoded
as a MessageFrame and received by the real ``V2xReceiver`` (security none), whose ``v2x/map``
the matcher reads. Expected values come from the simulator's own lane network.
"""

import math

import numpy as np
import pytest
from test_hdmap_node import ns, odometry

from geo import LocalFrame
from rsu_nodes.map.build import MapBuilder
from sim_nodes.world.four_arm import build_four_arm
from sim_nodes.world.intersection_export import export_from_network, maneuver
from v2x_nodes.codec import uper
from v2x_nodes.codec.convert import map_from_intersections
from v2x_nodes.rx import V2xReceiver
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.hdmap.node import MapMatcher

ORIGIN = (31.2837, 121.1638, 0.0)
LANE = 'v2x_stack/msg/LanePosition'
CAR = '/car'


def mapdata_frame(network, stamp_ns: int = 0) -> bytes:
    """The RSU's MAP of intersection 1 as the bytes on air."""
    export = export_from_network(network, 1, LocalFrame(*ORIGIN), {})
    maps = MapBuilder(export, export.ref_lat_deg, export.ref_lon_deg).maps(stamp_ns)
    return uper.encode_frame(uper.MessageKind.MAP, map_from_intersections(maps, msg_count=1))


def rx_frame(data: bytes, stamp_ns: int):
    return m.new(
        'v2x_stack/msg/V2xFrame',
        header=m.header(stamp_ns, ''),
        payload=np.frombuffer(data, np.uint8),
    )


def car_stack(rt: EmbeddedRuntime, **params) -> MapMatcher:
    origin = {'origin_lat_deg': ORIGIN[0], 'origin_lon_deg': ORIGIN[1]}
    rt.add_component(V2xReceiver, name='v2x_rx', namespace=CAR,
                     parameters={'security': 'none', **origin})  # fmt: skip
    return rt.add_component(MapMatcher, name='map_matcher', namespace=CAR,
                            parameters={'map_file': '', **params})  # fmt: skip


def expected_group(network, lane_id: str) -> int:
    """The phase of the lane's movements: theirs when they share one, else the straight one."""
    lanes = network.lanes
    conns = [lanes[s] for s in lanes[lane_id].successors if lanes[s].signal_group > 0]
    groups = {c.signal_group for c in conns}
    if len(groups) == 1:
        return groups.pop()
    return next(c.signal_group for c in conns if maneuver(c) == 'straight')


def along(line: np.ndarray, s: float) -> tuple[float, float, float]:
    """(x, y, heading) at arc length ``s`` of a polyline."""
    seg = np.diff(line, axis=0)
    cum = np.concatenate(([0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))))
    i = min(int(np.searchsorted(cum, s, side='right')) - 1, len(seg) - 1)
    f = (s - cum[i]) / (cum[i + 1] - cum[i])
    x, y = line[i] + f * seg[i]
    return float(x), float(y), math.atan2(seg[i][1], seg[i][0])


@pytest.fixture
def runtime():
    rt = EmbeddedRuntime(seed=1)
    yield rt
    rt.close()


@pytest.mark.parametrize('lanes_per_arm', [2, 3])
def test_map_from_the_rsu_gives_stop_line_phase_and_intersection(runtime, lanes_per_arm):
    network = build_four_arm(lanes=lanes_per_arm)
    node = car_stack(runtime)
    out: list = []
    runtime.subscribe(f'{CAR}/localization/lane', LANE, out.append)
    runtime.publish(f'{CAR}/v2x/rx', rx_frame(mapdata_frame(network), 0), at_ns=0)
    ingress = sorted(
        lid for lid, ln in network.lanes.items()
        if any(network.lanes[s].signal_group > 0 for s in ln.successors)
    )  # fmt: skip
    assert len(ingress) == 4 * lanes_per_arm
    cases = []
    t = 0.1
    for lid in ingress:
        line = network.lanes[lid].centreline
        length = network.lanes[lid].length_m
        for to_stop in (2.0, 30.0, length - 10.0):
            x, y, yaw = along(line, length - to_stop)
            lateral = 0.4 if to_stop > 20 else -0.3
            x, y = x - lateral * math.sin(yaw), y + lateral * math.cos(yaw)
            runtime.publish(f'{CAR}/localization/odometry',
                            odometry(t, x, y, yaw + 0.05, 10.0), at_ns=ns(t))  # fmt: skip
            cases.append((lid, to_stop, lateral, yaw))
            t += 0.1
    # past the stop line of the first lane, in the junction: no stop line
    x, y, yaw = along(network.lanes[ingress[0]].centreline, network.lanes[ingress[0]].length_m)
    x, y = x + 3.0 * math.cos(yaw), y + 3.0 * math.sin(yaw)
    runtime.publish(f'{CAR}/localization/odometry', odometry(t, x, y, yaw, 10.0), at_ns=ns(t))
    # on an egress lane, driving away: the lanes leading out of the junction have no stop line
    egress = next(s for s in network.lanes[next(iter(network.lanes[ingress[0]].successors))]
                  .successors)  # fmt: skip
    x, y, yaw = along(network.lanes[egress].centreline, 20.0)
    runtime.publish(f'{CAR}/localization/odometry',
                    odometry(t + 0.1, x, y, yaw, 10.0), at_ns=ns(t + 0.1))  # fmt: skip
    runtime.run(duration_s=t + 0.5)

    assert len(out) == len(cases) + 2
    for msg, (lid, to_stop, lateral, yaw) in zip(out, cases, strict=False):
        where = f'{lid} {to_stop:.0f} m before the line'
        assert msg.lanelet_id == -1, where
        assert msg.stop_line_distance_m == pytest.approx(to_stop, abs=0.05), where
        assert msg.signal_group == expected_group(network, lid), where
        assert msg.intersection_id == 1, where
        assert msg.lateral_offset_m == pytest.approx(lateral, abs=0.05), where
        assert math.cos(msg.lane_heading_rad - yaw) > math.cos(0.01), where
        assert msg.lane_width_m == pytest.approx(network.lanes[lid].width_m, abs=0.01)
        assert msg.confidence > 0.5, where
    for msg in out[-2:]:
        assert msg.stop_line_distance_m == math.inf
        assert (msg.signal_group, msg.intersection_id, msg.lanelet_id) == (0, -1, -1)
    counters = node.ctx.diagnostics.counters
    assert counters['v2x_map_stop_line'] == len(cases)
    assert counters['off_map'] == len(out)
    assert not [k for k in counters if k.startswith('rejected')]


def test_a_map_not_heard_for_the_timeout_is_dropped_and_counted(runtime):
    network = build_four_arm(lanes=2)
    node = car_stack(runtime, v2x_map_timeout_s=3.0)
    out: list = []
    runtime.subscribe(f'{CAR}/localization/lane', LANE, out.append)
    data = mapdata_frame(network)
    for t in (0.0, 1.0):  # heard twice, then the car leaves the RSU's range
        runtime.publish(f'{CAR}/v2x/rx', rx_frame(data, ns(t)), at_ns=ns(t))
    lid = 'south_in_1'
    x, y, yaw = along(network.lanes[lid].centreline, 50.0)
    for t in (1.5, 3.9, 4.1):
        runtime.publish(f'{CAR}/localization/odometry', odometry(t, x, y, yaw, 0.0), at_ns=ns(t))
    runtime.run(duration_s=5.0)
    assert [math.isfinite(msg.stop_line_distance_m) for msg in out] == [True, True, False]
    # the junction and its four arm nodes, heard last at 1.0 s, gone after 4.0 s
    assert node.ctx.diagnostics.counters['v2x_map_stale'] == 5
    assert len(node.mapdata) == 0


def test_malformed_lanes_are_counted_and_the_others_used(runtime):
    network = build_four_arm(lanes=2)
    node = car_stack(runtime)
    maps: list = []
    runtime.subscribe(f'{CAR}/v2x/map', 'v2x_stack/msg/IntersectionMap', maps.append)
    runtime.publish(f'{CAR}/v2x/rx', rx_frame(mapdata_frame(network), 0), at_ns=0)
    runtime.run(duration_s=0.1)
    centre = next(x for x in maps if x.node_id == 1)
    lanes = list(centre.lanes)
    pt = lambda x, y: m.new('geometry_msgs/msg/Point', x=x, y=y, z=0.0)  # noqa: E731
    broken = [
        m.replace(lanes[0], points=[lanes[0].points[-1]]),
        m.replace(lanes[1], points=[pt(math.nan, 0.0), *lanes[1].points[1:]]),
        m.replace(lanes[2], points=[lanes[2].points[0]] * 3),
        m.replace(lanes[3], points=[]),
        m.replace(lanes[4], connection_phase_id=np.zeros(0, np.uint8)),
    ]
    runtime.publish(f'{CAR}/v2x/map', m.replace(centre, lanes=broken + lanes[5:]))
    x, y, yaw = along(network.lanes['south_in_1'].centreline, 60.0)
    runtime.publish(f'{CAR}/localization/odometry', odometry(0.2, x, y, yaw, 10.0), at_ns=ns(0.2))
    out: list = []
    runtime.subscribe(f'{CAR}/localization/lane', LANE, out.append)
    runtime.run(duration_s=0.5)
    counters = node.ctx.diagnostics.counters
    assert counters['rejected.v2x_map_lane.too_few_points'] == 2
    assert counters['rejected.v2x_map_lane.not_finite'] == 1
    assert counters['rejected.v2x_map_lane.no_length'] == 1
    assert counters['rejected.v2x_map_lane.connections'] == 1
    assert len(out) == 1 and math.isfinite(out[0].stop_line_distance_m)


@pytest.mark.parametrize(
    ('lights', 'group'),
    [(0, 5), (1, 6), (2, 7), (1 | 2 | 4, 5)],  # none, left, right indicator, hazard lights
)
def test_the_turn_indicator_picks_the_phase_of_a_shared_lane(runtime, lights, group):
    """One lane for three movements on phases 5 (straight), 6 (left) and 7 (right); the
    egress lanes' MAP (arm nodes 2-4) tells which connection turns where."""
    from test_hdmap_mapdata_geometry import map_lane, node, polyline

    node_ = car_stack(runtime)
    out: list = []
    runtime.subscribe(f'{CAR}/localization/lane', LANE, out.append)
    approach = polyline((0.0, -100.0), math.pi / 2, [(90.0, 0.0)])  # northbound to (0, -10)
    lanes = [map_lane(1, approach, phases=((2, 11, 5), (3, 12, 6), (4, 13, 7)),
                      maneuvers=1 | 2 | 4)]  # fmt: skip
    arms = {2: ((0.0, 10.0), math.pi / 2, 11), 3: ((-10.0, 0.0), math.pi, 12),
            4: ((10.0, 0.0), 0.0, 13)}  # fmt: skip
    header = m.header(0, 'map')
    runtime.publish(f'{CAR}/v2x/map', m.replace(node(1, lanes), header=header))
    for k, (start, heading, lane_id) in arms.items():
        egress = map_lane(lane_id, polyline(start, heading, [(50.0, 0.0)]), phases=())
        runtime.publish(f'{CAR}/v2x/map', m.replace(node(k, [egress]), header=header))
    status = m.new('v2x_stack/msg/VehicleStatus', header=m.header(0, 'base_link'), lights=lights)
    runtime.publish(f'{CAR}/vehicle/status', status, at_ns=ns(0.05))
    runtime.publish(f'{CAR}/localization/odometry',
                    odometry(0.1, 0.3, -40.0, math.pi / 2, 8.0), at_ns=ns(0.1))  # fmt: skip
    runtime.run(duration_s=0.5)
    assert len(out) == 1
    assert out[0].signal_group == group
    assert out[0].stop_line_distance_m == pytest.approx(30.0, abs=1e-6)
    assert node_.ctx.diagnostics.counters['v2x_map_stop_line'] == 1

"""Each simulated RSU runs the whole RSU chain with its own site parameters from the scenario:
lidar pose, intersection (MAP from the world's junction), reference point, station id; RSU
events are classified and checked against the scenario's expectations."""

import math

import numpy as np
import pytest
import yaml

from geo import LocalFrame
from rsu_nodes.events.codes import DEFAULT_CODES
from sim_nodes.errors import StackError
from sim_nodes.report.checks import rsu_event_checks
from sim_nodes.report.rsu_events import event_kind, unique_codes
from sim_nodes.runner import SIM_COMPONENTS, add_stacks
from sim_nodes.scenarios import load_scenario
from sim_nodes.scenarios.build import build_scenario
from sim_nodes.stacks import StackReport, stack_map
from sim_nodes.world.four_arm import build_four_arm
from sim_nodes.world.intersection_export import export_from_network, maneuver
from v2x_nodes.codec import convert as cv
from v2x_nodes.codec.uper import MessageKind, decode_frame, encode_frame
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

TWO_RSUS = {
    'duration_s': 5,
    'map': {'kind': 'four_arm', 'buildings': False},
    'rsus': [
        {'name': 'rsu_a', 'position_m': [-16.0, -16.0, 6.0], 'lidar': {'yaw_rad': 0.5}},
        {'name': 'rsu_b', 'position_m': [16.0, 16.0, 5.0], 'lidar': {'rings': 8}},
        {'name': 'no_stack', 'position_m': [0.0, 20.0, 4.0], 'stack': False},
    ],
    'vehicles': [{'name': 'car_a', 'route': ['south_in_0'], 'connected': True}],
}


def assemble(tmp_path, data):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / 's.yaml'
    path.write_text(yaml.safe_dump(data))
    built = build_scenario(load_scenario(path))
    runtime = EmbeddedRuntime(seed=1)
    params = {'scenario': str(path), 'sets': [''], 'seed': 0}
    for cls, name in SIM_COMPONENTS:
        runtime.add_component(cls, name=name, namespace='/sim', parameters=params)
    add_stacks(runtime, built, stack_map(built, tmp_path), StackReport(), tmp_path)
    return built, runtime


def test_each_rsu_gets_its_own_pose_reference_station_and_map(tmp_path):
    built, runtime = assemble(tmp_path, TWO_RSUS)
    frame = LocalFrame(*built.scenario.gnss.origin_deg)
    stations = set()
    for rsu in built.scenario.rsus:
        georef = runtime.components.get(f'/{rsu.name}/georef')
        if not rsu.stack:
            assert georef is None
            continue
        # the lidar's returns (frame <rsu>_lidar) are what the georeferencer accepts
        assert runtime.topics[f'/{rsu.name}/lidar/points'].publishers
        p = georef.ctx.values
        assert p['sensor_frame'] == f'{rsu.name}_lidar'
        assert p['translation_m'] == list(rsu.position_m)
        assert p['rpy_rad'] == [0.0, 0.0, rsu.lidar.yaw_rad]
        tx = runtime.components[f'/{rsu.name}/v2x_tx'].ctx.values
        lat, lon, _ = frame.to_geodetic(*rsu.position_m)
        assert math.isclose(tx['ref_lat_deg'], float(lat), abs_tol=1e-9)
        assert math.isclose(tx['ref_lon_deg'], float(lon), abs_tol=1e-9)
        assert tx['origin_lat_deg'] == built.scenario.gnss.origin_deg[0]
        stations.add(tx['station_id'])
        events = runtime.components[f'/{rsu.name}/events'].ctx.values
        assert events['map_file'] == str((tmp_path / 'map.osm').resolve())
        source = runtime.components[f'/{rsu.name}/map']
        assert source.ctx.values['export_file'] == str(tmp_path / 'intersection_1.json')
        assert len(source.builder.maps(0)) == 5  # the junction node and its four arm nodes
    assert stations == {'00000000000000a1', '00000000000000a2'}


def test_per_rsu_parameter_overrides_reach_one_rsu_and_unknown_names_fail(tmp_path):
    data = yaml.safe_load(yaml.safe_dump(TWO_RSUS))
    data['rsus'][1]['parameters'] = {'events': {'congestion_after_s': 8.0}}
    _, runtime = assemble(tmp_path, data)
    assert runtime.components['/rsu_b/events'].ctx.values['congestion_after_s'] == 8.0
    assert runtime.components['/rsu_a/events'].ctx.values['congestion_after_s'] == 60.0
    data['rsus'][1]['parameters'] = {'event': {'congestion_after_s': 8.0}}
    with pytest.raises(StackError, match=r'/rsu_b: parameters.event: expected a component of'):
        assemble(tmp_path / 'a', data)
    data['rsus'][1]['parameters'] = {'events': {'congestion_after': 8.0}}
    unknown = r'events in /rsu_b: .*unknown parameter.*congestion_after'
    with pytest.raises(StackError, match=unknown):
        assemble(tmp_path / 'b', data)


def test_the_world_junction_exports_every_movement_with_its_signal_group():
    net = build_four_arm(lanes=2)
    export = export_from_network(net, 1, LocalFrame(31.2304, 121.4737, 10.0), {})
    connectors = [ln for ln in net.lanes.values() if ln.signal_group > 0]
    lanes = {ln.lane_id: ln for ln in export.lanes}
    got = sorted((m.signal_group, m.maneuver) for m in export.movements)
    assert got == sorted((c.signal_group, maneuver(c)) for c in connectors)
    assert {ln.kind for ln in export.lanes} == {'ingress', 'egress'}
    assert len(export.arms_heading_rad) == 4
    for mv in export.movements:  # ingress ends at the stop line the connector starts from
        ingress = lanes[mv.ingress_lane_id]
        connector = next(
            c
            for c in connectors
            if c.signal_group == mv.signal_group and maneuver(c) == mv.maneuver
        )
        stop = np.array(ingress.points_m[0]) + export.ref_xy_m
        assert ingress.kind == 'ingress' and lanes[mv.egress_lane_id].kind == 'egress'
        assert np.linalg.norm(stop - connector.centreline[0]) < 4.0  # within a lane width
    # every group of the four-arm plan: through/right 2i+1, left 2i+2
    assert {m.signal_group for m in export.movements} == set(range(1, 9))
    # and through MAP UPER: the movements arrive with their phase ids
    from rsu_nodes.map.build import MapBuilder

    now = 1_700_000_000 * 10**9
    maps = MapBuilder(export, export.ref_lat_deg, export.ref_lon_deg).maps(now)
    decoded = decode_frame(encode_frame(MessageKind.MAP, cv.map_from_intersections(maps)))
    back = cv.intersections_from_map(decoded.value, now)
    phases = {int(p) for node in back for ln in node.lanes for p in ln.connection_phase_id}
    assert decoded.kind == MessageKind.MAP and phases == set(range(1, 9))


def test_events_are_classified_by_their_code_else_by_their_description():
    codes = unique_codes(DEFAULT_CODES)
    # stopped vehicle and wrong way share EventType 900; obstacle has no code (0, 0)
    assert (900, 0) not in codes and (0, 0) not in codes
    assert codes[(707, 0)] == 'congestion' and codes[(0, 10)] == 'pedestrian'

    def event(event_type, sign_type, text):
        return m.new(
            'v2x_stack/msg/RoadEvent', event_type=event_type, sign_type=sign_type, description=text
        )

    assert event_kind(event(900, 0, 'wrong-way vehicle at 8.0 m/s (id 3)'), codes) == 'wrong_way'
    assert event_kind(event(900, 0, 'stopped vehicle in lane (id 2)'), codes) == 'stopped_vehicle'
    assert event_kind(event(707, 0, ''), codes) == 'congestion'
    assert event_kind(event(0, 0, 'obstacle on the carriageway (id 1)'), codes) == 'obstacle'
    assert event_kind(event(123, 0, 'roadworks'), codes) == 'code_123_0'


def test_rsu_event_checks_pass_fail_and_na():
    expect = build_scenario(load_scenario('rsu_events/congestion')).scenario.expect
    seen = {
        'topics': ['/rsu_1/rsu/events'],
        'raised': {'rsu_1': {'congestion': {'first_t_s': 9.0, 'description': 'congestion'}}},
        'received': {'listener': {'congestion': {'first_t_s': 9.02, 'rsu': 'rsu_1'}}},
    }
    checks = {c.name: c for c in rsu_event_checks(expect, seen)}
    assert checks['RSU event congestion at rsu_1'].status == 'pass'
    assert checks['RSU event congestion at rsu_1 received by listener'].status == 'pass'
    assert checks['no RSU event speeding'].status == 'pass'
    late = {**seen, 'raised': {'rsu_1': {'congestion': {'first_t_s': 13.5, 'description': ''}}}}
    assert rsu_event_checks(expect, late)[0].status == 'fail'
    unheard = {**seen, 'received': {}}
    statuses = [c.status for c in rsu_event_checks(expect, unheard)]
    assert statuses[:2] == ['pass', 'fail']
    speeding = {'first_t_s': 3.0, 'description': 'speeding 20'}
    extra = {**seen, 'raised': {'rsu_1': {**seen['raised']['rsu_1'], 'speeding': speeding}}}
    bad = {c.name: c for c in rsu_event_checks(expect, extra)}['no RSU event speeding']
    assert bad.status == 'fail' and 'rsu_1 at 3 s (speeding 20)' in bad.detail
    assert {c.status for c in rsu_event_checks(expect, {})} == {'n/a'}

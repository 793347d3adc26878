"""Scenario files: invalid ones fail with the file, the path to the field and the expectation;
overrides and sweeps."""

import pytest
import yaml

from sim_nodes.errors import RunError, ScenarioError
from sim_nodes.scenarios import (
    apply_sets,
    build_scenario,
    expand_sweeps,
    list_scenarios,
    load_scenario,
    parse_sets,
)

BASE = {
    'duration_s': 10,
    'vehicles': [
        {'name': 'a', 'route': ['south_in_0', 'north_out_0']},
        {'name': 'b', 'route': ['west_in_1', 'east_out_1'], 'speed_mps': 10},
    ],
    'pedestrians': [{'name': 'p', 'crosswalk': 'east'}],
}


def write(tmp_path, data, name='s.yaml'):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def load_and_build(path):
    return build_scenario(load_scenario(path))


@pytest.mark.parametrize(
    ('change', 'field', 'expected'),
    [
        ({'vehicles[1].speed_mps': 'fast'}, r'vehicles\[1\]\.speed_mps', 'expected a number'),
        ({'vehicles[1].speed_mps': 99}, r'vehicles\[1\]\.speed_mps', r'in \[0, 60\]'),
        ({'vehicles[0].colour': 'red'}, r'vehicles\[0\]\.colour', 'expected a known field'),
        ({'vehicles[0].route': []}, r'vehicles\[0\]\.route', 'non-empty list of lane ids'),
        ({'vehicles[1].name': 'a'}, r'vehicles\[1\]\.name', 'a name not used before'),
        ({'vehicles[0].name': 'Car-1'}, r'vehicles\[0\]\.name', 'lower_snake_case'),
        ({'pedestrians[0].crosswalk': ''}, r'pedestrians\[0\]\.crosswalk', 'either a crosswalk'),
        ({'duration_s': -1}, 'duration_s', 'expected a number in'),
        ({'gnss.mode': 'ppp'}, 'gnss.mode', 'one of rtk_fixed, rtk_float, single'),
        (
            {'gnss.outages': [{'start_s': 5, 'end_s': 2}]},
            r'gnss\.outages\[0\]\.end_s',
            'after start_s',
        ),
        (
            {'rsus': [{'name': 'r', 'position_m': [1, 2]}]},
            r'rsus\[0\]\.position_m',
            'list of 3 numbers',
        ),
        (
            {'expect.warnings': [{'min_lead_time_s': 2}]},
            r'expect\.warnings\[0\]\.application',
            'required',
        ),
        ({'sweeps': {'traffic.count': []}}, r'sweeps\.traffic\.count', 'non-empty list'),
        (
            {'signals': [{'stages': [{'green_s': 5, 'vehicle_groups': [300]}]}]},
            r'signals\[0\]\.stages\[0\]\.vehicle_groups\[0\]',
            'signal group 1..255',
        ),
        ({'map.kind': 'opendrive'}, 'map.kind', 'one of four_arm, lanelet2'),
        (
            {'obstacles': [{'name': 'box', 'position_m': [1, 2], 'size_m': [0, 1, 1]}]},
            r'obstacles\[0\]\.size_m',
            'each in 0.05..20 m',
        ),
        (
            {'obstacles': [{'name': 'a', 'position_m': [1, 2]}]},
            r'obstacles\[0\]\.name',
            'a name not used before',
        ),
        (
            {'pedestrians': [{'name': 'p', 'crosswalk': 'east', 'class': 'car'}]},
            r'pedestrians\[0\]\.path',
            'a path for a scripted car',
        ),
        (
            {'expect.rsu_events': [{'kind': 'fog'}]},
            r'expect\.rsu_events\[0\]\.kind',
            'one of stopped_vehicle, wrong_way, congestion',
        ),
        ({'expect.no_rsu_events': ['fog']}, r'expect\.no_rsu_events\[0\]', 'one of stopped'),
        (
            {'expect.rsu_events': [{'kind': 'speeding'}]},
            r'expect\.rsu_events\[0\]',
            'an RSU with a stack in rsus',
        ),
        (
            {
                'rsus': [{'name': 'r', 'position_m': [1, 2, 6]}],
                'expect.rsu_events': [{'kind': 'speeding', 'received_by': ['a']}],
            },
            r'expect\.rsu_events\[0\]\.received_by\[0\]',
            'a connected vehicle of vehicles',
        ),
        (
            {'rsus': [{'name': 'r', 'position_m': [1, 2, 6], 'parameters': {'events': 3}}]},
            r'rsus\[0\]\.parameters\.events',
            'a mapping',
        ),
    ],
)
def test_invalid_fields_name_file_path_and_expectation(tmp_path, change, field, expected):
    path = write(tmp_path, apply_sets(BASE, change, 'test'))
    with pytest.raises(ScenarioError, match=rf'{tmp_path}/s\.yaml: {field}: .*{expected}'):
        load_and_build(path)


@pytest.mark.parametrize(
    ('change', 'field', 'expected'),
    [
        (
            {'vehicles[1].route': ['west_in_1', 'nowhere']},
            r'vehicles\[1\]\.route\[1\]',
            'a lane id of the map',
        ),
        (
            {'vehicles[0].route': ['south_in_0', 'east_out_0']},
            r'vehicles\[0\]\.route\[1\]',
            'a lane reachable from south_in_0',
        ),
        (
            {'pedestrians[0].crosswalk': 'middle'},
            r'pedestrians\[0\]\.crosswalk',
            'a crosswalk of the map',
        ),
        (
            {'signals': [{'stages': [{'green_s': 5, 'vehicle_groups': [1, 3]}]}]},
            'signals',
            'a plan for intersection 1 that gives green to group 2',
        ),
        ({'traffic': {'count': 2, 'entries': ['sky']}}, r'traffic\.entries\[0\]', 'a lane id'),
        (
            {'vehicles[0].lane_changes': [{'at_s': 2, 'route': ['south_in_9']}]},
            r'vehicles\[0\]\.lane_changes\[0\]\.route\[0\]',
            'a lane id of the map',
        ),
        (
            {'rsus': [{'name': 'r', 'position_m': [0, 0, -1], 'lidar': {}}]},
            r'rsus\[0\]\.position_m',
            'a lidar mount at a height 0 < z',
        ),
        (
            {'rsus': [{'name': 'r', 'position_m': [0, 0, 6], 'intersection_id': 7}]},
            r'rsus\[0\]\.intersection_id',
            r'an intersection of the map \(1\)',
        ),
    ],
)
def test_map_level_errors_name_the_field(tmp_path, change, field, expected):
    path = write(tmp_path, apply_sets(BASE, change, 'test'))
    with pytest.raises(ScenarioError, match=rf's\.yaml: {field}: expected {expected}'):
        load_and_build(path)


def test_unreadable_and_non_mapping_files(tmp_path):
    with pytest.raises(ScenarioError, match=r'bad\.yaml: expected readable YAML'):
        load_scenario(write(tmp_path, 'a: [1,', 'bad.yaml'))
    with pytest.raises(ScenarioError, match=r'list\.yaml: \(top level\): expected a mapping'):
        load_scenario(write(tmp_path, '- 1\n- 2\n', 'list.yaml'))
    with pytest.raises(RunError, match="no scenario 'nope'; the library has: .*default"):
        load_scenario('nope')


def test_sets_override_fields_and_create_sections(tmp_path):
    path = write(tmp_path, BASE)
    sets = parse_sets(['vehicles[1].speed_mps=7.5', 'channel.extra_loss=0.2', 'traffic.count=3'])
    sc = load_scenario(path, sets=sets, seed=9)
    assert sc.vehicles[1].speed_mps == 7.5 and sc.channel.extra_loss == 0.2 and sc.seed == 9
    assert len(build_scenario(sc).vehicles) == 5
    with pytest.raises(ScenarioError, match=r'vehicles\[5\]: expected an existing list element'):
        load_scenario(path, sets={'vehicles[5].speed_mps': 3})
    with pytest.raises(ScenarioError, match='expected a field path'):
        load_scenario(path, sets={'vehicles..x': 3})
    with pytest.raises(RunError, match='expected field.path=value'):
        parse_sets(['novalue'])


def test_sweeps_expand_to_the_cartesian_product():
    sc = load_scenario('physics/benign_traffic')
    variants = expand_sweeps(sc)
    assert len(variants) == 3 * 2 * 2
    assert {
        'traffic.connected_ratio': 1.0,
        'channel.extra_loss': 0.2,
        'gnss.horizontal_sigma_m': 0.5,
    } in variants
    assert expand_sweeps(load_scenario('default')) == [{}]


def test_traffic_penetration_changes_only_who_is_connected():
    low = build_scenario(
        load_scenario('physics/benign_traffic', sets={'traffic.connected_ratio': 0.2})
    )
    high = build_scenario(
        load_scenario('physics/benign_traffic', sets={'traffic.connected_ratio': 1.0})
    )
    assert [(v.route, v.spawn_s, v.speed_mps) for v in low.vehicles] == [
        (v.route, v.spawn_s, v.speed_mps) for v in high.vehicles
    ]
    assert len(low.connected()) < len(high.connected()) == len(high.vehicles)


def test_every_library_scenario_is_valid():
    names = list_scenarios()
    assert {'default', 'physics/red_light_runner', 'physics/pedestrian_crossing'} <= set(names)
    for name in names:
        build_scenario(load_scenario(name))

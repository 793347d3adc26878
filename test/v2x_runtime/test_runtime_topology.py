"""Topology files: loading, overrides and every validation error with its message."""

import textwrap

import pytest

from v2x_runtime import TopologyError
from v2x_runtime.embedded import EmbeddedRuntime
from v2x_runtime.topology import build, load_topology, parse_set_options

GOOD = """
description: test chain
namespace: car1
record: [objects_out]
processes:
  perception:
    components:
      scaler:
        plugin: v2x_test_components:Scaler
        parameters: {gain: 3.0}
  apps:
    components:
      talker:
        plugin: v2x_test_components:Talker
        remappings: {chatter: warnings}
"""


def write(tmp_path, text, name='t.yaml'):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_good_topology_loads_and_builds(tmp_path):
    topo = load_topology(write(tmp_path, GOOD))
    assert [p.name for p in topo.processes] == ['perception', 'apps']
    assert topo.namespace == 'car1' and topo.record == ('objects_out',)
    rt = EmbeddedRuntime()
    build(topo, rt)
    assert {'/car1/objects_in', '/car1/objects_out', '/car1/warnings'} <= set(rt.topics)
    assert rt.components['/car1/scaler'].gain == 3.0


def test_overrides_replace_parameters(tmp_path):
    topo = load_topology(write(tmp_path, GOOD), parse_set_options(['scaler.gain=-1.5']))
    rt = EmbeddedRuntime()
    build(topo, rt, namespace='/other')
    assert rt.components['/other/scaler'].gain == -1.5


@pytest.mark.parametrize(
    ('text', 'expected'),
    [
        (
            GOOD.replace('v2x_test_components:Scaler', 'v2x_test_components:Nope'),
            r't.yaml: processes.perception.components.scaler.plugin: .*has no Component Nope',
        ),
        (
            GOOD.replace('v2x_test_components:Scaler', 'no_such_module:Scaler'),
            r'scaler.plugin: .*cannot import no_such_module',
        ),
        (
            GOOD.replace('{gain: 3.0}', '{gian: 3.0}'),
            r'processes.perception.components.scaler.parameters: .*unknown parameter\(s\) gian',
        ),
        (
            GOOD.replace('{gain: 3.0}', '{gain: 30.0}'),
            r'components.scaler.parameters: gain: 30.0 is outside \[-10.0, 10.0\]',
        ),
        (
            GOOD.replace('{chatter: warnings}', '{chatter: objects_in}'),
            r'components.talker: .*topic /car1/objects_in declared as v2x_stack/msg/Warning',
        ),
        (GOOD.replace('processes:', 'processors:'), r't.yaml: unknown field\(s\) processors'),
        (
            GOOD.replace(
                '        plugin: v2x_test_components:Talker',
                '        plugin: v2x_test_components:Talker\n        params: {}',
            ),
            r'processes.apps.components.talker: unknown field\(s\) params',
        ),
        (
            GOOD.replace('talker:', 'scaler:'),
            r'processes.apps.components.scaler: component name already used in perception',
        ),
        (
            GOOD.replace('talker:', 'Talker:'),
            r'components.Talker: component names are lower_snake_case',
        ),
        ('processes: {}\n', r'processes: expected a non-empty mapping'),
        ('- a\n- b\n', r'expected a mapping at the top level'),
        ('processes: [\n', r'cannot read topology'),
    ],
)
def test_errors_name_the_file_component_and_field(tmp_path, text, expected):
    with pytest.raises(TopologyError, match=expected):
        load_topology(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(TopologyError, match=f'{tmp_path}/none.yaml: no such topology file'):
        load_topology(tmp_path / 'none.yaml')


def test_override_of_an_unknown_component(tmp_path):
    with pytest.raises(TopologyError, match="override for unknown component 'scalar'"):
        load_topology(write(tmp_path, GOOD), {'scalar': {'gain': 1.0}})


@pytest.mark.parametrize('item', ['gain=1', 'scaler.gain', '.gain=1', 'scaler.=1'])
def test_bad_set_options(item):
    with pytest.raises(TopologyError, match='expected component.parameter=value'):
        parse_set_options([item])


def test_set_values_are_yaml():
    assert parse_set_options(['a.b=1', 'a.c=[1, 2.5]', 'd.e=text', 'd.f=true']) == {
        'a': {'b': 1, 'c': [1, 2.5]},
        'd': {'e': 'text', 'f': True},
    }


def test_a_component_own_configuration_error_names_file_and_component(tmp_path):
    text = """
processes:
  localisation:
    components:
      map_matcher:
        plugin: vehicle_nodes.hdmap.node:MapMatcher
        parameters: {map_file: no/such/map.osm}
"""
    with pytest.raises(
        TopologyError,
        match=r't.yaml: processes.localisation.components.'
        r'map_matcher: \w+Error: .*no/such/map.osm',
    ):
        load_topology(write(tmp_path, text))

"""The ROS-free half of the launch files: topology → container processes."""

import json
import textwrap

import pytest

from v2x_runtime import TopologyError
from v2x_runtime.launch_plan import config_path, load_overrides, plan_processes

TOPOLOGY = """
namespace: rsu
processes:
  perception:
    components:
      scaler: {plugin: 'v2x_test_components:Scaler'}
  apps:
    components:
      talker: {plugin: 'v2x_test_components:Talker'}
      second: {plugin: 'v2x_test_components:Faulty'}
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / 'rsu.yaml'
    path.write_text(TOPOLOGY)
    return path


def test_one_container_per_process(config):
    plans = plan_processes(config)
    assert [(p.name, p.executable, p.package, p.namespace) for p in plans] == [
        ('perception', 'container', 'v2x_stack', '/rsu'),
        ('apps', 'container', 'v2x_stack', '/rsu'),
    ]
    assert plans[1].components == ['talker', 'second']
    assert plans[0].arguments == ['--config', str(config.resolve()), '--process', 'perception']
    assert plans[0].parameters == [{'use_sim_time': False}]
    assert plans[0].ros_arguments == ['--log-level', 'info']


def test_launch_arguments_reach_the_processes(config, tmp_path):
    params = tmp_path / 'params.yaml'
    params.write_text(
        textwrap.dedent("""
        scaler:
          ros__parameters: {gain: 4.0, mode: copy}
        talker: {text: 'a b'}
    """)
    )
    plans = plan_processes(
        config,
        namespace='site7/rsu2',
        overrides_file=params,
        overrides={'talker': {'rate_hz': 2}},
        use_sim_time=True,
        log_level='debug',
    )
    assert plans[0].namespace == '/site7/rsu2'
    assert plans[0].arguments[4:] == ['--set', 'scaler.gain=4.0', '--set', 'scaler.mode="copy"']
    assert plans[1].arguments[4:] == [
        '--set',
        'talker.rate_hz=2',
        '--set',
        f'talker.text={json.dumps("a b")}',
    ]
    assert plans[1].parameters == [{'use_sim_time': True}]
    assert plans[1].ros_arguments == ['--log-level', 'debug']


def test_invalid_overrides_fail_before_anything_starts(config, tmp_path):
    with pytest.raises(TopologyError, match=r'scaler.parameters: gain: 99.0 is outside'):
        plan_processes(config, overrides={'scaler': {'gain': 99.0}})
    with pytest.raises(TopologyError, match="log_level 'loud' is not one of"):
        plan_processes(config, log_level='loud')
    bad = tmp_path / 'bad.yaml'
    bad.write_text('- 1\n')
    with pytest.raises(TopologyError, match='bad.yaml: expected a mapping of component name'):
        load_overrides(bad)


def test_config_by_name_or_path(config, tmp_path):
    assert config_path('/opt/share/v2x_stack', 'car') == config_path(
        '/opt/share/v2x_stack', 'car.yaml'
    )
    assert str(config_path('/opt/share/v2x_stack', 'car')) == '/opt/share/v2x_stack/config/car.yaml'
    assert config_path('/x', str(config)) == config

"""Component parameters through the ROS 2 parameter API of a running container.

A plain rclpy ``AsyncParameterClient`` (the services ``ros2 param`` uses) reads, describes and
sets the parameters of a ``Tunable`` component; the component reports each ``on_change`` on the
``changes`` topic, so the test sees what the component itself received.
"""

from __future__ import annotations

from typing import Any

import pytest
from ros_test_support import START_TIMEOUT_S, Probe

pytestmark = pytest.mark.ros


def test_parameters_are_described_read_and_set_with_ranges_enforced(
    probe: Probe, start_container: Any
) -> None:
    from rclpy.parameter import Parameter, parameter_value_to_python
    from rclpy.parameter_client import AsyncParameterClient
    from rclpy.qos import DurabilityPolicy, QoSProfile
    from v2x_stack.msg import Warning

    history = QoSProfile(depth=50, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    changes = probe.collect(Warning, '/test/changes', history)
    overrides = {'gain': 2.0, 'limit': 7}
    container = start_container(
        {'tunable': {'plugin': 'ros_test_components:Tunable', 'parameters': overrides}}
    )
    client = AsyncParameterClient(probe.node, '/test/tunable')
    probe.spin_until(client.services_are_ready, START_TIMEOUT_S, 'the parameter services')

    def call(future: Any) -> Any:
        return probe.spin_future(future, 30.0, 'a parameter service response')

    names = ['gain', 'mode', 'limit', 'weights', 'enabled']

    def values() -> dict[str, Any]:
        response = call(client.get_parameters(names))
        return {
            n: parameter_value_to_python(v) for n, v in zip(names, response.values, strict=True)
        }

    assert values() == {
        'gain': 2.0,
        'mode': 'fast',
        'limit': 7,
        'weights': [0.25, 0.5],
        'enabled': True,
    }

    described = {d.name: d for d in call(client.describe_parameters(names)).descriptors}
    gain, limit, mode = described['gain'], described['limit'], described['mode']
    assert gain.description == 'Gain' and not gain.read_only
    assert gain.type == Parameter.Type.DOUBLE.value
    assert (gain.floating_point_range[0].from_value, gain.floating_point_range[0].to_value) == (
        0.0,
        10.0,
    )
    assert limit.read_only and (
        limit.integer_range[0].from_value,
        limit.integer_range[0].to_value,
    ) == (
        1,
        100,
    )
    assert mode.additional_constraints == 'one of: fast, slow'
    assert described['weights'].additional_constraints == 'each element in [0.0, 1.0]'

    def set_one(name: str, value: Any) -> Any:
        return call(client.set_parameters([Parameter(name, value=value)])).results[0]

    rejected = [
        ('gain', 20.0, 'out of range'),
        ('gain', 3, 'Wrong parameter type'),
        ('mode', 'bogus', "mode: 'bogus' is not one of 'fast', 'slow'"),
        ('limit', 3, 'read-only'),
        ('weights', [0.5, 2.0], 'weights: 2.0 is outside [0.0, 1.0]'),
    ]
    for name, value, reason in rejected:
        result = set_one(name, value)
        assert not result.successful, (name, value)
        assert reason in result.reason, result.reason
    for name, value in [('gain', 2.5), ('mode', 'slow'), ('weights', [0.125, 0.75])]:
        result = set_one(name, value)
        assert result.successful, result.reason
    assert set_one('enabled', False).successful  # dynamic, without on_change

    probe.spin_until(lambda: len(changes) >= 3, START_TIMEOUT_S, 'three on_change reports')
    assert [c.text for c in changes] == ['gain=2.5', "mode='slow'", 'weights=[0.125, 0.75]']
    assert values() == {
        'gain': 2.5,
        'mode': 'slow',
        'limit': 7,
        'weights': [0.125, 0.75],
        'enabled': False,
    }
    assert container.interrupt() == 0

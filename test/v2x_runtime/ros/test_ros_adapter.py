"""The adapter in-process with real rclpy: CDR interop, subscriptions, descriptors, errors."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from ros_test_components import FRAME, Faulty, Recorder, plain, sample_array, sample_frame
from ros_test_support import ROOT, START_TIMEOUT_S, Probe, rosidl_from_plain

from v2x_runtime import QOS_SENSOR, Component, ComponentContext, ParameterError
from v2x_runtime import messages as m
from v2x_runtime.parameters import make_spec

pytestmark = pytest.mark.ros
PROJECT_TYPES = sorted(t for t in m.typestore().types if t.startswith('v2x_stack/msg/'))


@pytest.mark.parametrize('msgtype', PROJECT_TYPES)
def test_cdr_of_every_project_type_decodes_identically_in_rclpy_and_back(msgtype: str) -> None:
    from rclpy.serialization import deserialize_message, serialize_message

    from v2x_runtime.ros.interop import rosidl_class

    cls = rosidl_class(msgtype)
    samples = {
        'v2x_stack/msg/ParticipantArray': sample_array(7, 123_456_789_012),
        'v2x_stack/msg/V2xFrame': sample_frame(7, 5),
    }
    message = samples.get(msgtype, m.new(msgtype))
    from_rosbags = deserialize_message(m.serialize(message), cls)
    assert plain(from_rosbags) == plain(message)
    native = rosidl_from_plain(cls, plain(message))
    assert plain(m.deserialize(serialize_message(native), msgtype)) == plain(message)


def test_unknown_and_malformed_type_names_are_message_errors() -> None:
    from v2x_runtime.errors import MessageError
    from v2x_runtime.ros.interop import rosidl_class

    with pytest.raises(MessageError, match='not of the form package/msg/Type'):
        rosidl_class('v2x_stack/V2xFrame')
    with pytest.raises(MessageError, match='cannot import no_such_msgs.msg'):
        rosidl_class('no_such_msgs/msg/Thing')
    with pytest.raises(MessageError, match='v2x_stack.msg has no message Nope'):
        rosidl_class('v2x_stack/msg/Nope')


def test_a_plain_rclpy_publisher_reaches_a_component_subscription(
    ros_context: Any, probe: Probe
) -> None:
    from v2x_stack.msg import ParticipantArray

    from v2x_runtime.ros import ComponentNode

    host = ComponentNode(Recorder, name='recorder', namespace='/inproc', context=ros_context)
    probe.executor.add_node(host.node)
    publisher = probe.node.create_publisher(ParticipantArray, '/inproc/objects', 10)
    probe.wait_for_subscriber(publisher)
    sent = rosidl_from_plain(ParticipantArray, plain(sample_array(3, 42_000_000_001)))
    recorder = host.component
    assert isinstance(recorder, Recorder)

    def delivered() -> bool:
        publisher.publish(sent)
        return bool(recorder.received)

    probe.spin_until(delivered, START_TIMEOUT_S, 'the component to receive')
    received = recorder.received[0]
    assert received.__msgtype__ == 'v2x_stack/msg/ParticipantArray'
    assert isinstance(received.participants[0].covariance, np.ndarray)
    assert plain(received) == plain(sent)
    probe.executor.remove_node(host.node)
    host.destroy()


def test_fail_fast_raises_out_of_the_executor(ros_context: Any, probe: Probe) -> None:
    from v2x_stack.msg import V2xFrame

    from v2x_runtime.ros import ComponentNode

    host = ComponentNode(
        Faulty, name='faulty', namespace='/ff', context=ros_context, fail_fast=True
    )
    probe.executor.add_node(host.node)
    publisher = probe.node.create_publisher(V2xFrame, '/ff/frames_in', 10)
    probe.wait_for_subscriber(publisher)
    publisher.publish(V2xFrame())
    with pytest.raises(ValueError, match='frame without payload'):
        probe.spin_until(lambda: False, START_TIMEOUT_S, 'the handler to raise')
    assert host.ctx.diagnostics.counters['handler_exceptions'] == 1
    probe.executor.remove_node(host.node)
    host.destroy()


class _Lists(Component):
    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.ids = ctx.declare_parameter('ids', [1, 2], 'Ids', range=(0, 9), dynamic=True)
        self.rate = ctx.declare_parameter('rate_hz', 1.0, 'Rate', range=(0.5, 2.0))


def test_parameter_overrides_are_validated_and_typed(ros_context: Any) -> None:
    from rclpy.parameter import Parameter

    from v2x_runtime.ros import ComponentNode

    host = ComponentNode(
        _Lists, name='lists', context=ros_context, parameters={'ids': [], 'rate_hz': 2}
    )
    component = host.component
    assert isinstance(component, _Lists)
    assert component.ids == [] and component.rate == 2.0  # int override → float parameter
    assert host.node.get_parameter('rate_hz').value == 2.0
    result = host.node.set_parameters([Parameter('ids', Parameter.Type.INTEGER_ARRAY, [3, 4])])
    assert result[0].successful, result[0].reason
    rejected = host.node.set_parameters([Parameter('ids', Parameter.Type.INTEGER_ARRAY, [10])])
    assert not rejected[0].successful and 'ids: 10 is outside [0, 9]' in rejected[0].reason
    host.destroy()
    with pytest.raises(ParameterError, match=r'rate_hz: 9\.0 is outside \[0\.5, 2\.0\]'):
        ComponentNode(_Lists, name='lists2', context=ros_context, parameters={'rate_hz': 9.0})


def test_descriptor_of_an_integer_range_rounds_inward() -> None:
    from v2x_runtime.ros.parameter_bridge import descriptor

    desc = descriptor(make_spec('count', 3, 'Count', range=(0.5, 10.5)))
    assert (desc.integer_range[0].from_value, desc.integer_range[0].to_value) == (1, 10)
    assert desc.read_only and desc.description == 'Count'
    strings = descriptor(make_spec('kinds', ['a'], 'Kinds', choices=('a', 'b'), dynamic=True))
    assert not strings.read_only
    assert strings.additional_constraints == 'each element one of: a, b'


def test_publishing_the_wrong_type_is_refused(ros_context: Any) -> None:
    from v2x_runtime.errors import RuntimeLayerError
    from v2x_runtime.ros import ComponentNode

    class _Pub(Component):
        def __init__(self, ctx: ComponentContext) -> None:
            super().__init__(ctx)
            self.pub = ctx.create_publisher('frames', FRAME, QOS_SENSOR)

    host = ComponentNode(_Pub, name='pub', context=ros_context)
    component = host.component
    assert isinstance(component, _Pub)
    assert component.pub.topic == '/frames'
    with pytest.raises(RuntimeLayerError, match='declared as v2x_stack/msg/V2xFrame'):
        component.pub.publish(m.new('v2x_stack/msg/Warning'))
    host.destroy()


def test_the_no_ros_path_never_imports_rclpy() -> None:
    code = (
        'import sys, v2x_runtime, v2x_runtime.embedded, v2x_runtime.topology, '
        'v2x_runtime.launch_plan, v2x_runtime.cli; '
        "sys.exit(1 if 'rclpy' in sys.modules else 0)"
    )
    result = subprocess.run(
        [sys.executable, '-c', code],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_log_levels_map_to_rcutils_severities(ros_context: Any) -> None:
    import logging

    from rclpy.logging import LoggingSeverity

    from v2x_runtime.ros import ComponentNode
    from v2x_runtime.ros.logging_bridge import RclpyHandler, severity

    assert [severity(level) for level in (5, 10, 20, 30, 40, 50)] == [
        LoggingSeverity.DEBUG,
        LoggingSeverity.DEBUG,
        LoggingSeverity.INFO,
        LoggingSeverity.WARN,
        LoggingSeverity.ERROR,
        LoggingSeverity.FATAL,
    ]
    host = ComponentNode(Recorder, name='logs', context=ros_context)
    python_logger = logging.getLogger('v2x.ros.logs')
    assert python_logger.level == logging.INFO  # rclpy's default effective level
    assert not python_logger.propagate
    assert [type(h) for h in python_logger.handlers] == [RclpyHandler]
    host.destroy()


class _Ticker(Component):
    """Counts its 20 ms timer's firings; the test cancels and resets the timer."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.fired = 0
        self.timer = ctx.create_timer(0.02, self.on_tick)
        self.held = ctx.create_timer(0.02, self.on_tick, autostart=False)

    def on_tick(self) -> None:
        self.fired += 1


def test_component_timers_cancel_and_reset_as_rclpy_timers(ros_context: Any, probe: Probe) -> None:
    from v2x_runtime.ros import ComponentNode

    host = ComponentNode(_Ticker, name='ticker', namespace='/timers', context=ros_context)
    ticker = host.component
    assert isinstance(ticker, _Ticker)
    assert ticker.held.is_canceled() and not ticker.timer.is_canceled()
    probe.executor.add_node(host.node)
    probe.spin_until(lambda: ticker.fired >= 2, START_TIMEOUT_S, 'the timer to fire')
    ticker.timer.cancel()
    assert ticker.timer.is_canceled()
    ticker.held.reset()
    assert not ticker.held.is_canceled()
    before = ticker.fired
    probe.spin_until(lambda: ticker.fired >= before + 2, START_TIMEOUT_S, 'the reset timer')
    probe.executor.remove_node(host.node)
    host.destroy()

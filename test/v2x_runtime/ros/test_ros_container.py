"""The container process with real rclpy: messages, names, diagnostics, errors, shutdown.

Each test starts ``container`` as a subprocess on its own ROS_DOMAIN_ID and talks to it from a
plain rclpy node (the probe) that uses the classes colcon generated from ``msg/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ros_test_components import plain, sample_array, sample_frame
from ros_test_support import START_TIMEOUT_S, ContainerProcess, Probe, rosidl_from_plain

from v2x_runtime import messages as m

pytestmark = pytest.mark.ros
TALKER = 'ros_test_components:ArrayTalker'


def until(probe: Probe, container: ContainerProcess, condition: Any, what: str) -> None:
    """Spin until ``condition()``; fail at once (with the log) if the container exits."""

    def done() -> bool:
        if container.proc.poll() is not None:
            raise AssertionError(
                f'container exited ({container.proc.returncode}):\n{container.log()}'
            )
        return bool(condition())

    try:
        probe.spin_until(done, START_TIMEOUT_S, what)
    except AssertionError as err:
        raise AssertionError(f'{err}\ncontainer log:\n{container.log()}') from None


def diagnostics_of(arrays: list[Any], name: str) -> dict[str, str] | None:
    """Key/values of the newest status called ``name`` in received DiagnosticArrays."""
    for array in reversed(arrays):
        for status in array.status:
            if status.name == name:
                return {kv.key: kv.value for kv in status.values}
    return None


def test_component_messages_reach_a_plain_rclpy_node_with_identical_fields(
    probe: Probe, start_container: Any
) -> None:
    from v2x_stack.msg import ParticipantArray, V2xFrame

    arrays = probe.collect(ParticipantArray, '/test/objects')
    frames = probe.collect(V2xFrame, '/test/v2x/tx')
    container = start_container({'talker': {'plugin': TALKER, 'parameters': {'rate_hz': 20.0}}})
    until(probe, container, lambda: len(arrays) >= 3 and len(frames) >= 3, 'messages')

    for received in arrays:
        seq = int(received.header.frame_id.removeprefix('seq-'))
        expected = sample_array(seq, m.to_ns(received.header.stamp))
        assert len(received.participants) == 3
        assert plain(received) == plain(expected)
    for received in frames:
        expected = sample_frame(int(received.source_id, 16), m.to_ns(received.header.stamp))
        assert plain(received) == plain(expected)
    assert container.interrupt() == 0


def test_plain_rclpy_message_reaches_a_component_with_identical_fields(
    probe: Probe, start_container: Any
) -> None:
    """A natively built rclpy V2xFrame → component (decodes, re-encodes) → identical fields."""
    from v2x_stack.msg import V2xFrame

    echoed = probe.collect(V2xFrame, '/test/frames_out')
    publisher = probe.node.create_publisher(V2xFrame, '/test/frames_in', 10)
    container = start_container({'echo': {'plugin': 'ros_test_components:Echo'}})
    probe.wait_for_subscriber(publisher)
    sent = [rosidl_from_plain(V2xFrame, plain(sample_frame(seq, 10**9 + seq))) for seq in (1, 2)]

    def published_and_echoed() -> bool:
        publisher.publish(sent[len(echoed) % 2])
        return len(echoed) >= 2

    until(probe, container, published_and_echoed, 'echoed frames')
    for frame in echoed:
        assert plain(frame) == plain(sent[frame.header.stamp.nanosec - 1])
    assert container.interrupt() == 0


def test_namespace_from_ros_args_and_remapping_from_topology(
    probe: Probe, start_container: Any
) -> None:
    from diagnostic_msgs.msg import DiagnosticArray
    from v2x_stack.msg import ParticipantArray, V2xFrame

    remapped = probe.collect(ParticipantArray, '/shared/objects')
    frames = probe.collect(V2xFrame, '/other/v2x/tx')
    diagnostics = probe.collect(DiagnosticArray, '/other/diagnostics')
    component = {'plugin': TALKER, 'remappings': {'objects': '/shared/objects'}}
    container = start_container(
        {'talker': component}, namespace='ignored', ros_args=('-r', '__ns:=/other')
    )
    until(
        probe,
        container,
        lambda: remapped and frames and diagnostics_of(diagnostics, '/other/talker'),
        'remapped and namespaced topics',
    )
    assert probe.node.count_publishers('/ignored/v2x/tx') == 0
    assert container.interrupt() == 0


def test_diagnostics_count_handler_exceptions_and_malformed_input(
    probe: Probe, start_container: Any
) -> None:
    from diagnostic_msgs.msg import DiagnosticArray
    from v2x_stack.msg import V2xFrame

    diagnostics = probe.collect(DiagnosticArray, '/test/diagnostics')
    publisher = probe.node.create_publisher(V2xFrame, '/test/frames_in', 10)
    container = start_container(
        {
            'talker': {'plugin': TALKER, 'parameters': {'rate_hz': 10.0}},
            'faulty': {'plugin': 'ros_test_components:Faulty'},
        }
    )
    probe.wait_for_subscriber(publisher)
    good = rosidl_from_plain(V2xFrame, plain(sample_frame(1, 0)))
    publisher.publish(V2xFrame())  # no payload: the handler raises
    publisher.publish(b'\x00\x01\x00\x00\x07')  # truncated CDR: rejected as malformed
    publisher.publish(good)

    def counted() -> bool:
        values = diagnostics_of(diagnostics, '/test/faulty')
        talker = diagnostics_of(diagnostics, '/test/talker')
        return values is not None and values.get('received') == '1' and talker is not None

    until(probe, container, counted, 'faulty diagnostics after three inputs')
    faulty = diagnostics_of(diagnostics, '/test/faulty')
    assert faulty == {'handler_exceptions': '1', 'received': '1', 'rejected.malformed': '1'}
    # the newest status, as diagnostics_of reads (an older one may predate the inputs)
    status = next(s for a in reversed(diagnostics) for s in a.status if s.name == '/test/faulty')
    assert status.level == b'\x01' and status.message == '1 inputs rejected'
    talker = diagnostics_of(diagnostics, '/test/talker')
    assert talker is not None and int(talker['published']) > 0
    assert container.interrupt() == 0
    log = container.log()
    assert "handler raised ValueError('frame without payload')" in log
    assert 'Traceback' in log  # the handler's traceback is logged...
    assert 'rejected (malformed): /test/frames_in: cannot deserialize' in log


def test_fail_fast_exits_on_the_first_handler_exception(probe: Probe, start_container: Any) -> None:
    from v2x_stack.msg import V2xFrame

    publisher = probe.node.create_publisher(V2xFrame, '/test/frames_in', 10)
    container = start_container({'faulty': {'plugin': 'ros_test_components:Faulty'}}, '--fail-fast')
    probe.wait_for_subscriber(publisher)

    def published_until_exit() -> bool:
        publisher.publish(V2xFrame())
        return container.proc.poll() is not None

    probe.spin_until(published_until_exit, START_TIMEOUT_S, 'the container to exit')
    assert container.proc.returncode == 1, container.log()
    assert 'frame without payload' in container.log()


def test_installed_container_stops_components_in_order_on_one_sigint(
    probe: Probe, start_container: Any, tmp_path: Path
) -> None:
    from v2x_stack.msg import Warning

    marker = tmp_path / 'marker.txt'
    alive = probe.collect(Warning, '/test/alive')
    params = {'marker_path': str(marker)}
    container = start_container(
        {
            'first': {'plugin': 'ros_test_components:Marker', 'parameters': params},
            'second': {'plugin': 'ros_test_components:Marker', 'parameters': params},
        },
        installed=True,
    )
    until(probe, container, lambda: {w.text for w in alive} == {'first', 'second'}, 'both alive')
    assert container.interrupt() == 0
    assert marker.read_text().splitlines() == [
        'start first',
        'start second',
        'stop second',
        'stop first',
    ]
    assert 'Traceback' not in container.log()


@pytest.mark.parametrize(
    ('components', 'args', 'message'),
    [
        (
            {'talker': {'plugin': TALKER, 'parameters': {'bogus': 1}}},
            (),
            'processes.main.components.talker.parameters: /test/talker: unknown parameter(s) bogus',
        ),
        (
            {'talker': {'plugin': TALKER}},
            ('--set', 'talker.rate_hz=5000.0'),
            'processes.main.components.talker.parameters: rate_hz: 5000.0 is outside',
        ),
        (
            {'talker': {'plugin': TALKER}},
            ('--ros-args', '-p', 'rate_hz:=0.01'),
            'processes.main.components.talker.parameters: /test/talker: parameter rate_hz: '
            'Invalid parameter value (0.01)',
        ),
        (
            {'talker': {'plugin': TALKER}},
            ('--ros-args', '-p', 'rate_hz:=5'),
            "parameter rate_hz: ROS override has the wrong type: Trying to set parameter 'rate_hz'",
        ),
        ({'talker': {'plugin': TALKER}}, ('--ros-args', '-p'), 'invalid ROS arguments'),
    ],
)
def test_configuration_errors_exit_2_naming_file_component_and_field(
    start_container: Any, components: dict[str, Any], args: tuple[str, ...], message: str
) -> None:
    container = start_container(components, *args)
    assert container.wait() == 2, container.log()
    assert message in container.log()
    assert 'Traceback' not in container.log()

"""``use_sim_time``: a component's timers and ``now_ns`` follow ``/clock`` in a container.

The second test starts the container exactly as the launch files do (the arguments of
``v2x_runtime.launch_plan`` plus what ``launch_ros`` adds: ``__ns`` and a parameter file), so the
contract between the launch files and the container is checked without ``launch``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ros_test_support import START_TIMEOUT_S, ContainerProcess, Probe, write_topology

from v2x_runtime import messages as m

pytestmark = pytest.mark.ros
SIM_START_NS = 1_000 * 10**9
STEP_NS = 100_000_000
CLOCKED = 'ros_test_components:Clocked'


def drive_clock(probe: Probe, container: ContainerProcess, done: Callable[[], bool]) -> list[int]:
    """Publish /clock from 1000 s in 0.1 s steps until ``done()``; the times published."""
    from builtin_interfaces.msg import Time
    from rosgraph_msgs.msg import Clock

    clock = probe.node.create_publisher(Clock, '/clock', 10)
    probe.wait_for_subscriber(clock)
    published: list[int] = []

    def advance() -> bool:
        if container.proc.poll() is not None:
            raise AssertionError(f'container exited:\n{container.log()}')
        now_ns = SIM_START_NS + len(published) * STEP_NS
        sec, nanosec = divmod(now_ns, 10**9)
        clock.publish(Clock(clock=Time(sec=sec, nanosec=nanosec)))
        published.append(now_ns)
        probe.executor.spin_once(timeout_sec=0.02)
        return done()

    probe.spin_until(advance, START_TIMEOUT_S, 'ticks on simulated time')
    return published


def test_timers_and_now_follow_the_clock_topic(probe: Probe, start_container: Any) -> None:
    from diagnostic_msgs.msg import DiagnosticArray
    from v2x_stack.msg import Warning

    ticks = probe.collect(Warning, '/test/ticks')
    diagnostics = probe.collect(DiagnosticArray, '/test/diagnostics')
    container = start_container(
        {'clocked': {'plugin': CLOCKED, 'parameters': {'period_s': 0.5}}},
        ros_args=('-p', 'use_sim_time:=true'),
    )
    published = drive_clock(probe, container, lambda: len(ticks) >= 4 and bool(diagnostics))
    stamps = [m.to_ns(t.header.stamp) for t in ticks]
    assert all(s in published for s in stamps), (stamps, published[:3], published[-1])
    assert stamps == sorted(stamps)
    # The first tick comes with the jump from time 0 to the first /clock; rcl then fires once per
    # period deadline at most (skipping missed ones), so n ticks span more than n - 2 periods.
    assert stamps[-1] - stamps[0] > (len(stamps) - 2) * 500_000_000, stamps
    assert [t.text for t in ticks[:2]] == ['tick 1', 'tick 2']
    assert all(m.to_ns(d.header.stamp) in published for d in diagnostics)
    assert container.interrupt() == 0


def test_container_runs_with_the_arguments_of_the_launch_plan(
    probe: Probe, start_container: Any, tmp_path: Path
) -> None:
    import yaml
    from rclpy.parameter import parameter_value_to_python
    from rclpy.parameter_client import AsyncParameterClient
    from v2x_stack.msg import Warning

    from v2x_runtime.launch_plan import plan_processes

    config = write_topology(
        tmp_path / 'planned.yaml', {'clocked': {'plugin': CLOCKED}}, namespace='unused'
    )
    (plan,) = plan_processes(
        config,
        namespace='/launched',
        overrides={'clocked': {'period_s': 0.2}},
        use_sim_time=True,
        log_level='debug',
    )
    params_file = tmp_path / 'params.yaml'  # what launch_ros writes for `parameters=`
    params_file.write_text(yaml.safe_dump({'/**': {'ros__parameters': plan.parameters[0]}}))
    ticks = probe.collect(Warning, '/launched/ticks')
    container = start_container.spawn(
        [
            *plan.arguments,
            '--ros-args',
            '-r',
            f'__ns:={plan.namespace}',
            *plan.ros_arguments,
            '--params-file',
            str(params_file),
        ]
    )
    published = drive_clock(probe, container, lambda: len(ticks) >= 3)
    assert all(m.to_ns(t.header.stamp) in published for t in ticks)
    client = AsyncParameterClient(probe.node, '/launched/clocked')
    probe.spin_until(client.services_are_ready, START_TIMEOUT_S, 'the parameter services')
    response = probe.spin_future(
        client.get_parameters(['period_s', 'use_sim_time']), 30.0, 'the parameters'
    )
    assert [parameter_value_to_python(v) for v in response.values] == [0.2, True]
    assert container.interrupt() == 0
    assert '[DEBUG]' in container.log()

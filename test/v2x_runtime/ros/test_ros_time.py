"""``use_sim_time``: a component's timers and ``now_ns`` follow ``/clock`` in a container."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from ros_test_support import START_TIMEOUT_S, Probe

from v2x_runtime import messages as m

pytestmark = pytest.mark.ros
SIM_START_NS = 1_000 * 10**9
STEP_NS = 100_000_000


def test_timers_and_now_follow_the_clock_topic(probe: Probe, start_container: Any) -> None:
    from diagnostic_msgs.msg import DiagnosticArray
    from rosgraph_msgs.msg import Clock
    from v2x_stack.msg import Warning

    ticks = probe.collect(Warning, '/test/ticks')
    diagnostics = probe.collect(DiagnosticArray, '/test/diagnostics')
    clock = probe.node.create_publisher(Clock, '/clock', 10)
    container = start_container(
        {'clocked': {'plugin': 'ros_test_components:Clocked', 'parameters': {'period_s': 0.5}}},
        ros_args=('-p', 'use_sim_time:=true'),
    )
    probe.wait_for_subscriber(clock)
    published: list[int] = []

    def advance() -> bool:
        if container.proc.poll() is not None:
            raise AssertionError(f'container exited:\n{container.log()}')
        now_ns = SIM_START_NS + len(published) * STEP_NS
        clock.publish(Clock(clock=_time(now_ns)))
        published.append(now_ns)
        probe.executor.spin_once(timeout_sec=0.02)
        return len(ticks) >= 4 and bool(diagnostics)

    probe.spin_until(advance, START_TIMEOUT_S, 'ticks on simulated time')
    stamps = [m.to_ns(t.header.stamp) for t in ticks]
    assert all(s in published for s in stamps), (stamps, published[:3], published[-1])
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(gap >= 500_000_000 - STEP_NS for gap in gaps), gaps
    assert [t.text for t in ticks[:2]] == ['tick 1', 'tick 2']
    assert all(m.to_ns(d.header.stamp) in published for d in diagnostics)
    assert container.interrupt() == 0


def _time(ns: int) -> Any:
    from builtin_interfaces.msg import Time

    sec, nanosec = divmod(ns, 10**9)
    return Time(sec=sec, nanosec=nanosec)

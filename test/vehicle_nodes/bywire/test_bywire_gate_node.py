"""CommandGate in the embedded runtime: arbitration and watchdog on the runtime's clock."""

from __future__ import annotations

import math

import pytest

from v2x_runtime import ParameterError
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.bywire import CommandGate
from vehicle_nodes.bywire.convert import command_to_msg, gated_from_msg, status_to_msg
from vehicle_nodes.bywire.values import MODE_AUTONOMOUS, MODE_STANDBY, Command, GateState, Status

MS = 1_000_000
PARAMS = {
    'sources': ['planner', 'joystick'],
    'priorities': [1, 9],
    'timeouts_s': [0.2, 0.1],
}


class Harness:
    def __init__(self, **params: object) -> None:
        self.rt = EmbeddedRuntime(seed=3, fail_fast=True)
        self.gate = self.rt.add_component(CommandGate, name='gate', parameters={**PARAMS, **params})
        self.out: list[tuple[int, object]] = []
        self.rt.subscribe(
            '/control/gated_command',
            'v2x_stack/msg/ControlCommand',
            lambda msg: self.out.append((self.rt.now_ns(), gated_from_msg(msg))),
        )
        self.speed = 5.0
        self.rt.add_timer(10 * MS, self._status, None)

    def _status(self) -> None:
        now = self.rt.now_ns()
        # the kit engages (standby → autonomous) once the sources are up, as a real one does
        mode = MODE_STANDBY if now < 50 * MS else MODE_AUTONOMOUS
        status = Status(stamp_ns=now, speed_mps=self.speed, mode=mode)
        self.rt.publish('/vehicle/status', status_to_msg(status))

    def source(self, name: str, period_ms: int, until_ms: int, accel: float) -> None:
        def send() -> None:
            now = self.rt.now_ns()
            if now <= until_ms * MS:
                self.rt.publish('/control/command', command_to_msg(Command(name, now, accel, 0.0)))

        self.rt.add_timer(period_ms * MS, send, None)

    def at(self, t_ms: int):  # type: ignore[no-untyped-def]
        return next(out for t, out in self.out if t == t_ms * MS)

    def counters(self):  # type: ignore[no-untyped-def]
        return self.rt.contexts[0].diagnostics.counters


def test_arbitration_and_watchdog_timing_on_the_runtime_clock() -> None:
    h = Harness()
    h.source('planner', 20, 2000, 0.5)
    h.source('joystick', 20, 1000, -0.5)
    h.rt.run(duration_s=3.0)
    assert len(h.out) == 300  # one gated command every 10 ms, whatever happens
    assert h.at(500).source == 'joystick' and h.at(500).state is GateState.AUTONOMOUS
    # the joystick's last command is stamped 1000 ms, its timeout 100 ms
    assert h.at(1100).source == 'joystick'
    assert h.at(1110).source == 'planner'
    # the planner's last command is stamped 2000 ms, its timeout 200 ms: then the safe stop
    assert h.at(2200).state is GateState.AUTONOMOUS
    assert h.at(2210).state is GateState.SAFE_STOP and h.at(2210).hazard_lights
    assert h.counters()['event.source_lost'] == 2
    assert h.counters()['event.safe_stop_no_source'] == 1
    h.rt.close()


def test_bad_inputs_are_rejected_and_counted() -> None:
    h = Harness()
    h.source('planner', 20, 5000, 0.5)
    bad = [
        Command('planner', 0, math.nan, 0.0),
        Command('stranger', 0, 0.0, 0.0),
        Command('planner', 0, 99.0, 0.0),
        Command('planner', 10**12, 0.0, 0.0),  # from the future
    ]

    def inject() -> None:
        now = h.rt.now_ns()
        for cmd in bad:
            stamp = cmd.stamp_ns if cmd.stamp_ns else now
            h.rt.publish(
                '/control/command',
                command_to_msg(Command(cmd.source, stamp, cmd.acceleration_mps2, 0.0)),
            )
        h.rt.publish('/control/command', command_to_msg(Command('planner', now - 10**9, 0.1, 0.0)))

    h.rt.add_timer(500 * MS, inject, None)
    diags = []
    h.rt.subscribe('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', diags.append)
    h.rt.run(duration_s=1.2)
    c = h.counters()
    assert c['rejected.not_finite'] == 2
    assert c['rejected.unknown_source'] == 2
    assert c['rejected.out_of_range'] == 2
    assert c['rejected.future_stamp'] == 2
    assert c['rejected.stale'] == 2
    # the gate went on: every output inside the limits, control never lost
    assert all(out.state is GateState.AUTONOMOUS for t, out in h.out if t > 50 * MS)
    assert all(-6.0 <= out.acceleration_mps2 <= 2.0 for _, out in h.out)
    values = {kv.key: kv.value for kv in diags[-1].status[0].values}
    assert int(values['rejected.not_finite']) >= 1  # reported on the diagnostics topic too
    h.rt.close()


def test_estop_latches_over_topics_until_reset() -> None:
    h = Harness()
    h.source('planner', 10, 5000, 1.0)
    h.rt.add_timer(
        300 * MS,
        lambda: h.rt.publish(
            '/control/estop', m.new('std_msgs/msg/Bool', data=h.rt.now_ns() < 400 * MS)
        ),
        None,
    )
    h.rt.run(duration_s=2.0)
    assert h.at(290).state is GateState.AUTONOMOUS
    # the e-stop arrives at 300 ms, after that cycle's command: from the next one on
    assert all(out.state is GateState.ESTOP for t, out in h.out if t > 300 * MS)
    assert h.at(1990).acceleration_mps2 == pytest.approx(-6.0)
    h.rt.publish('/control/estop_reset', m.new('std_msgs/msg/Empty'))
    h.rt.run(duration_s=0.1)
    assert h.out[-1][1].state is GateState.AUTONOMOUS
    h.rt.close()


def test_configuration_errors_fail_at_start() -> None:
    rt = EmbeddedRuntime()
    with pytest.raises(ParameterError, match='g1: .*same length'):
        rt.add_component(
            CommandGate,
            name='g1',
            parameters={'sources': ['a'], 'priorities': [1, 2], 'timeouts_s': [0.1]},
        )
    with pytest.raises(ParameterError, match='g2: .*distinct'):
        rt.add_component(
            CommandGate,
            name='g2',
            parameters={'sources': ['a', 'b'], 'priorities': [1, 1], 'timeouts_s': [0.1, 0.1]},
        )
    with pytest.raises(ParameterError, match='max_accel_mps2'):
        rt.add_component(CommandGate, name='g3', parameters={'max_accel_mps2': 50.0})
    rt.close()

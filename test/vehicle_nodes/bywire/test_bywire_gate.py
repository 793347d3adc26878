"""The pure gate, stepped on explicit time stamps."""

from __future__ import annotations

import itertools
import math

import pytest

from vehicle_nodes.bywire.errors import GateConfigError
from vehicle_nodes.bywire.gate import Gate, GateConfig, SourceConfig
from vehicle_nodes.bywire.limits import Limits
from vehicle_nodes.bywire.values import (
    FAULT_ACTUATOR,
    GEAR_DRIVE,
    GEAR_NONE,
    GEAR_REVERSE,
    MODE_AUTONOMOUS,
    MODE_MANUAL,
    MODE_STANDBY,
    Command,
    GateState,
    Status,
)

MS = 1_000_000
SOURCES = (
    SourceConfig('planner', 10, 0.2),
    SourceConfig('v2x', 20, 0.2),
    SourceConfig('joystick', 40, 0.1),
)


def make_gate(**overrides: object) -> Gate:
    return Gate(GateConfig(sources=SOURCES, **overrides))  # type: ignore[arg-type]


def status(t_ns: int, *, speed: float = 5.0, mode: int = MODE_AUTONOMOUS, **kw: object) -> Status:
    return Status(stamp_ns=t_ns, speed_mps=speed, mode=mode, **kw)  # type: ignore[arg-type]


def cmd(source: str, t_ns: int, accel: float = 1.0, steer: float = 0.0, **kw: object) -> Command:
    return Command(source, t_ns, accel, steer, **kw)  # type: ignore[arg-type]


def run(gate: Gate, t0: int, t1: int, *, feed=None, period=10 * MS):  # type: ignore[no-untyped-def]
    outs = []
    for t in range(t0, t1, period):
        if feed is not None:
            feed(t)
        outs.append(gate.step(t))
    return outs


def test_highest_priority_fresh_source_wins_then_hands_over_on_timeout() -> None:
    gate = make_gate()

    def feed(t: int) -> None:
        gate.on_status(status(t), t)
        gate.on_command(cmd('planner', t, 0.5), t)
        if t < 500 * MS:
            gate.on_command(cmd('joystick', t, -0.5), t)

    outs = run(gate, 0, 1000 * MS, feed=feed)
    by_time = {o.stamp_ns: o for o in outs}
    assert by_time[400 * MS].source == 'joystick'
    # the joystick's last command is stamped 490 ms, its timeout is 100 ms: it rules until 590 ms
    assert by_time[590 * MS].source == 'joystick'
    assert by_time[600 * MS].source == 'planner'
    assert 'source_lost:joystick' in by_time[600 * MS].events
    assert all(o.state is GateState.AUTONOMOUS for o in outs)


def test_all_sources_stale_starts_safe_stop_at_the_timeout() -> None:
    gate = make_gate()

    def feed(t: int) -> None:
        gate.on_status(status(t, speed=10.0), t)
        if t <= 300 * MS:
            gate.on_command(cmd('planner', t, 1.0), t)

    outs = {o.stamp_ns: o for o in run(gate, 0, 800 * MS, feed=feed)}
    assert outs[500 * MS].state is GateState.AUTONOMOUS  # 300 ms + 200 ms timeout
    assert outs[510 * MS].state is GateState.SAFE_STOP
    assert 'safe_stop_no_source' in outs[510 * MS].events
    assert outs[510 * MS].hazard_lights and outs[510 * MS].enable


def test_safe_stop_ramp_profile() -> None:
    cfg = GateConfig(sources=SOURCES, safe_stop_decel_mps2=3.0, safe_stop_jerk_mps3=2.5)
    gate = Gate(cfg)
    speed = 8.0
    accel_out = []
    t = 0
    gate.on_command(cmd('planner', 0, 1.0), 0)
    while t < 12_000 * MS:
        gate.on_status(status(t, speed=speed), t)
        out = gate.step(t)
        accel_out.append((t, out))
        speed = max(0.0, speed + out.acceleration_mps2 * 0.01)
        t += 10 * MS
    ramp = [(t, o) for t, o in accel_out if o.state is GateState.SAFE_STOP]
    assert ramp and ramp[0][0] == 210 * MS  # command at 0 stays fresh for 200 ms
    first_a = accel_out[len(accel_out) - len(ramp) - 1][1].acceleration_mps2
    descending = True
    for i, (_, o) in enumerate(ramp):
        assert o.hazard_lights and o.enable and o.steering_angle_rad == 0.0
        if descending and o.acceleration_mps2 > -3.0 + 1e-9:
            # the ramp: down from the last command at exactly the safe-stop jerk
            assert o.acceleration_mps2 == pytest.approx(first_a - 2.5 * 0.01 * (i + 1))
        else:
            descending = False
    accels = [o.acceleration_mps2 for _, o in ramp]
    assert min(accels) == pytest.approx(-3.0)  # bounded deceleration
    assert speed == 0.0
    # at standstill it holds the brake (standstill_hold_decel) with hazards on
    assert accels[-1] == pytest.approx(-1.0)
    steps = [b - a for a, b in itertools.pairwise(accels)]
    assert max(abs(s) for s in steps) <= 2.5 * 0.01 + 1e-9


def test_safe_stop_latches_until_standstill_and_a_fresh_source() -> None:
    gate = make_gate()
    gate.on_status(status(0, speed=5.0), 0)
    assert gate.step(0).state is GateState.SAFE_STOP  # autonomous with no source
    t = 10 * MS
    gate.on_status(status(t, speed=5.0), t)
    gate.on_command(cmd('planner', t), t)
    assert gate.step(t).state is GateState.SAFE_STOP  # a source is back, but still moving
    t = 20 * MS
    gate.on_status(status(t, speed=0.0), t)
    gate.on_command(cmd('planner', t), t)
    out = gate.step(t)
    assert out.state is GateState.AUTONOMOUS and out.source == 'planner'


def test_estop_latches_until_reset() -> None:
    gate = make_gate()
    outs = []
    for i in range(200):
        t = i * 10 * MS
        gate.on_status(status(t, speed=10.0), t)
        gate.on_command(cmd('planner', t, 1.0), t)
        if i == 10:
            gate.on_estop(True, t)
        if i == 20:
            gate.on_estop(False, t)  # releasing the button does not clear the latch
        if i == 150:
            gate.on_estop_reset(t)
        outs.append(gate.step(t))
    assert outs[9].state is GateState.AUTONOMOUS
    assert all(o.state is GateState.ESTOP for o in outs[10:150])
    assert outs[149].acceleration_mps2 == pytest.approx(-6.0)  # strongest allowed braking
    assert all(o.hazard_lights for o in outs[10:150])
    assert outs[150].state is GateState.AUTONOMOUS


def test_driver_override_and_modes() -> None:
    gate = make_gate()
    gate.on_command(cmd('planner', 0), 0)
    gate.on_status(status(0, mode=MODE_MANUAL, acceleration_mps2=0.3, steering_angle_rad=0.1), 0)
    out = gate.step(0)
    assert out.state is GateState.MANUAL and not out.enable
    assert out.acceleration_mps2 == pytest.approx(0.3)  # tracks the vehicle: no jump later
    gate.on_status(status(10 * MS, mode=MODE_STANDBY), 10 * MS)
    gate.on_command(cmd('planner', 10 * MS), 10 * MS)
    out = gate.step(10 * MS)
    assert out.state is GateState.STANDBY and out.enable and out.source == 'planner'
    gate.on_status(status(20 * MS), 20 * MS)
    gate.on_command(cmd('planner', 20 * MS), 20 * MS)
    assert gate.step(20 * MS).state is GateState.AUTONOMOUS
    gate.on_status(status(30 * MS, driver_override=True), 30 * MS)
    gate.on_command(cmd('planner', 30 * MS), 30 * MS)
    out = gate.step(30 * MS)
    assert out.state is GateState.MANUAL and not out.enable
    assert 'driver_override' in out.events


def test_stale_status_or_fault_in_autonomous_triggers_safe_stop() -> None:
    gate = make_gate()
    gate.on_status(status(0), 0)
    outs = {}
    for t in range(0, 300 * MS, 10 * MS):
        gate.on_command(cmd('planner', t), t)
        outs[t] = gate.step(t)
    assert outs[100 * MS].state is GateState.AUTONOMOUS
    assert outs[110 * MS].state is GateState.SAFE_STOP  # the status is older than 100 ms
    assert 'safe_stop_fault' in outs[110 * MS].events and gate.safe_stop_latched
    gate2 = make_gate()
    gate2.on_status(status(0, faults=FAULT_ACTUATOR), 0)
    gate2.on_command(cmd('planner', 0), 0)
    assert gate2.step(0).state is GateState.SAFE_STOP


def test_gear_change_only_at_standstill() -> None:
    gate = make_gate()
    gate.on_status(status(0, speed=3.0, gear=GEAR_DRIVE), 0)
    gate.on_command(cmd('planner', 0, gear=GEAR_REVERSE), 0)
    out = gate.step(0)
    assert out.gear == GEAR_NONE and 'gear_refused_moving' in out.events
    gate.on_status(status(10 * MS, speed=0.0, gear=GEAR_DRIVE), 10 * MS)
    gate.on_command(cmd('planner', 10 * MS, gear=GEAR_REVERSE), 10 * MS)
    assert gate.step(10 * MS).gear == GEAR_REVERSE


@pytest.mark.parametrize(
    ('command', 'reason'),
    [
        (cmd('nobody', 0), 'unknown_source'),
        (cmd('planner', 0, math.nan), 'not_finite'),
        (cmd('planner', 0, 0.0, math.inf), 'not_finite'),
        (cmd('planner', 0, 50.0), 'out_of_range'),
        (cmd('planner', 0, 0.0, 2.0), 'out_of_range'),
        (cmd('planner', 0, gear=9), 'out_of_range'),
        (cmd('planner', 1000 * MS), 'future_stamp'),
        (cmd('planner', -500 * MS), 'stale'),
    ],
)
def test_bad_commands_are_rejected_with_a_reason(command: Command, reason: str) -> None:
    gate = make_gate()
    rejection = gate.on_command(command, 0)
    assert rejection is not None and rejection.reason == reason
    assert rejection.detail


def test_out_of_order_and_duplicate_stamps_are_rejected() -> None:
    gate = make_gate()
    assert gate.on_command(cmd('planner', 50 * MS), 60 * MS) is None
    assert gate.on_command(cmd('planner', 40 * MS), 60 * MS).reason == 'out_of_order'  # type: ignore[union-attr]
    assert gate.on_command(cmd('planner', 50 * MS), 60 * MS).reason == 'out_of_order'  # type: ignore[union-attr]
    assert gate.on_status(status(10 * MS), 20 * MS) is None
    assert gate.on_status(status(5 * MS), 20 * MS).reason == 'out_of_order'  # type: ignore[union-attr]
    bad = gate.on_status(Status(stamp_ns=30 * MS, speed_mps=math.nan), 30 * MS)
    assert bad is not None and bad.reason == 'not_finite'
    assert gate.on_status(status(40 * MS, mode=7), 40 * MS).reason == 'out_of_range'  # type: ignore[union-attr]


def test_clock_going_backwards_holds_the_output() -> None:
    gate = make_gate()
    gate.on_status(status(100 * MS), 100 * MS)
    gate.on_command(cmd('planner', 100 * MS, 2.0), 100 * MS)
    first = gate.step(100 * MS)
    back = gate.step(50 * MS)
    assert 'clock_backwards' in back.events
    assert back.acceleration_mps2 == first.acceleration_mps2


@pytest.mark.parametrize(
    ('kwargs', 'match'),
    [
        ({'sources': ()}, 'sources is empty'),
        ({'sources': (SourceConfig('a', 1, 0.1), SourceConfig('a', 2, 0.1))}, 'unique'),
        ({'sources': (SourceConfig('a', 1, 0.1), SourceConfig('b', 1, 0.1))}, 'distinct'),
        ({'sources': (SourceConfig('a', 1, 0.0),)}, 'timeout_s'),
        ({'sources': SOURCES, 'safe_stop_decel_mps2': 9.0}, 'safe_stop_decel_mps2'),
        ({'sources': SOURCES, 'safe_stop_jerk_mps3': 50.0}, 'safe_stop_jerk_mps3'),
        ({'sources': SOURCES, 'status_timeout_s': -1.0}, 'status_timeout_s'),
        ({'sources': SOURCES, 'future_tolerance_s': math.nan}, 'future_tolerance_s'),
        ({'sources': SOURCES, 'standstill_hold_decel_mps2': 7.0}, 'standstill_hold'),
    ],
)
def test_config_errors_name_the_field(kwargs: dict, match: str) -> None:
    with pytest.raises(GateConfigError, match=match):
        GateConfig(**kwargs)


def test_limits_errors_and_steer_envelope() -> None:
    with pytest.raises(GateConfigError, match='max_jerk_mps3'):
        Limits(max_jerk_mps3=0.0)
    with pytest.raises(GateConfigError, match='max_steer_rad'):
        Limits(max_steer_rad=2.0)
    lim = Limits(max_steer_rad=0.6, max_lat_accel_mps2=3.0, wheelbase_m=2.8)
    assert lim.steer_limit_rad(0.0) == 0.6
    for v in (5.0, 10.0, 30.0):
        d = lim.steer_limit_rad(v)
        assert v * v * math.tan(d) / 2.8 <= 3.0 + 1e-9
    assert lim.steer_limit_rad(30.0) == pytest.approx(math.atan(3.0 * 2.8 / 900.0))

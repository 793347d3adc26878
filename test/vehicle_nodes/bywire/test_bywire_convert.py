"""Round trips of the by-wire conversions (values ↔ ControlCommand / VehicleStatus), through CDR."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v2x_runtime import messages as m
from vehicle_nodes.bywire.convert import (
    CONTROL_COMMAND,
    VEHICLE_STATUS,
    command_from_msg,
    command_to_msg,
    gated_from_msg,
    gated_to_msg,
    status_from_msg,
    status_to_msg,
)
from vehicle_nodes.bywire.errors import FrameError
from vehicle_nodes.bywire.values import Command, GateOutput, GateState, Status

finite = st.floats(-50.0, 50.0, allow_nan=False)
uint8 = st.integers(0, 255)
stamps = st.integers(0, 2**60)  # builtin_interfaces/Time: int32 seconds


def through_cdr(msg: Any, msgtype: str) -> Any:
    return m.deserialize(m.serialize(msg), msgtype)


@settings(deadline=None)  # the first example registers the message types
@given(st.text(max_size=8), stamps, finite, finite, uint8, st.booleans(), st.booleans())
def test_command_round_trip(
    source: str, stamp: int, accel: float, steer: float, gear: int, left: bool, hazard: bool
) -> None:
    cmd = Command(source, stamp, accel, steer, gear, hazard, left, not left)
    assert command_from_msg(through_cdr(command_to_msg(cmd), CONTROL_COMMAND)) == cmd


@settings(deadline=None)
@given(stamps, finite, finite, uint8, uint8, st.booleans(), uint8, uint8)
def test_status_round_trip(
    stamp: int, speed: float, yaw: float, gear: int, mode: int, flag: bool, lights: int, faults: int
) -> None:
    status = Status(stamp, speed, -speed, yaw, yaw / 2, gear, mode, flag, not flag, lights, faults)
    assert status_from_msg(through_cdr(status_to_msg(status), VEHICLE_STATUS)) == status


@pytest.mark.parametrize(
    ('state', 'source', 'enable'),
    [
        (GateState.MANUAL, '', False),
        (GateState.STANDBY, '', False),
        (GateState.STANDBY, 'planner', True),
        (GateState.AUTONOMOUS, 'planner', True),
        (GateState.SAFE_STOP, '', True),
        (GateState.ESTOP, '', True),
    ],
)
def test_gated_round_trip_carries_the_state_in_source(
    state: GateState, source: str, enable: bool
) -> None:
    out = GateOutput(7, state, enable, -1.5, 0.1, 4, True, False, True, source, ('event',))
    back = gated_from_msg(through_cdr(gated_to_msg(out), CONTROL_COMMAND))
    assert back == replace(out, events=())  # events are not carried


def test_gated_from_msg_names_the_bad_state() -> None:
    msg = command_to_msg(Command('planner', 0, 0.0, 0.0))
    with pytest.raises(FrameError, match="'planner'.*state in"):
        gated_from_msg(msg)

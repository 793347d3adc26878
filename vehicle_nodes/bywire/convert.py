"""Conversions between the project's ROS messages and the gate's plain values, in pairs.

``control/gated_command`` reuses ``ControlCommand``; having no enable flag, it carries the gate
state in ``source``: ``<state>`` or ``<state>:<winning source>`` (``autonomous:planner``,
``safe_stop``, ``estop``, ``standby:planner``...). The kit is enabled in every state but
``manual``, and in ``standby`` only with a winning source (an engagement request).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from v2x_runtime import messages as m
from vehicle_nodes.bywire.errors import FrameError
from vehicle_nodes.bywire.values import Command, GateOutput, GateState, Status

CONTROL_COMMAND = 'v2x_stack/msg/ControlCommand'
VEHICLE_STATUS = 'v2x_stack/msg/VehicleStatus'

# The fields a value shares with its message, by name, with the type each is read as. One
# table per message serves both directions and both values carried in ControlCommand.
_COMMAND_FIELDS: dict[str, type] = {
    'acceleration_mps2': float,
    'steering_angle_rad': float,
    'gear': int,
    'hazard_lights': bool,
    'turn_left': bool,
    'turn_right': bool,
}
_STATUS_FIELDS: dict[str, type] = {
    'speed_mps': float,
    'acceleration_mps2': float,
    'yaw_rate_radps': float,
    'steering_angle_rad': float,
    'gear': int,
    'mode': int,
    'driver_override': bool,
    'brake_applied': bool,
    'lights': int,
    'faults': int,
}


def _read(msg: Any, fields: dict[str, type]) -> dict[str, Any]:
    return {name: kind(getattr(msg, name)) for name, kind in fields.items()}


def _write(value: Any, fields: dict[str, type]) -> dict[str, Any]:
    return {name: getattr(value, name) for name in fields}


def command_from_msg(msg: Any) -> Command:
    return Command(
        source=str(msg.source),
        stamp_ns=m.to_ns(msg.header.stamp),
        **_read(msg, _COMMAND_FIELDS),
    )


def command_to_msg(cmd: Command, frame_id: str = 'base_link') -> Any:
    return m.new(
        CONTROL_COMMAND,
        header=m.header(cmd.stamp_ns, frame_id),
        source=cmd.source,
        **_write(cmd, _COMMAND_FIELDS),
    )


def status_from_msg(msg: Any) -> Status:
    return Status(stamp_ns=m.to_ns(msg.header.stamp), **_read(msg, _STATUS_FIELDS))


def status_to_msg(status: Status) -> Any:
    return m.new(
        VEHICLE_STATUS,
        header=m.header(status.stamp_ns, 'base_link'),
        **_write(status, _STATUS_FIELDS),
    )


def gated_to_msg(out: GateOutput) -> Any:
    """The gate's output as a ControlCommand, built directly: one per gate cycle in every
    vehicle (``m.new``'s filling of defaults costs ~4x the message itself)."""
    source = f'{out.state.value}:{out.source}' if out.source else out.state.value
    command, header, time = _classes()
    sec, nanosec = divmod(out.stamp_ns, 1_000_000_000)
    return command(
        header=header(stamp=time(sec=sec, nanosec=nanosec), frame_id='base_link'),
        source=source,
        acceleration_mps2=float(out.acceleration_mps2),
        steering_angle_rad=float(out.steering_angle_rad),
        gear=int(out.gear),
        hazard_lights=bool(out.hazard_lights),
        turn_left=bool(out.turn_left),
        turn_right=bool(out.turn_right),
    )


@cache
def _classes() -> tuple[Any, Any, Any]:
    """ControlCommand, Header, Time (looked up once the types are registered)."""
    return (
        m.msg_class(CONTROL_COMMAND),
        m.msg_class('std_msgs/msg/Header'),
        m.msg_class('builtin_interfaces/msg/Time'),
    )


def gated_from_msg(msg: Any) -> GateOutput:
    """Read a gated command back; raises FrameError when ``source`` names no gate state."""
    state_name, _, source = str(msg.source).partition(':')
    try:
        state = GateState(state_name)
    except ValueError:
        states = [s.value for s in GateState]
        raise FrameError(
            f'gated command source {msg.source!r}: expected <state>[:<source>], state in {states}'
        ) from None
    enable = state is not GateState.MANUAL and (state is not GateState.STANDBY or bool(source))
    return GateOutput(
        stamp_ns=m.to_ns(msg.header.stamp),
        state=state,
        enable=enable,
        source=source,
        **_read(msg, _COMMAND_FIELDS),
    )

"""Conversions between the project's ROS messages and the gate's plain values, in pairs.

``control/gated_command`` reuses ``ControlCommand``; having no enable flag, it carries the gate
state in ``source``: ``<state>`` or ``<state>:<winning source>`` (``autonomous:planner``,
``safe_stop``, ``estop``, ``standby:planner``...). The kit is enabled in every state but
``manual``, and in ``standby`` only with a winning source (an engagement request).
"""

from __future__ import annotations

from typing import Any

from v2x_runtime import messages as m
from vehicle_nodes.bywire.errors import FrameError
from vehicle_nodes.bywire.values import Command, GateOutput, GateState, Status

CONTROL_COMMAND = 'v2x_stack/msg/ControlCommand'
VEHICLE_STATUS = 'v2x_stack/msg/VehicleStatus'


def command_from_msg(msg: Any) -> Command:
    return Command(
        source=str(msg.source),
        stamp_ns=m.to_ns(msg.header.stamp),
        acceleration_mps2=float(msg.acceleration_mps2),
        steering_angle_rad=float(msg.steering_angle_rad),
        gear=int(msg.gear),
        hazard_lights=bool(msg.hazard_lights),
        turn_left=bool(msg.turn_left),
        turn_right=bool(msg.turn_right),
    )


def command_to_msg(cmd: Command, frame_id: str = 'base_link') -> Any:
    return m.new(
        CONTROL_COMMAND,
        header=m.header(cmd.stamp_ns, frame_id),
        source=cmd.source,
        acceleration_mps2=cmd.acceleration_mps2,
        steering_angle_rad=cmd.steering_angle_rad,
        gear=cmd.gear,
        hazard_lights=cmd.hazard_lights,
        turn_left=cmd.turn_left,
        turn_right=cmd.turn_right,
    )


def status_from_msg(msg: Any) -> Status:
    return Status(
        stamp_ns=m.to_ns(msg.header.stamp),
        speed_mps=float(msg.speed_mps),
        acceleration_mps2=float(msg.acceleration_mps2),
        yaw_rate_radps=float(msg.yaw_rate_radps),
        steering_angle_rad=float(msg.steering_angle_rad),
        gear=int(msg.gear),
        mode=int(msg.mode),
        driver_override=bool(msg.driver_override),
        brake_applied=bool(msg.brake_applied),
        lights=int(msg.lights),
        faults=int(msg.faults),
    )


def status_to_msg(status: Status) -> Any:
    return m.new(
        VEHICLE_STATUS,
        header=m.header(status.stamp_ns, 'base_link'),
        speed_mps=status.speed_mps,
        acceleration_mps2=status.acceleration_mps2,
        yaw_rate_radps=status.yaw_rate_radps,
        steering_angle_rad=status.steering_angle_rad,
        gear=status.gear,
        mode=status.mode,
        driver_override=status.driver_override,
        brake_applied=status.brake_applied,
        lights=status.lights,
        faults=status.faults,
    )


def gated_to_msg(out: GateOutput) -> Any:
    source = f'{out.state.value}:{out.source}' if out.source else out.state.value
    return m.new(
        CONTROL_COMMAND,
        header=m.header(out.stamp_ns, 'base_link'),
        source=source,
        acceleration_mps2=out.acceleration_mps2,
        steering_angle_rad=out.steering_angle_rad,
        gear=out.gear,
        hazard_lights=out.hazard_lights,
        turn_left=out.turn_left,
        turn_right=out.turn_right,
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
        acceleration_mps2=float(msg.acceleration_mps2),
        steering_angle_rad=float(msg.steering_angle_rad),
        gear=int(msg.gear),
        hazard_lights=bool(msg.hazard_lights),
        turn_left=bool(msg.turn_left),
        turn_right=bool(msg.turn_right),
        source=source,
    )

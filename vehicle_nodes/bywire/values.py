"""Plain values the gate works on, free of ROS messages (conversions live in ``convert.py``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

# ControlCommand.GEAR_* and VehicleStatus.MODE_*/LIGHT_*/FAULT_* values (msg/*.msg).
GEAR_NONE, GEAR_PARK, GEAR_REVERSE, GEAR_NEUTRAL, GEAR_DRIVE = 0, 1, 2, 3, 4
MODE_MANUAL, MODE_STANDBY, MODE_AUTONOMOUS = 0, 1, 2
LIGHT_LEFT_TURN, LIGHT_RIGHT_TURN, LIGHT_HAZARD = 1, 2, 4
LIGHT_LOW_BEAM, LIGHT_HIGH_BEAM, LIGHT_BRAKE = 8, 16, 32
FAULT_NONE, FAULT_CAN_TIMEOUT, FAULT_CAN_INTEGRITY, FAULT_ACTUATOR = 0, 1, 2, 4


class GateState(enum.Enum):
    """What the gate is doing this cycle."""

    MANUAL = 'manual'  # the driver drives; the gate tracks the measured state, enable off
    STANDBY = 'standby'  # the kit is ready; a fresh source requests engagement
    AUTONOMOUS = 'autonomous'  # the winning source's command, limited
    SAFE_STOP = 'safe_stop'  # no fresh source or a fault: ramp to standstill, hazards on
    ESTOP = 'estop'  # e-stop latched: strongest allowed braking until an explicit reset


@dataclass(frozen=True)
class Command:
    """One source's request (``ControlCommand``)."""

    source: str
    stamp_ns: int
    acceleration_mps2: float
    steering_angle_rad: float
    gear: int = GEAR_NONE
    hazard_lights: bool = False
    turn_left: bool = False
    turn_right: bool = False


@dataclass(frozen=True)
class Status:
    """The vehicle as the kit reports it (``VehicleStatus``)."""

    stamp_ns: int
    speed_mps: float = 0.0
    acceleration_mps2: float = 0.0
    yaw_rate_radps: float = 0.0
    steering_angle_rad: float = 0.0
    gear: int = GEAR_NONE
    mode: int = MODE_MANUAL
    driver_override: bool = False
    brake_applied: bool = False
    lights: int = 0
    faults: int = FAULT_NONE


@dataclass(frozen=True)
class GateOutput:
    """The one command of a cycle; ``enable`` off means the kit must not act on it."""

    stamp_ns: int
    state: GateState
    enable: bool
    acceleration_mps2: float
    steering_angle_rad: float
    gear: int
    hazard_lights: bool
    turn_left: bool
    turn_right: bool
    source: str  # the winning source, '' when none
    events: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejection:
    """Why an input was refused: ``reason`` is a short counter key, ``detail`` for the log."""

    reason: str
    detail: str

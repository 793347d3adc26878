"""The generic by-wire kit of ``config/bywire/bywire_kit.dbc``: gate output → frames → status.

REP 103 inside (rad, m/s), the DBC's units on the wire (the steering signals are in degrees).
The mapping is one table per direction, so a kit with other signal names is a new table.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from vehicle_nodes.bywire.codec import Decoded, DecodeOutcome, FrameCodec
from vehicle_nodes.bywire.dbc import load_dbc
from vehicle_nodes.bywire.values import (
    FAULT_ACTUATOR,
    FAULT_CAN_TIMEOUT,
    GateOutput,
    GateState,
    Status,
)

NS_PER_S = 1_000_000_000
DEFAULT_DBC = Path(__file__).resolve().parents[2] / 'config' / 'bywire' / 'bywire_kit.dbc'

COMMAND_MESSAGES = (
    'ThrottleCommand',
    'BrakeCommand',
    'SteerCommand',
    'GearCommand',
    'LightCommand',
)
STATUS_MESSAGES = ('KitStatus', 'MotionFeedback', 'SteerFeedback')
FAULT_SIGNALS = ('ThrottleFault', 'BrakeFault', 'SteerFault', 'GearFault', 'KitEmergencyStop')


def find_default_dbc() -> Path:
    """The shipped kit DBC: in the source tree, else under an ament/pip install prefix."""
    if DEFAULT_DBC.is_file():
        return DEFAULT_DBC
    prefixes = [*os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep), sys.prefix]
    for prefix in filter(None, prefixes):
        candidate = Path(prefix) / 'share' / 'v2x_stack' / 'config' / 'bywire' / DEFAULT_DBC.name
        if candidate.is_file():
            return candidate
    return DEFAULT_DBC


def command_signals(out: GateOutput, *, steer_rate_limit_radps: float) -> dict[str, dict]:
    """Signal values of every command frame for one gate output (physical DBC units)."""
    accel = out.acceleration_mps2
    en = int(out.enable)
    return {
        'ThrottleCommand': {'ThrottleEnable': en, 'AccelTarget': max(accel, 0.0)},
        'BrakeCommand': {
            'BrakeEnable': en,
            'DecelTarget': max(-accel, 0.0),
            'EmergencyStop': int(out.state is GateState.ESTOP),
        },
        'SteerCommand': {
            'SteerEnable': en,
            'SteerAngleTarget': math.degrees(out.steering_angle_rad),
            'SteerRateLimit': math.degrees(steer_rate_limit_radps),
        },
        'GearCommand': {'GearEnable': int(out.enable and out.gear != 0), 'GearTarget': out.gear},
        'LightCommand': {
            'LightEnable': en,
            'TurnLeft': int(out.turn_left),
            'TurnRight': int(out.turn_right),
            'Hazard': int(out.hazard_lights),
            'LowBeam': 0,
            'HighBeam': 0,
            'Horn': 0,
        },
    }


def encode_commands(
    codec: FrameCodec, out: GateOutput, *, steer_rate_limit_radps: float
) -> list[tuple[int, bytes]]:
    """The five command frames of one cycle, with counters and CRCs."""
    signals = command_signals(out, steer_rate_limit_radps=steer_rate_limit_radps)
    return [codec.encode(name, signals[name]) for name in COMMAND_MESSAGES]


@dataclass
class StatusAssembler:
    """Builds ``Status`` from the latest valid status frames and when each arrived."""

    timeout_s: float = 0.1
    latest: dict[str, dict] = field(default_factory=dict)
    received_ns: dict[str, int] = field(default_factory=dict)

    def update(self, decoded: Decoded, now_ns: int) -> bool:
        """Take a valid decoded frame; True when it was one of the status messages."""
        if decoded.outcome is not DecodeOutcome.OK or decoded.name not in STATUS_MESSAGES:
            return False
        self.latest[decoded.name] = decoded.signals
        self.received_ns[decoded.name] = now_ns
        return True

    def complete(self) -> bool:
        return all(name in self.latest for name in STATUS_MESSAGES)

    def status(self, now_ns: int, *, extra_faults: int = 0) -> Status | None:
        """The vehicle status now; None until every status frame was seen once."""
        if not self.complete():
            return None
        st, mo, sf = (self.latest[name] for name in STATUS_MESSAGES)
        faults = extra_faults
        if any(st.get(name) for name in FAULT_SIGNALS):
            faults |= FAULT_ACTUATOR
        if st.get('CommandTimeout'):  # the kit's own watchdog: our commands do not reach it
            faults |= FAULT_CAN_TIMEOUT
        oldest_ns = min(self.received_ns[name] for name in STATUS_MESSAGES)
        if now_ns - oldest_ns > self.timeout_s * NS_PER_S:
            faults |= FAULT_CAN_TIMEOUT
        return Status(
            stamp_ns=self.received_ns['KitStatus'],
            speed_mps=float(mo['VehicleSpeed']),
            acceleration_mps2=float(mo['LongAccel']),
            yaw_rate_radps=float(mo['YawRate']),
            steering_angle_rad=math.radians(float(sf['SteerAngleActual'])),
            gear=int(st['GearActual']),
            mode=int(st['Mode']),
            driver_override=bool(st['DriverOverride']),
            brake_applied=bool(st['BrakeApplied']),
            lights=int(st['Lights']),
            faults=faults,
        )


def default_codec(dbc_path: str | Path | None = None) -> FrameCodec:
    return FrameCodec(load_dbc(dbc_path or find_default_dbc()))

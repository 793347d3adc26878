"""The kit's frames: command → bytes → decoded back, E2E on every safety frame, decoder fuzz."""

from __future__ import annotations

import math

import can
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vehicle_nodes.bywire import e2e
from vehicle_nodes.bywire.codec import DecodeOutcome, FrameCodec
from vehicle_nodes.bywire.dbc import load_dbc
from vehicle_nodes.bywire.errors import FrameError
from vehicle_nodes.bywire.kit import (
    COMMAND_MESSAGES,
    StatusAssembler,
    encode_commands,
    find_default_dbc,
)
from vehicle_nodes.bywire.values import FAULT_ACTUATOR, FAULT_CAN_TIMEOUT, GateOutput, GateState

KIT_DBC = load_dbc(find_default_dbc())  # parsed once; each codec keeps its own counters


def default_codec() -> FrameCodec:
    return FrameCodec(KIT_DBC)


outputs = st.builds(
    GateOutput,
    stamp_ns=st.integers(0, 10**12),
    state=st.sampled_from(list(GateState)),
    enable=st.booleans(),
    acceleration_mps2=st.floats(-10, 10),
    steering_angle_rad=st.floats(-0.78, 0.78),
    gear=st.integers(0, 4),
    hazard_lights=st.booleans(),
    turn_left=st.booleans(),
    turn_right=st.booleans(),
    source=st.just(''),
)


def check_roundtrip(codec: FrameCodec, out: GateOutput, frames: list[tuple[int, bytes]]) -> None:
    rx = default_codec()  # an independent receiver with its own E2E state
    got = {}
    for frame_id, data in frames:
        decoded = rx.decode(frame_id, data)
        assert decoded.outcome is DecodeOutcome.OK, decoded.detail
        assert decoded.out_of_range == ()
        got[decoded.name] = decoded.signals
    assert list(got) == list(COMMAND_MESSAGES)
    accel = got['ThrottleCommand']['AccelTarget'] - got['BrakeCommand']['DecelTarget']
    assert accel == pytest.approx(out.acceleration_mps2, abs=0.005 / 2 + 1e-9)
    steer_deg = got['SteerCommand']['SteerAngleTarget']
    assert math.radians(steer_deg) == pytest.approx(
        out.steering_angle_rad, abs=math.radians(0.005) + 1e-12
    )
    assert got['ThrottleCommand']['ThrottleEnable'] == int(out.enable)
    assert got['GearCommand']['GearTarget'] == out.gear
    assert got['LightCommand']['Hazard'] == int(out.hazard_lights)
    assert got['BrakeCommand']['EmergencyStop'] == int(out.state is GateState.ESTOP)


@settings(max_examples=150, deadline=None)
@given(outputs)
def test_command_frames_decode_back_within_resolution(out: GateOutput) -> None:
    codec = default_codec()
    frames = encode_commands(codec, out, steer_rate_limit_radps=0.5)
    check_roundtrip(codec, out, frames)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(outputs, min_size=1, max_size=20))
def test_over_a_virtual_bus_with_counters_and_crc(channel: str, outs: list[GateOutput]) -> None:
    codec = default_codec()
    with (
        can.Bus(interface='virtual', channel=channel) as tx,
        can.Bus(interface='virtual', channel=channel) as sniffer,
    ):
        for out in outs:
            frames = encode_commands(codec, out, steer_rate_limit_radps=0.5)
            for frame_id, data in frames:
                tx.send(can.Message(arbitration_id=frame_id, data=data, is_extended_id=False))
            received = [sniffer.recv(timeout=1.0) for _ in frames]
            assert all(msg is not None for msg in received)
            wire = [(msg.arbitration_id, bytes(msg.data)) for msg in received]  # type: ignore[union-attr]
            assert wire == frames
            check_roundtrip(codec, out, wire)
    # counters ran 0, 1, 2, ... on each identifier, and every CRC is right
    for frame_id in codec.data_ids:
        if frame_id in {codec.message(n).frame_id for n in COMMAND_MESSAGES}:
            assert codec._tx_counter[frame_id] == len(outs) % e2e.COUNTER_MODULO


def test_counters_roll_and_receiver_accepts_the_sequence(codec: FrameCodec) -> None:
    rx = default_codec()
    out = GateOutput(0, GateState.AUTONOMOUS, True, 0.5, 0.1, 0, False, False, False, 'p')
    seen = []
    for _ in range(40):
        for frame_id, data in encode_commands(codec, out, steer_rate_limit_radps=0.5):
            if frame_id == 0x112:
                seen.append(data[1] & 0x0F)
            status = rx.decode(frame_id, data).e2e_status
            assert status is not None and status.valid
    assert seen[:17] == [*range(15), 0, 1]


def test_encode_errors_name_message_and_value(codec: FrameCodec) -> None:
    with pytest.raises(FrameError, match='SteerCommand'):
        codec.encode(
            'SteerCommand', {'SteerEnable': 1, 'SteerAngleTarget': 90.0, 'SteerRateLimit': 1}
        )
    with pytest.raises(FrameError, match="no message 'Nope'"):
        codec.encode('Nope', {})


def test_decode_outcomes(codec: FrameCodec) -> None:
    assert codec.decode(0x7FF, bytes(8)).outcome is DecodeOutcome.UNKNOWN_ID
    # an extended identifier 0x210 is another frame than the standard 0x210
    assert codec.decode(0x210, bytes(8), extended=True).outcome is DecodeOutcome.UNKNOWN_ID
    assert codec.decode(0x210, bytes(3)).outcome is DecodeOutcome.BAD_LENGTH
    bad = codec.decode(0x210, bytes(8))
    assert bad.outcome is DecodeOutcome.E2E_FAILED and bad.e2e_status is e2e.E2eStatus.BAD_CRC
    frame_id, data = codec.encode('KitInfo', {'FirmwareMajor': 1, 'FirmwareMinor': 2, 'Uptime': 3})
    info = codec.decode(frame_id, data)
    assert info.outcome is DecodeOutcome.OK and info.e2e_status is None


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([0x110, 0x111, 0x112, 0x113, 0x114, 0x210, 0x211, 0x212, 0x300, 0x5]),
    st.binary(max_size=9),
)
def test_fuzz_decode_never_raises(frame_id: int, data: bytes) -> None:
    decoded = default_codec().decode(frame_id, data)
    assert isinstance(decoded.outcome, DecodeOutcome)


def kit_frames(codec: FrameCodec, *, speed: float = 3.0, fault: int = 0) -> list[tuple[int, bytes]]:
    return [
        codec.encode(
            'KitStatus',
            {
                'Mode': 2,
                'DriverOverride': 0,
                'BrakeApplied': 0,
                'GearActual': 4,
                'Lights': 4,
                'ThrottleFault': 0,
                'BrakeFault': fault,
                'SteerFault': 0,
                'GearFault': 0,
                'KitEmergencyStop': 0,
                'CommandTimeout': 0,
            },
        ),
        codec.encode('MotionFeedback', {'VehicleSpeed': speed, 'LongAccel': -0.5, 'YawRate': 0.01}),
        codec.encode('SteerFeedback', {'SteerAngleActual': 5.0, 'SteerRateActual': 0.0}),
    ]


def test_status_assembler_builds_status_and_flags_timeouts(codec: FrameCodec) -> None:
    rx = default_codec()
    asm = StatusAssembler(timeout_s=0.1)
    assert asm.status(0) is None
    for frame_id, data in kit_frames(codec):
        assert asm.update(rx.decode(frame_id, data), 1_000)
    status = asm.status(2_000)
    assert status is not None
    assert status.mode == 2 and status.gear == 4 and status.lights == 4 and status.faults == 0
    assert status.speed_mps == pytest.approx(3.0)
    assert status.steering_angle_rad == pytest.approx(math.radians(5.0))
    assert asm.status(200_000_000).faults & FAULT_CAN_TIMEOUT  # type: ignore[union-attr]
    for frame_id, data in kit_frames(codec, fault=1):
        asm.update(rx.decode(frame_id, data), 300_000_000)
    assert asm.status(300_000_000).faults == FAULT_ACTUATOR  # type: ignore[union-attr]


def test_kit_command_timeout_is_a_can_timeout_fault(codec: FrameCodec) -> None:
    rx = default_codec()
    asm = StatusAssembler(timeout_s=0.1)
    frames = kit_frames(codec)
    status_values = {**rx.decode(*frames[0]).signals, 'CommandTimeout': 1}
    frames[0] = codec.encode('KitStatus', status_values)
    for frame_id, data in frames:
        asm.update(rx.decode(frame_id, data), 0)
    assert asm.status(0).faults == FAULT_CAN_TIMEOUT  # type: ignore[union-attr]

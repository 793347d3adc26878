"""Gate → bridge → python-can virtual bus → simulated kit, and back; with faults injected."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import can
import pytest

from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.bywire import CanBridge, CommandGate, KitSimulator
from vehicle_nodes.bywire.candump import Direction, read_log
from vehicle_nodes.bywire.codec import DecodeOutcome, FrameCodec
from vehicle_nodes.bywire.convert import command_to_msg, gated_from_msg
from vehicle_nodes.bywire.dbc import load_dbc
from vehicle_nodes.bywire.kit import COMMAND_MESSAGES, find_default_dbc
from vehicle_nodes.bywire.values import (
    FAULT_CAN_INTEGRITY,
    FAULT_CAN_TIMEOUT,
    MODE_AUTONOMOUS,
    Command,
    GateState,
)

MS = 1_000_000
KIT_DBC = load_dbc(find_default_dbc())


class Car:
    """Kit simulator, CAN bridge and gate on one virtual channel; a planner at 50 Hz."""

    def __init__(self, channel: str, *, planner_until_s: float = 1e9, **bridge: object) -> None:
        self.rt = EmbeddedRuntime(seed=5, fail_fast=True)
        self.kit = self.rt.add_component(KitSimulator, name='kit', parameters={'channel': channel})
        self.bridge = self.rt.add_component(
            CanBridge, name='bridge', parameters={'channel': channel, **bridge}
        )
        self.gate = self.rt.add_component(CommandGate, name='gate')
        self.gated: list = []  # type: ignore[type-arg]
        self.status: list = []  # type: ignore[type-arg]
        self.alerts: list = []  # type: ignore[type-arg]
        self.rt.subscribe(
            '/control/gated_command',
            'v2x_stack/msg/ControlCommand',
            lambda msg: self.gated.append(gated_from_msg(msg)),
        )
        self.rt.subscribe('/vehicle/status', 'v2x_stack/msg/VehicleStatus', self.status.append)
        self.rt.subscribe('/can/alerts', 'v2x_stack/msg/RoadEventArray', self.alerts.append)
        self.until_ns = int(planner_until_s * 1e9)
        self.rt.add_timer(20 * MS, self._planner, None)

    def _planner(self) -> None:
        now = self.rt.now_ns()
        if now <= self.until_ns:
            cmd = Command('planner', now, 1.0, 0.05, gear=0)
            self.rt.publish('/control/command', command_to_msg(cmd))

    def counters(self, index: int):  # type: ignore[no-untyped-def]
        return self.rt.contexts[index].diagnostics.counters


def test_command_to_frames_and_back(channel: str) -> None:
    car = Car(channel)
    codec = FrameCodec(KIT_DBC)  # an independent receiver: checks CRC and counter sequence
    seen: dict[str, list] = {name: [] for name in COMMAND_MESSAGES}  # type: ignore[type-arg]
    with can.Bus(interface='virtual', channel=channel) as sniffer:

        def sniff() -> None:
            while (msg := sniffer.recv(timeout=0)) is not None:
                decoded = codec.decode(msg.arbitration_id, bytes(msg.data))
                if decoded.name in seen:
                    assert decoded.outcome is DecodeOutcome.OK, decoded.detail
                    assert decoded.e2e_status is not None and decoded.e2e_status.value in (
                        'ok',
                        'initial',
                    )
                    seen[decoded.name].append((msg.data[1] & 0x0F, decoded.signals))

        car.rt.add_timer(10 * MS, sniff, None)
        car.rt.run(duration_s=3.0)
    last = car.gated[-1]
    assert last.state is GateState.AUTONOMOUS and last.source == 'planner'
    assert car.kit.mode == MODE_AUTONOMOUS and car.kit.speed_mps > 1.0
    assert car.status[-1].mode == MODE_AUTONOMOUS
    assert car.status[-1].speed_mps == pytest.approx(car.kit.speed_mps, abs=0.05)
    # the last frames carry the last gated command, within the DBC's resolution
    throttle = seen['ThrottleCommand'][-1][1]
    brake = seen['BrakeCommand'][-1][1]
    steer = seen['SteerCommand'][-1][1]
    assert throttle['AccelTarget'] - brake['DecelTarget'] == pytest.approx(
        last.acceleration_mps2, abs=0.0025
    )
    assert math.radians(steer['SteerAngleTarget']) == pytest.approx(
        last.steering_angle_rad, abs=1e-4
    )
    assert throttle['ThrottleEnable'] == 1
    # every command frame every cycle, counters rolling 0..14 without a gap
    for frames in seen.values():
        assert len(frames) >= 295
        counters = [c for c, _ in frames]
        assert all((b - a) % 15 == 1 for a, b in itertools.pairwise(counters))
    assert car.kit.frames_bad == 0
    car.rt.close()


@pytest.mark.parametrize('fault', ['bad_crc', 'frozen_counter', 'silent'])
def test_injected_faults_lead_to_the_safe_stop(channel: str, fault: str) -> None:
    car = Car(channel)
    car.rt.run(duration_s=2.0)
    assert car.gated[-1].state is GateState.AUTONOMOUS
    speed_before = car.kit.speed_mps
    assert speed_before > 0.5
    car.rt.set_parameter('/kit', 'inject', fault)
    car.rt.run(duration_s=0.3)
    # within 300 ms (3 bad frames, or the 100 ms status watchdog) the gate is stopping
    states = [out.state for out in car.gated[-30:]]
    assert GateState.SAFE_STOP in states and car.gated[-1].state is GateState.SAFE_STOP
    assert car.gated[-1].hazard_lights
    car.rt.run(duration_s=4.0)
    assert car.kit.speed_mps == 0.0  # the kit followed the ramp to a standstill
    accels = [out.acceleration_mps2 for out in car.gated]
    assert min(accels) >= -3.0 - 1e-9  # bounded deceleration
    bridge = car.counters(1)
    if fault == 'silent':
        assert bridge['ids.suspension'] >= 1
    else:
        assert bridge['integrity_faults'] >= 1
        assert bridge[f'e2e.{"bad_crc" if fault == "bad_crc" else "repeated"}'] >= 3
        assert any(s.faults & FAULT_CAN_INTEGRITY for s in car.status)
    car.rt.close()


def test_bridge_brakes_on_its_own_when_the_gate_falls_silent(channel: str) -> None:
    rt = EmbeddedRuntime(seed=1, fail_fast=True)
    kit = rt.add_component(
        KitSimulator,
        name='kit',
        parameters={'channel': channel, 'initial_mode': 'autonomous', 'initial_speed_mps': 5.0},
    )
    rt.add_component(CanBridge, name='bridge', parameters={'channel': channel})
    cmd = m.new(
        'v2x_stack/msg/ControlCommand',
        header=m.header(0, 'base_link'),
        source='autonomous:planner',
        acceleration_mps2=0.0,
    )
    rt.publish('/control/gated_command', cmd, at_ns=5 * MS)
    rt.publish(
        '/control/gated_command',
        m.new('v2x_stack/msg/ControlCommand', source='nonsense'),
        at_ns=6 * MS,
    )
    rt.run(duration_s=5.0)
    counters = rt.contexts[1].diagnostics.counters
    assert counters['command_stale'] > 100
    assert counters['rejected.bad_gated_command'] == 1
    assert kit.speed_mps == 0.0 and not kit.command_timeout
    rt.close()


def test_ids_alerts_and_candump_log(channel: str, tmp_path: Path) -> None:
    log = tmp_path / 'car.log'
    car = Car(channel, candump_path=str(log))
    with can.Bus(interface='virtual', channel=channel) as attacker:
        car.rt.add_timer(
            500 * MS,
            lambda: attacker.send(
                can.Message(arbitration_id=0x7E0, data=b'\x02\x10\x03', is_extended_id=False)
            ),
            None,
        )
        car.rt.run(duration_s=1.2)
    car.rt.close()
    events = [e for arr in car.alerts for e in arr.events]
    assert events and all(
        'unknown_id' in e.description and '0x7e0' in e.description for e in events
    )
    assert car.counters(1)['ids.unknown_id'] == 1  # alarms held off for a second ...
    assert car.bridge.ids.counts['unknown_id'] == 2  # ... each frame counted
    assert car.counters(1)['rejected.frame_unknown_id'] == 2
    frames = list(read_log(log))
    tx = [f for f in frames if f.direction is Direction.TX]
    rx = [f for f in frames if f.direction is Direction.RX]
    assert len(tx) == 5 * 120  # five command frames per 10 ms cycle
    assert {f.arbitration_id for f in rx} >= {0x210, 0x211, 0x212, 0x7E0}
    assert all(f.channel == channel for f in frames)


def test_spoofed_command_frames_raise_an_alert(channel: str) -> None:
    car = Car(channel)
    spoof = FrameCodec(KIT_DBC)
    frame_id, data = spoof.encode(
        'BrakeCommand', {'BrakeEnable': 1, 'DecelTarget': 8.0, 'EmergencyStop': 0}
    )
    with can.Bus(interface='virtual', channel=channel) as attacker:
        car.rt.add_timer(
            700 * MS,
            lambda: attacker.send(
                can.Message(arbitration_id=frame_id, data=data, is_extended_id=False)
            ),
            None,
        )
        car.rt.run(duration_s=1.0)
    car.rt.close()
    events = [e for arr in car.alerts for e in arr.events]
    assert len(events) == 1 and 'spoofed_id 0x111' in events[0].description


def test_bus_off_is_a_fault_and_the_port_recovers(channel: str) -> None:
    car = Car(channel)
    car.rt.run(duration_s=2.0)
    assert car.gated[-1].state is GateState.AUTONOMOUS
    car.bridge.port.bus.shutdown()  # the interface fails under the bridge
    car.rt.run(duration_s=0.3)
    port = car.bridge.port
    # five failed sends in one cycle: bus-off, reported as a CAN timeout; the port reopens at
    # once (later attempts at most once a second) and the next send clears the state
    assert port.counts['send_errors'] == 5 and port.counts['bus_off'] == 1
    assert port.counts['reopened'] == 1 and port.counts['bus_off_recovered'] == 1
    assert not port.bus_off
    assert any(s.faults & FAULT_CAN_TIMEOUT for s in car.status)
    # the fault latched the safe stop: it holds until the vehicle stands still
    assert car.gated[-1].state is GateState.SAFE_STOP
    speeds = []
    car.rt.add_timer(10 * MS, lambda: speeds.append(car.kit.speed_mps), None)
    car.rt.run(duration_s=4.0)
    assert min(speeds) == 0.0  # it came to a standstill ...
    assert car.gated[-1].state is GateState.AUTONOMOUS  # ... and the planner took over again
    values = dict(car.rt.contexts[1].diagnostics.values)
    assert int(values['bus.bus_off']) == 1
    car.rt.close()

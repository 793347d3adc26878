"""``KitSimulator``: a by-wire kit on the CAN bus, for simulation and end-to-end tests.

It speaks the kit side of ``bywire_kit.dbc`` over a real python-can bus: checks the E2E
header of every command frame, follows the commands with a first-order acceleration lag and a
rate-limited steering actuator, and reports status and feedback frames every cycle. Its own
watchdog brakes when valid commands stop. ``inject`` (dynamic) turns on a fault on purpose:
``bad_crc``, ``frozen_counter``, ``silent``, ``driver_override`` or ``actuator_fault``.
"""

from __future__ import annotations

import math

from v2x_runtime import Component, ComponentContext
from vehicle_nodes.bywire.bus import INTERFACES, CanPort
from vehicle_nodes.bywire.codec import DecodeOutcome, FrameCodec
from vehicle_nodes.bywire.dbc import load_dbc
from vehicle_nodes.bywire.kit import find_default_dbc
from vehicle_nodes.bywire.values import MODE_AUTONOMOUS, MODE_MANUAL, MODE_STANDBY

NS_PER_S = 1_000_000_000
MODES = {'manual': MODE_MANUAL, 'standby': MODE_STANDBY, 'autonomous': MODE_AUTONOMOUS}
INJECTIONS = ('none', 'bad_crc', 'frozen_counter', 'silent', 'driver_override', 'actuator_fault')


class KitSimulator(Component):
    """Simulated by-wire kit. Topics: none (it lives on the CAN bus). Parameters: below."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        interface = p('interface', 'virtual', 'python-can interface', choices=INTERFACES)
        channel = p('channel', 'vcan0', 'CAN channel')
        dbc_path = p('dbc_path', '', 'Kit DBC; empty for the shipped one')
        rate_hz = p('rate_hz', 100.0, 'Status frame rate', range=(1.0, 1000.0))
        self.mode = MODES[p('initial_mode', 'standby', 'Mode at start', choices=tuple(MODES))]
        self.engage_on_enable = p('engage_on_enable', True, 'Standby → autonomous on enable')
        self.command_timeout_s = p('command_timeout_s', 0.1, 'Kit watchdog', range=(0.01, 5.0))
        self.accel_lag_s = p('accel_lag_s', 0.2, 'Acceleration time constant', range=(0.0, 5.0))
        self.wheelbase_m = p('wheelbase_m', 2.8, 'Wheelbase', range=(0.5, 10.0))
        self.speed_mps = p('initial_speed_mps', 0.0, 'Speed at start', range=(0.0, 60.0))
        self.inject = p(
            'inject',
            'none',
            'Fault to inject',
            choices=INJECTIONS,
            dynamic=True,
            on_change=self._set_inject,
        )
        self.codec = FrameCodec(load_dbc(dbc_path or find_default_dbc()))
        self.port = CanPort(interface, channel)
        self.accel_mps2 = 0.0
        self.steer_rad = 0.0
        self.gear = 4
        self.lights = 0
        self.target_accel_mps2 = 0.0
        self.target_steer_rad = 0.0
        self.steer_rate_radps = 0.5
        self.enabled = False
        self.estop = False
        self._throttle = 0.0
        self._brake = 0.0
        self.last_command_ns: int | None = None
        self.command_timeout = False
        self.frames_ok = 0
        self.frames_bad = 0
        self._period_s = 1.0 / rate_hz
        self._cycles = 0
        self._frozen = 0
        ctx.create_timer(self._period_s, self.on_tick)

    def _set_inject(self, value: str) -> None:
        self.ctx.logger.warning(f'kit simulator: injecting {value}')
        self.inject = value

    def start(self) -> None:
        self.port.open()

    def stop(self) -> None:
        self.port.close()

    def on_tick(self) -> None:
        now = self.ctx.now_ns()
        self._receive(now)
        self._advance(now, self._period_s)
        self._cycles += 1
        if self.inject != 'silent':
            self._send()

    def _receive(self, now: int) -> None:
        got = set()
        for frame in self.port.receive():
            decoded = self.codec.decode(
                frame.arbitration_id, bytes(frame.data), extended=frame.is_extended_id
            )
            if decoded.outcome is not DecodeOutcome.OK:
                self.frames_bad += 1
                continue
            self.frames_ok += 1
            sig = decoded.signals
            got.add(decoded.name)
            if decoded.name == 'ThrottleCommand':
                self.enabled = bool(sig['ThrottleEnable'])
                self._throttle = float(sig['AccelTarget'])
            elif decoded.name == 'BrakeCommand':
                self._brake = float(sig['DecelTarget'])
                self.estop = bool(sig['EmergencyStop'])
            elif decoded.name == 'SteerCommand':
                self.target_steer_rad = math.radians(float(sig['SteerAngleTarget']))
                self.steer_rate_radps = math.radians(float(sig['SteerRateLimit']))
            elif decoded.name == 'GearCommand' and sig['GearEnable']:
                self.gear = int(sig['GearTarget'])
            elif decoded.name == 'LightCommand':
                self.lights = (
                    int(sig['TurnLeft']) | int(sig['TurnRight']) << 1 | int(sig['Hazard']) << 2
                )
        if {'ThrottleCommand', 'BrakeCommand'} <= got:
            self.target_accel_mps2 = self._throttle - self._brake
            self.last_command_ns = now

    def _advance(self, now: int, dt: float) -> None:
        if self.inject == 'driver_override':
            self.mode = MODE_MANUAL
        elif self.mode == MODE_STANDBY and self.enabled and self.engage_on_enable:
            self.mode = MODE_AUTONOMOUS
        elif self.mode == MODE_AUTONOMOUS and not self.enabled and self.last_command_ns:
            self.mode = MODE_STANDBY
        stale = (
            self.last_command_ns is None
            or now - self.last_command_ns > self.command_timeout_s * NS_PER_S
        )
        self.command_timeout = self.mode == MODE_AUTONOMOUS and stale
        if self.mode == MODE_AUTONOMOUS:
            target = -3.0 if self.command_timeout else self.target_accel_mps2
            step = self.steer_rate_radps * dt
            self.steer_rad += max(-step, min(step, self.target_steer_rad - self.steer_rad))
        else:
            target = 0.0
        alpha = 1.0 if self.accel_lag_s <= 0 else min(1.0, dt / self.accel_lag_s)
        self.accel_mps2 += (target - self.accel_mps2) * alpha
        self.speed_mps = max(0.0, self.speed_mps + self.accel_mps2 * dt)
        if self.speed_mps == 0.0 and self.accel_mps2 < 0:
            self.accel_mps2 = 0.0

    def _send(self) -> None:
        counter = self._frozen if self.inject == 'frozen_counter' else None
        faulty = self.inject == 'actuator_fault'
        status = {
            'Mode': self.mode,
            'DriverOverride': int(self.inject == 'driver_override'),
            'BrakeApplied': int(self.accel_mps2 < -0.05),
            'GearActual': self.gear,
            'Lights': self.lights | (32 if self.accel_mps2 < -0.05 else 0),
            'ThrottleFault': 0,
            'BrakeFault': int(faulty),
            'SteerFault': 0,
            'GearFault': 0,
            'KitEmergencyStop': int(self.estop),
            'CommandTimeout': int(self.command_timeout),
        }
        yaw = self.speed_mps * math.tan(self.steer_rad) / self.wheelbase_m
        frames = [
            self.codec.encode('KitStatus', status, counter=counter),
            self.codec.encode(
                'MotionFeedback',
                {
                    'VehicleSpeed': self.speed_mps,
                    'LongAccel': self.accel_mps2,
                    'YawRate': max(-3.0, min(3.0, yaw)),
                },
                counter=counter,
            ),
            self.codec.encode(
                'SteerFeedback',
                {
                    'SteerAngleActual': math.degrees(self.steer_rad),
                    'SteerRateActual': 0.0,
                },
                counter=counter,
            ),
        ]
        if self._cycles % max(1, round(1.0 / self._period_s)) == 1:
            frames.append(
                self.codec.encode(
                    'KitInfo', {'FirmwareMajor': 1, 'FirmwareMinor': 0, 'Uptime': self._cycles}
                )
            )
        for frame_id, data in frames:
            corrupt = self.inject == 'bad_crc' and frame_id in self.codec.data_ids
            self.port.send(frame_id, bytes([data[0] ^ 0x5A]) + data[1:] if corrupt else data)

"""The ``CanBridge`` component: gated commands → E2E-protected frames; status frames → status.

Every cycle it drains the bus (decode, E2E check, intrusion detection, candump log), publishes
the vehicle status, then sends the five command frames of the latest gated command. Frame
receive times are the runtime clock at the drain, so it runs the same on a simulated clock.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext, ParameterError
from v2x_runtime import messages as m
from vehicle_nodes.bywire.bus import INTERFACES, CanPort
from vehicle_nodes.bywire.candump import CandumpWriter, Direction, LogFrame
from vehicle_nodes.bywire.codec import DecodeOutcome, FrameCodec
from vehicle_nodes.bywire.convert import CONTROL_COMMAND, gated_from_msg, status_to_msg
from vehicle_nodes.bywire.dbc import load_dbc
from vehicle_nodes.bywire.errors import BywireError
from vehicle_nodes.bywire.ids import Alarm, IdsConfig, IntrusionDetector
from vehicle_nodes.bywire.kit import (
    COMMAND_MESSAGES,
    STATUS_MESSAGES,
    StatusAssembler,
    encode_commands,
    find_default_dbc,
)
from vehicle_nodes.bywire.values import (
    FAULT_CAN_INTEGRITY,
    FAULT_CAN_TIMEOUT,
    GateOutput,
    GateState,
)

NS_PER_S = 1_000_000_000
ROAD_EVENT_ARRAY = 'v2x_stack/msg/RoadEventArray'


class CanBridge(Component):
    """Talks to the by-wire kit over CAN.

    Topics: in ``control/gated_command`` (ControlCommand from CommandGate); out
    ``vehicle/status`` (VehicleStatus), ``can/alerts`` (RoadEventArray, one event per
    intrusion alarm). Parameters: see the declarations (interface, channel, DBC, rates, E2E and
    IDS thresholds, candump log path).
    """

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        self.interface = p('interface', 'virtual', 'python-can interface', choices=INTERFACES)
        self.channel = p('channel', 'vcan0', 'CAN channel (virtual bus name or socketcan iface)')
        dbc_path = p('dbc_path', '', 'Kit DBC; empty for config/bywire/bywire_kit.dbc')
        rate_hz = p('send_rate_hz', 100.0, 'Command frame rate', range=(1.0, 1000.0))
        self.command_timeout_s = p(
            'command_timeout_s', 0.1, 'Gated command watchdog', range=(0.005, 5.0)
        )
        self.fallback_decel_mps2 = p(
            'fallback_decel_mps2', 2.0, 'Braking sent when the gate falls silent', range=(0.1, 10.0)
        )
        self.steer_rate_limit_radps = p(
            'steer_rate_limit_radps', 0.6, 'Steering rate sent to the kit', range=(0.01, 1.7)
        )
        status_timeout_s = p('status_timeout_s', 0.1, 'Status frame timeout', range=(0.01, 5.0))
        self.max_consecutive_bad = p(
            'max_consecutive_bad', 3, 'Bad frames in a row that raise a fault', range=(1, 100)
        )
        self.fault_hold_s = p('fault_hold_s', 0.5, 'Integrity fault hold time', range=(0.0, 10.0))
        self.candump_path = p('candump_path', '', 'candump log of every frame; empty: none')
        self.max_rx_per_cycle = p(
            'max_rx_per_cycle', 1000, 'Frames drained per cycle', range=(1, 100000)
        )
        ids_config = IdsConfig(
            window_s=p('ids_window_s', 1.0, 'IDS flood window', range=(0.1, 60.0)),
            flood_factor=p('ids_flood_factor', 1.5, 'IDS flood factor', range=(1.0, 100.0)),
            suspension_factor=p(
                'ids_suspension_factor', 5.0, 'IDS gap factor', range=(1.5, 1000.0)
            ),
        )
        try:
            self.codec = FrameCodec(load_dbc(dbc_path or find_default_dbc()))
        except BywireError as err:
            raise ParameterError(f'{ctx.name}: parameter dbc_path: {err}') from None
        for quirk in self.codec.loaded.quirks:
            ctx.logger.warning(f'DBC {self.codec.loaded.source}: {quirk}')
        own = frozenset(self.codec.message(name).frame_id for name in COMMAND_MESSAGES)
        self.ids = IntrusionDetector(self.codec, ids_config, own_ids=own)
        self.assembler = StatusAssembler(timeout_s=status_timeout_s)
        self.port = CanPort(self.interface, self.channel)
        self.log: CandumpWriter | None = None
        self._last_command: GateOutput | None = None
        self._command_rx_ns = 0
        self._integrity_until_ns = -1
        self._event_id = 0
        self.status_pub = ctx.create_publisher(
            'vehicle/status', 'v2x_stack/msg/VehicleStatus', QOS_SENSOR
        )
        self.alert_pub = ctx.create_publisher('can/alerts', ROAD_EVENT_ARRAY, QOS_RELIABLE)
        ctx.create_subscription(
            'control/gated_command', CONTROL_COMMAND, self.on_command, QOS_RELIABLE
        )
        ctx.create_timer(1.0 / rate_hz, self.on_tick)

    def start(self) -> None:
        self.port.open()
        if self.candump_path:
            self.log = CandumpWriter(self.candump_path)

    def stop(self) -> None:
        self.port.close()
        if self.log is not None:
            self.log.close()

    # --- inputs ----------------------------------------------------------------
    def on_command(self, msg: Any) -> None:
        try:
            out = gated_from_msg(msg)
        except BywireError as err:
            self.ctx.diagnostics.reject('bad_gated_command', str(err))
            return
        if not m.finite(out.acceleration_mps2, out.steering_angle_rad):
            self.ctx.diagnostics.reject('not_finite', f'gated command {out}')
            return
        self._last_command = out
        self._command_rx_ns = self.ctx.now_ns()
        self.ctx.diagnostics.count('commands')

    # --- the cycle -------------------------------------------------------------
    def on_tick(self) -> None:
        now = self.ctx.now_ns()
        self.port.maybe_reopen(now)
        new_status = self._receive(now)
        alarms = self.ids.check_silence(now)
        self._publish_alarms(alarms, now)
        self._publish_status(now, new_status)
        self._send(now)
        for key, value in self.port.counts.items():
            self.ctx.diagnostics.set_value(f'bus.{key}', value)

    def _receive(self, now: int) -> bool:
        diag = self.ctx.diagnostics
        new_status = False
        alarms: list[Alarm] = []
        for frame in self.port.receive(self.max_rx_per_cycle):
            data = bytes(frame.data)
            self._log(now, frame.arbitration_id, data, frame.is_extended_id, Direction.RX)
            ext = frame.is_extended_id
            decoded = self.codec.decode(frame.arbitration_id, data, extended=ext)
            values = decoded.signals if decoded.outcome is DecodeOutcome.OK else None
            alarms += self.ids.observe(frame.arbitration_id, data, now, values=values, extended=ext)
            if decoded.outcome is DecodeOutcome.OK:
                diag.count('frames_rx')
                new_status |= self.assembler.update(decoded, now)
                continue
            diag.reject(f'frame_{decoded.outcome.value}', decoded.detail)
            if decoded.e2e_status is not None:
                diag.count(f'e2e.{decoded.e2e_status.value}')
                receiver = self.codec.receivers[frame.arbitration_id]
                if (
                    decoded.name in STATUS_MESSAGES
                    and receiver.consecutive_bad >= self.max_consecutive_bad
                ):
                    if self._integrity_until_ns < now:
                        self.ctx.logger.error(
                            f'{decoded.name}: {receiver.consecutive_bad} bad frames in a row '
                            f'({decoded.e2e_status.value}): integrity fault'
                        )
                        diag.count('integrity_faults')
                    self._integrity_until_ns = now + int(self.fault_hold_s * NS_PER_S)
        self._publish_alarms(alarms, now)
        return new_status

    def _faults(self, now: int) -> int:
        faults = 0
        if now <= self._integrity_until_ns:
            faults |= FAULT_CAN_INTEGRITY
        if self.port.bus_off:
            faults |= FAULT_CAN_TIMEOUT
        return faults

    def _publish_status(self, now: int, new_status: bool) -> None:
        status = self.assembler.status(now, extra_faults=self._faults(now))
        if status is None or not (new_status or status.faults):
            return
        if status.faults:
            self.ctx.diagnostics.count('status_faulty')
        self.status_pub.publish(status_to_msg(replace(status, stamp_ns=now)))

    def _command(self, now: int) -> GateOutput:
        out = self._last_command
        stale = out is None or now - self._command_rx_ns > self.command_timeout_s * NS_PER_S
        if not stale:
            assert out is not None
            return out
        if out is None or out.state is GateState.MANUAL:
            return _passive(now)
        self.ctx.diagnostics.count('command_stale')
        self.ctx.logger.error('gated command stale: braking on our own', throttle_s=1.0)
        return GateOutput(
            stamp_ns=now,
            state=GateState.SAFE_STOP,
            enable=True,
            acceleration_mps2=-self.fallback_decel_mps2,
            steering_angle_rad=out.steering_angle_rad,
            gear=0,
            hazard_lights=True,
            turn_left=False,
            turn_right=False,
            source='',
        )

    def _send(self, now: int) -> None:
        out = self._command(now)
        try:
            frames = encode_commands(
                self.codec, out, steer_rate_limit_radps=self.steer_rate_limit_radps
            )
        except BywireError as err:
            self.ctx.diagnostics.reject('encode_failed', str(err))
            return
        for frame_id, data in frames:
            if self.port.send(frame_id, data):
                self._log(now, frame_id, data, False, Direction.TX)
        self.ctx.diagnostics.observe('command_age_s', (now - out.stamp_ns) / NS_PER_S)

    def _log(
        self, now: int, frame_id: int, data: bytes, extended: bool, direction: Direction
    ) -> None:
        if self.log is not None:
            self.log.write(
                LogFrame(now, self.channel, frame_id, data, extended, direction=direction)
            )

    def _publish_alarms(self, alarms: list[Alarm], now: int) -> None:
        if not alarms:
            return
        events = []
        for alarm in alarms:
            self.ctx.diagnostics.count(f'ids.{alarm.kind.value}')
            self.ctx.logger.warning(
                f'CAN IDS {alarm.kind.value} 0x{alarm.frame_id:x}: {alarm.reason}',
                throttle_s=1.0,
                key=f'ids.{alarm.kind.value}.{alarm.frame_id}',
            )
            self._event_id += 1
            events.append(
                m.new(
                    'v2x_stack/msg/RoadEvent',
                    header=m.header(alarm.stamp_ns, 'base_link'),
                    id=self._event_id,
                    source=5,  # SOURCE_DETECTION
                    latitude_deg=float('nan'),
                    longitude_deg=float('nan'),
                    altitude_m=float('nan'),
                    priority=6,
                    description=f'can_ids {alarm.kind.value} 0x{alarm.frame_id:x}: {alarm.reason}',
                )
            )
        self.alert_pub.publish(
            m.new(ROAD_EVENT_ARRAY, header=m.header(now, 'base_link'), events=events)
        )


def _passive(now: int) -> GateOutput:
    """Enable-off frames: keep the kit's watchdog fed while nobody is in control."""
    return GateOutput(
        stamp_ns=now,
        state=GateState.MANUAL,
        enable=False,
        acceleration_mps2=0.0,
        steering_angle_rad=0.0,
        gear=0,
        hazard_lights=False,
        turn_left=False,
        turn_right=False,
        source='',
    )

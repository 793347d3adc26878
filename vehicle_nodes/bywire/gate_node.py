"""The ``CommandGate`` component: the pure ``Gate`` on the runtime's clock and topics."""

from __future__ import annotations

from typing import Any

from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext, ParameterError
from vehicle_nodes.bywire.convert import (
    CONTROL_COMMAND,
    VEHICLE_STATUS,
    command_from_msg,
    gated_to_msg,
    status_from_msg,
)
from vehicle_nodes.bywire.errors import GateConfigError
from vehicle_nodes.bywire.gate import Gate, GateConfig, SourceConfig
from vehicle_nodes.bywire.limits import Limits
from vehicle_nodes.bywire.values import GateState, Rejection

NS_PER_S = 1_000_000_000
_CYCLES_KEY = {state: f'cycles.{state.value}' for state in GateState}  # no f'' per cycle


class CommandGate(Component):
    """Arbitrates, limits and watches the control commands; one gated command per cycle.

    Topics: in ``control/command`` (ControlCommand, every source; ``source`` names it),
    ``control/estop`` (std_msgs/Bool, true latches), ``control/estop_reset`` (std_msgs/Empty),
    ``vehicle/status`` (VehicleStatus); out ``control/gated_command`` (ControlCommand, its
    ``source`` is ``<state>[:<winner>]``). Parameters: see the declarations (sources with
    priorities and timeouts as parallel lists, limits, safe stop, rate).
    """

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        names = p('sources', ['planner', 'v2x', 'remote', 'joystick'], 'Command sources')
        prios = p('priorities', [10, 20, 30, 40], 'Priority per source; the higher wins')
        timeouts = p('timeouts_s', [0.2, 0.2, 0.3, 0.2], 'Freshness timeout per source, s')
        rate_hz = p('rate_hz', 100.0, 'Gate cycle rate', range=(10.0, 1000.0))
        limits = Limits(
            max_accel_mps2=p('max_accel_mps2', 2.0, 'Acceleration limit', range=(0.1, 10.0)),
            max_decel_mps2=p('max_decel_mps2', 6.0, 'Deceleration limit', range=(0.1, 10.0)),
            max_jerk_mps3=p('max_jerk_mps3', 10.0, 'Jerk limit', range=(0.1, 100.0)),
            max_steer_rad=p('max_steer_rad', 0.6, 'Road-wheel angle limit', range=(0.01, 0.78)),
            max_steer_rate_radps=p(
                'max_steer_rate_radps', 0.6, 'Road-wheel angle rate limit', range=(0.01, 5.0)
            ),
            max_lat_accel_mps2=p(
                'max_lat_accel_mps2', 3.0, 'Lateral acceleration limit', range=(0.1, 10.0)
            ),
            wheelbase_m=p('wheelbase_m', 2.8, 'Wheelbase for the steer limit', range=(0.5, 10.0)),
        )
        try:
            if not (len(names) == len(prios) == len(timeouts)):
                raise GateConfigError(
                    'sources, priorities and timeouts_s must have the same length, '
                    f'got {len(names)}, {len(prios)}, {len(timeouts)}'
                )
            self.config = GateConfig(
                sources=tuple(
                    SourceConfig(str(n), int(pr), float(t))
                    for n, pr, t in zip(names, prios, timeouts, strict=True)
                ),
                limits=limits,
                period_s=1.0 / rate_hz,
                status_timeout_s=p(
                    'status_timeout_s', 0.1, 'Vehicle status watchdog', range=(0.01, 5.0)
                ),
                future_tolerance_s=p(
                    'future_tolerance_s', 0.05, 'Accepted clock skew of stamps', range=(0.0, 1.0)
                ),
                safe_stop_decel_mps2=p(
                    'safe_stop_decel_mps2', 3.0, 'Safe-stop deceleration', range=(0.1, 10.0)
                ),
                safe_stop_jerk_mps3=p(
                    'safe_stop_jerk_mps3', 2.5, 'Safe-stop jerk', range=(0.1, 100.0)
                ),
            )
        except GateConfigError as err:
            raise ParameterError(f'{ctx.name}: {err}') from None
        self.gate = Gate(self.config)
        self.pub = ctx.create_publisher('control/gated_command', CONTROL_COMMAND, QOS_RELIABLE)
        ctx.create_subscription('control/command', CONTROL_COMMAND, self.on_command, QOS_RELIABLE)
        ctx.create_subscription('vehicle/status', VEHICLE_STATUS, self.on_status, QOS_SENSOR)
        ctx.create_subscription('control/estop', 'std_msgs/msg/Bool', self.on_estop, QOS_RELIABLE)
        ctx.create_subscription(
            'control/estop_reset', 'std_msgs/msg/Empty', self.on_estop_reset, QOS_RELIABLE
        )
        ctx.create_timer(self.config.period_s, self.on_tick)
        self._last_state = GateState.MANUAL

    def _verdict(self, rejection: Rejection | None, accepted: str) -> None:
        if rejection is None:
            self.ctx.diagnostics.count(accepted)
        else:
            self.ctx.diagnostics.reject(rejection.reason, rejection.detail)

    def on_command(self, msg: Any) -> None:
        self._verdict(self.gate.on_command(command_from_msg(msg), self.ctx.now_ns()), 'commands')

    def on_status(self, msg: Any) -> None:
        self._verdict(self.gate.on_status(status_from_msg(msg), self.ctx.now_ns()), 'status')

    def on_estop(self, msg: Any) -> None:
        if bool(msg.data):
            if not self.gate.estop_latched:
                self.ctx.logger.warning('e-stop asserted: latched until control/estop_reset')
            self.ctx.diagnostics.count('estop_asserted')
        self.gate.on_estop(bool(msg.data), self.ctx.now_ns())

    def on_estop_reset(self, msg: Any) -> None:
        del msg
        if self.gate.estop_latched:
            self.ctx.logger.info('e-stop reset')
        self.ctx.diagnostics.count('estop_reset')
        self.gate.on_estop_reset(self.ctx.now_ns())

    def on_tick(self) -> None:
        out = self.gate.step(self.ctx.now_ns())
        diag = self.ctx.diagnostics
        for event in out.events:
            diag.count(f'event.{event.split(":", 1)[0]}')
            if event.startswith(('state:', 'source_lost', 'driver_override')):
                self.ctx.logger.info(f'gate: {event}')
        if out.state is not self._last_state:
            self._last_state = out.state
            diag.set_value('state', out.state.value)
        diag.count(_CYCLES_KEY[out.state])
        self.pub.publish(gated_to_msg(out))

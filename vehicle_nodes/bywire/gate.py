"""The command gate: arbitration, limits, modes, watchdog, safe stop and e-stop, as pure logic.

The gate has no clock: every call carries the time (ns) it happens at, so the same inputs give
the same outputs in a test, in the simulator and on the vehicle. ``step`` is called once per
cycle and always returns a command (the vehicle is never left without a stream).

Arbitration: among the configured sources whose latest command is fresh
(``now - stamp <= timeout``), the highest ``priority`` wins. A source that goes stale loses
control (the heartbeat watchdog); with none left in autonomous mode the gate ramps to a
standstill. The safe stop latches until the vehicle stands still and a fresh source is back.
The e-stop latches until ``estop_reset``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from v2x_runtime.frozen import assemble
from vehicle_nodes.bywire.errors import GateConfigError
from vehicle_nodes.bywire.limits import Limiter, Limits
from vehicle_nodes.bywire.values import (
    FAULT_CAN_TIMEOUT,
    GEAR_DRIVE,
    GEAR_NONE,
    MODE_AUTONOMOUS,
    MODE_MANUAL,
    MODE_STANDBY,
    Command,
    GateOutput,
    GateState,
    Rejection,
    Status,
)

NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class SourceConfig:
    """A command source: higher ``priority`` wins; stale after ``timeout_s`` without a command."""

    name: str
    priority: int
    timeout_s: float


@dataclass(frozen=True)
class GateConfig:
    """Everything the gate needs; validated at construction (config errors fail at start)."""

    sources: tuple[SourceConfig, ...]
    limits: Limits = field(default_factory=Limits)
    period_s: float = 0.01
    status_timeout_s: float = 0.1
    future_tolerance_s: float = 0.05
    safe_stop_decel_mps2: float = 3.0
    safe_stop_jerk_mps3: float = 2.5
    standstill_speed_mps: float = 0.05
    standstill_hold_decel_mps2: float = 1.0
    plausible_accel_mps2: float = 15.0  # beyond this a command is rejected, not limited
    plausible_steer_rad: float = 1.2

    def __post_init__(self) -> None:
        if not self.sources:
            raise GateConfigError('gate: sources is empty; expected at least one source')
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names) or '' in names:
            raise GateConfigError(f'gate: source names must be unique and non-empty, got {names}')
        prios = [s.priority for s in self.sources]
        if len(set(prios)) != len(prios):
            raise GateConfigError(f'gate: source priorities must be distinct, got {prios}')
        for s in self.sources:
            if not (math.isfinite(s.timeout_s) and s.timeout_s > 0):
                raise GateConfigError(
                    f'gate: source {s.name}: timeout_s must be > 0, got {s.timeout_s}'
                )
        lim = self.limits
        if not 0 < self.safe_stop_decel_mps2 <= lim.max_decel_mps2:
            raise GateConfigError(
                f'gate: safe_stop_decel_mps2 must be in (0, max_decel_mps2={lim.max_decel_mps2}], '
                f'got {self.safe_stop_decel_mps2}'
            )
        if not 0 < self.safe_stop_jerk_mps3 <= lim.max_jerk_mps3:
            raise GateConfigError(
                f'gate: safe_stop_jerk_mps3 must be in (0, max_jerk_mps3={lim.max_jerk_mps3}], '
                f'got {self.safe_stop_jerk_mps3}'
            )
        if not 0 <= self.standstill_hold_decel_mps2 <= lim.max_decel_mps2:
            raise GateConfigError(
                f'gate: standstill_hold_decel_mps2 must be in [0, {lim.max_decel_mps2}], '
                f'got {self.standstill_hold_decel_mps2}'
            )
        for name in ('period_s', 'status_timeout_s', 'standstill_speed_mps'):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise GateConfigError(f'gate: {name} must be > 0, got {value}')
        if not (math.isfinite(self.future_tolerance_s) and self.future_tolerance_s >= 0):
            raise GateConfigError(
                f'gate: future_tolerance_s must be >= 0, got {self.future_tolerance_s}'
            )


class Gate:
    """The arbiter and limiter. Not thread-safe: one caller, time stamps never decreasing."""

    def __init__(self, config: GateConfig) -> None:
        self.config = config
        self._sources = {s.name: s for s in config.sources}
        self._latest: dict[str, Command] = {}
        self._fresh: set[str] = set()
        self._status: Status | None = None
        self._limiter = Limiter(config.limits)
        self._last_step_ns: int | None = None
        self.state = GateState.MANUAL
        self.estop_latched = False
        self.safe_stop_latched = False

    # --- inputs -------------------------------------------------------------------
    def on_command(self, cmd: Command, now_ns: int) -> Rejection | None:
        """Accept a source's command, or say why not (the caller counts the rejection)."""
        cfg = self.config
        src = self._sources.get(cmd.source)
        if src is None:
            known = sorted(self._sources)
            return Rejection('unknown_source', f'source {cmd.source!r}, expected one of {known}')
        if not (math.isfinite(cmd.acceleration_mps2) and math.isfinite(cmd.steering_angle_rad)):
            return Rejection(
                'not_finite',
                f'{cmd.source}: acceleration {cmd.acceleration_mps2}, '
                f'steering {cmd.steering_angle_rad}',
            )
        if abs(cmd.acceleration_mps2) > cfg.plausible_accel_mps2:
            return Rejection(
                'out_of_range',
                f'{cmd.source}: acceleration {cmd.acceleration_mps2} m/s², '
                f'expected |a| <= {cfg.plausible_accel_mps2}',
            )
        if abs(cmd.steering_angle_rad) > cfg.plausible_steer_rad:
            return Rejection(
                'out_of_range',
                f'{cmd.source}: steering {cmd.steering_angle_rad} rad, '
                f'expected |δ| <= {cfg.plausible_steer_rad}',
            )
        if not 0 <= cmd.gear <= GEAR_DRIVE:
            return Rejection('out_of_range', f'{cmd.source}: gear {cmd.gear}, expected 0..4')
        previous = self._latest.get(cmd.source)
        reason = self._stamp_problem(cmd.stamp_ns, now_ns, src.timeout_s, previous)
        if reason is not None:
            return Rejection(reason, f'{cmd.source}: stamp {cmd.stamp_ns} ns at {now_ns} ns')
        self._latest[cmd.source] = cmd
        return None

    def on_status(self, status: Status, now_ns: int) -> Rejection | None:
        """Take the vehicle's report (mode, override, speed, faults)."""
        if not all(
            math.isfinite(v)
            for v in (
                status.speed_mps,
                status.acceleration_mps2,
                status.yaw_rate_radps,
                status.steering_angle_rad,
            )
        ):
            return Rejection('not_finite', f'vehicle status has a NaN/inf field: {status}')
        if status.mode not in (MODE_MANUAL, MODE_STANDBY, MODE_AUTONOMOUS):
            return Rejection('out_of_range', f'vehicle status mode {status.mode}, expected 0..2')
        reason = self._stamp_problem(
            status.stamp_ns, now_ns, self.config.status_timeout_s, self._status
        )
        if reason is not None:
            return Rejection(reason, f'vehicle status: stamp {status.stamp_ns} ns at {now_ns} ns')
        self._status = status
        return None

    def on_estop(self, asserted: bool, now_ns: int) -> None:
        """An e-stop input; ``True`` latches (``False`` does not release: only a reset does)."""
        del now_ns
        if asserted:
            self.estop_latched = True

    def on_estop_reset(self, now_ns: int) -> None:
        del now_ns
        self.estop_latched = False

    def _stamp_problem(
        self, stamp_ns: int, now_ns: int, timeout_s: float, previous: Command | Status | None
    ) -> str | None:
        if stamp_ns - now_ns > self.config.future_tolerance_s * NS_PER_S:
            return 'future_stamp'
        if now_ns - stamp_ns > timeout_s * NS_PER_S:
            return 'stale'
        if previous is not None and stamp_ns <= previous.stamp_ns:
            return 'out_of_order'
        return None

    # --- the cycle -----------------------------------------------------------------
    def step(self, now_ns: int) -> GateOutput:
        """One cycle at ``now_ns``: pick the winner, update the state, emit a limited command."""
        cfg = self.config
        events: list[str] = []
        if self._last_step_ns is None:
            dt_s = cfg.period_s
        elif now_ns < self._last_step_ns:
            dt_s = 0.0
            events.append('clock_backwards')
        else:
            dt_s = (now_ns - self._last_step_ns) / NS_PER_S
        self._last_step_ns = max(now_ns, self._last_step_ns or now_ns)

        winner = self._arbitrate(now_ns, events)
        status = self._status
        status_fresh = status is not None and (
            now_ns - status.stamp_ns <= cfg.status_timeout_s * NS_PER_S
        )
        mode = status.mode if status is not None else MODE_MANUAL
        override = status.driver_override if status is not None else False
        faults = status.faults if status is not None else 0
        if status is not None and not status_fresh:
            faults |= FAULT_CAN_TIMEOUT
        speed = abs(status.speed_mps) if status is not None else 0.0
        standstill = status_fresh and speed <= cfg.standstill_speed_mps

        previous = self.state
        if mode == MODE_MANUAL or override:
            if override and previous is not GateState.MANUAL:
                events.append('driver_override')
            self.state = GateState.MANUAL
            self.safe_stop_latched = False
        elif self.estop_latched:
            self.state = GateState.ESTOP
        elif mode == MODE_STANDBY:
            self.state = GateState.STANDBY
            self.safe_stop_latched = False
        elif self.safe_stop_latched:
            if standstill and winner is not None and not faults:
                self.safe_stop_latched = False
                self.state = GateState.AUTONOMOUS
            else:
                self.state = GateState.SAFE_STOP
        elif faults or winner is None:
            self.safe_stop_latched = True
            self.state = GateState.SAFE_STOP
            events.append('safe_stop_fault' if faults else 'safe_stop_no_source')
        else:
            self.state = GateState.AUTONOMOUS
        if self.state is not previous:
            events.append(f'state:{previous.value}->{self.state.value}')
        return self._output(
            now_ns=now_ns,
            dt_s=dt_s,
            winner=winner,
            status=status,
            speed=speed,
            standstill=standstill,
            faults=faults,
            events=events,
        )

    def _arbitrate(self, now_ns: int, events: list[str]) -> Command | None:
        fresh: set[str] = set()
        best: Command | None = None
        best_prio = -math.inf
        for name, cmd in self._latest.items():
            src = self._sources[name]
            if now_ns - cmd.stamp_ns <= src.timeout_s * NS_PER_S:
                fresh.add(name)
                if src.priority > best_prio:
                    best, best_prio = cmd, src.priority
        events.extend(f'source_lost:{name}' for name in sorted(self._fresh - fresh))
        self._fresh = fresh
        return best

    def _output(
        self,
        *,
        now_ns: int,
        dt_s: float,
        winner: Command | None,
        status: Status | None,
        speed: float,
        standstill: bool,
        faults: int,
        events: list[str],
    ) -> GateOutput:
        cfg, lim = self.config, self._limiter
        state = self.state
        gear, hazard, left, right = GEAR_NONE, False, False, False
        if state in (GateState.MANUAL, GateState.STANDBY):
            if status is not None:
                lim.reset(status.acceleration_mps2, status.steering_angle_rad, speed)
            enable = state is GateState.STANDBY and winner is not None and not faults
            accel, steer = lim.accel_mps2, lim.steer_rad
        elif state is GateState.AUTONOMOUS:
            assert winner is not None
            enable = True
            accel, steer = lim.step(
                winner.acceleration_mps2, winner.steering_angle_rad, speed, dt_s
            )
            hazard, left, right = winner.hazard_lights, winner.turn_left, winner.turn_right
            if winner.gear != GEAR_NONE:
                if standstill or (status is not None and status.gear == winner.gear):
                    gear = winner.gear
                else:
                    events.append('gear_refused_moving')
        else:
            enable, hazard = True, True
            if state is GateState.ESTOP:
                target, jerk = -cfg.limits.max_decel_mps2, None
            elif standstill:
                target, jerk = -cfg.standstill_hold_decel_mps2, cfg.safe_stop_jerk_mps3
            else:
                target, jerk = -cfg.safe_stop_decel_mps2, cfg.safe_stop_jerk_mps3
            accel, steer = lim.step(target, lim.steer_rad, speed, dt_s, jerk_mps3=jerk)
        return assemble(  # every cycle of every vehicle: the frozen __init__ costs 3x
            GateOutput,
            stamp_ns=now_ns,
            state=state,
            enable=enable,
            acceleration_mps2=accel,
            steering_angle_rad=steer,
            gear=gear,
            hazard_lights=hazard,
            turn_left=left,
            turn_right=right,
            source=self._shown_source(winner, enable),
            events=tuple(events),
        )

    def _shown_source(self, winner: Command | None, enable: bool) -> str:
        """The source named in the output: the one in control, or requesting engagement."""
        if winner is None or self.state not in (GateState.AUTONOMOUS, GateState.STANDBY):
            return ''
        return winner.source if enable else ''

    @property
    def status(self) -> Status | None:
        """The latest accepted vehicle status (its speed sets the steering envelope)."""
        return self._status

    def fresh_sources(self) -> frozenset[str]:
        return frozenset(self._fresh)

"""NtcipSignalSource: a real signal controller's state over NTCIP 1202 (SNMP) → IntersectionState.

Out: ``signals/state`` (IntersectionState). Polls the phase status groups every
``poll_period_s`` and the phase timing every ``timing_refresh_s``; turns them into lights and
counting-down times. A controller that stops answering or answers nonsense is counted; after
``stale_after_s`` without a good answer the state is published with ``STATUS_NO_VALID_SPAT``
and every light unavailable, so SPAT never carries stale timing.
"""

from __future__ import annotations

import math
from typing import Any

from rsu_nodes.signals.ntcip1202 import (
    LIGHT_UNAVAILABLE,
    NtcipError,
    PhaseClock,
    PhaseTiming,
    parse_lights,
    parse_timing,
    status_oids,
    timing_oids,
)
from rsu_nodes.signals.snmp_client import SnmpClient, SnmpError
from v2x_runtime import QOS_RELIABLE, Component, ComponentContext, ParameterError
from v2x_runtime import messages as m

STATE = 'v2x_stack/msg/IntersectionState'
PHASE = 'v2x_stack/msg/SignalPhase'


class NtcipSignalSource(Component):
    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.address = ctx.declare_parameter(
            'controller_address', '127.0.0.1', 'Signal controller IP address'
        )
        self.port = ctx.declare_parameter('controller_port', 161, 'SNMP port', range=(1, 65535))
        self.community = ctx.declare_parameter('community', 'public', 'SNMP v2c community')
        self.poll_period_s = ctx.declare_parameter(
            'poll_period_s', 0.1, 'Status poll period', range=(0.02, 10.0)
        )
        self.timeout_s = ctx.declare_parameter(
            'timeout_s', 0.1, 'Answer timeout', range=(0.01, 5.0)
        )
        self.timing_refresh_s = ctx.declare_parameter(
            'timing_refresh_s', 60.0, 'Phase timing re-read period', range=(1.0, 86400.0)
        )
        self.phases = ctx.declare_parameter('phases', [2, 4, 6, 8], 'Phases (signal groups)')
        self.groups = ctx.declare_parameter(
            'phase_groups', 1, 'Phase status groups to poll', range=(1, 4)
        )
        self.permissive = frozenset(
            ctx.declare_parameter(
                'permissive_phases', [0], 'Phases whose green is permissive (0: none)'
            )
        )
        self.region = ctx.declare_parameter('region', 0, 'NodeReferenceID.region', range=(0, 65535))
        self.intersection_id = ctx.declare_parameter(
            'intersection_id', 1, 'NodeReferenceID.id', range=(0, 65535)
        )
        self.stale_after_s = ctx.declare_parameter(
            'stale_after_s',
            1.0,
            'Without a good answer this long, the state is unknown',
            range=(0.05, 60.0),
        )
        if not self.phases or any(not 1 <= p <= 8 * self.groups for p in self.phases):
            raise ParameterError(f'phases: {self.phases} must lie in 1..{8 * self.groups}')
        self.pub = ctx.create_publisher('signals/state', STATE, QOS_RELIABLE)
        ctx.create_timer(self.poll_period_s, self.poll)
        self.client: SnmpClient | None = None
        self.timing: dict[int, PhaseTiming] | None = None
        self.timing_read_ns: int | None = None
        self.last_good_ns: int | None = None
        self.clock = PhaseClock()

    def start(self) -> None:
        self.client = SnmpClient(self.address, self.port, self.community, timeout_s=self.timeout_s)

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def poll(self) -> None:
        if self.client is None:
            return
        now = self.ctx.now_ns()
        try:
            if self.timing is None or now - self.timing_read_ns > self.timing_refresh_s * 1e9:
                self.timing = parse_timing(self.client.get(timing_oids(self.phases)), self.phases)
                self.timing_read_ns = now
            lights = parse_lights(
                self.client.get(status_oids(self.groups)), self.groups, self.phases, self.permissive
            )
        except SnmpError as err:
            self.ctx.diagnostics.reject('no_answer', str(err))
            self._maybe_stale(now)
            return
        except NtcipError as err:
            self.ctx.diagnostics.reject('nonsense', str(err))
            self._maybe_stale(now)
            return
        self.last_good_ns = now
        self.ctx.diagnostics.count('polls')
        phases = []
        for phase in sorted(lights):
            light = lights[phase]
            elapsed = self.clock.observe(phase, light, now)
            c = self.clock.countdown(light, elapsed, self.timing[phase])
            phases.append(
                m.new(
                    PHASE,
                    phase_id=phase,
                    light=light,
                    start_s=c.start_s,
                    min_end_s=c.min_end_s,
                    max_end_s=c.max_end_s,
                    likely_end_s=c.likely_end_s,
                    confidence=0.5 if math.isnan(c.max_end_s) else 1.0,
                    next_start_s=math.nan,
                    next_duration_s=math.nan,
                )
            )
        self.pub.publish(self._state(now, 0, phases))

    def _maybe_stale(self, now: int) -> None:
        if self.last_good_ns is not None and now - self.last_good_ns < self.stale_after_s * 1e9:
            return
        self.ctx.diagnostics.count('stale_states')
        unknown = [
            m.new(
                PHASE,
                phase_id=p,
                light=LIGHT_UNAVAILABLE,
                start_s=math.nan,
                min_end_s=math.nan,
                max_end_s=math.nan,
                likely_end_s=math.nan,
                next_start_s=math.nan,
                next_duration_s=math.nan,
            )
            for p in sorted(self.phases)
        ]
        self.pub.publish(self._state(now, m.msg_class(STATE).STATUS_NO_VALID_SPAT, unknown))

    def _state(self, now: int, status: int, phases: list[Any]) -> Any:
        return m.new(
            STATE,
            header=m.header(now),
            region=self.region,
            intersection_id=self.intersection_id,
            status=status,
            phases=phases,
        )

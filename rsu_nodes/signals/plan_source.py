"""SignalPlanSource: a configured fixed-time plan → ``signals/state`` (IntersectionState).

For a roadside unit without a controller interface (or a site that runs a known fixed-time
plan). The plan comes from a YAML file (``plan_file``) or inline YAML/JSON text (``plan``), in
the format of ``rsu_nodes.signals.plan.plan_from_dict``; a bad plan fails at start with the
file and the field. Plan time is the clock's time since the Unix epoch, so ``offset_s`` is the
offset from UTC midnight when the cycle divides a day (coordination across intersections).
Every ``1 / rate_hz`` the state of every signal group is published with its counting-down
timing (min = max = likely end for a fixed-time plan, next green start and duration). A clock
that jumps backwards is counted (``rejected.time_backwards``) and the plan follows the clock.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from rsu_nodes.signals.plan import PlanError, SignalPlan, plan_from_dict
from v2x_runtime import QOS_RELIABLE, Component, ComponentContext, ParameterError
from v2x_runtime import messages as m
from v2x_runtime.resources import resource_path

STATE = 'v2x_stack/msg/IntersectionState'
PHASE = 'v2x_stack/msg/SignalPhase'


def load_plan(plan_file: str, plan_text: str, where: str) -> SignalPlan:
    """The plan of a YAML file or inline text. :raises ParameterError: naming file/field."""
    if bool(plan_file) == bool(plan_text):
        raise ParameterError(f'{where}: set exactly one of plan_file and plan')
    source = plan_file or 'parameter plan'
    try:
        text = resource_path(plan_file).read_text(encoding='utf-8') if plan_file else plan_text
        data = yaml.safe_load(text)
    except OSError as err:
        raise ParameterError(f'{where}: plan_file {plan_file}: {err.strerror}') from None
    except yaml.YAMLError as err:
        raise ParameterError(f'{where}: {source}: not YAML: {err}') from None
    if isinstance(data, dict) and isinstance(data.get('signal_plan'), dict):
        data = data['signal_plan']
    if not isinstance(data, dict):
        raise ParameterError(f'{where}: {source}: expected a mapping with stages')
    try:
        return plan_from_dict(data, where=source)
    except PlanError as err:
        raise ParameterError(f'{where}: {err}') from None


class SignalPlanSource(Component):
    """Fixed-time plan → IntersectionState. Out: ``signals/state``. Parameters: see below."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        plan_file = ctx.declare_parameter('plan_file', '', 'YAML file with the signal plan')
        plan_text = ctx.declare_parameter('plan', '', 'Inline YAML/JSON plan (instead of a file)')
        self.rate_hz = ctx.declare_parameter('rate_hz', 10.0, 'SPAT state rate', range=(0.5, 50.0))
        self.region = ctx.declare_parameter('region', 0, 'NodeReferenceID.region', range=(0, 65535))
        self.intersection_id = ctx.declare_parameter(
            'intersection_id', 0, 'NodeReferenceID.id (0: the plan file value)', range=(0, 65535)
        )
        self.plan = load_plan(plan_file, plan_text, ctx.name)
        if not self.intersection_id:
            self.intersection_id = self.plan.intersection_id
        self.status = m.msg_class(STATE).STATUS_FIXED_TIME
        self.pub = ctx.create_publisher('signals/state', STATE, QOS_RELIABLE)
        ctx.create_timer(1.0 / self.rate_hz, self.on_tick)
        self.last_ns: int | None = None

    def on_tick(self) -> None:
        now = self.ctx.now_ns()
        if self.last_ns is not None and now < self.last_ns:
            self.ctx.diagnostics.reject(
                'time_backwards', f'clock went back {(self.last_ns - now) / 1e9:.3f} s'
            )
        self.last_ns = now
        self.pub.publish(self.state_at(now))
        self.ctx.diagnostics.count('states')

    def state_at(self, now_ns: int) -> Any:
        """The IntersectionState of the plan at ``now_ns`` (timing relative to that stamp)."""
        groups = self.plan.state(now_ns / 1e9)
        phases = [
            m.new(
                PHASE,
                phase_id=g.group,
                light=int(g.light),
                start_s=g.start_s,
                min_end_s=g.min_end_s,
                max_end_s=g.max_end_s,
                likely_end_s=g.likely_end_s,
                confidence=g.confidence,
                next_start_s=g.next_start_s,
                next_duration_s=g.next_duration_s if math.isfinite(g.next_duration_s) else math.nan,
            )
            for g in sorted(groups.values(), key=lambda s: s.group)
        ]
        return m.new(
            STATE,
            header=m.header(now_ns),
            region=self.region,
            intersection_id=self.intersection_id,
            status=self.status,
            phases=phases,
        )

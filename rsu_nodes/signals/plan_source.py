"""SignalPlanSource: a configured fixed-time or actuated plan → ``signals/state``.

For a roadside unit without a controller interface (or a site that runs a known fixed-time
plan). The plan comes from a YAML file (``plan_file``) or inline YAML/JSON text (``plan``), in
the format of ``rsu_nodes.signals.plan.plan_from_dict``; a bad plan fails at start with the
file and the field. Plan time is the clock's time since the Unix epoch, so ``offset_s`` is the
offset from UTC midnight when the cycle divides a day (coordination across intersections).
Every ``1 / rate_hz`` the state of every signal group is published with its counting-down
timing (min = max = likely end for a fixed-time plan, next green start and duration). A clock
that jumps backwards is counted (``rejected.time_backwards``) and the plan follows the clock.

A plan with ``mode: actuated`` (``rsu_nodes.signals.actuated``) runs the actuated controller
instead: detector calls come from the tracked participants (``participants_topic``, map
frame) in the plan's detection zones; status ``STATUS_TRAFFIC_DEPENDENT``; min/max/likely
ends reflect the calls. Participants older than ``detector_timeout_s`` count as a failed
detector: every stage is then called (``detectors_silent``), so no approach starves.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import yaml

from rsu_nodes.signals.actuated import ActuatedController
from rsu_nodes.signals.actuated_plan import ActuatedPlan, actuated_plan_from_dict
from rsu_nodes.signals.plan import GroupState, PlanError, SignalPlan, plan_from_dict
from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext, ParameterError
from v2x_runtime import messages as m
from v2x_runtime.resources import resource_path

STATE = 'v2x_stack/msg/IntersectionState'
PHASE = 'v2x_stack/msg/SignalPhase'
ARRAY = 'v2x_stack/msg/ParticipantArray'


def load_plan(plan_file: str, plan_text: str, where: str) -> SignalPlan | ActuatedPlan:
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
        mode = data.get('mode', 'fixed')
        if mode == 'actuated':
            return actuated_plan_from_dict(data, where=source)
        if mode != 'fixed':
            raise PlanError(f'{source}: mode: expected fixed or actuated, got {mode!r}')
        return plan_from_dict(data, where=source)
    except PlanError as err:
        raise ParameterError(f'{where}: {err}') from None


class SignalPlanSource(Component):
    """Plan → IntersectionState. Out: ``signals/state``; in (actuated plans only): the
    participants topic. Parameters: see below."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        plan_file = ctx.declare_parameter('plan_file', '', 'YAML file with the signal plan')
        plan_text = ctx.declare_parameter('plan', '', 'Inline YAML/JSON plan (instead of a file)')
        self.rate_hz = ctx.declare_parameter('rate_hz', 10.0, 'SPAT state rate', range=(0.5, 50.0))
        self.region = ctx.declare_parameter('region', 0, 'NodeReferenceID.region', range=(0, 65535))
        self.intersection_id = ctx.declare_parameter(
            'intersection_id', 0, 'NodeReferenceID.id (0: the plan file value)', range=(0, 65535)
        )
        topic = ctx.declare_parameter(
            'participants_topic', 'rsu/participants', 'Actuated: tracked participants (map)'
        )
        self.detector_timeout_s = ctx.declare_parameter(
            'detector_timeout_s', 1.0, 'Actuated: older participants = failed detector',
            range=(0.05, 60.0),
        )  # fmt: skip
        self.plan = load_plan(plan_file, plan_text, ctx.name)
        if not self.intersection_id:
            self.intersection_id = self.plan.intersection_id
        cls = m.msg_class(STATE)
        self.controller: ActuatedController | None = None
        self.presence: dict[str, int] = {}
        self.presence_ns: int | None = None
        self.silent = False
        if isinstance(self.plan, ActuatedPlan):
            self.controller = ActuatedController(self.plan)
            self.status = cls.STATUS_TRAFFIC_DEPENDENT
            ctx.create_subscription(topic, ARRAY, self.on_participants, QOS_SENSOR)
        else:
            self.status = cls.STATUS_FIXED_TIME
        self.pub = ctx.create_publisher('signals/state', STATE, QOS_RELIABLE)
        ctx.create_timer(1.0 / self.rate_hz, self.on_tick)
        self.last_ns: int | None = None

    def on_participants(self, msg: Any) -> None:
        """Zone occupancy of the latest participants (non-finite positions are skipped)."""
        assert isinstance(self.plan, ActuatedPlan)
        parts = msg.participants
        xy = np.array([(p.position.x, p.position.y) for p in parts], dtype=np.float64)
        cls = np.array([p.participant_class for p in parts], dtype=np.int64)
        xy = xy.reshape(-1, 2)
        ok = np.isfinite(xy).all(axis=1)
        if not ok.all():
            self.ctx.diagnostics.reject('nan_position', f'{int((~ok).sum())} participants')
        xy, cls = xy[ok], cls[ok]
        self.presence = {name: z.count(xy, cls) for name, z in self.plan.zones.items()}
        self.presence_ns = self.ctx.now_ns()
        self.ctx.diagnostics.count('participant_arrays')

    def on_tick(self) -> None:
        now = self.ctx.now_ns()
        if self.last_ns is not None and now < self.last_ns:
            self.ctx.diagnostics.reject(
                'time_backwards', f'clock went back {(self.last_ns - now) / 1e9:.3f} s'
            )
            if self.controller is not None:  # the controller cannot run backwards
                return
        self.last_ns = now
        self.pub.publish(self.state_at(now))
        self.ctx.diagnostics.count('states')

    def _actuated(self, now_ns: int) -> dict[int, GroupState]:
        assert self.controller is not None and isinstance(self.plan, ActuatedPlan)
        fresh = (
            self.presence_ns is not None
            and now_ns - self.presence_ns <= self.detector_timeout_s * 1e9
        )
        if fresh:
            presence = self.presence
            self.silent = False
        else:  # a failed detector calls every stage: nobody waits forever
            if not self.silent:
                self.ctx.diagnostics.count('detectors_silent')
                self.silent = True
            presence = {}
            self.controller.calls.update(range(len(self.plan.stages)))
        self.controller.update(now_ns / 1e9, presence)
        return self.controller.state()

    def state_at(self, now_ns: int) -> Any:
        """The IntersectionState of the plan at ``now_ns`` (timing relative to that stamp)."""
        if self.controller is not None:
            groups = self._actuated(now_ns)
        else:
            assert isinstance(self.plan, SignalPlan)
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

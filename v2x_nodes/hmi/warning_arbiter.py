"""WarningArbiter: the many application warnings → one warning at a time for the driver."""

from __future__ import annotations

import math
from typing import Any

from v2x_nodes.hmi.arbitration import Arbiter, Candidate
from v2x_nodes.hmi.priority import LEVEL_NAMES, LEVEL_NONE, PriorityTable, parse_overrides
from v2x_runtime import QOS_LATCHED, QOS_RELIABLE, Component, ComponentContext
from v2x_runtime import messages as m

WARNING = 'v2x_stack/msg/Warning'


class WarningArbiter(Component):
    """Shows one warning at a time, by priority, with a minimum display time.

    Topics: in `v2x/warnings` (Warning, from every application); out `hmi/active_warning`
    (Warning: the one to show; LEVEL_NONE when nothing is shown; on every change and every
    `republish_period_s`) and `v2x/warnings_log` (Warning: each warning that is not shown,
    once per application/target/level, with its text prefixed by ``[suppressed]``).
    Parameters: `min_display_s`, `expire_after_s`, `priority_overrides` (``APP=PRIORITY``),
    `tick_period_s`, `republish_period_s`. Rejects: no_application, bad_level, bad_ttc.
    Counters: received, cleared, shown.<APP>, suppressed.<APP>, expired.<APP>.
    """

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        min_display_s = p(
            'min_display_s', 2.0, 'Least time a shown warning stays up (hold)', range=(0.0, 30.0)
        )
        expire_after_s = p(
            'expire_after_s',
            3.0,
            'A warning not re-sent for this long is dropped (0: only LEVEL_NONE clears)',
            range=(0.0, 600.0),
        )
        overrides = p(
            'priority_overrides',
            [''],
            'APP=PRIORITY entries that replace the table (e.g. EVW=70); empty: none',
        )
        tick_period_s = p('tick_period_s', 0.1, 'Arbitration period', range=(0.01, 1.0))
        self.republish_ns = round(
            p(
                'republish_period_s',
                1.0,
                'Re-send the shown warning this often (0: off)',
                range=(0.0, 60.0),
            )
            * 1e9
        )
        table = PriorityTable().with_overrides(
            parse_overrides([e for e in overrides if e.strip()], parameter='priority_overrides')
        )
        self.arbiter = Arbiter(table, min_display_s=min_display_s, expire_after_s=expire_after_s)
        self.pub = ctx.create_publisher('hmi/active_warning', WARNING, QOS_LATCHED)
        self.log_pub = ctx.create_publisher('v2x/warnings_log', WARNING, QOS_RELIABLE)
        ctx.create_subscription('v2x/warnings', WARNING, self.on_warning, QOS_RELIABLE)
        ctx.create_timer(tick_period_s, self.on_tick)
        self.last_publish_ns: int | None = None

    def on_warning(self, msg: Any) -> None:
        diag = self.ctx.diagnostics
        app = msg.application.strip().upper()
        if not app:
            diag.reject('no_application', f'warning without application: {msg.text!r}')
            return
        if msg.level > 4:
            diag.reject('bad_level', f'{app}: level {msg.level}, expected 0..4')
            return
        ttc = float(msg.time_to_collision_s)
        if math.isnan(ttc) or ttc < 0:
            diag.reject('bad_ttc', f'{app}: time_to_collision_s {ttc}, expected >= 0 or inf')
            return
        diag.count('received')
        removed = self.arbiter.report(
            application=app,
            target_id=msg.target_id,
            level=msg.level,
            time_to_collision_s=ttc,
            now_ns=self.ctx.now_ns(),
            payload=msg,
        )
        if removed:
            diag.count('cleared', removed)
        self.on_tick()

    def on_tick(self) -> None:
        now = self.ctx.now_ns()
        arbiter = self.arbiter
        if not arbiter.candidates and arbiter.shown is None and not self._republish_due(now):
            # Nothing to show, expire or log, and the none-state already published with its
            # diagnostics by the tick that emptied the arbiter: ``step`` would change nothing.
            return
        decision = arbiter.step(now)
        diag = self.ctx.diagnostics
        for cand in decision.expired:
            diag.count(f'expired.{cand.application}')
            self.ctx.logger.warning(
                f'{cand.application} {cand.target_id or "-"}: not re-sent for '
                f'{self.arbiter.expire_after_ns / 1e9:g} s, dropped',
                throttle_s=5.0,
                key=f'expired.{cand.application}',
            )
        for cand in decision.newly_suppressed:
            diag.count(f'suppressed.{cand.application}')
            self.log_pub.publish(self._suppressed_message(cand, now))
            self.ctx.logger.info(
                f'not shown: {cand.application} {LEVEL_NAMES[cand.level]} '
                f'{cand.target_id or "-"} (priority {cand.priority}); shown: '
                f'{_describe(decision.active)}'
            )
        active = decision.active
        diag.set_value('active', _describe(active))
        diag.set_value('candidates', len(self.arbiter.candidates))
        if decision.changed or self._republish_due(now):
            if decision.changed and active is not None:
                diag.count(f'shown.{active.application}')
            self.pub.publish(self._active_message(active, now))
            self.last_publish_ns = now

    def _republish_due(self, now_ns: int) -> bool:
        return self.last_publish_ns is None or (
            self.republish_ns > 0 and now_ns - self.last_publish_ns >= self.republish_ns
        )

    @staticmethod
    def _active_message(active: Candidate | None, now_ns: int) -> Any:
        if active is None:
            return m.new(
                WARNING,
                header=m.header(now_ns, ''),
                level=LEVEL_NONE,
                time_to_collision_s=math.inf,
                distance_m=math.nan,
            )
        return _restamped(active, now_ns, active.payload.text)

    @staticmethod
    def _suppressed_message(cand: Candidate, now_ns: int) -> Any:
        return _restamped(cand, now_ns, f'[suppressed] {cand.payload.text}')


def _restamped(cand: Candidate, now_ns: int, text: str) -> Any:
    """The candidate's warning, stamped now, under its application's name, with ``text``."""
    src = cand.payload
    return m.new(
        WARNING,
        header=m.header(now_ns, src.header.frame_id),
        application=cand.application,
        level=src.level,
        target_id=src.target_id,
        time_to_collision_s=src.time_to_collision_s,
        distance_m=src.distance_m,
        text=text,
    )


def _describe(cand: Candidate | None) -> str:
    if cand is None:
        return 'none'
    return f'{cand.application} {LEVEL_NAMES[cand.level]} {cand.target_id or "-"}'.strip()

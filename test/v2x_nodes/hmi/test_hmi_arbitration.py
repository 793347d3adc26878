"""Warning arbitration: the pure state machine (properties) and WarningArbiter on the runtime."""

import math

import pytest
from hmi_support import warning
from hypothesis import given, settings
from hypothesis import strategies as st

from v2x_nodes.hmi.arbitration import Arbiter
from v2x_nodes.hmi.errors import PriorityConfigError
from v2x_nodes.hmi.priority import PriorityTable
from v2x_nodes.hmi.warning_arbiter import WarningArbiter
from v2x_runtime.embedded import EmbeddedRuntime

S = 1_000_000_000
NONE, INFO, CAUTION, WARNING, CRITICAL = 0, 1, 2, 3, 4


# --- the pure state machine -------------------------------------------------------------
def make(min_display_s=2.0, expire_after_s=0.0):
    return Arbiter(PriorityTable(), min_display_s=min_display_s, expire_after_s=expire_after_s)


def report(arb, app, level, t_s, target='', ttc=math.inf):
    return arb.report(
        application=app,
        target_id=target,
        level=level,
        time_to_collision_s=ttc,
        now_ns=round(t_s * S),
    )


def shown(arb, t_s):
    d = arb.step(round(t_s * S))
    return None if d.active is None else d.active.application


def test_the_highest_priority_is_shown_and_preempts_at_once():
    arb = make()
    report(arb, 'GLOSA', INFO, 0.0)
    assert shown(arb, 0.0) == 'GLOSA'
    report(arb, 'FCW', WARNING, 0.5)
    assert shown(arb, 0.5) == 'FCW'  # within GLOSA's hold, but higher: immediately


def test_a_lower_priority_waits_and_is_logged_once_per_level():
    arb = make()
    report(arb, 'FCW', WARNING, 0.0)
    arb.step(0)
    report(arb, 'BSW', CAUTION, 0.1)
    d = arb.step(round(0.1 * S))
    assert d.active.application == 'FCW'
    assert [c.application for c in d.newly_suppressed] == ['BSW']
    report(arb, 'BSW', CAUTION, 0.2)
    assert arb.step(round(0.2 * S)).newly_suppressed == ()  # same level: logged already
    report(arb, 'BSW', WARNING, 0.3)
    assert [c.level for c in arb.step(round(0.3 * S)).newly_suppressed] == [WARNING]


def test_a_cleared_warning_is_held_for_the_minimum_display_time():
    arb = make(min_display_s=2.0)
    report(arb, 'HLW', CAUTION, 0.0)
    report(arb, 'GLOSA', INFO, 0.0)
    assert shown(arb, 0.0) == 'HLW'
    report(arb, 'HLW', NONE, 0.5)
    d = arb.step(round(0.5 * S))
    assert d.active.application == 'HLW' and d.held
    assert shown(arb, 1.99) == 'HLW'
    assert shown(arb, 2.0) == 'GLOSA'  # hold over: the next one
    report(arb, 'GLOSA', NONE, 2.1)
    assert shown(arb, 3.99) == 'GLOSA'
    assert shown(arb, 4.0) is None


def test_a_short_dip_of_the_shown_warning_does_not_let_a_lower_one_in():
    arb = make(min_display_s=2.0)
    report(arb, 'FCW', WARNING, 0.0)  # 80
    report(arb, 'EBW', WARNING, 0.0)  # 64
    assert shown(arb, 0.0) == 'FCW'
    report(arb, 'FCW', INFO, 0.5)  # dips to 60 < 64, but within its hold
    assert shown(arb, 0.5) == 'FCW'
    assert shown(arb, 2.0) == 'EBW'  # after the hold the current priorities count


def test_clear_without_target_clears_every_target_of_the_application():
    arb = make(min_display_s=0.0)
    report(arb, 'VRUCW', WARNING, 0.0, target='p1')
    report(arb, 'VRUCW', CAUTION, 0.0, target='p2')
    assert report(arb, 'VRUCW', NONE, 0.1) == 2
    assert shown(arb, 0.1) is None


def test_ties_go_to_the_smaller_time_to_collision():
    arb = make()
    report(arb, 'FCW', WARNING, 0.0, target='a', ttc=3.0)
    report(arb, 'FCW', WARNING, 0.0, target='b', ttc=1.5)
    d = arb.step(0)
    assert d.active.target_id == 'b'


def test_warnings_not_resent_expire():
    arb = make(min_display_s=0.5, expire_after_s=1.0)
    report(arb, 'TJW', CAUTION, 0.0)
    assert shown(arb, 0.0) == 'TJW'
    assert shown(arb, 1.0) == 'TJW'
    d = arb.step(round(1.1 * S))
    assert [c.application for c in d.expired] == ['TJW'] and d.active is None


APPS = ['FCW', 'ICW', 'BSW', 'EBW', 'EVW', 'HLW', 'SLW', 'GLOSA']
EVENTS = st.lists(
    st.tuples(st.sampled_from(APPS), st.integers(0, 4), st.integers(1, 400)),  # dt in 10 ms
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(EVENTS)
def test_invariants_of_any_report_sequence(events):
    """Never nothing while something is active; never a lower one over a higher active one;
    no switch within the hold unless to a higher priority; a shown warning is active or held."""
    arb = make(min_display_s=1.0)
    t_ns, since_ns, prev = 0, 0, None
    for app, level, dt in events:
        t_ns += dt * 10_000_000
        arb.report(
            application=app, target_id='', level=level, time_to_collision_s=math.inf, now_ns=t_ns
        )
        d = arb.step(t_ns)
        best = max((c.priority for c in arb.candidates.values()), default=None)
        if best is not None:
            assert d.active is not None
        if d.active is not None:
            assert d.held or d.active.key in arb.candidates
            if d.active.key in arb.candidates and best is not None:
                in_hold = prev is not None and t_ns - since_ns < 1e9
                current = arb.candidates[d.active.key].priority
                assert current == best or in_hold or (prev is not None and d.active.key == prev.key)
        switched = (d.active is None) != (prev is None) or (
            d.active is not None and prev is not None and d.active.key != prev.key
        )
        if switched and prev is not None and t_ns - since_ns < 1e9 and d.active is not None:
            assert d.active.priority > prev.priority or prev.key not in arb.candidates
        if switched:
            since_ns = t_ns
        prev = d.active


# --- WarningArbiter on the embedded runtime ----------------------------------------------
class Harness:
    def __init__(self, **params):
        self.rt = EmbeddedRuntime(diagnostics_period_s=0)
        self.node = self.rt.add_component(WarningArbiter, name='arbiter', parameters=params)
        self.active, self.log = [], []
        self.rt.subscribe('/hmi/active_warning', 'v2x_stack/msg/Warning', self.active.append)
        self.rt.subscribe('/v2x/warnings_log', 'v2x_stack/msg/Warning', self.log.append)

    def send(self, app, level, **kw):
        self.rt.publish('/v2x/warnings', warning(app, level, now_ns=self.rt.now_ns(), **kw))

    def run(self, s):
        self.rt.run(duration_s=s)

    def shown(self):
        last = self.active[-1]
        return (last.application, last.level) if last.level else None

    def timeline(self):
        """(time s, application or None) at each change of what is shown."""
        out = []
        for msg in self.active:
            what = msg.application if msg.level else None
            if not out or out[-1][1] != what:
                out.append((msg.header.stamp.sec + msg.header.stamp.nanosec / 1e9, what))
        return out


def test_component_priority_hold_and_clear_on_the_runtime_clock():
    h = Harness(min_display_s=2.0, expire_after_s=0.0)
    h.run(0.5)
    assert h.shown() is None  # a LEVEL_NONE went out at the first tick
    h.send('GLOSA', INFO, text='60 km/h for green')
    h.run(0.5)  # t = 1.0
    h.send('FCW', CRITICAL, target='veh7', ttc_s=1.2, text='Brake!')
    h.run(0.5)  # t = 1.5
    assert h.shown() == ('FCW', CRITICAL)
    assert h.active[-1].text == 'Brake!' and h.active[-1].target_id == 'veh7'
    h.send('FCW', NONE, target='veh7')
    h.run(1.9)  # t = 3.4: FCW shown since 1.0, held until 3.0
    h.send('BSW', CAUTION)
    h.run(3.0)  # t = 6.4
    assert h.timeline() == [(0.1, None), (0.5, 'GLOSA'), (1.0, 'FCW'), (3.0, 'GLOSA'), (3.4, 'BSW')]
    h.send('GLOSA', NONE)
    h.send('BSW', NONE)  # shown since 3.4: its hold is over, it goes at once
    h.run(3.0)
    assert h.timeline()[-1] == (pytest.approx(6.4), None)
    diag = h.node.ctx.diagnostics.counters
    assert diag['shown.FCW'] == 1 and diag['shown.GLOSA'] == 2 and diag['shown.BSW'] == 1
    assert diag['suppressed.GLOSA'] == 2 and diag['cleared'] == 3  # displaced by FCW, BSW


def test_component_logs_what_it_does_not_show():
    h = Harness()
    h.send('EVW', WARNING, text='ambulance behind')
    h.send('TJW', CAUTION, text='jam in 300 m')
    h.send('GLOSA', INFO)
    h.run(0.3)
    assert h.shown() == ('EVW', WARNING)
    assert [(w.application, w.text) for w in h.log] == [
        ('TJW', '[suppressed] jam in 300 m'),
        ('GLOSA', '[suppressed] GLOSA test warning'),
    ]
    assert h.node.ctx.diagnostics.counters['suppressed.TJW'] == 1


def test_component_republishes_the_shown_warning_for_late_joiners():
    h = Harness(republish_period_s=1.0)
    h.send('SLW', CAUTION)
    h.run(3.05)
    assert len([w for w in h.active if w.application == 'SLW']) == 4  # at 0, 1, 2, 3 s


def test_component_drops_warnings_that_are_not_resent():
    h = Harness(min_display_s=0.5, expire_after_s=1.0)
    h.send('HLW', WARNING)
    h.run(2.0)
    assert h.timeline()[-1][1] is None
    assert h.node.ctx.diagnostics.counters['expired.HLW'] == 1


def test_priority_override_parameter_changes_the_order():
    h = Harness(priority_overrides=['GLOSA=200'])
    h.send('FCW', CRITICAL)
    h.send('GLOSA', INFO)
    h.run(0.2)
    assert h.shown() == ('GLOSA', INFO)


def test_a_bad_override_fails_at_construction():
    with pytest.raises(PriorityConfigError, match="priority_overrides: entry 'FCW:9'"):
        Harness(priority_overrides=['FCW:9'])


@pytest.mark.parametrize(
    ('kw', 'reason'),
    [
        ({'app': ' '}, 'no_application'),
        ({'level': 9}, 'bad_level'),
        ({'ttc_s': math.nan}, 'bad_ttc'),
        ({'ttc_s': -1.0}, 'bad_ttc'),
    ],
)
def test_bad_warnings_are_rejected_counted_and_the_node_goes_on(kw, reason):
    h = Harness()
    app, level = kw.pop('app', 'FCW'), kw.pop('level', WARNING)
    h.send(app, level, **kw)
    h.send('ICW', CAUTION)
    h.run(0.2)
    assert h.node.ctx.diagnostics.counters[f'rejected.{reason}'] == 1
    assert h.shown() == ('ICW', CAUTION)

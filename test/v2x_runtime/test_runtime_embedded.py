"""The embedded runtime: timers, ordering, delivery, errors, determinism, pacing."""

import hashlib
import math
import time
from pathlib import Path

import pytest
from v2x_test_components import ARRAY, WARNING, Faulty, Lifecycle, Scaler, Talker

from v2x_runtime import QOS_RELIABLE, Component, ParameterError, TopologyError
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime


def participants(*xs: float):
    return m.new(
        ARRAY,
        participants=[
            m.new('v2x_stack/msg/Participant', id=i, position=m.new('geometry_msgs/msg/Point', x=x))
            for i, x in enumerate(xs)
        ],
    )


def test_timer_fires_at_its_period_from_start():
    rt = EmbeddedRuntime(start_ns=5_000_000_000)
    rt.add_component(Talker, name='talker', parameters={'rate_hz': 4.0})
    got = []
    rt.subscribe('/chatter', WARNING, got.append)
    rt.run(duration_s=1.0)
    stamps = [m.to_ns(w.header.stamp) for w in got]
    assert stamps == [5_250_000_000, 5_500_000_000, 5_750_000_000, 6_000_000_000]
    assert [w.text for w in got] == ['hello 1', 'hello 2', 'hello 3', 'hello 4']
    assert rt.now_ns() == 6_000_000_000


def test_events_run_by_time_then_by_order_scheduled():
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    order = []

    class Two(Component):
        def __init__(self, ctx):
            super().__init__(ctx)
            ctx.create_timer(0.5, lambda: order.append(('a', ctx.now_ns())))
            ctx.create_timer(0.25, lambda: order.append(('b', ctx.now_ns())))

    rt.add_component(Two, name='two')
    rt.run(duration_s=1.0)
    assert order == [
        ('b', 250_000_000),
        ('a', 500_000_000),
        ('b', 500_000_000),
        ('b', 750_000_000),
        ('a', 1_000_000_000),
        ('b', 1_000_000_000),
    ]


def test_a_message_is_delivered_after_the_events_queued_for_its_instant():
    """Deliveries at now (the runtime's FIFO) and timers (its heap) run by (time, seq): a
    message published at t reaches its subscribers after the timers already due at t and
    before those that fire at t but were queued later; a delivery's own publication goes
    after every delivery queued before it."""
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    order = []

    class Chain(Component):
        def __init__(self, ctx):
            super().__init__(ctx)
            self.out = ctx.create_publisher('first', WARNING, QOS_RELIABLE)
            self.relay = ctx.create_publisher('second', WARNING, QOS_RELIABLE)
            ctx.create_subscription('first', WARNING, self.on_first, QOS_RELIABLE)
            ctx.create_timer(0.5, self.tick)
            ctx.create_timer(0.5, lambda: order.append(('late timer', ctx.now_ns())))

        def tick(self):
            order.append(('tick', self.ctx.now_ns()))
            self.out.publish(m.new(WARNING, text='one'))

        def on_first(self, msg):
            order.append(('first', self.ctx.now_ns()))
            self.relay.publish(m.new(WARNING, text='two'))

    rt.add_component(Chain, name='chain')
    rt.subscribe('/first', WARNING, lambda msg: order.append(('observer first', rt.now_ns())))
    rt.subscribe('/second', WARNING, lambda msg: order.append(('observer second', rt.now_ns())))
    rt.run(duration_s=1.0)
    one = ['tick', 'late timer', 'first', 'observer first', 'observer second']
    assert order == [(what, t) for t in (500_000_000, 1_000_000_000) for what in one]


def test_message_reaches_subscriber_in_namespace_with_remapping():
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    rt.add_component(
        Scaler, name='scaler', namespace='car1', remappings={'objects_out': '/fused/objects'}
    )
    got = []
    rt.subscribe('/fused/objects', ARRAY, got.append)
    rt.publish('/car1/objects_in', participants(1.0, 2.5))
    rt.run(duration_s=0.1)
    assert [p.position.x for p in got[0].participants] == [2.0, 5.0]


def test_bad_input_is_rejected_counted_and_the_node_goes_on():
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    scaler = rt.add_component(Scaler, name='scaler')
    got = []
    rt.subscribe('/objects_out', ARRAY, got.append)
    rt.publish('/objects_in', participants(1.0, math.nan, 3.0))
    rt.publish('/objects_in', participants(4.0))
    rt.run(duration_s=0.1)
    assert [[p.id for p in a.participants] for a in got] == [[0, 2], [0]]
    assert scaler.ctx.diagnostics.counters['rejected.nan_position'] == 1
    assert scaler.ctx.diagnostics.counters['received'] == 2


def test_handler_exception_is_logged_counted_and_the_runtime_goes_on(caplog):
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    faulty = rt.add_component(Faulty, name='faulty')
    for n in (1, 3, 2, 6, 4):
        rt.publish('/objects_in', participants(*range(n)))
    rt.run(duration_s=0.1)
    assert faulty.handled == 3
    assert faulty.ctx.diagnostics.counters['handler_exceptions'] == 2
    assert rt.handler_errors == 2
    assert 'cannot handle 3 participants' in caplog.text
    assert 'Traceback' in caplog.text


def test_fail_fast_reraises():
    rt = EmbeddedRuntime(diagnostics_period_s=0, fail_fast=True)
    rt.add_component(Faulty, name='faulty')
    rt.publish('/objects_in', participants())
    with pytest.raises(ValueError, match='cannot handle 0'):
        rt.run(duration_s=0.1)


def test_dynamic_parameter_changes_at_run_time_and_read_only_does_not():
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    scaler = rt.add_component(Scaler, name='scaler')
    rt.set_parameter('/scaler', 'gain', 3)
    assert scaler.gain == 3.0
    with pytest.raises(ParameterError, match='outside'):
        rt.set_parameter('/scaler', 'gain', 11.0)
    with pytest.raises(ParameterError, match='read-only'):
        rt.set_parameter('/scaler', 'mode', 'copy')


def test_declaration_errors_name_the_component_and_field():
    rt = EmbeddedRuntime()
    with pytest.raises(ParameterError, match=r'/scaler: unknown parameter\(s\) gian'):
        rt.add_component(Scaler, name='scaler', parameters={'gian': 1.0})
    with pytest.raises(ParameterError, match=r'gain: 20.0 is outside \[-10.0, 10.0\]'):
        rt.add_component(Scaler, name='scaler2', parameters={'gain': 20.0})
    with pytest.raises(ParameterError, match="mode: 'double' is not one of 'scale', 'copy'"):
        rt.add_component(Scaler, name='scaler3', parameters={'mode': 'double'})
    with pytest.raises(ParameterError, match='gain: expected float, got str'):
        rt.add_component(Scaler, name='scaler4', parameters={'gain': 'two'})


def test_type_mismatch_between_publisher_and_subscriber_fails():
    from v2x_test_components import WrongType

    rt = EmbeddedRuntime()
    rt.add_component(Scaler, name='scaler')
    with pytest.raises(
        TopologyError,
        match='/objects_in declared as v2x_stack/msg/Warning, '
        'but /scaler declared it as v2x_stack/msg/Partici',
    ):
        rt.add_component(WrongType, name='wrong')


def test_start_and_stop_are_called_once_each_in_order():
    Lifecycle.calls.clear()
    with EmbeddedRuntime() as rt:
        rt.add_component(Lifecycle, name='a')
        rt.add_component(Lifecycle, name='b')
        rt.run(duration_s=0.5)
        rt.run(duration_s=0.5)
    assert Lifecycle.calls == ['start a', 'start b', 'stop b', 'stop a']


def test_diagnostics_are_published_each_second_with_counters():
    rt = EmbeddedRuntime()
    rt.add_component(Scaler, name='scaler', namespace='rsu')
    diags = []
    rt.subscribe('/rsu/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', diags.append)
    rt.publish('/rsu/objects_in', participants(math.nan))
    rt.run(duration_s=2.0)
    assert len(diags) == 2
    status = diags[-1].status[0]
    values = {kv.key: kv.value for kv in status.values}
    assert status.name == '/rsu/scaler'
    assert values['rejected.nan_position'] == '1'
    assert status.level == 1


def test_real_time_factor_paces_the_clock():
    rt = EmbeddedRuntime(real_time_factor=4.0, diagnostics_period_s=0)
    rt.add_component(Talker, name='talker', parameters={'rate_hz': 20.0})
    begin = time.monotonic()
    rt.run(duration_s=1.0)
    assert time.monotonic() - begin >= 0.24  # 1 simulated second at 4x takes at least 0.25 s


def run_talker_bag(out: Path, seed: int) -> bytes:
    out.parent.mkdir()
    rt = EmbeddedRuntime(seed=seed)
    rt.add_component(Talker, name='talker', namespace='car1')
    rt.add_component(Scaler, name='scaler', namespace='car1')
    rt.record(out)
    for k in range(5):
        rt.publish('/car1/objects_in', participants(k, k + 0.5), at_ns=k * 300_000_000)
    rt.run(duration_s=3.0)
    rt.close()
    return b''.join(p.read_bytes() for p in sorted(out.iterdir()))


def test_same_topology_and_seed_give_byte_identical_bags(tmp_path):
    first = run_talker_bag(tmp_path / 'a' / 'bag', seed=7)
    second = run_talker_bag(tmp_path / 'b' / 'bag', seed=7)
    other = run_talker_bag(tmp_path / 'c' / 'bag', seed=8)
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    assert first != other  # the seed reaches the components' random streams


def test_publishing_the_wrong_type_on_a_publisher_is_an_error():
    class Liar(Component):
        def __init__(self, ctx):
            super().__init__(ctx)
            self.pub = ctx.create_publisher('x', WARNING, QOS_RELIABLE)
            ctx.create_timer(0.1, lambda: self.pub.publish(participants()))

    rt = EmbeddedRuntime(fail_fast=True)
    rt.add_component(Liar, name='liar')
    with pytest.raises(Exception, match='publishing v2x_stack/msg/ParticipantArray on /x'):
        rt.run(duration_s=0.2)


def test_a_timer_can_be_canceled_reset_and_used_as_a_one_shot():
    """rclpy's cancel/reset: a canceled timer stops (even a firing due at the same instant),
    a reset one fires one period after the reset; a one-shot cancels itself; a timer made
    with autostart=False waits for its first reset."""
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    fired = []

    class Idle(Component):
        def __init__(self, ctx):
            super().__init__(ctx)
            self.tick = ctx.create_timer(0.1, lambda: fired.append(('tick', ctx.now_ns())))
            self.once = ctx.create_timer(0.25, self.on_once, autostart=False)
            ctx.create_timer(0.3, self.control)
            self.calls = 0

        def on_once(self):
            fired.append(('once', self.ctx.now_ns()))
            self.once.cancel()

        def control(self):
            self.calls += 1
            if self.calls == 1:  # at 0.3 s, queued before the tick due at 0.3 s: it is dropped
                self.tick.cancel()
                self.once.reset()
            elif self.calls == 2:  # at 0.6 s: reset, cancel, reset: ticks again from 0.7 s
                self.tick.reset()
                self.tick.cancel()
                self.tick.reset()

    comp = rt.add_component(Idle, name='idle')
    assert comp.once.is_canceled() and not comp.tick.is_canceled()
    rt.run(duration_s=0.9)
    ms = [(what, round(t / 1e6)) for what, t in fired]
    assert ms == [
        ('tick', 100),
        ('tick', 200),
        ('once', 550),
        ('tick', 700),
        ('tick', 800),
        ('tick', 900),
    ]
    assert comp.once.is_canceled() and not comp.tick.is_canceled()

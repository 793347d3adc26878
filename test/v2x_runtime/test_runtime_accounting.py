"""Time accounting in the embedded runtime: every callback's time on its owner's account, the
bag recorder's apart from the publisher's, and the summary by type and namespace."""

import time

import pytest
from v2x_test_components import WARNING

from v2x_runtime import QOS_RELIABLE, Component
from v2x_runtime import messages as m
from v2x_runtime.accounting import CpuAccount, cpu_summary
from v2x_runtime.embedded import EmbeddedRuntime


def burn(cpu_s: float) -> None:
    end = time.process_time() + cpu_s
    while time.process_time() < end:
        pass


class Busy(Component):
    """Burns 5 ms of CPU per tick and publishes a warning."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.pub = ctx.create_publisher('out', WARNING, QOS_RELIABLE)
        ctx.create_timer(0.1, self.tick)

    def tick(self):
        burn(0.005)
        self.pub.publish(m.new(WARNING, text='x' * 100))


class Idle(Component):
    def __init__(self, ctx):
        super().__init__(ctx)
        self.got = 0
        ctx.create_subscription('out', WARNING, self.on_msg, QOS_RELIABLE)

    def on_msg(self, _msg):
        self.got += 1


def test_each_callback_goes_to_its_owner(tmp_path):
    rt = EmbeddedRuntime(diagnostics_period_s=0.5)
    rt.add_component(Busy, name='busy', namespace='/car1')
    rt.add_component(Idle, name='idle', namespace='/car1')
    seen = []
    rt.subscribe('/car1/out', WARNING, seen.append)
    rt.record(tmp_path / 'bag')
    rt.run(duration_s=2.0)
    rt.close()
    accounts = {a.name: a for a in rt.cpu_accounts()}
    busy, idle = accounts['/car1/busy'], accounts['/car1/idle']
    assert (busy.kind, busy.namespace, busy.calls) == ('Busy', '/car1', 20)
    assert (idle.kind, idle.calls) == ('Idle', 20)
    assert busy.busy_s >= 20 * 0.005  # its own burn (CPU time, so at least as much wall time)
    assert busy.busy_s > 10 * idle.busy_s
    # the test's own subscriber is an observer, named after its callable
    assert accounts['list'].calls == 20 and accounts['list'].namespace == '<observer>'
    assert accounts['<diagnostics>'].calls == 4
    recorder = rt.recorder_account
    assert recorder.calls == 20 + 4  # the warnings and the diagnostics arrays
    assert rt.loop_wall_s >= sum(a.busy_s for a in rt.cpu_accounts())
    assert rt.loop_cpu_s >= 20 * 0.005
    summary = cpu_summary(rt.cpu_accounts(), loop_cpu_s=rt.loop_cpu_s, loop_wall_s=rt.loop_wall_s)
    assert summary['by_type'][0]['kind'] == 'Busy'
    total = summary['accounted_s'] + summary['unaccounted_s']
    assert total == pytest.approx(summary['loop_cpu_s'], abs=0.002)


class Sampler:
    """An outside timer callback (a test's or a tool's), not a component."""

    def __init__(self):
        self.ticks = 0

    def __call__(self):
        self.ticks += 1
        burn(0.002)


def test_outside_timers_and_injections_are_accounted():
    rt = EmbeddedRuntime(diagnostics_period_s=0.0)
    sampler = Sampler()
    rt.add_timer(100_000_000, sampler, None)  # no owner: an observer, named after its class
    rt.add_timer(100_000_000, Sampler(), None)  # a second one shares the class's account
    for k in range(3):  # replayed messages, published later in simulated time
        rt.publish('/ext/warn', m.new(WARNING, text='late'), at_ns=(k + 1) * 250_000_000)
    rt.run(duration_s=1.0)
    rt.close()
    accounts = {a.name: a for a in rt.cpu_accounts()}
    sampled = accounts['Sampler']
    assert (sampled.kind, sampled.namespace) == ('Sampler', '<observer>')
    assert sampled.calls == 2 * sampler.ticks and sampler.ticks >= 10
    assert sampled.busy_s >= 2 * sampler.ticks * 0.002
    injected = accounts['<inject>']
    assert (injected.kind, injected.namespace, injected.calls) == ('Injected', '<runtime>', 3)


def test_summary_groups_by_type_and_namespace_largest_first():
    accounts = [
        CpuAccount('/car1/loc', 'Localization', '/car1', 2.0, 10),
        CpuAccount('/car2/loc', 'Localization', '/car2', 1.0, 10),
        CpuAccount('/car1/bsm', 'Bsm', '/car1', 0.5, 100),
        CpuAccount('/car2/never', 'Never', '/car2', 0.0, 0),  # never ran: left out
    ]
    # the loop ran 5 s, on the CPU for 4 s of them: busy time counts 0.8 CPU
    s = cpu_summary(accounts, loop_cpu_s=4.0, loop_wall_s=5.0, top_types=1, top_namespaces=1)
    assert s['accounted_s'] == 2.8 and s['unaccounted_s'] == 1.2
    assert s['by_type'] == [
        {
            'kind': 'Localization',
            'busy_s': 3.0,
            'cpu_s': 2.4,
            'calls': 20,
            'instances': 2,
            'share': 0.857,
        }
    ]
    assert [(r['namespace'], r['cpu_s']) for r in s['by_namespace']] == [('/car1', 2.0)]
    full = cpu_summary(accounts, loop_cpu_s=4.0, loop_wall_s=4.0)
    assert [r['kind'] for r in full['by_type']] == ['Localization', 'Bsm']
    assert [r['namespace'] for r in full['by_namespace']] == ['/car1', '/car2']

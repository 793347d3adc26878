"""CPU accounting in the embedded runtime: every callback's time on its owner's account, the
bag recorder's apart from the publisher's, and the summary by type and namespace."""

import time

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
    assert busy.cpu_s >= 20 * 0.005 * 0.9  # its own burn, measured on the process clock
    assert busy.cpu_s > 10 * idle.cpu_s
    # the test's own subscriber is an observer, named after its callable
    assert accounts['list'].calls == 20 and accounts['list'].namespace == '<observer>'
    assert accounts['<diagnostics>'].calls == 4
    recorder = rt.recorder_account
    assert recorder.calls == 20 + 4  # the warnings and the diagnostics arrays
    assert rt.loop_cpu_s >= sum(a.cpu_s for a in rt.cpu_accounts())


def test_summary_groups_by_type_and_namespace_largest_first():
    accounts = [
        CpuAccount('/car1/loc', 'Localization', '/car1', 2.0, 10),
        CpuAccount('/car2/loc', 'Localization', '/car2', 1.0, 10),
        CpuAccount('/car1/bsm', 'Bsm', '/car1', 0.5, 100),
        CpuAccount('/car2/never', 'Never', '/car2', 0.0, 0),  # never ran: left out
    ]
    s = cpu_summary(accounts, loop_cpu_s=4.0, top_n=1)
    assert s['accounted_s'] == 3.5 and s['unaccounted_s'] == 0.5
    assert s['by_type'] == [
        {'kind': 'Localization', 'cpu_s': 3.0, 'calls': 20, 'instances': 2, 'share': 0.857}
    ]
    assert s['by_namespace'][0]['namespace'] == '/car1'
    assert s['by_namespace'][0]['cpu_s'] == 2.5
    full = cpu_summary(accounts)
    assert [r['kind'] for r in full['by_type']] == ['Localization', 'Bsm']
    assert 'unaccounted_s' not in full

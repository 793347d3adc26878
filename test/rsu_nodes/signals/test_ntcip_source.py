"""NTCIP 1202 polling against a real snmpd serving a simulated controller's phase status."""

import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from free_ports import free_port

from rsu_nodes.signals.ntcip1202 import (
    LIGHT_PROTECTED_GREEN,
    LIGHT_RED,
    LIGHT_YELLOW,
    NtcipError,
    PhaseClock,
    PhaseTiming,
    parse_lights,
    status_oids,
)
from rsu_nodes.signals.ntcip_source import NtcipSignalSource
from rsu_nodes.signals.snmp_client import SnmpClient
from v2x_runtime import ParameterError
from v2x_runtime.embedded import EmbeddedRuntime

SNMPD = shutil.which('snmpd') or '/usr/sbin/snmpd'
AGENT = Path(__file__).resolve().parent / 'ntcip_agent.py'
STATE = 'v2x_stack/msg/IntersectionState'


class Agent:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port('udp')  # snmpd needs its port before it starts
        self.dir = tmp
        agent = tmp / 'ntcip_agent.py'
        agent.write_text(AGENT.read_text())
        conf = tmp / 'snmpd.conf'
        conf.write_text(
            f'agentaddress udp:127.0.0.1:{self.port}\n'
            'rocommunity public 127.0.0.1\n'
            f'pass_persist .1.3.6.1.4.1.1206.4.2.1 {sys.executable} {agent}\n'
        )
        self.proc = subprocess.Popen(
            [
                SNMPD,
                '-f',
                '-C',
                '-c',
                str(conf),
                '-Lo',
                '-M',
                '/dev/null',
                '-p',
                str(tmp / 'snmpd.pid'),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = SnmpClient('127.0.0.1', self.port, 'public', timeout_s=0.2)
        try:
            end = time.monotonic() + 10
            while time.monotonic() < end:
                try:
                    if client.get(status_oids(1)):
                        return
                except Exception:
                    time.sleep(0.05)
            raise RuntimeError('snmpd with the NTCIP agent did not come up')
        finally:
            client.close()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def agent(tmp_path):
    if not Path(SNMPD).exists():
        pytest.skip('snmpd not installed (apt-get install snmpd)')
    a = Agent(tmp_path)
    yield a
    if a.proc.poll() is None:
        a.stop()


def poll_for(rt, got, seconds):
    """Run the source in real time (the controller's clock is real)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rt.run(duration_s=0.1)
        time.sleep(0.02)
    return got


def test_controller_state_becomes_intersection_state(agent):
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    rt.add_component(
        NtcipSignalSource,
        name='ntcip',
        namespace='rsu',
        parameters={'controller_port': agent.port, 'timeout_s': 0.3, 'intersection_id': 12},
    )
    got = []
    rt.subscribe('/rsu/signals/state', STATE, got.append)
    rt.start()
    try:
        poll_for(rt, got, 1.0)
    finally:
        rt.close()
    assert got and all(s.status == 0 and s.intersection_id == 12 for s in got)
    last = got[-1]
    assert [p.phase_id for p in last.phases] == [2, 4, 6, 8]
    lights = {p.phase_id: p.light for p in last.phases}
    assert lights[2] == lights[6] and lights[4] == lights[8] == LIGHT_RED  # t < 15 s: 2+6 go
    green = next(p for p in last.phases if p.phase_id == 2)
    if green.light == LIGHT_PROTECTED_GREEN:  # within 5..10 s from when we first saw it
        assert green.min_end_s <= 5.0 and 0 < green.max_end_s <= 10.0


def test_nonsense_and_silence_are_counted_then_the_state_goes_unknown(agent):
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    src = rt.add_component(
        NtcipSignalSource,
        name='ntcip',
        parameters={'controller_port': agent.port, 'timeout_s': 0.1, 'stale_after_s': 0.3},
    )
    got = []
    rt.subscribe('/signals/state', STATE, got.append)
    rt.start()
    try:
        poll_for(rt, got, 0.5)
        assert got[-1].status == 0
        (agent.dir / 'nonsense').write_text('')
        poll_for(rt, got, 0.8)
        assert src.ctx.diagnostics.counters['rejected.nonsense'] > 0
        assert got[-1].status == got[-1].STATUS_NO_VALID_SPAT
        (agent.dir / 'nonsense').unlink()
        poll_for(rt, got, 0.5)
        assert got[-1].status == 0
        agent.stop()
        poll_for(rt, got, 0.8)
    finally:
        rt.close()
    assert src.ctx.diagnostics.counters['rejected.no_answer'] > 0
    stale = got[-1]
    assert stale.status == stale.STATUS_NO_VALID_SPAT
    assert all(p.light == 0 and math.isnan(p.likely_end_s) for p in stale.phases)


def _status(reds, yellows, greens):
    base = '1.3.6.1.4.1.1206.4.2.1.1.4.1'
    return {f'{base}.2.1': reds, f'{base}.3.1': yellows, f'{base}.4.1': greens}


def test_lights_from_status_bits():
    lights = parse_lights(
        _status(0b1000_1000, 0b0010_0000, 0b0000_0010), 1, [2, 4, 6, 8], frozenset({2})
    )
    assert lights == {2: 5, 4: LIGHT_RED, 6: LIGHT_YELLOW, 8: LIGHT_RED}
    with pytest.raises(NtcipError, match='phase 4: red=False yellow=False green=False'):
        parse_lights(_status(0, 0, 0b10), 1, [2, 4])
    with pytest.raises(NtcipError, match='bad value 300'):
        parse_lights(_status(300, 0, 0), 1, [2])
    with pytest.raises(NtcipError, match='outside the 1 polled phase group'):
        parse_lights(_status(0, 0, 0), 1, [9])


def test_countdown_from_phase_timing():
    clock, timing = PhaseClock(), PhaseTiming(5.0, 10.0, 3.0, 2.0)
    assert clock.observe(2, LIGHT_PROTECTED_GREEN, 0) == 0.0
    elapsed = clock.observe(2, LIGHT_PROTECTED_GREEN, 3_000_000_000)
    c = clock.countdown(LIGHT_PROTECTED_GREEN, elapsed, timing)
    assert (c.start_s, c.min_end_s, c.max_end_s) == (-3.0, 2.0, 7.0)
    y = clock.countdown(LIGHT_YELLOW, 1.0, timing)
    assert y.min_end_s == y.max_end_s == 2.0
    r = clock.countdown(LIGHT_RED, 0.5, timing)
    assert r.min_end_s == 1.5 and math.isnan(r.max_end_s)


def test_phases_outside_the_groups_fail_at_start():
    with pytest.raises(ParameterError, match=r'phases: \[2, 12\] must lie in 1..8'):
        EmbeddedRuntime().add_component(NtcipSignalSource, name='n', parameters={'phases': [2, 12]})

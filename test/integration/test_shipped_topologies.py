"""The shipped car and RSU topologies, as files, running side by side on loopback UDP.

Signal state injected at the RSU leaves as SPAT through its transmitter and radio bridge and
arrives, typed, at the car; the hardware drivers of both (GNSS, NTRIP, CAN, SNMP, MQTT) find
no device here, count that, and the stacks go on. (The RSU's SNMP source, finding no
controller, also publishes "no valid SPAT" states for its own intersection 1.)
"""

import math
import socket

import pytest

from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from v2x_runtime.resources import config_dir
from v2x_runtime.topology import build, load_topology

NOW_NS = 1_780_000_000 * 1_000_000_000
STATE = 'v2x_stack/msg/IntersectionState'


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def stacks():
    car_port, rsu_port = free_udp_port(), free_udp_port()
    radio = {'bind_address': '127.0.0.1', 'device_address': '127.0.0.1'}
    car = load_topology(
        config_dir() / 'car.yaml',
        {
            'radio': {**radio, 'bind_port': car_port, 'device_port': rsu_port},
            'hmi_server': {'port': 0},
        },
    )
    rsu = load_topology(
        config_dir() / 'rsu.yaml',
        {
            'radio': {**radio, 'bind_port': rsu_port, 'device_port': car_port},
        },
    )
    rt = EmbeddedRuntime(start_ns=NOW_NS)
    build(car, rt, namespace='/car1')
    build(rsu, rt, namespace='/rsu1')
    rt.start()
    yield rt
    rt.close()


def test_spat_from_the_rsu_reaches_the_car_typed(stacks):
    rt = stacks
    got = []
    rt.subscribe('/car1/v2x/spat', STATE, got.append)
    phase = m.new(
        'v2x_stack/msg/SignalPhase',
        phase_id=2,
        light=6,
        start_s=-3.0,
        min_end_s=5.0,
        max_end_s=12.0,
        likely_end_s=9.0,
        confidence=1.0,
        next_start_s=math.nan,
        next_duration_s=math.nan,
    )
    for _ in range(5):
        rt.publish(
            '/rsu1/signals/state',
            m.new(STATE, header=m.header(rt.now_ns()), intersection_id=7, phases=[phase]),
        )
        rt.run(duration_s=0.1)
    rt.run(duration_s=0.2)
    ours = [s for s in got if s.intersection_id == 7]
    assert ours, f'no SPAT of intersection 7 arrived at the car ({len(got)} others)'
    (received,) = ours[-1].phases
    assert (received.phase_id, received.light) == (2, 6)
    assert received.likely_end_s == pytest.approx(9.0, abs=0.1)
    assert received.min_end_s == pytest.approx(5.0, abs=0.1)


def test_hardware_drivers_without_devices_are_counted_not_fatal(stacks):
    rt = stacks
    rt.run(duration_s=3.0)
    assert rt.handler_errors == 0
    gnss = rt.components['/car1/gnss'].ctx.diagnostics
    assert sum(v for k, v in gnss.counters.items() if k.startswith('rejected.')) > 0

"""The radio channel: delivery statistics follow the configured curve (binomial bounds), with
obstruction, congestion, latency and per-link random streams, through the real component."""

import math

import numpy as np
import pytest
import yaml
from sim_test_components import Beacon

from sim_nodes.channel.component import RadioChannel
from sim_nodes.channel.model import ChannelModel, Footprints, LinkRandom
from sim_nodes.scenarios.schema import ChannelConfig
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime


def scenario(tmp_path, receivers, *, buildings=(), channel=None, name='chan'):
    rsus = [{'name': 'tx', 'position_m': [0.0, 0.0, 5.0], 'stack': False}]
    rsus += [
        {'name': n, 'position_m': [x, y, 5.0], 'stack': False} for n, (x, y) in receivers.items()
    ]
    data = {
        'duration_s': 10,
        'seed': 5,
        'map': {'kind': 'four_arm', 'buildings': bool(buildings)},
        'rsus': rsus,
        'channel': channel or {},
    }
    path = tmp_path / f'{name}.yaml'
    path.write_text(yaml.safe_dump(data))
    return path


def run_channel(path, rate_hz, duration_s, seed=5):
    rt = EmbeddedRuntime(seed=seed, diagnostics_period_s=0)
    params = {'scenario': str(path), 'sets': [''], 'seed': -1}
    channel = rt.add_component(
        RadioChannel, name='radio_channel', namespace='/sim', parameters=params
    )
    beacon = rt.add_component(
        Beacon, name='beacon', namespace='/tx', parameters={'rate_hz': rate_hz}
    )
    received = {}
    for n in channel.nodes:
        received[n] = []
        rt.subscribe(f'/{n}/v2x/rx', 'v2x_stack/msg/V2xFrame', received[n].append)
    rt.run(duration_s=duration_s)
    rt.close()
    return channel, beacon, received


def within_binomial(k, n, p, z=4.5):
    return abs(k - n * p) <= z * math.sqrt(n * p * (1 - p)) + 1


def test_delivery_follows_the_curve_over_distance(tmp_path):
    receivers = {
        'r100': (100.0, 0.0),
        'r450': (450.0, 0.0),
        'r600': (0.0, 600.0),
        'r750': (-750.0, 0.0),
    }
    path = scenario(tmp_path, receivers)
    channel, beacon, received = run_channel(path, rate_hz=200.0, duration_s=20.0)
    model = ChannelModel(ChannelConfig())
    for name, (x, y) in receivers.items():
        p = float(model.pdr(np.hypot(x, y)))
        k, n = len(received[name]), channel.stats.by_pair['tx', name][0]
        assert n == beacon.sent
        assert within_binomial(k, n, p), (name, k, n, p)
    assert received['tx'] == []  # nobody hears itself
    assert received['r100'][0].header.stamp != 0
    assert received['r100'][0].source_id == 'tx'


def test_obstruction_shrinks_the_range(tmp_path):
    # the generated north-east corner building spans 18..58 m on both axes
    receivers = {'behind': (250.0, 250.0), 'clear': (353.55, 0.0)}
    path = scenario(tmp_path, receivers, buildings=True)
    footprints = Footprints([np.array([[18.0, 18.0], [58.0, 18.0], [58.0, 58.0], [18.0, 58.0]])])
    assert footprints.obstructed(
        np.zeros(2), np.array([[250.0, 250.0], [353.55, 0.0]])
    ).tolist() == [True, False]
    channel, beacon, received = run_channel(path, rate_hz=200.0, duration_s=15.0)
    model = channel.model
    d = 353.55
    p_blocked, p_clear = float(model.pdr(d, True)), float(model.pdr(d, False))
    assert p_blocked < 0.2 < 0.9 < p_clear
    assert within_binomial(len(received['behind']), beacon.sent, p_blocked)
    assert within_binomial(len(received['clear']), beacon.sent, p_clear)


def test_congestion_adds_loss_above_the_busy_threshold(tmp_path):
    cfg = {'cbr_capacity': 50, 'cbr_threshold': 0.6, 'cbr_loss_slope': 0.8}
    path = scenario(tmp_path, {'near': (50.0, 0.0)}, channel=cfg)
    # 1000 Hz: 100 frames per 0.1 s window on a 50-frame channel -> CBR 2 after the first window
    channel, beacon, received = run_channel(path, rate_hz=1000.0, duration_s=5.0)
    model = channel.model
    assert model.congestion_loss(2.0) == 1.0 and model.congestion_loss(0.5) == 0.0
    assert model.congestion_loss(1.0) == pytest.approx(0.32)
    # only frames of the first window (CBR below 1.35) get through
    assert len(received['near']) < 0.05 * beacon.sent


def test_latency_is_lognormal_around_the_median(tmp_path):
    path = scenario(
        tmp_path, {'near': (50.0, 0.0)}, channel={'latency_ms': 30.0, 'latency_sigma': 0.3}
    )
    channel, _, received = run_channel(path, rate_hz=100.0, duration_s=20.0)
    lat = np.array(channel.stats.latencies_s)
    assert np.median(lat) == pytest.approx(0.030, rel=0.06)
    assert np.std(np.log(lat)) == pytest.approx(0.3, rel=0.08)
    delays = [m.to_ns(f.header.stamp) for f in received['near']]
    assert delays == sorted(delays)


def test_links_have_independent_streams():
    a, b = LinkRandom(3), LinkRandom(3)
    first = [a('x', 'y').random() for _ in range(5)]
    b('x', 'z').random()  # another link drawing first changes nothing for x -> y
    assert [b('x', 'y').random() for _ in range(5)] == first
    assert a('y', 'x').random() != LinkRandom(3)('x', 'y').random()


def test_extra_loss_and_max_range():
    model = ChannelModel(ChannelConfig(extra_loss=0.2, max_range_m=700.0))
    base = ChannelModel(ChannelConfig())
    assert model.pdr(100.0) == pytest.approx(0.8 * base.pdr(100.0))
    assert model.pdr(701.0) == 0.0
    assert base.pdr(600.0) == pytest.approx(0.99 / 2)

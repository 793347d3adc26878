"""Two radio bridges on loopback UDP, framing, rate limits and congestion control."""

import socket

import numpy as np
import pytest
from free_ports import free_ports
from hypothesis import given
from hypothesis import strategies as st

from v2x_nodes.radio.bridge import RadioBridge
from v2x_nodes.radio.framing import Framing, FramingConfig, FramingError, unwrap, wrap
from v2x_nodes.radio.rate_control import BsmRateAdapter, TokenBucket
from v2x_runtime import ParameterError
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

FRAME = 'v2x_stack/msg/V2xFrame'


def frame(kind: int, data: bytes, secured: bytes = b''):
    return m.new(
        FRAME,
        message_type=kind,
        payload=np.frombuffer(data, np.uint8),
        secured=np.frombuffer(secured, np.uint8),
    )


@pytest.fixture
def pair():
    """Bridges a (car) and b (rsu) pointed at each other on loopback."""
    pa, pb = free_ports(2, 'udp')
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    common = {'bind_address': '127.0.0.1', 'device_address': '127.0.0.1'}
    a = rt.add_component(
        RadioBridge,
        name='radio',
        namespace='car',
        parameters={**common, 'bind_port': pa, 'device_port': pb},
    )
    b = rt.add_component(
        RadioBridge,
        name='radio',
        namespace='rsu',
        parameters={**common, 'bind_port': pb, 'device_port': pa, 'channel': 183},
    )
    got = []
    rt.subscribe('/rsu/v2x/rx', FRAME, got.append)
    rt.start()
    yield rt, a, b, got
    rt.close()


def test_frames_cross_loopback_with_the_bytes_intact(pair):
    rt, _, b, got = pair
    rt.publish('/car/v2x/tx', frame(1, b'\x00\x11bsm'))
    rt.publish('/car/v2x/tx', frame(3, b'\x30spat', secured=b'\x03signed-spat'))
    rt.run(duration_s=0.05)
    assert [bytes(f.payload) for f in got] == [b'\x00\x11bsm', b'\x03signed-spat']
    assert all(f.channel == 183 and f.message_type == 0 for f in got)
    assert b.ctx.diagnostics.counters['rx.frames'] == 2


def test_rate_limits_drop_and_count(pair):
    rt, a, _, got = pair
    for _ in range(10):
        rt.publish('/car/v2x/tx', frame(2, b'map'))  # MAP: 2 Hz, burst 4
    rt.run(duration_s=1.0)
    rt.publish('/car/v2x/tx', frame(2, b'map'))
    rt.run(duration_s=0.05)
    assert len(got) == 5
    assert a.ctx.diagnostics.counters['dropped.rate_limit.map'] == 6


def test_unknown_type_and_empty_frames_are_rejected(pair):
    rt, a, _, got = pair
    rt.publish('/car/v2x/tx', frame(0, b'x'))
    rt.publish('/car/v2x/tx', frame(1, b''))
    rt.run(duration_s=0.05)
    assert not got
    counters = a.ctx.diagnostics.counters
    assert counters['rejected.tx_unknown_type'] == 1 and counters['rejected.tx_framing'] == 1


def test_bsm_interval_stretches_under_load(pair):
    rt, a, _, _ = pair
    for k in range(40):
        rt.publish('/car/v2x/tx', frame(1, b'bsm'), at_ns=k * 25_000_000)  # 40 Hz offered
    rt.run(duration_s=1.0)
    assert a.ctx.diagnostics.counters['tx.bsm'] == 10  # 10 Hz nominal
    noise = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(5):  # 1000 datagrams heard at once: ~100 neighbours
        for _ in range(200):  # (in batches the socket buffer holds)
            noise.sendto(b'\x00x', ('127.0.0.1', a.port))
        rt.run(duration_s=0.005)
    noise.close()
    assert a.ctx.diagnostics.counters['rx.datagrams'] == 1000
    assert a.bsm.interval_s(rt.now_ns()) == pytest.approx(0.4)  # 0.1 s x 100 / 25
    sent = a.ctx.diagnostics.counters['tx.bsm']
    begin = rt.now_ns()
    for k in range(36):
        rt.publish('/car/v2x/tx', frame(1, b'bsm'), at_ns=begin + k * 25_000_000)
    rt.run(duration_s=0.9)
    # the last BSM left at 0.975 s: the next go 0.4 s apart (less 5% slack), at 1.375, 1.775
    assert a.ctx.diagnostics.counters['tx.bsm'] - sent == 2


def test_vendor_header_with_rssi():
    config = FramingConfig(Framing.PREFIX, b'\xaa\x55\x00', 3, 2)
    assert wrap(b'frame', config) == b'\xaa\x55\x00frame'
    got = unwrap(b'\xaa\x55\xb5frame', config)
    assert got.payload == b'frame' and got.rssi_dbm == -75.0
    with pytest.raises(FramingError, match='no frame after a 3-byte header'):
        unwrap(b'\xaa\x55\xb5', config)
    with pytest.raises(FramingError, match='outside the 3-byte header'):
        FramingConfig(Framing.PREFIX, b'', 3, 3)


def test_bad_framing_parameters_fail_at_start():
    rt = EmbeddedRuntime()
    with pytest.raises(ParameterError, match='framing parameters: .*outside the 2-byte header'):
        rt.add_component(
            RadioBridge,
            name='r',
            parameters={'framing': 'prefix', 'rx_header_bytes': 2, 'rssi_offset': 5},
        )
    with pytest.raises(ParameterError, match='framing parameters'):
        rt.add_component(RadioBridge, name='r2', parameters={'tx_prefix_hex': 'zz'})


@given(st.binary(max_size=9000), st.integers(0, 8), st.integers(-1, 7))
def test_unwrap_never_fails_other_than_framing_error(datagram, header, offset):
    try:
        config = FramingConfig(Framing.PREFIX, b'', header, offset)
    except FramingError:
        return
    try:
        got = unwrap(datagram, config)
    except FramingError:
        return
    assert got.payload == datagram[header:]


def test_token_bucket_and_adapter_arithmetic():
    bucket = TokenBucket(rate_hz=10.0, burst=2.0)
    assert [bucket.allow(0), bucket.allow(0), bucket.allow(0)] == [True, True, False]
    assert bucket.allow(100_000_000) and not bucket.allow(100_000_000)
    adapter = BsmRateAdapter(density_threshold=25.0)
    for i in range(500):
        adapter.heard(i * 2_000_000)
    assert adapter.neighbours(999_000_000) == pytest.approx(50.0)
    assert adapter.interval_s(999_000_000) == pytest.approx(0.2)

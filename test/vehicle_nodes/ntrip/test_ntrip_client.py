"""NtripClient component in the embedded runtime with str2str as the caster, and with the
GnssDriver: fix → GGA upload, caster → gnss/rtcm → receiver, all over real sockets."""

import io
import socket
import threading
import time

import numpy as np
import pyproj
import pyrtcm
import pytest

from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.gnss.driver import GnssDriver
from vehicle_nodes.gnss.gga_writer import build_gga
from vehicle_nodes.gnss.nmea import parse_sentence
from vehicle_nodes.gnss.records import FixType, Gga
from vehicle_nodes.ntrip.client import NtripClient
from vehicle_nodes.ntrip.errors import ConfigError

DEADLINE_S = 20.0


def run_until(rt, condition, on_step=None):
    end = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < end, 'condition not met before the deadline'
        rt.run(duration_s=0.02)
        if on_step is not None:
            on_step()


class Receiver:
    """A receiver stand-in on a real TCP socket: serves NMEA, collects what it is sent."""

    def __init__(self, port):
        self.server = socket.create_server(('127.0.0.1', port))  # 0: the kernel picks
        self.port = self.server.getsockname()[1]
        self.server.settimeout(DEADLINE_S)
        self.received = bytearray()
        self.conn = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.conn, _ = self.server.accept()
        except OSError:
            return
        self.conn.settimeout(0.05)
        while True:
            try:
                data = self.conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            self.received += data

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.server.close()
        self.thread.join(timeout=2.0)


def frames_of(path):
    return [
        raw for raw, _ in pyrtcm.RTCMReader(io.BytesIO(path.read_bytes()), quitonerror=0, parsed=0)
    ]


def test_auto_mountpoint_topic_and_receiver_forwarding(str2str_factory, rtcm_dir):
    caster = str2str_factory()
    receiver = Receiver(0)
    rt = EmbeddedRuntime(real_time_factor=1.0)
    client = rt.add_component(
        NtripClient,
        name='ntrip',
        namespace='/car',
        parameters={
            'port': caster.caster_port,
            'mountpoint': '',
            'username': caster.user,
            'password': caster.password,
            'ntrip_version': '1.0',
            'receiver': f'tcp://127.0.0.1:{receiver.port}',
            'gga_interval_s': 0.2,
            'approx_position': [31.2304, 121.4737, 4.0],
        },
    )
    published = []
    rt.subscribe('/car/gnss/rtcm', 'std_msgs/msg/UInt8MultiArray', published.append)
    frames = frames_of(rtcm_dir / 'pygpsdata-RTCM3.log')
    relayed = bytearray()
    try:
        run_until(rt, lambda: client.session.state.value == 'streaming')
        assert client.chosen_mountpoint == caster.mount
        caster.write(b''.join(frames))
        run_until(rt, lambda: len(published) >= len(frames))
        assert [bytes(msg.data) for msg in published] == frames
        run_until(rt, lambda: bytes(receiver.received) == b''.join(frames))
        run_until(rt, lambda: b'GGA' in relayed, lambda: relayed.extend(caster.read_relayed()))
        line = next(ln for ln in relayed.decode('ascii', 'replace').split('\r\n') if 'GGA' in ln)
        assert parse_sentence(line).lat_deg == pytest.approx(31.2304, abs=1e-7)
        counters = client.ctx.diagnostics.counters
        assert counters['frames'] == len(frames) and counters['sourcetables'] == 1
        assert counters['rtcm.1005'] == 1
        values = dict(client.ctx.diagnostics.key_values())
        assert values['base_station'].startswith('0 at 32.0658325')  # 1005 of the stream
        _, _, geodesic_m = pyproj.Geod(ellps='WGS84').inv(34.773819, 32.065833, 121.4737, 31.2304)
        assert float(values['baseline_km']) == pytest.approx(geodesic_m / 1000.0, rel=0.005)
    finally:
        rt.close()
        receiver.close()


def test_driver_and_client_together(str2str_factory, rtcm_dir):
    """Receiver NMEA → GnssDriver fix → NtripClient GGA → caster; caster RTCM → NtripClient →
    gnss/rtcm → GnssDriver → receiver."""
    caster = str2str_factory()
    receiver = Receiver(0)
    rt = EmbeddedRuntime(real_time_factor=1.0)
    rt.add_component(
        GnssDriver,
        name='gnss',
        namespace='/car',
        parameters={'source': f'tcp://127.0.0.1:{receiver.port}'},
    )
    client = rt.add_component(
        NtripClient,
        name='ntrip',
        namespace='/car',
        parameters={
            'port': caster.caster_port,
            'mountpoint': caster.mount,
            'username': caster.user,
            'password': caster.password,
            'gga_interval_s': 0.2,
        },
    )
    frames = frames_of(rtcm_dir / 'pygpsdata-NTRIP-USCL00CHL0.log')
    relayed = bytearray()
    try:
        run_until(rt, lambda: receiver.conn is not None)
        gga = build_gga(
            time_s=100.0,
            lat_deg=-33.449846,
            lon_deg=-70.681351,
            alt_msl_m=600.0,
            fix_type=FixType.RTK_FLOAT,
        )
        receiver.conn.sendall((gga + '\r\n').encode())
        run_until(rt, lambda: client.session.state.value == 'streaming')
        run_until(rt, lambda: b'GGA' in relayed, lambda: relayed.extend(caster.read_relayed()))
        lines = [ln for ln in relayed.decode('ascii', 'replace').split('\r\n') if 'GGA' in ln]
        record = parse_sentence(lines[-1])
        assert isinstance(record, Gga) and record.lat_deg == pytest.approx(-33.449846, abs=1e-7)
        assert record.fix_type is FixType.RTK_FIXED  # NavSatFix's GBAS status carries no float
        caster.write(b''.join(frames))
        run_until(rt, lambda: bytes(receiver.received) == b''.join(frames))
    finally:
        rt.close()
        receiver.close()


@pytest.mark.parametrize(
    ('parameters', 'match'),
    [
        ({'approx_position': [1.0, 2.0]}, 'parameter approx_position'),
        ({'receiver': 'bogus://x'}, 'parameter receiver'),
        ({'reconnect_initial_s': 5.0, 'reconnect_max_s': 1.0}, 'parameter reconnect_max_s'),
    ],
)
def test_config_errors_name_the_parameter(parameters, match):
    rt = EmbeddedRuntime()
    with pytest.raises(ConfigError, match=match):
        rt.add_component(NtripClient, name='ntrip', parameters=parameters)
    rt.close()


def test_bad_fix_is_rejected_and_no_gga_without_position():
    refusing = socket.socket()
    refusing.bind(('127.0.0.1', 0))  # bound, never listening: connections are refused
    rt = EmbeddedRuntime()
    port = refusing.getsockname()[1]
    client = rt.add_component(NtripClient, name='ntrip', parameters={'port': port})
    assert client.current_gga() is None
    fix = m.new('sensor_msgs/msg/NavSatFix', latitude=float('nan'), longitude=1.0)
    rt.publish('/localization/gnss/fix', fix)
    rt.run(duration_s=0.1)
    assert client.ctx.diagnostics.counters['rejected.bad_fix'] == 1
    good = m.new('sensor_msgs/msg/NavSatFix', latitude=30.0, longitude=120.0, altitude=5.0)
    rt.publish('/localization/gnss/fix', good)
    rt.run(duration_s=0.1)
    assert parse_sentence(client.current_gga()).lon_deg == pytest.approx(120.0)
    assert client.ctx.diagnostics.counters['rejected.connect_failed'] >= 1
    rt.close()
    refusing.close()


def test_published_frames_are_uint8_arrays(str2str_factory):
    # message layout: data is a numpy uint8 array with the whole frame
    msg = m.new(
        'std_msgs/msg/UInt8MultiArray', data=np.frombuffer(b'\xd3\x00\x00G\xeaK', np.uint8).copy()
    )
    back = m.deserialize(m.serialize(msg), 'std_msgs/msg/UInt8MultiArray')
    assert bytes(back.data) == b'\xd3\x00\x00G\xeaK'


def test_corrupt_rtcm_from_the_caster_is_counted_and_the_rest_flows(str2str_factory, rtcm_dir):
    caster = str2str_factory()
    rt = EmbeddedRuntime(real_time_factor=1.0)
    client = rt.add_component(
        NtripClient,
        name='ntrip',
        parameters={
            'port': caster.caster_port,
            'mountpoint': caster.mount,
            'username': caster.user,
            'password': caster.password,
            'gga_interval_s': 0.0,
        },
    )
    published = []
    rt.subscribe('/gnss/rtcm', 'std_msgs/msg/UInt8MultiArray', published.append)
    frames = frames_of(rtcm_dir / 'pygpsdata-NTRIP-USCL00CHL0.log')
    broken = bytearray(frames[7])
    broken[20] ^= 0x01
    stream = b''.join(frames[:7]) + bytes(broken) + b'\xd3\x00garbage' + b''.join(frames[8:])
    try:
        run_until(rt, lambda: client.session.state.value == 'streaming')
        caster.write(stream)
        run_until(rt, lambda: len(published) >= len(frames) - 1)
        assert [bytes(msg.data) for msg in published] == frames[:7] + frames[8:]
        assert client.ctx.diagnostics.counters['rejected.crc_errors'] >= 1
        assert client.session.state.value == 'streaming'
    finally:
        rt.close()

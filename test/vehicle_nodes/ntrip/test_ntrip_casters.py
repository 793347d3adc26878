"""NtripSession against real casters: RTKLIB str2str (NTRIP 1 answers) and pygnssutils'
gnssserver (NTRIP 2, HTTP/1.1): source tables, streams bit-exact, GGA upload, refusals,
caster restart and reconnect with back-off."""

import io
import socket
import threading
import time

import numpy as np
import pyrtcm
import pytest

from v2x_runtime.backoff import Backoff
from vehicle_nodes.gnss.gga_writer import build_gga
from vehicle_nodes.gnss.nmea import parse_sentence
from vehicle_nodes.gnss.records import Gga
from vehicle_nodes.ntrip.crc24q import crc24q
from vehicle_nodes.ntrip.http import NtripVersion
from vehicle_nodes.ntrip.session import NtripConfig, NtripSession, State

DEADLINE_S = 20.0
STREAM_ORDER = [
    'gpsd_rtcm3-2.log',
    'gpsd_rtcm3.2.rtcm3',
    'pygpsdata-1240-1264.log',
    'pygpsdata-NTRIP-1300-1302.log',
    'pygpsdata-NTRIP-4076.log',
    'pygpsdata-NTRIP-USCL00CHL0.log',
    'pygpsdata-RTCM3.log',
    'pygpsdata-RTCMMSM3.log',
    'gpsd_rtcm3-2.rtcm3',
    'gpsd_rtcm3.2.log',
    'rtklib_GMSD7_20121014.rtcm3',  # truncated tail: last
]
GGA = build_gga(time_s=3600.0, lat_deg=31.2304, lon_deg=121.4737, alt_msl_m=4.0)


def reference_frames(data: bytes) -> list[bytes]:
    return [raw for raw, _ in pyrtcm.RTCMReader(io.BytesIO(data), quitonerror=0, parsed=0)]


def session_for(port, mount, version, user='rover', password='s3cret', **kw):
    config = NtripConfig(
        host='127.0.0.1',
        port=port,
        mountpoint=mount,
        version=version,
        username=user,
        password=password,
        **kw,
    )
    return NtripSession(config, gga_source=lambda: GGA, backoff=Backoff(0.05, 0.5))


def poll_until(session, condition, collected=None, deadline_s=DEADLINE_S, on_poll=None):
    end = time.monotonic() + deadline_s
    results = []
    while not condition():
        assert time.monotonic() < end, f'deadline: state {session.state}, {session.last_error}'
        result = session.poll(time.monotonic())
        results.append(result)
        if collected is not None:
            collected.extend(f.data for f in result.frames)
        if on_poll is not None:
            on_poll()
        time.sleep(0.002)
    return results


VERSIONS = [NtripVersion.V1, NtripVersion.V2]


@pytest.mark.parametrize('version', VERSIONS)
def test_str2str_source_table(str2str_factory, version):
    caster = str2str_factory()
    session = session_for(caster.caster_port, '', version)
    tables = []
    poll_until(session, lambda: session.state is State.DONE, on_poll=lambda: None)
    # the table came with the poll that reached DONE
    session2 = session_for(caster.caster_port, '', version)
    results = poll_until(session2, lambda: session2.state is State.DONE)
    tables = [r.sourcetable for r in results if r.sourcetable is not None]
    assert tables and tables[0].stream(caster.mount) is not None
    assert session2.stats['sourcetables'] == 1


@pytest.mark.parametrize('version', VERSIONS)
def test_str2str_relays_every_real_stream_bit_exact(str2str_factory, rtcm_dir, version):
    caster = str2str_factory()
    session = session_for(caster.caster_port, caster.mount, version, gga_interval_s=0)
    poll_until(session, lambda: session.state is State.STREAMING)
    assert session.head.status_line == 'ICY 200 OK'  # str2str answers v2 requests in v1 form
    expected: list[bytes] = []
    got: list[bytes] = []
    written = session.stats['bytes']  # the response head
    for name in STREAM_ORDER:
        data = (rtcm_dir / name).read_bytes()
        expected += reference_frames(data)
        for start in range(0, len(data), 4096):
            piece = data[start : start + 4096]
            caster.write(piece)
            written += len(piece)
            # flow control: str2str drops a client that falls a buffer behind
            poll_until(session, lambda w=written: session.stats['bytes'] >= w, got)
    poll_until(session, lambda: len(got) >= len(expected), got)
    assert got == expected
    assert all(crc24q(frame) == 0 for frame in got)
    types = {(f[3] << 4) | (f[4] >> 4) for f in got}
    assert {1005, 1006, 1019, 1077, 4076, 1240}.issubset(types)


def test_str2str_gga_upload_reaches_the_caster(str2str_factory):
    caster = str2str_factory()
    session = session_for(caster.caster_port, caster.mount, NtripVersion.V1, gga_interval_s=0.2)
    relayed = bytearray()
    poll_until(
        session,
        lambda: session.stats['gga_sent'] >= 2 and b'GGA' in relayed,
        on_poll=lambda: relayed.extend(caster.read_relayed()),
    )
    lines = [ln for ln in bytes(relayed).decode('ascii', 'replace').split('\r\n') if 'GGA' in ln]
    record = parse_sentence(lines[0])
    assert isinstance(record, Gga)
    assert record.lat_deg == pytest.approx(31.2304, abs=1e-7)
    assert record.lon_deg == pytest.approx(121.4737, abs=1e-7)


@pytest.mark.parametrize('version', VERSIONS)
def test_str2str_refuses_a_bad_password_and_an_unknown_mount(str2str_factory, version):
    caster = str2str_factory()
    bad = session_for(caster.caster_port, caster.mount, version, password='wrong')
    poll_until(bad, lambda: bad.stats['failed_unauthorized'] >= 2)
    assert '401' in bad.last_error and bad.state is State.BACKOFF
    unknown = session_for(caster.caster_port, 'NOPE', version)
    poll_until(unknown, lambda: unknown.stats['failed_mountpoint_not_found'] >= 1)
    assert 'source table instead' in unknown.last_error


def test_str2str_restart_and_reconnect(str2str_factory, rtcm_dir):
    caster = str2str_factory()
    frames = reference_frames((rtcm_dir / 'pygpsdata-NTRIP-USCL00CHL0.log').read_bytes())
    session = session_for(caster.caster_port, caster.mount, NtripVersion.V2, gga_interval_s=0)
    got: list[bytes] = []
    poll_until(session, lambda: session.state is State.STREAMING)
    caster.write(b''.join(frames[:10]))
    poll_until(session, lambda: len(got) >= 10, got)
    caster.stop()
    poll_until(session, lambda: session.stats['failed_connection_closed'] >= 1, got)
    poll_until(session, lambda: session.stats['failed_connect_failed'] >= 1, got)
    caster.start()
    poll_until(session, lambda: session.state is State.STREAMING, got)
    caster.write(b''.join(frames[10:]))
    poll_until(session, lambda: len(got) >= len(frames), got)
    assert got == frames
    assert session.stats['streams_started'] == 2


def test_back_off_doubles_up_to_its_cap():
    """On a simulated clock: waits of 1, 2, 4, 8 s after each refusal, then 10 s (the cap)."""
    free = socket.socket()
    free.bind(('127.0.0.1', 0))  # bound, never listening: connections are refused
    try:
        config = NtripConfig(host='127.0.0.1', port=free.getsockname()[1], mountpoint='X')
        session = NtripSession(config, backoff=Backoff(1.0, 10.0))
        attempts, failures = [], []
        for step in range(4000):
            now = step * 0.01
            connects, failed = session.stats['connects'], session.stats['failed_connect_failed']
            session.poll(now)
            if session.stats['connects'] > connects:
                attempts.append(now)
            if session.stats['failed_connect_failed'] > failed:
                failures.append(now)
        # the wait from each refusal (seen on this poll or a later one) to the next attempt
        waits = [nxt - fail for fail, nxt in zip(failures, attempts[1:], strict=False)][:6]
        assert waits == pytest.approx([1.0, 2.0, 4.0, 8.0, 10.0, 10.0], abs=0.011)
        assert session.stats['failed_connect_failed'] >= 6
    finally:
        free.close()


def test_gnssserver_v2_source_table_stream_and_refusal(gnssserver, rtcm_dir):
    port = gnssserver.caster_port
    tables = session_for(port, '', NtripVersion.V2)
    results = poll_until(tables, lambda: tables.state is State.DONE)
    table = next(r.sourcetable for r in results if r.sourcetable is not None)
    assert table.stream('pygnssutils') is not None
    assert table.casters and table.networks
    assert tables.head.headers.get('ntrip-version') == 'Ntrip/2.0'

    frames = reference_frames((rtcm_dir / 'pygpsdata-NTRIP-USCL00CHL0.log').read_bytes())
    session = session_for(port, 'pygnssutils', NtripVersion.V2, gga_interval_s=0.5)
    poll_until(session, lambda: session.state is State.STREAMING)
    assert session.head.status_line.startswith('HTTP/1.1 200')
    got: list[bytes] = []
    gnssserver.write(b''.join(frames))
    poll_until(session, lambda: len(got) >= len(frames), got)
    assert got == frames
    poll_until(session, lambda: session.stats['gga_sent'] >= 1)

    bad = session_for(port, 'pygnssutils', NtripVersion.V2, password='wrong')
    poll_until(bad, lambda: bad.stats['failed_unauthorized'] >= 1)
    session.close()


class ChunkedCaster:
    """A minimal NTRIP 2 caster that sends its stream with chunked transfer encoding (neither
    str2str nor gnssserver does); chunk borders fall inside frames on purpose."""

    def __init__(self, port, payload):
        self.server = socket.create_server(('127.0.0.1', port))  # 0: the kernel picks
        self.port = self.server.getsockname()[1]
        self.server.settimeout(DEADLINE_S)
        self.payload = payload
        self.request = b''
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.server.accept()
        with conn:
            while b'\r\n\r\n' not in self.request:
                self.request += conn.recv(4096)
            conn.sendall(
                b'HTTP/1.1 200 OK\r\nNtrip-Version: Ntrip/2.0\r\nContent-Type: gnss/data\r\n'
                b'Transfer-Encoding: chunked\r\n\r\n'
            )
            rng = np.random.default_rng(7)
            pos = 0
            while pos < len(self.payload):
                size = int(rng.integers(1, 700))
                piece = self.payload[pos : pos + size]
                conn.sendall(f'{len(piece):x}\r\n'.encode() + piece + b'\r\n')
                pos += size
            conn.sendall(b'0\r\n\r\n')

    def close(self):
        self.server.close()


def test_chunked_v2_stream(rtcm_dir):
    data = (rtcm_dir / 'gpsd_rtcm3.2.rtcm3').read_bytes()
    caster = ChunkedCaster(0, data)
    try:
        session = session_for(caster.port, 'CHUNKED', NtripVersion.V2, gga_interval_s=0)
        got: list[bytes] = []
        poll_until(session, lambda: session.stats['failed_connection_closed'] >= 1, got)
        assert got == reference_frames(data)
        assert session.head.chunked
        assert b'Ntrip-Version: Ntrip/2.0' in caster.request
        assert b'Authorization: Basic' in caster.request
    finally:
        caster.close()


class GarbageCaster:
    """Answers every request with the bytes it is given, then closes: fuzzing the session."""

    def __init__(self, port, answers):
        self.server = socket.create_server(('127.0.0.1', port))  # 0: the kernel picks
        self.port = self.server.getsockname()[1]
        self.server.settimeout(DEADLINE_S)
        self.answers = list(answers)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        for answer in self.answers:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(1.0)
                try:
                    conn.recv(4096)
                    conn.sendall(answer)
                except OSError:
                    pass

    def close(self):
        self.server.close()


def test_fuzzed_caster_answers_are_counted_never_raised():
    rng = np.random.default_rng(11)
    answers = [
        rng.integers(0, 256, int(rng.integers(0, 3000)), np.uint8).tobytes() for _ in range(6)
    ]
    answers += [
        b'ICY 200 OK\r\n' + rng.integers(0, 256, 5000, np.uint8).tobytes(),
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n',
        b'HTTP/1.1 200 OK\r\nContent-Type: gnss/sourcetable\r\n\r\nSTR;\r\n',
        b'SOURCETABLE 200 OK\r\n\r\nSTR;A;B;RTCM 3;x;2;GPS;N;CHN;north;1;0;0;g;none;B;N;1;\r\n',
    ]
    caster = GarbageCaster(0, answers)
    try:
        for mount in ('X', ''):
            session = session_for(caster.port, mount, NtripVersion.V2)
            session.backoff = Backoff(0.01, 0.01)
            end = time.monotonic() + DEADLINE_S
            while sum(v for k, v in session.stats.items() if k.startswith('failed_')) < 4:
                assert time.monotonic() < end, dict(session.stats)
                session.poll(time.monotonic())
                if session.state is State.DONE:
                    break
                time.sleep(0.002)
            failures = sum(v for k, v in session.stats.items() if k.startswith('failed_'))
            # every answer ended as a counted failure, or (table request) a parsed/rejected table
            assert failures >= 4 or session.stats['sourcetables'] == 1
            assert session.stats['connects'] >= min(failures, 4)
            session.close()
    finally:
        caster.close()

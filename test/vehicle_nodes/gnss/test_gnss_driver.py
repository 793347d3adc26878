"""GnssDriver in the embedded runtime over real transports: TCP, UDP and a pty serial port."""

import contextlib
import math
import os
import socket
import threading
import time
import tty

import numpy as np
import pytest
from free_ports import free_port

from v2x_runtime import TopologyError
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from v2x_runtime.topology import load_topology, validate
from vehicle_nodes.gnss.driver import GnssDriver
from vehicle_nodes.gnss.errors import GnssError
from vehicle_nodes.gnss.link import TransportLink
from vehicle_nodes.gnss.records import FixType
from vehicle_nodes.gnss.ros_conversions import (
    FIX_TO_NAVSAT_STATUS,
    fix_to_navsatfix,
    imu_to_heading_deg,
    navsatfix_to_fix,
)
from vehicle_nodes.gnss.stream import NmeaStream
from vehicle_nodes.gnss.transports import TcpTransport

DEADLINE_S = 10.0


def sentence(body):
    checksum = 0
    for byte in body.encode():
        checksum ^= byte
    return f'${body}*{checksum:02X}\r\n'


def epoch_lines(i, quality=4, heading=True):
    t = f'0927{i:02d}.00'
    lines = [
        sentence(
            f'GNGGA,{t},3954.1234567,N,11623.7654321,E,{quality},17,0.7,48.250,M,-9.100,M,1.0,0123'
        ),
        sentence(f'GNRMC,{t},A,3954.1234567,N,11623.7654321,E,19.438,090.0,251126,,,R'),
        sentence(f'GNGST,{t},0.01,0.02,0.01,0.0,0.012,0.011,0.025'),
    ]
    if heading:
        lines.append(sentence('GNHDT,90.00,T'))
    return ''.join(lines)


class Probe:
    def __init__(self, rt, ns='/car'):
        self.fixes, self.velocities, self.headings, self.fix_types = [], [], [], []
        rt.subscribe(f'{ns}/localization/gnss/fix', 'sensor_msgs/msg/NavSatFix', self.fixes.append)
        rt.subscribe(
            f'{ns}/localization/gnss/velocity',
            'geometry_msgs/msg/TwistWithCovarianceStamped',
            self.velocities.append,
        )
        rt.subscribe(f'{ns}/localization/gnss/heading', 'sensor_msgs/msg/Imu', self.headings.append)
        rt.subscribe(
            f'{ns}/localization/gnss/fix_type', 'std_msgs/msg/UInt8', self.fix_types.append
        )


def run_until(rt, condition, deadline_s=DEADLINE_S):
    end = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < end, 'condition not met before the deadline'
        rt.run(duration_s=0.05)


def make_runtime(source, **params):
    rt = EmbeddedRuntime(real_time_factor=1.0)
    rt.add_component(
        GnssDriver, name='gnss', namespace='/car', parameters={'source': source, **params}
    )
    return rt, Probe(rt)


class LineServer:
    """A receiver stand-in: a real TCP server that sends what the test queues."""

    def __init__(self, port):
        self.server = socket.create_server(('127.0.0.1', port))  # 0: the kernel picks
        self.port = self.server.getsockname()[1]
        self.server.settimeout(DEADLINE_S)
        self.conn = None
        self.received = bytearray()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        try:
            self.conn, _ = self.server.accept()
        except OSError:
            return
        self.conn.settimeout(0.05)
        while self.conn is not None:
            try:
                data = self.conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            self.received += data

    def send(self, data):
        end = time.monotonic() + DEADLINE_S
        while self.conn is None:
            assert time.monotonic() < end, 'driver never connected'
            time.sleep(0.01)
        self.conn.sendall(data)

    def close(self):
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()
        self.server.close()
        self._thread.join(timeout=2.0)


def test_tcp_transport_publishes_fix_velocity_heading_and_forwards_rtcm():
    server = LineServer(0)
    rt, probe = make_runtime(f'tcp://127.0.0.1:{server.port}')
    try:
        rt.run(duration_s=0.05)
        server.send((epoch_lines(1) + epoch_lines(2)).encode())
        run_until(rt, lambda: len(probe.fixes) >= 2)
        fix = probe.fixes[0]
        assert fix.status.status == FIX_TO_NAVSAT_STATUS[FixType.RTK_FIXED]
        assert fix.latitude == pytest.approx(39 + 54.1234567 / 60, abs=1e-12)
        assert fix.altitude == pytest.approx(48.25 - 9.1)
        assert fix.position_covariance_type == 2
        assert np.allclose(
            np.diag(fix.position_covariance.reshape(3, 3)), [0.011**2, 0.012**2, 0.025**2]
        )
        assert [t.data for t in probe.fix_types[:2]] == [4, 4]
        twist = probe.velocities[0].twist.twist.linear
        assert twist.x == pytest.approx(19.438 * 1852 / 3600) and twist.y == pytest.approx(
            0, abs=1e-9
        )
        assert imu_to_heading_deg(probe.headings[0]) == pytest.approx(90.0)
        q = probe.headings[0].orientation
        assert math.atan2(2 * q.w * q.z, 1 - 2 * q.z * q.z) == pytest.approx(0.0, abs=1e-9)  # east

        rtcm = bytes([0xD3, 0x00, 0x00, 0x47, 0xEA, 0x4B])  # an empty RTCM 3 frame
        rt.publish(
            '/car/gnss/rtcm',
            m.new('std_msgs/msg/UInt8MultiArray', data=np.frombuffer(rtcm, np.uint8).copy()),
        )
        run_until(rt, lambda: bytes(server.received) == rtcm)
    finally:
        rt.close()
        server.close()


def test_tcp_receiver_going_away_is_counted_and_the_driver_reconnects():
    server = LineServer(0)
    port = server.port
    rt, probe = make_runtime(f'tcp://127.0.0.1:{port}', silence_timeout_s=0.3, reconnect_max_s=0.5)
    driver = rt.components['/car/gnss']
    try:
        rt.run(duration_s=0.05)
        server.send(epoch_lines(1).encode())
        run_until(rt, lambda: len(probe.fixes) >= 1)
        server.close()
        run_until(rt, lambda: driver.ctx.diagnostics.counters['rejected.link_lost'] >= 1)
        run_until(rt, lambda: driver.ctx.diagnostics.counters['rejected.receiver_silent'] >= 1)
        assert probe.fix_types[-1].data == int(FixType.NO_FIX)
        server = LineServer(port)
        run_until(rt, lambda: server.conn is not None)
        server.send(epoch_lines(5).encode())
        run_until(rt, lambda: len(probe.fixes) >= 2)
        assert driver.link.stats['opened'] >= 2
    finally:
        rt.close()
        server.close()


def test_udp_transport_with_garbage_between_datagrams():
    port = free_port('udp')
    rt, probe = make_runtime(f'udp://127.0.0.1:{port}')
    driver = rt.components['/car/gnss']
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        rt.run(duration_s=0.05)
        for line in epoch_lines(3, quality=5).splitlines(keepends=True):
            sender.sendto(line.encode(), ('127.0.0.1', port))
            sender.sendto(b'\xff\xfe binary junk', ('127.0.0.1', port))
        sender.sendto(b'$GNHDT,91.00,T*00\r\n', ('127.0.0.1', port))
        run_until(rt, lambda: len(probe.fixes) >= 1)
        assert probe.fixes[0].status.status == FIX_TO_NAVSAT_STATUS[FixType.RTK_FLOAT]
        run_until(rt, lambda: driver.ctx.diagnostics.counters['rejected.bad_checksum'] >= 1)
        assert driver.ctx.diagnostics.counters['not_nmea_lines'] >= 4
    finally:
        sender.close()
        rt.close()


def test_serial_transport_on_a_pty_replays_a_real_log(nmea_dir):
    master, slave = os.openpty()
    path = os.ttyname(slave)
    rt, probe = make_runtime(f'serial://{path}?baud=115200')
    data = (nmea_dir / 'skytraq-dgps.log').read_bytes()
    expected = NmeaStream()
    want = expected.feed(data) + expected.flush()
    try:
        rt.run(duration_s=0.05)
        for start in range(0, len(data), 1024):
            os.write(master, data[start : start + 1024])
            rt.run(duration_s=0.01)
        run_until(rt, lambda: len(probe.fixes) >= len(want))
        assert len(probe.fixes) == len(want) == 96
        for got, ref in zip(probe.fixes, want, strict=True):
            assert got.latitude == ref.lat_deg and got.longitude == ref.lon_deg
            assert np.array_equal(got.position_covariance, ref.covariance_m2.reshape(9))
        assert {t.data for t in probe.fix_types} == {int(FixType.DGNSS)}
    finally:
        rt.close()
        os.close(master)
        os.close(slave)


def test_serial_port_that_does_not_exist_is_counted_not_fatal():
    rt, probe = make_runtime('serial:///dev/nonexistent-gnss?baud=9600')
    driver = rt.components['/car/gnss']
    try:
        rt.run(duration_s=0.5)
        assert driver.ctx.diagnostics.counters['rejected.open_failed'] >= 1
        assert 'nonexistent-gnss' in driver.link.last_error
        assert probe.fixes == []
    finally:
        rt.close()


@pytest.mark.parametrize('source', ['ftp://x', 'tcp://host', 'serial://', 'udp://:notaport'])
def test_bad_source_fails_at_construction_naming_the_parameter(source):
    rt = EmbeddedRuntime()
    with pytest.raises(GnssError, match='parameter source'):
        rt.add_component(GnssDriver, name='gnss', parameters={'source': source})
    rt.close()


def test_topology_names_file_component_and_field(tmp_path):
    path = tmp_path / 'car.yaml'
    path.write_text(
        'processes:\n  positioning:\n    components:\n      gnss:\n'
        '        plugin: vehicle_nodes.gnss.driver:GnssDriver\n'
        "        parameters: {source: 'tcp://nohost'}\n"
    )
    with pytest.raises(TopologyError, match=r'car.yaml: processes.positioning.components.gnss'):
        validate(load_topology(path))


def test_navsatfix_round_trip_through_cdr():
    stream = NmeaStream()
    fixes = stream.feed(epoch_lines(7).encode()) + stream.flush()
    msg = fix_to_navsatfix(fixes[0], 123, 'gnss')
    back = navsatfix_to_fix(m.deserialize(m.serialize(msg), 'sensor_msgs/msg/NavSatFix'))
    assert back.lat_deg == fixes[0].lat_deg and back.fix_type is FixType.RTK_FIXED
    assert np.array_equal(back.covariance_m2, fixes[0].covariance_m2)
    assert back.systems == fixes[0].systems


REAL_LOGS = [
    'beidou-bd.log',
    'hemi.log',
    'polarx2.log',
    'skytraq-PX1172RH_DS.log',
    'skytraq-dgps.log',
    'ublox-zed-f9p-nmea.log',
    'unicore-um621.log',
]


@pytest.mark.parametrize('index', range(len(REAL_LOGS)))
def test_every_real_log_over_tcp_gives_the_streams_fixes(nmea_dir, index):
    data = (nmea_dir / REAL_LOGS[index]).read_bytes()
    expected = NmeaStream()
    want = expected.feed(data) + expected.flush()
    server = LineServer(0)
    rt, probe = make_runtime(f'tcp://127.0.0.1:{server.port}')
    driver = rt.components['/car/gnss']
    try:
        run_until(rt, lambda: server.conn is not None)
        server.send(data)
        run_until(rt, lambda: len(probe.fixes) >= len(want))
        rt.run(duration_s=0.1)
        assert len(probe.fixes) == len(want)
        for got, ref in zip(probe.fixes, want, strict=True):
            assert got.status.status == FIX_TO_NAVSAT_STATUS[ref.fix_type]
            if ref.fix_type is not FixType.NO_FIX:
                assert (got.latitude, got.longitude) == (ref.lat_deg, ref.lon_deg)
        assert [t.data for t in probe.fix_types] == [int(f.fix_type) for f in want]
        headings = [f.heading_deg for f in want if f.heading_deg is not None]
        assert [round(imu_to_heading_deg(h), 6) for h in probe.headings] == [
            round(h % 360.0, 6) for h in headings
        ]
        stats = expected.stats()
        counters = driver.ctx.diagnostics.counters
        for key, value in stats.items():
            if key.startswith('rejected_'):
                assert counters['rejected.' + key.removeprefix('rejected_')] == value
    finally:
        rt.close()
        server.close()


def test_tcp_connect_that_hangs_times_out_without_blocking():
    """A listener with a full backlog leaves our SYN unanswered: reads stay non-blocking and
    the attempt fails after connect_timeout_s, counted by the link."""
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    port = server.getsockname()[1]
    server.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(('127.0.0.1', port))
        fillers.append(filler)
    transport = TcpTransport(f'tcp://127.0.0.1:{port}', '127.0.0.1', port, connect_timeout_s=0.3)
    link = TransportLink(transport)
    try:
        end = time.monotonic() + DEADLINE_S
        polls = 0
        while link.stats['open_failed'] + link.stats['link_lost'] == 0:
            assert time.monotonic() < end
            assert link.poll(time.monotonic()) == b''
            polls += 1
        assert 'no answer within 0.3 s' in link.last_error
        assert polls > 1  # polls returned while the connection was pending
    finally:
        link.close()
        for filler in fillers:
            filler.close()
        server.close()


def test_rtcm_is_written_to_a_serial_receiver():
    master, slave = os.openpty()
    os.set_blocking(master, False)
    tty.setraw(slave)
    rt, _ = make_runtime(f'serial://{os.ttyname(slave)}?baud=115200')
    frame = bytes([0xD3, 0x00, 0x00, 0x47, 0xEA, 0x4B])
    received = bytearray()

    def drain():
        with contextlib.suppress(BlockingIOError):
            received.extend(os.read(master, 4096))
        return bytes(received) == frame * 3

    try:
        rt.run(duration_s=0.05)
        msg = m.new('std_msgs/msg/UInt8MultiArray', data=np.frombuffer(frame * 3, np.uint8).copy())
        rt.publish('/car/gnss/rtcm', msg)
        run_until(rt, drain)
        assert rt.components['/car/gnss'].ctx.diagnostics.counters['rtcm_bytes_forwarded'] == 18
    finally:
        rt.close()
        os.close(master)
        os.close(slave)

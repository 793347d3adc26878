"""NTRIP requests, response heads, chunked transfer decoding and source tables."""

import base64
import contextlib
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vehicle_nodes.ntrip.errors import ProtocolError, SourceTableError
from vehicle_nodes.ntrip.http import (
    ChunkedDecoder,
    NtripVersion,
    ResponseKind,
    build_request,
    parse_head,
)
from vehicle_nodes.ntrip.sourcetable import haversine_m, parse_sourcetable


def test_v1_request():
    raw = build_request(
        host='caster.example',
        port=2101,
        mountpoint='RTCM3',
        version=NtripVersion.V1,
        username='u',
        password='p:w',
    ).decode()
    lines = raw.split('\r\n')
    assert lines[0] == 'GET /RTCM3 HTTP/1.0'
    assert f'Authorization: Basic {base64.b64encode(b"u:p:w").decode()}' in lines
    assert not any(line.startswith('Ntrip-Version') for line in lines)
    assert raw.endswith('\r\n\r\n')


def test_v2_request_with_gga():
    raw = build_request(
        host='caster.example', port=2101, mountpoint='', version=NtripVersion.V2, gga='$GPGGA,1*00'
    ).decode()
    lines = raw.split('\r\n')
    assert lines[0] == 'GET / HTTP/1.1'
    assert 'Host: caster.example:2101' in lines
    assert 'Ntrip-Version: Ntrip/2.0' in lines
    assert 'Ntrip-GGA: $GPGGA,1*00' in lines
    assert not any(line.startswith('Authorization') for line in lines)


def test_icy_head_keeps_following_data():
    head, used = parse_head(b'ICY 200 OK\r\n\xd3\x00\x00')
    assert head.kind is ResponseKind.STREAM and used == 12


def test_http_stream_chunked_head():
    raw = (
        b'HTTP/1.1 200 OK\r\nNtrip-Version: Ntrip/2.0\r\nContent-Type: gnss/data\r\n'
        b'Transfer-Encoding: chunked\r\n\r\n4\r\n'
    )
    head, used = parse_head(raw)
    assert head.kind is ResponseKind.STREAM and head.chunked
    assert head.headers['ntrip-version'] == 'Ntrip/2.0'
    assert raw[used:] == b'4\r\n'


@pytest.mark.parametrize(
    ('raw', 'kind'),
    [
        (b'SOURCETABLE 200 OK\r\nContent-Type: text/plain\r\n\r\n', ResponseKind.SOURCETABLE),
        (b'HTTP/1.1 200 OK\r\nContent-Type: gnss/sourcetable\r\n\r\n', ResponseKind.SOURCETABLE),
        (b'HTTP/1.0 401 Unauthorized\r\n\r\n', ResponseKind.UNAUTHORIZED),
        (b'HTTP/1.1 404 Not Found\r\n\r\n', ResponseKind.NOT_FOUND),
        (b'HTTP/1.1 503 Service Unavailable\r\n\r\n', ResponseKind.REFUSED),
        # pygnssutils 1.3 forgets the CR LF after its status line
        (
            b'HTTP/1.1 200 OKNtrip-Version: Ntrip/2.0\r\nContent-Type: gnss/data\r\n\r\n',
            ResponseKind.STREAM,
        ),
    ],
)
def test_head_kinds(raw, kind):
    head, used = parse_head(raw)
    assert head.kind is kind and used == len(raw)


def test_incomplete_head_waits_and_garbage_head_raises():
    assert parse_head(b'HTTP/1.1 200 OK\r\nContent-') is None
    with pytest.raises(
        ProtocolError,
        match="expected an HTTP, ICY or SOURCETABLE status line, got 'ERROR - Bad Password'",
    ):
        parse_head(b'ERROR - Bad Password\r\n\r\n')
    with pytest.raises(ProtocolError, match='no status line'):
        parse_head(b'x' * 20000)


def chunk(data: bytes, sizes: list[int]) -> bytes:
    out, pos = bytearray(), 0
    for size in sizes:
        piece = data[pos : pos + size]
        if not piece:
            break
        out += (
            f'{len(piece):x};ext=1\r\n'.encode()
            if size % 3 == 0
            else f'{len(piece):X}\r\n'.encode()
        )
        out += piece + b'\r\n'
        pos += len(piece)
    if pos < len(data):
        out += f'{len(data) - pos:x}\r\n'.encode() + data[pos:] + b'\r\n'
    return bytes(out + b'0\r\n\r\n')


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=2000),
    st.lists(st.integers(1, 300), max_size=20),
    st.lists(st.integers(1, 50), max_size=40),
)
def test_chunked_round_trip_under_any_split(data, sizes, feeds):
    encoded = chunk(data, sizes)
    decoder = ChunkedDecoder()
    out, pos = bytearray(), 0
    for n in feeds:
        out += decoder.feed(encoded[pos : pos + n])
        pos += n
    out += decoder.feed(encoded[pos:])
    assert bytes(out) == data and decoder.done


@pytest.mark.parametrize('raw', [b'zz\r\nabc', b'3\r\nabcXY', b'1' * 2000])
def test_chunked_errors(raw):
    with pytest.raises(ProtocolError):
        ChunkedDecoder().feed(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_chunked_and_head_raise_only_protocol_errors(data):
    with contextlib.suppress(ProtocolError):
        ChunkedDecoder().feed(data)
    with contextlib.suppress(ProtocolError):
        parse_head(data)


TABLE = '\r\n'.join(
    [
        'CAS;caster.example;2101;Example;Operator;0;CHN;39.90;116.40;0.0.0.0;0;misc',
        'NET;EXNET;Operator;B;N;http://net;http://str;mail@example;none',
        'STR;BJ01;Beijing;RTCM 3.2;1004(1),1005(10);2;GPS+GLO+BDS;EXNET;CHN;39.99;116.31;1;0;'
        'Trimble;none;B;N;9600;',
        'STR;SH01;Shanghai;RTCM 3.3;1077(1),1127(1);2;GPS+BDS;EXNET;CHN;31.23;121.47;1;1;'
        'Septentrio;none;B;N;9600;misc',
        'STR;CMR1;Old;CMR+;;2;GPS;EXNET;CHN;39.91;116.41;0;0;Trimble;none;B;N;2400;',
        'STR;MOUNT;RTCM3',
        'XYZ;something else',
        'ENDSOURCETABLE',
    ]
)


def test_sourcetable_records():
    table = parse_sourcetable(TABLE)
    assert [s.mountpoint for s in table.streams] == ['BJ01', 'SH01', 'CMR1', 'MOUNT']
    bj = table.stream('BJ01')
    assert (bj.lat_deg, bj.lon_deg, bj.nmea_required, bj.bitrate) == (39.99, 116.31, True, 9600)
    assert bj.format == 'RTCM 3.2' and bj.authentication == 'B' and not bj.fee
    assert table.stream('SH01').solution == 1 and table.stream('SH01').misc == 'misc'
    assert table.casters[0].port == 2101 and table.casters[0].lat_deg == 39.90
    assert table.networks[0].identifier == 'EXNET'
    assert table.short_records == 1 and table.unknown_lines == 1
    assert math.isnan(table.stream('MOUNT').lat_deg)


def test_nearest_rtcm3_stream():
    table = parse_sourcetable(TABLE)
    assert table.nearest(39.905, 116.405).mountpoint == 'BJ01'  # CMR1 is nearer but not RTCM 3
    assert table.nearest(30.0, 120.0).mountpoint == 'SH01'


def test_haversine_quarter_meridian():
    assert haversine_m(0.0, 0.0, 90.0, 0.0) == pytest.approx(math.pi / 2 * 6_371_008.8)


@pytest.mark.parametrize(
    ('line', 'match'),
    [
        ('STR;BJ01;B;RTCM 3;x;2;GPS;N;CHN;north;116;1;0;g;none;B;N;1;', 'line 1: STR latitude'),
        ('STR;', 'line 1: STR without a mount point'),
        ('CAS;host', 'line 1: CAS needs 9 fields, got 2'),
        ('CAS;host;port;a;b;0;CHN;1;2', 'line 1: CAS port must be an integer'),
        ('NET;x', 'line 1: NET needs 5 fields'),
    ],
)
def test_sourcetable_errors_name_line_and_field(line, match):
    with pytest.raises(SourceTableError, match=match):
        parse_sourcetable(line)

"""candump log lines: format, parse, round trip, errors, fuzz."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vehicle_nodes.bywire.candump import (
    CandumpWriter,
    Direction,
    LogFrame,
    format_line,
    parse_line,
    read_log,
)
from vehicle_nodes.bywire.errors import CandumpFormatError


def test_the_canonical_line() -> None:
    frame = parse_line('(1700000000.000000) can0 123#DEADBEEF')
    assert frame == LogFrame(1_700_000_000 * 10**9, 'can0', 0x123, bytes.fromhex('DEADBEEF'))
    assert format_line(frame) == '(1700000000.000000) can0 123#DEADBEEF'


def test_extended_remote_fd_and_direction() -> None:
    ext = parse_line('(1.000001) vcan0 1ABCDEF0#0102 R')
    assert ext.is_extended and ext.arbitration_id == 0x1ABCDEF0 and ext.direction is Direction.RX
    assert ext.stamp_ns == 1_000_001_000
    rtr = parse_line('(0.250000) x 123#R')
    assert rtr.is_remote and rtr.data == b''
    fd = parse_line('(3.000000) can1 456##1' + '11' * 12)
    assert fd.is_fd and fd.fd_flags == 1 and len(fd.data) == 12
    assert format_line(fd) == '(3.000000) can1 456##1' + '11' * 12


frames = st.builds(
    LogFrame,
    stamp_ns=st.integers(0, 2**40).map(lambda us: us * 1000),
    channel=st.sampled_from(['can0', 'vcan0', 'bywire-1']),
    arbitration_id=st.integers(0, 0x7FF),
    data=st.binary(max_size=8),
    direction=st.sampled_from([None, Direction.TX, Direction.RX]),
)


@given(frames)
def test_roundtrip(frame: LogFrame) -> None:
    assert parse_line(format_line(frame)) == frame


@pytest.mark.parametrize(
    'line',
    [
        '',
        'garbage',
        '(1.0) can0 123#00',  # microseconds must have six digits
        '(1.000000) can0 12#00',  # identifier of two digits
        '(1.000000) can0 123#0',  # odd number of hex digits
        '(1.000000) can0 123#' + '00' * 9,  # nine bytes in classic CAN
        '(1.000000) can0 FFFFFFFF#00',  # beyond 29 bits
        '(1.000000) can0 800#00',  # beyond 11 bits
    ],
)
def test_bad_lines_raise_with_where(line: str) -> None:
    with pytest.raises(CandumpFormatError, match='here:7'):
        parse_line(line, where='here:7')


@given(st.text(max_size=60))
def test_fuzz_parse_raises_only_format_errors(text: str) -> None:
    try:
        frame = parse_line(text)
    except CandumpFormatError:
        return
    assert parse_line(format_line(frame)).arbitration_id == frame.arbitration_id


def test_writer_and_reader(tmp_path: Path) -> None:
    path = tmp_path / 'bus.log'
    writer = CandumpWriter(path)
    sent = [
        LogFrame(
            i * 10_000_000, 'can0', 0x110 + i % 3, bytes([i % 256] * 8), direction=Direction.TX
        )
        for i in range(50)
    ]
    for frame in sent:
        writer.write(frame)
    writer.close()
    writer.write(sent[0])  # after close: ignored, not a crash
    assert writer.lines == 50
    assert list(read_log(path)) == sent
    path.write_text(path.read_text() + '\n(bad line\n')
    with pytest.raises(CandumpFormatError, match=r'bus\.log:52'):
        list(read_log(path))

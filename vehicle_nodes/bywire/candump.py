"""candump log files (``candump -l``), written and read, for recording and replay.

One frame a line: ``(1700000000.000000) can0 123#DEADBEEF``. Standard ids are three hex
digits, extended ids eight; ``123#R`` is a remote frame, ``123##1AABB`` a CAN FD frame (the
digit after ``##`` is its flags nibble). We append `` T`` or `` R`` (sent / received), as
can-utils does with ``-x``; can-utils' ``canplayer`` and ``log2asc`` ignore it, and the reader
accepts lines with or without it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from vehicle_nodes.bywire.errors import CandumpFormatError

_LINE_RE = re.compile(
    r'^\((?P<sec>\d+)\.(?P<usec>\d{6})\)\s+(?P<iface>\S+)\s+'
    r'(?P<id>[0-9A-Fa-f]{3}|[0-9A-Fa-f]{8})#(?P<rest>\S*)(?:\s+(?P<dir>[TR]))?\s*$'
)
_HEX_RE = re.compile(r'^(?:[0-9A-Fa-f]{2})*$')


class Direction(enum.Enum):
    TX = 'T'
    RX = 'R'


@dataclass(frozen=True)
class LogFrame:
    """One logged frame; ``stamp_ns`` has the log's microsecond resolution."""

    stamp_ns: int
    channel: str
    arbitration_id: int
    data: bytes
    is_extended: bool = False
    is_remote: bool = False
    is_fd: bool = False
    fd_flags: int = 0
    direction: Direction | None = None


def format_line(frame: LogFrame) -> str:
    sec, rem = divmod(frame.stamp_ns, 1_000_000_000)
    ident = f'{frame.arbitration_id:08X}' if frame.is_extended else f'{frame.arbitration_id:03X}'
    if frame.is_remote:
        body = 'R'
    elif frame.is_fd:
        body = f'#{frame.fd_flags:X}{frame.data.hex().upper()}'
    else:
        body = frame.data.hex().upper()
    tail = f' {frame.direction.value}' if frame.direction is not None else ''
    return f'({sec}.{rem // 1000:06d}) {frame.channel} {ident}#{body}{tail}'


def parse_line(line: str, *, where: str = '<line>') -> LogFrame:
    """Parse one log line; raises CandumpFormatError saying where and what was expected."""
    match = _LINE_RE.match(line.strip())
    if match is None:
        raise CandumpFormatError(
            f'{where}: expected "(sec.usec) iface id#data", got {line.strip()[:80]!r}'
        )
    ident = match['id']
    rest = match['rest']
    is_fd = rest.startswith('#')
    is_remote = not is_fd and rest[:1] in ('R', 'r')
    fd_flags = 0
    if is_fd:
        if len(rest) < 2:
            raise CandumpFormatError(f'{where}: CAN FD frame without flags nibble')
        fd_flags, payload = int(rest[1], 16), rest[2:]
    elif is_remote:
        payload = ''
    else:
        payload = rest
    if not _HEX_RE.match(payload):
        raise CandumpFormatError(
            f'{where}: payload {payload!r} is not an even number of hex digits'
        )
    data = bytes.fromhex(payload)
    if len(data) > (64 if is_fd else 8):
        raise CandumpFormatError(f'{where}: {len(data)} data bytes, expected at most 8 (64 FD)')
    arbitration_id = int(ident, 16)
    is_extended = len(ident) == 8
    if arbitration_id > (0x1FFFFFFF if is_extended else 0x7FF):
        raise CandumpFormatError(f'{where}: identifier {ident} out of range')
    return LogFrame(
        stamp_ns=int(match['sec']) * 1_000_000_000 + int(match['usec']) * 1000,
        channel=match['iface'],
        arbitration_id=arbitration_id,
        data=data,
        is_extended=is_extended,
        is_remote=is_remote,
        is_fd=is_fd,
        fd_flags=fd_flags,
        direction=Direction(match['dir']) if match['dir'] else None,
    )


def read_log(path: str | Path) -> Iterator[LogFrame]:
    """Frames of a log file in order; blank lines are skipped, a bad line raises."""
    path = Path(path)
    with path.open(encoding='ascii', errors='replace') as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield parse_line(line, where=f'{path}:{number}')


class CandumpWriter:
    """Appends frames to a log file, line-buffered so a crash loses at most one line."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._handle: TextIO | None = self.path.open('a', encoding='ascii', buffering=1)
        self.lines = 0

    def write(self, frame: LogFrame) -> None:
        if self._handle is None:
            return
        self._handle.write(format_line(frame) + '\n')
        self.lines += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

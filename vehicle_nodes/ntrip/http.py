"""The HTTP side of NTRIP: requests (v1 and v2), response heads, chunked transfer decoding."""

from __future__ import annotations

import base64
import enum
from dataclasses import dataclass, field

from vehicle_nodes.ntrip.errors import ProtocolError

USER_AGENT = 'NTRIP v2x_stack/1.0'
MAX_HEAD_BYTES = 16384


class NtripVersion(enum.Enum):
    V1 = '1.0'
    V2 = '2.0'


def build_request(
    *,
    host: str,
    port: int,
    mountpoint: str,
    version: NtripVersion,
    username: str = '',
    password: str = '',
    gga: str = '',
) -> bytes:
    """GET /mountpoint ('' = the source table) as NTRIP 1.0 or 2.0 asks for it."""
    lines = [f'GET /{mountpoint} HTTP/{"1.1" if version is NtripVersion.V2 else "1.0"}']
    if version is NtripVersion.V2:
        lines += [f'Host: {host}:{port}', 'Ntrip-Version: Ntrip/2.0']
    lines.append(f'User-Agent: {USER_AGENT}')
    if username:
        token = base64.b64encode(f'{username}:{password}'.encode()).decode('ascii')
        lines.append(f'Authorization: Basic {token}')
    if gga and version is NtripVersion.V2:
        lines.append(f'Ntrip-GGA: {gga}')
    if version is NtripVersion.V2:
        lines.append('Connection: close')
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('ascii')


class ResponseKind(enum.Enum):
    STREAM = 'stream'  # ICY 200 OK, or HTTP 200 with gnss/data
    SOURCETABLE = 'sourcetable'  # SOURCETABLE 200 OK, or HTTP 200 with gnss/sourcetable
    UNAUTHORIZED = 'unauthorized'
    NOT_FOUND = 'not_found'
    REFUSED = 'refused'  # any other status


@dataclass(frozen=True)
class ResponseHead:
    kind: ResponseKind
    status_line: str
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False


def parse_head(buffer: bytes) -> tuple[ResponseHead, int] | None:
    """Parse a response head from the start of ``buffer``; (head, bytes used) or None if more
    bytes are needed. ``ICY 200 OK`` (NTRIP 1) may be followed by data without a blank line."""
    end_status = buffer.find(b'\r\n')
    if end_status < 0:
        if len(buffer) > MAX_HEAD_BYTES:
            raise ProtocolError(f'no status line in the first {len(buffer)} bytes')
        return None
    status = buffer[:end_status].decode('latin-1').strip()
    if status.startswith('ICY 200'):
        used = end_status + 2
        if buffer[used : used + 2] == b'\r\n':
            used += 2
        return ResponseHead(ResponseKind.STREAM, status), used
    end = buffer.find(b'\r\n\r\n')
    if end < 0:
        if len(buffer) > MAX_HEAD_BYTES:
            raise ProtocolError(f'response head longer than {MAX_HEAD_BYTES} bytes')
        return None
    headers: dict[str, str] = {}
    for raw in buffer[end_status + 2 : end].decode('latin-1').split('\r\n'):
        name, sep, value = raw.partition(':')
        if sep:
            headers[name.strip().lower()] = value.strip()
    used = end + 4
    chunked = headers.get('transfer-encoding', '').lower() == 'chunked'
    if status.startswith('SOURCETABLE 200'):
        return ResponseHead(ResponseKind.SOURCETABLE, status, headers), used
    parts = status.split(maxsplit=2)
    if len(parts) < 2 or not parts[0].startswith('HTTP/') or not parts[1].isdigit():
        raise ProtocolError(f'expected an HTTP, ICY or SOURCETABLE status line, got {status!r}')
    code = int(parts[1])
    if code == 200:
        content = headers.get('content-type', '').lower()
        kind = ResponseKind.SOURCETABLE if 'sourcetable' in content else ResponseKind.STREAM
    elif code == 401:
        kind = ResponseKind.UNAUTHORIZED
    elif code == 404:
        kind = ResponseKind.NOT_FOUND
    else:
        kind = ResponseKind.REFUSED
    return ResponseHead(kind, status, headers, chunked), used


class ChunkedDecoder:
    """Incremental HTTP/1.1 chunked transfer decoding; ``done`` after the zero chunk."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._remaining = -1  # bytes left in the current chunk; -1 = expecting a size line
        self.done = False

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        out = bytearray()
        while not self.done:
            if self._remaining < 0:
                end = self._buf.find(b'\r\n')
                if end < 0:
                    if len(self._buf) > 1024:
                        raise ProtocolError('chunk size line longer than 1024 bytes')
                    break
                size_text = self._buf[:end].split(b';', 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise ProtocolError(f'bad chunk size {bytes(size_text)!r}') from None
                del self._buf[: end + 2]
                if size == 0:
                    self.done = True
                    break
                self._remaining = size
            take = min(self._remaining, len(self._buf))
            out += self._buf[:take]
            del self._buf[:take]
            self._remaining -= take
            if self._remaining > 0:
                break
            if len(self._buf) < 2:
                self._remaining = 0
                if self._buf[:1] not in (b'', b'\r'):
                    raise ProtocolError('chunk not followed by CR LF')
                break
            if self._buf[:2] != b'\r\n':
                raise ProtocolError(f'chunk not followed by CR LF, got {bytes(self._buf[:2])!r}')
            del self._buf[:2]
            self._remaining = -1
        return bytes(out)

"""One NTRIP client session as a non-blocking state machine driven by ``poll(now_s)``.

connect → send the request → read the response head → stream RTCM (raw, or chunked in
NTRIP 2) into the framer, or collect the source table. Any failure — refused connection,
401/404, a dropped or stalled stream, a protocol error — closes the socket, is counted with
its reason and schedules a reconnect with exponential back-off. GGA lines are uploaded at an
interval while streaming.
"""

from __future__ import annotations

import enum
import errno
import select
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from v2x_runtime.backoff import Backoff
from vehicle_nodes.ntrip.errors import ProtocolError, SourceTableError
from vehicle_nodes.ntrip.http import (
    ChunkedDecoder,
    NtripVersion,
    ResponseHead,
    ResponseKind,
    build_request,
    parse_head,
)
from vehicle_nodes.ntrip.rtcm import RtcmFrame, RtcmFramer
from vehicle_nodes.ntrip.sourcetable import SourceTable, parse_sourcetable

READ_LIMIT_BYTES = 262144


class State(enum.Enum):
    IDLE = 'idle'
    CONNECTING = 'connecting'
    HEAD = 'head'
    STREAMING = 'streaming'
    SOURCETABLE = 'sourcetable'
    BACKOFF = 'backoff'
    DONE = 'done'  # a source table was fetched; the session does not reconnect


@dataclass
class NtripConfig:
    host: str
    port: int
    mountpoint: str  # '' fetches the source table
    version: NtripVersion = NtripVersion.V2
    username: str = ''
    password: str = ''
    gga_interval_s: float = 10.0  # 0 = never upload
    stall_timeout_s: float = 10.0
    connect_timeout_s: float = 5.0


@dataclass
class PollResult:
    frames: list[RtcmFrame] = field(default_factory=list)
    sourcetable: SourceTable | None = None


@dataclass
class NtripSession:
    """Poll it often; give it a GGA source. ``stats`` counts everything that happened."""

    config: NtripConfig
    gga_source: Callable[[], str | None] = lambda: None
    backoff: Backoff = field(default_factory=lambda: Backoff(1.0, 60.0))
    stats: Counter[str] = field(default_factory=Counter)
    framer: RtcmFramer = field(default_factory=RtcmFramer)
    state: State = State.IDLE
    last_error: str = ''
    head: ResponseHead | None = None
    _sock: socket.socket | None = None
    _buf: bytearray = field(default_factory=bytearray)
    _chunked: ChunkedDecoder | None = None
    _deadline_s: float = 0.0
    _next_gga_s: float = 0.0
    _retry_at_s: float = 0.0

    def poll(self, now_s: float) -> PollResult:
        result = PollResult()
        try:
            self._step(now_s, result)
        except ProtocolError as err:
            self._fail(now_s, 'protocol_error', str(err))
        return result

    def defer(self, until_s: float) -> None:
        """Do not connect before ``until_s`` (a caller-imposed back-off)."""
        self.state = State.BACKOFF
        self._retry_at_s = until_s

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # --- the machine ---------------------------------------------------------------
    def _step(self, now_s: float, result: PollResult) -> None:
        if self.state in (State.IDLE, State.BACKOFF):
            if now_s >= self._retry_at_s:
                self._connect(now_s)
            return
        if self.state is State.DONE:
            return
        if self.state is State.CONNECTING:
            self._check_connected(now_s)
            return
        read = self._read(now_s)
        if read is None:
            return
        data, closed = read
        if data:
            self._deadline_s = now_s + self.config.stall_timeout_s
        if self.state is State.HEAD:
            self._buf += data
            parsed = parse_head(bytes(self._buf))
            if parsed is None and closed and self._buf:  # a bare status line, then close
                parsed = parse_head(bytes(self._buf).rstrip(b'\r\n') + b'\r\n\r\n')
            if parsed is None:
                if closed:
                    self._fail(
                        now_s, 'connection_closed', f'{self._where()}: closed before a response'
                    )
                return
            self._on_head(now_s, *parsed)
            data = bytes(self._buf)
            self._buf.clear()
            if self.state not in (State.STREAMING, State.SOURCETABLE):
                return
        if self._chunked is not None and data:
            data = self._chunked.feed(data)
        if self.state is State.STREAMING:
            if data:
                frames = self.framer.feed(data)
                if frames:
                    self.backoff.reset()
                result.frames.extend(frames)
            if closed or (self._chunked is not None and self._chunked.done):
                self._fail(
                    now_s, 'connection_closed', f'{self._where()}: stream ended by the caster'
                )
                return
            if not data and now_s >= self._deadline_s:
                self._fail(
                    now_s,
                    'stalled',
                    f'{self._where()}: no data for {self.config.stall_timeout_s} s',
                )
                return
            self._upload_gga(now_s)
        elif self.state is State.SOURCETABLE:
            self._buf += data
            chunked_done = self._chunked is not None and self._chunked.done
            if closed or chunked_done or b'ENDSOURCETABLE' in self._buf:
                self._finish_table(result)
            elif now_s >= self._deadline_s:
                self._fail(now_s, 'stalled', f'{self._where()}: source table incomplete')

    def _connect(self, now_s: float) -> None:
        self.stats['connects'] += 1
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            host = socket.gethostbyname(self.config.host)
        except OSError as err:
            sock.close()
            self._fail(now_s, 'resolve_failed', f'{self.config.host}: {err}')
            return
        code = sock.connect_ex((host, self.config.port))
        if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            sock.close()
            self._fail(
                now_s, 'connect_failed', f'{self._where()}: {errno.errorcode.get(code, code)}'
            )
            return
        self._sock = sock
        self.state = State.CONNECTING
        self._deadline_s = now_s + self.config.connect_timeout_s

    def _check_connected(self, now_s: float) -> None:
        assert self._sock is not None
        _, writable, _ = select.select([], [self._sock], [], 0)
        if not writable:
            if now_s >= self._deadline_s:
                self._fail(now_s, 'connect_timeout', f'{self._where()}: no answer')
            return
        code = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            self._fail(
                now_s, 'connect_failed', f'{self._where()}: {errno.errorcode.get(code, code)}'
            )
            return
        gga = self.gga_source() or ''
        request = build_request(
            host=self.config.host,
            port=self.config.port,
            mountpoint=self.config.mountpoint,
            version=self.config.version,
            username=self.config.username,
            password=self.config.password,
            gga=gga,
        )
        try:
            self._sock.sendall(request)
        except OSError as err:
            self._fail(now_s, 'connection_lost', f'{self._where()}: sending request: {err}')
            return
        self.state = State.HEAD
        self._buf.clear()
        self._chunked = None
        self._deadline_s = now_s + self.config.stall_timeout_s

    def _read(self, now_s: float) -> tuple[bytes, bool] | None:
        """(bytes now, maybe b''; whether the caster closed) or None after a socket error."""
        assert self._sock is not None
        chunks: list[bytes] = []
        size = 0
        closed = False
        try:
            while size < READ_LIMIT_BYTES:
                data = self._sock.recv(65536)
                if not data:
                    closed = True
                    break
                chunks.append(data)
                size += len(data)
        except BlockingIOError:
            pass
        except OSError as err:
            self._fail(now_s, 'connection_lost', f'{self._where()}: {err}')
            return None
        self.stats['bytes'] += size
        if self.state is State.HEAD and not closed and size == 0 and now_s >= self._deadline_s:
            self._fail(now_s, 'stalled', f'{self._where()}: no response')
            return None
        return b''.join(chunks), closed

    def _on_head(self, now_s: float, head: ResponseHead, used: int) -> None:
        self.head = head
        del self._buf[:used]
        if head.chunked:
            self._chunked = ChunkedDecoder()
        wants_table = not self.config.mountpoint
        if head.kind is ResponseKind.STREAM and not wants_table:
            self.state = State.STREAMING
            self.stats['streams_started'] += 1
            self._next_gga_s = now_s
        elif head.kind is ResponseKind.SOURCETABLE:
            if not wants_table:  # NTRIP 1 casters answer an unknown mount point with the table
                self._fail(
                    now_s,
                    'mountpoint_not_found',
                    f'{self._where()}: caster sent its source table instead',
                )
                return
            self.state = State.SOURCETABLE
        elif head.kind is ResponseKind.UNAUTHORIZED:
            self._fail(now_s, 'unauthorized', f'{self._where()}: {head.status_line}')
        elif head.kind is ResponseKind.NOT_FOUND:
            self._fail(now_s, 'mountpoint_not_found', f'{self._where()}: {head.status_line}')
        else:
            self._fail(now_s, 'refused', f'{self._where()}: {head.status_line}')

    def _finish_table(self, result: PollResult) -> None:
        text = bytes(self._buf).decode('latin-1')
        self._buf.clear()
        try:
            result.sourcetable = parse_sourcetable(text)
        except SourceTableError as err:
            self.stats['rejected_sourcetable'] += 1
            self.last_error = str(err)
        self.close()
        self.state = State.DONE
        self.stats['sourcetables'] += 1

    def _upload_gga(self, now_s: float) -> None:
        if self.config.gga_interval_s <= 0 or now_s < self._next_gga_s or self._sock is None:
            return
        gga = self.gga_source()
        self._next_gga_s = now_s + self.config.gga_interval_s
        if not gga:
            self.stats['gga_no_position'] += 1
            return
        try:
            self._sock.sendall((gga + '\r\n').encode('ascii'))
        except OSError as err:
            self._fail(now_s, 'connection_lost', f'{self._where()}: sending GGA: {err}')
            return
        self.stats['gga_sent'] += 1

    def _fail(self, now_s: float, reason: str, detail: str) -> None:
        self.close()
        lost = self.framer.flush()  # a partial frame of this connection must not merge
        self.stats['frames_lost_at_disconnect'] += len(lost)
        self.stats[f'failed_{reason}'] += 1
        self.last_error = detail
        self.state = State.BACKOFF
        self._retry_at_s = now_s + self.backoff.next_delay_s()

    def _where(self) -> str:
        return f'{self.config.host}:{self.config.port}/{self.config.mountpoint}'

"""Thin byte transports to a receiver: serial (pyserial), TCP client, UDP. All non-blocking.

Each one only opens, reads what is there, writes (RTCM corrections go the other way) and
closes; decoding lives in ``NmeaStream`` and reconnection in ``TransportLink``, shared by all.
A transport is named by one URL-like string, the driver's ``source`` parameter:

- ``serial:///dev/ttyUSB0?baud=115200``
- ``tcp://192.168.1.10:5017``  (the receiver serves NMEA on a TCP port)
- ``udp://0.0.0.0:10110``      (bind and receive datagrams)
"""

from __future__ import annotations

import abc
import errno
import os
import select
import socket
import time
from urllib.parse import parse_qs, urlsplit

from vehicle_nodes.gnss.errors import ConfigError, NotReadyError, TransportError

READ_LIMIT_BYTES = 65536


class Transport(abc.ABC):
    """A byte pipe to a receiver. ``read`` never blocks; it returns b'' when nothing waits."""

    url: str

    @abc.abstractmethod
    def open(self) -> None:
        """Open the device or socket; raises TransportError with the URL on failure."""

    @abc.abstractmethod
    def read(self) -> bytes:
        """Bytes available now (maybe b''); raises TransportError when the link is lost."""

    @abc.abstractmethod
    def write(self, data: bytes) -> None:
        """Send bytes to the receiver; raises TransportError when the link is lost."""

    @abc.abstractmethod
    def close(self) -> None: ...

    @property
    @abc.abstractmethod
    def is_open(self) -> bool: ...


class SerialTransport(Transport):
    """A serial port via pyserial, opened with timeout=0 (non-blocking reads)."""

    def __init__(self, url: str, port: str, baudrate: int) -> None:
        self.url, self.port, self.baudrate = url, port, baudrate
        self._serial = None

    def open(self) -> None:
        import serial

        try:
            self._serial = serial.Serial(self.port, self.baudrate, timeout=0, write_timeout=0)
        except (serial.SerialException, OSError, ValueError) as err:
            raise TransportError(f'{self.url}: cannot open serial port: {err}') from None

    def read(self) -> bytes:
        import serial

        if self._serial is None:
            return b''
        try:
            return bytes(self._serial.read(READ_LIMIT_BYTES))
        except (serial.SerialException, OSError) as err:
            self.close()
            raise TransportError(f'{self.url}: read failed: {err}') from None

    def write(self, data: bytes) -> None:
        import serial

        if self._serial is None:
            raise TransportError(f'{self.url}: not open')
        try:
            self._serial.write(data)
        except serial.SerialTimeoutException:
            raise NotReadyError(f'{self.url}: output buffer full, bytes dropped') from None
        except (serial.SerialException, OSError) as err:
            self.close()
            raise TransportError(f'{self.url}: write failed: {err}') from None

    def close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None

    @property
    def is_open(self) -> bool:
        return self._serial is not None


class TcpTransport(Transport):
    """A TCP client to a receiver's NMEA port. Connecting never blocks (only the name lookup
    may): ``read`` returns b'' until the connection is up, and raises if it fails or takes
    longer than ``connect_timeout_s``."""

    def __init__(self, url: str, host: str, port: int, connect_timeout_s: float = 5.0) -> None:
        self.url, self.host, self.port = url, host, port
        self.connect_timeout_s = connect_timeout_s
        self._sock: socket.socket | None = None
        self._connected = False
        self._deadline = 0.0

    def open(self) -> None:
        try:
            address = socket.gethostbyname(self.host)
        except OSError as err:
            raise TransportError(f'{self.url}: cannot resolve {self.host}: {err}') from None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        code = sock.connect_ex((address, self.port))
        if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            sock.close()
            raise TransportError(f'{self.url}: cannot connect: {os.strerror(code)}')
        self._sock = sock
        self._connected = code == 0
        self._deadline = time.monotonic() + self.connect_timeout_s

    def _check_connected(self) -> bool:
        assert self._sock is not None
        _, writable, _ = select.select([], [self._sock], [], 0)
        if not writable:
            if time.monotonic() > self._deadline:
                self.close()
                raise TransportError(f'{self.url}: no answer within {self.connect_timeout_s} s')
            return False
        code = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            self.close()
            raise TransportError(f'{self.url}: cannot connect: {os.strerror(code)}')
        self._connected = True
        return True

    def read(self) -> bytes:
        if self._sock is None or (not self._connected and not self._check_connected()):
            return b''
        chunks = []
        try:
            while sum(map(len, chunks)) < READ_LIMIT_BYTES:
                data = self._sock.recv(READ_LIMIT_BYTES)
                if not data:
                    self.close()
                    if chunks:
                        break
                    raise TransportError(f'{self.url}: connection closed by the receiver')
                chunks.append(data)
        except BlockingIOError:
            pass
        except OSError as err:
            self.close()
            raise TransportError(f'{self.url}: read failed: {err}') from None
        return b''.join(chunks)

    def write(self, data: bytes) -> None:
        if self._sock is None:
            raise TransportError(f'{self.url}: not connected')
        if not self._connected and not self._check_connected():
            raise NotReadyError(f'{self.url}: still connecting')
        try:
            self._sock.sendall(data)
        except BlockingIOError:
            raise TransportError(f'{self.url}: send buffer full, corrections dropped') from None
        except OSError as err:
            self.close()
            raise TransportError(f'{self.url}: write failed: {err}') from None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._connected = False

    @property
    def is_open(self) -> bool:
        return self._sock is not None


class UdpTransport(Transport):
    """Bound UDP socket; each datagram ends a line (a CR LF is added if it lacks one)."""

    def __init__(self, url: str, host: str, port: int) -> None:
        self.url, self.host, self.port = url, host, port
        self._sock: socket.socket | None = None
        self._peer: tuple[str, int] | None = None

    def open(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))
        except OSError as err:
            sock.close()
            raise TransportError(f'{self.url}: cannot bind: {err}') from None
        sock.setblocking(False)
        self._sock = sock

    def read(self) -> bytes:
        if self._sock is None:
            return b''
        chunks: list[bytes] = []
        total = 0
        while total < READ_LIMIT_BYTES:
            try:
                data, self._peer = self._sock.recvfrom(65535)
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno == errno.ECONNREFUSED:  # an ICMP error from an earlier send
                    continue
                raise TransportError(f'{self.url}: read failed: {err}') from None
            chunks.append(data if data.endswith(b'\n') else data + b'\r\n')
            total += len(data)
        return b''.join(chunks)

    def write(self, data: bytes) -> None:
        """Send to the peer the last datagram came from (a receiver that streams to us)."""
        if self._sock is None or self._peer is None:
            raise TransportError(f'{self.url}: no peer yet to send to')
        try:
            self._sock.sendto(data, self._peer)
        except OSError as err:
            raise TransportError(f'{self.url}: write failed: {err}') from None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    @property
    def is_open(self) -> bool:
        return self._sock is not None


def make_transport(url: str, *, parameter: str = 'source') -> Transport:
    """Build the transport a URL names; raises ConfigError naming ``parameter`` if it can't."""
    parts = urlsplit(url)
    try:
        if parts.scheme == 'serial':
            query = parse_qs(parts.query)
            baud = int(query.get('baud', ['115200'])[0])
            if not parts.path:
                raise ValueError('no device path')
            return SerialTransport(url, parts.path, baud)
        if parts.scheme in ('tcp', 'udp'):
            host, port = parts.hostname, parts.port
            if port is None:
                raise ValueError('no port')
            if parts.scheme == 'tcp':
                if not host:
                    raise ValueError('no host')
                return TcpTransport(url, host, port)
            return UdpTransport(url, host or '0.0.0.0', port)
    except ValueError as err:
        raise ConfigError(f'parameter {parameter}: {url!r}: {err}') from None
    raise ConfigError(
        f'parameter {parameter}: {url!r}: expected serial:///dev/X?baud=N, tcp://host:port '
        'or udp://host:port'
    )

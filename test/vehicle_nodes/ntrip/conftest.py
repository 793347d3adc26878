"""NTRIP test set-up: realdata RTCM folder, and real casters (str2str, gnssserver) as processes."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from free_ports import free_ports

START_DEADLINE_S = 15.0


@pytest.fixture(scope='session')
def rtcm_dir(realdata: Path) -> Path:
    """``realdata/rtcm`` (see the realdata fixture in test/conftest.py)."""
    if not (realdata / 'rtcm').is_dir():
        pytest.skip(f'no rtcm/ folder in {realdata}')
    return realdata / 'rtcm'


def assert_port_free(port: int) -> None:
    """Fail clearly when something else already listens where a peer is about to start."""
    try:
        socket.create_connection(('127.0.0.1', port), timeout=0.2).close()
    except OSError:
        return
    raise RuntimeError(f'port {port} is already in use; a stale caster from another run?')


def wait_port(port: int, deadline_s: float = START_DEADLINE_S) -> None:
    end = time.monotonic() + deadline_s
    while True:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > end:
                raise TimeoutError(f'nothing listens on port {port} after {deadline_s} s') from None
            time.sleep(0.02)


class Process:
    """A real peer process in its own session, stopped with SIGTERM then SIGKILL."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5.0)


class Str2StrCaster:
    """RTKLIB str2str as an NTRIP caster; RTCM written to its tcpsvr input; -b 1 relays what
    clients send (their GGA) back to that input, where the test reads it."""

    def __init__(self, input_port: int, caster_port: int, mount: str = 'RTCM3MNT') -> None:
        self.input_port, self.caster_port, self.mount = input_port, caster_port, mount
        self.user, self.password = 'rover', 's3cret'
        self.process = Process(
            [
                shutil.which('str2str') or 'str2str',
                '-in',
                f'tcpsvr://:{input_port}',
                '-out',
                f'ntripc://{self.user}:{self.password}@:{caster_port}/{mount}',
                '-b',
                '1',
            ]
        )
        self.feed: socket.socket | None = None

    def start(self) -> None:
        assert_port_free(self.caster_port)
        self.process.start()
        wait_port(self.caster_port)
        end = time.monotonic() + START_DEADLINE_S
        while self.feed is None:
            try:
                self.feed = socket.create_connection(('127.0.0.1', self.input_port), timeout=0.5)
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.02)
        self.feed.settimeout(0.0)

    def stop(self) -> None:
        if self.feed is not None:
            self.feed.close()
            self.feed = None
        self.process.stop()

    def write(self, data: bytes) -> None:
        assert self.feed is not None
        self.feed.setblocking(True)
        self.feed.sendall(data)
        self.feed.setblocking(False)

    def read_relayed(self) -> bytes:
        assert self.feed is not None
        chunks = []
        while True:
            try:
                data = self.feed.recv(65536)
            except BlockingIOError:
                break
            if not data:
                break
            chunks.append(data)
        return b''.join(chunks)


@pytest.fixture
def str2str_factory():
    if shutil.which('str2str') is None:
        pytest.skip('str2str (Debian package rtklib) is not installed')
    made = []

    def make() -> Str2StrCaster:
        caster = Str2StrCaster(*free_ports(2))  # str2str needs its ports before it starts
        made.append(caster)
        caster.start()
        return caster

    yield make
    for caster in made:
        caster.stop()


class GnssServerCaster:
    """pygnssutils' gnssserver in NTRIP 2 caster mode, reading RTCM from a TCP server the test
    runs (gnssserver connects to it as a client)."""

    def __init__(self, source_port: int, caster_port: int) -> None:
        self.caster_port = caster_port
        self.user, self.password, self.mount = 'rover', 's3cret', 'pygnssutils'
        self.source = socket.create_server(('127.0.0.1', source_port))  # 0: the kernel picks
        source_port = self.source.getsockname()[1]
        self.source.settimeout(START_DEADLINE_S)
        exe = shutil.which('gnssserver') or str(Path(sys.executable).parent / 'gnssserver')
        self.process = Process(
            [
                exe,
                '-S',
                f'127.0.0.1:{source_port}',
                '-N',
                '1',
                '-O',
                str(caster_port),
                '-H',
                '127.0.0.1',
                '--ntripversion',
                '2.0',
                '--ntripuser',
                self.user,
                '--ntrippassword',
                self.password,
                '--verbosity',
                '-1',
            ]
        )
        self.feed: socket.socket | None = None

    def start(self) -> None:
        assert_port_free(self.caster_port)
        self.process.start()
        self.feed, _ = self.source.accept()
        wait_port(self.caster_port)

    def write(self, data: bytes) -> None:
        assert self.feed is not None
        self.feed.sendall(data)

    def stop(self) -> None:
        if self.feed is not None:
            self.feed.close()
        self.source.close()
        self.process.stop()


@pytest.fixture(scope='module')
def gnssserver():
    exe = Path(sys.executable).parent / 'gnssserver'
    if shutil.which('gnssserver') is None and not exe.exists():
        pytest.skip('pygnssutils gnssserver is not installed (pip install pygnssutils)')
    caster = GnssServerCaster(0, free_ports(1)[0])
    caster.start()
    yield caster
    caster.stop()

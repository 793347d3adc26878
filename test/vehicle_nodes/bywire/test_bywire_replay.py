"""Offline check and replay of candump logs."""

from __future__ import annotations

from pathlib import Path

import can
import pytest

from vehicle_nodes.bywire.bus import CanPort
from vehicle_nodes.bywire.candump import CandumpWriter, Direction, LogFrame, read_log
from vehicle_nodes.bywire.codec import FrameCodec
from vehicle_nodes.bywire.dbc import load_dbc
from vehicle_nodes.bywire.kit import encode_commands, find_default_dbc
from vehicle_nodes.bywire.replay import analyse, main, play
from vehicle_nodes.bywire.values import GateOutput, GateState

KIT_DBC = load_dbc(find_default_dbc())
MS = 1_000_000


def write_log(path: Path, *, cycles: int = 200, extra: list[LogFrame] | None = None) -> None:
    codec = FrameCodec(KIT_DBC)
    writer = CandumpWriter(path)
    for i in range(cycles):
        t = 1_700_000_000 * 10**9 + i * 10 * MS
        out = GateOutput(t, GateState.AUTONOMOUS, True, 0.5, 0.02, 0, False, False, False, 'p')
        for frame_id, data in encode_commands(codec, out, steer_rate_limit_radps=0.5):
            writer.write(LogFrame(t, 'can0', frame_id, data, direction=Direction.TX))
    for frame in extra or []:
        writer.write(frame)
    writer.close()


def test_clean_log_analyses_clean_and_cli_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / 'clean.log'
    write_log(log)
    report = analyse(read_log(log), FrameCodec(KIT_DBC))
    assert report.frames == 1000 and report.clean
    assert report.e2e == {'initial': 5, 'ok': 995}
    assert main([str(log)]) == 0
    assert '0x112 SteerCommand     200' in capsys.readouterr().out
    assert main([str(log), '--direction', 'rx']) == 0  # no received frames in this log
    assert main([str(tmp_path / 'missing.log')]) == 2
    bad = tmp_path / 'bad.log'
    bad.write_text('(1.000000) can0 12#00\n')
    assert main([str(bad)]) == 2
    assert 'bad.log:1' in capsys.readouterr().err


def test_tampered_log_is_flagged(tmp_path: Path) -> None:
    log = tmp_path / 'attack.log'
    t = 1_700_000_000 * 10**9 + 1_000 * MS
    write_log(log, extra=[LogFrame(t, 'can0', 0x112, bytes(8), direction=Direction.RX)])
    report = analyse(sorted(read_log(log), key=lambda f: f.stamp_ns), FrameCodec(KIT_DBC))
    assert not report.clean
    assert report.e2e['bad_crc'] == 1
    assert main([str(log)]) == 1


def test_play_onto_a_virtual_bus(tmp_path: Path, channel: str) -> None:
    log = tmp_path / 'play.log'
    write_log(log, cycles=20)
    frames = list(read_log(log))
    port = CanPort('virtual', channel)
    port.open()
    with can.Bus(interface='virtual', channel=channel) as rx:
        assert play(frames, port, speed=0) == 100
        got = [rx.recv(timeout=1.0) for _ in frames]
    port.close()
    assert [(m.arbitration_id, bytes(m.data)) for m in got] == [  # type: ignore[union-attr]
        (f.arbitration_id, f.data) for f in frames
    ]


def test_play_keeps_the_recorded_spacing_scaled(tmp_path: Path, channel: str) -> None:
    log = tmp_path / 'timed.log'
    write_log(log, cycles=11)  # 100 ms of log
    now = [0.0]
    slept = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    port = CanPort('virtual', channel)
    port.open()
    play(read_log(log), port, speed=2.0, sleep=sleep, clock=lambda: now[0])
    port.close()
    assert sum(slept) == pytest.approx(0.05)
    assert len(slept) == 10

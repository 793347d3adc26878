"""Intrusion detection: each attack kind flagged; a clean 10-minute log stays quiet."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from vehicle_nodes.bywire.candump import CandumpWriter, Direction, LogFrame, read_log
from vehicle_nodes.bywire.codec import FrameCodec
from vehicle_nodes.bywire.dbc import load_dbc
from vehicle_nodes.bywire.ids import AlarmKind, IntrusionDetector
from vehicle_nodes.bywire.kit import find_default_dbc

KIT_DBC = load_dbc(find_default_dbc())
MS = 1_000_000
STATUS = {
    'Mode': 2,
    'DriverOverride': 0,
    'BrakeApplied': 0,
    'GearActual': 4,
    'Lights': 0,
    'ThrottleFault': 0,
    'BrakeFault': 0,
    'SteerFault': 0,
    'GearFault': 0,
    'KitEmergencyStop': 0,
    'CommandTimeout': 0,
}
VALUES = {
    'KitStatus': STATUS,
    'MotionFeedback': {'VehicleSpeed': 8.3, 'LongAccel': 0.2, 'YawRate': 0.01},
    'SteerFeedback': {'SteerAngleActual': -2.5, 'SteerRateActual': 1.0},
    'KitInfo': {'FirmwareMajor': 1, 'FirmwareMinor': 4, 'Uptime': 100},
}


def pools(codec: FrameCodec) -> dict[int, list[bytes]]:
    """One encoded frame per counter value for each kit message (15 for protected ones)."""
    out = {}
    for name, values in VALUES.items():
        msg = codec.message(name)
        n = 15 if msg.frame_id in codec.data_ids else 1
        out[msg.frame_id] = [codec.encode(name, values)[1] for _ in range(n)]
    return out


def clean_log(duration_s: float, seed: int = 7) -> list[tuple[int, int, bytes]]:
    """The kit's frames as a bus carries them: each at its DBC cycle with realistic jitter."""
    codec = FrameCodec(KIT_DBC)
    rng = np.random.default_rng(seed)
    frames = []
    for frame_id, pool in pools(codec).items():
        period_ns = codec.messages[frame_id].cycle_time * MS
        n = int(duration_s * 1e9 // period_ns)
        # scheduler jitter (σ 0.3 ms, |j| ≤ 2 ms) and a rare late frame (+4 ms, bus load)
        jitter = np.clip(rng.normal(0, 0.3 * MS, n), -2 * MS, 2 * MS)
        jitter += (rng.random(n) < 0.002) * 4 * MS
        stamps = np.arange(n, dtype=np.int64) * period_ns + 5 * MS + jitter.astype(np.int64)
        frames += [(int(t), frame_id, pool[k % len(pool)]) for k, t in enumerate(stamps)]
    frames.sort()
    return frames


def run_ids(frames: list[tuple[int, int, bytes]]) -> tuple[IntrusionDetector, list]:  # type: ignore[type-arg]
    ids = IntrusionDetector(FrameCodec(KIT_DBC))
    alarms = []
    last_check = 0
    for t, frame_id, data in frames:
        alarms += ids.observe(frame_id, data, t)
        if t - last_check >= 10 * MS:
            alarms += ids.check_silence(t)
            last_check = t
    return ids, alarms


def test_clean_ten_minute_log_through_candump_is_quiet(tmp_path: Path) -> None:
    frames = clean_log(600.0)
    assert len(frames) > 180_000
    path = tmp_path / 'clean.log'
    writer = CandumpWriter(path)
    for t, frame_id, data in frames:
        writer.write(LogFrame(t, 'can0', frame_id, data, direction=Direction.RX))
    writer.close()
    replay = [(f.stamp_ns, f.arbitration_id, f.data) for f in read_log(path)]
    assert len(replay) == len(frames)
    ids, alarms = run_ids(replay)
    assert alarms == []
    assert sum(ids.counts.values()) == 0
    assert ids.frames == len(frames)


def with_attack(kind: str) -> list[tuple[int, int, bytes]]:
    frames = clean_log(5.0)
    codec = FrameCodec(KIT_DBC)
    if kind == 'unknown_id':
        frames.append((2_000 * MS, 0x666, bytes(8)))
    elif kind == 'flooding':  # an attacker injects MotionFeedback at 1 kHz for 0.5 s
        pool = pools(codec)[0x211]
        frames += [(2_000 * MS + i * MS, 0x211, pool[i % 15]) for i in range(500)]
    elif kind == 'suspension':  # SteerFeedback silenced for 0.3 s (a bus-off attack on the kit)
        frames = [f for f in frames if not (f[1] == 0x212 and 2_000 * MS < f[0] < 2_300 * MS)]
    elif kind == 'out_of_range':  # VehicleSpeed raw 20000 = 200 m/s, beyond the DBC's 100
        payload = bytearray(frames[-1][2] if frames[-1][1] == 0x211 else pools(codec)[0x211][0])
        payload[2:4] = (20000).to_bytes(2, 'little', signed=True)
        frames.append((2_000 * MS + 1, 0x211, bytes(payload)))
    elif kind == 'counter':  # a spoofed sender restarts the KitStatus counter at 0
        idx = next(i for i, f in enumerate(frames) if f[1] == 0x210 and f[0] > 2_000 * MS)
        t, fid, data = frames[idx]
        if data[1] & 0x0F in (0, 14):
            idx = next(i for i, f in enumerate(frames) if f[1] == 0x210 and i > idx)
            t, fid, data = frames[idx]
        frames[idx] = (t, fid, pools(FrameCodec(KIT_DBC))[0x210][0])
    frames.sort()
    return frames


@pytest.mark.parametrize(
    ('kind', 'frame_id'),
    [
        ('unknown_id', 0x666),
        ('flooding', 0x211),
        ('suspension', 0x212),
        ('out_of_range', 0x211),
        ('counter', 0x210),
    ],
)
def test_each_attack_kind_is_flagged(kind: str, frame_id: int) -> None:
    ids, alarms = run_ids(with_attack(kind))
    flagged = [a for a in alarms if a.kind is AlarmKind(kind)]
    assert flagged, f'no {kind} alarm; got {alarms}'
    assert all(a.frame_id == frame_id for a in flagged)
    assert flagged[0].reason
    assert ids.counts[kind] >= 1
    others = {a.kind for a in alarms} - {AlarmKind(kind)}
    if kind in ('unknown_id', 'suspension'):
        assert others == set(), alarms  # one attack, one kind of alarm
    if kind == 'out_of_range':
        assert others <= {AlarmKind.COUNTER}  # the injected frame also breaks the sequence


def test_counter_reset_reason_and_holdoff() -> None:
    _, alarms = run_ids(with_attack('counter'))
    reasons = [a.reason for a in alarms if a.kind is AlarmKind.COUNTER]
    assert any('reset' in r for r in reasons), reasons
    ids2, alarms2 = run_ids(with_attack('flooding'))
    floods = [a for a in alarms2 if a.kind is AlarmKind.FLOODING]
    assert 1 <= len(floods) <= 2  # held off: one alarm a second while the window is full ...
    assert all(b.stamp_ns - a.stamp_ns >= 10**9 for a, b in itertools.pairwise(floods))
    assert ids2.counts['flooding'] > 100  # ... while every anomalous frame is counted


def test_silence_is_reported_once_until_frames_resume() -> None:
    ids = IntrusionDetector(FrameCodec(KIT_DBC))
    pool = pools(FrameCodec(KIT_DBC))[0x212]
    for i in range(10):
        assert ids.observe(0x212, pool[i], i * 10 * MS) == []
    first = ids.check_silence(200 * MS)
    assert [a.kind for a in first] == [AlarmKind.SUSPENSION]
    assert ids.check_silence(300 * MS) == []
    assert ids.observe(0x212, pool[10], 2_500 * MS) == []  # resumed, already reported

"""Intrusion detection on the CAN bus, from what the DBC promises.

Per identifier: frames with an id the DBC does not define; a rate above the DBC's cycle time
over a sliding window (injection, flooding); a gap far above the cycle time (suspension of a
sender); physical values outside the DBC's [min, max]; an E2E counter that resets or jumps
instead of counting on; any frame with an identifier only this node sends (spoofing).
Each alarm carries a reason; alarms of one kind and id are held off for ``holdoff_s`` so a
flood makes one alarm a second, while ``counts`` counts every anomaly.
Timestamps come with each frame: the detector has no clock and replays logs as fast as it can.
"""

from __future__ import annotations

import enum
from collections import Counter, deque
from dataclasses import dataclass, field

from vehicle_nodes.bywire import e2e
from vehicle_nodes.bywire.codec import FrameCodec, out_of_range_signals

NS_PER_S = 1_000_000_000


class AlarmKind(enum.Enum):
    UNKNOWN_ID = 'unknown_id'
    FLOODING = 'flooding'
    SUSPENSION = 'suspension'
    OUT_OF_RANGE = 'out_of_range'
    COUNTER = 'counter'
    SPOOFED_ID = 'spoofed_id'  # a frame with an identifier only this node may send


@dataclass(frozen=True)
class Alarm:
    kind: AlarmKind
    frame_id: int
    stamp_ns: int
    reason: str


@dataclass(frozen=True)
class IdsConfig:
    window_s: float = 1.0  # flood window
    flood_factor: float = 1.5  # alarm above factor × expected count (+ margin) in a window
    flood_margin: int = 3
    suspension_factor: float = 5.0  # alarm when a gap exceeds factor × cycle time ...
    min_suspension_s: float = 0.05  # ... and at least this long
    holdoff_s: float = 1.0


@dataclass
class _Track:
    period_s: float
    times: deque[int] = field(default_factory=deque)
    last_ns: int | None = None
    last_counter: int | None = None
    suspended: bool = False


class IntrusionDetector:
    """Watches every frame of one bus against the database of ``codec``."""

    def __init__(
        self,
        codec: FrameCodec,
        config: IdsConfig | None = None,
        *,
        own_ids: frozenset[int] = frozenset(),
    ) -> None:
        self.codec = codec
        self.config = config or IdsConfig()
        self.own_ids = own_ids  # what we send: seeing it from the bus means someone spoofs us
        self._tracks = {
            fid: _Track((msg.cycle_time or 0) / 1000.0) for fid, msg in codec.messages.items()
        }
        self._last_alarm: dict[tuple[AlarmKind, int], int] = {}
        self.counts: Counter[str] = Counter()
        self.frames = 0

    def observe(
        self,
        frame_id: int,
        data: bytes,
        stamp_ns: int,
        *,
        values: dict | None = None,
        extended: bool = False,
    ) -> list[Alarm]:
        """Check one received frame; ``values`` may pass its decoded signals to save a decode."""
        self.frames += 1
        alarms: list[Alarm] = []
        track = self._tracks.get(frame_id)
        if track is None or self.codec.lookup(frame_id, extended=extended) is None:
            kind = 'extended' if extended else 'standard'
            self._raise(
                alarms, AlarmKind.UNKNOWN_ID, frame_id, stamp_ns, f'{kind} id not in the DBC'
            )
            return alarms
        msg = self.codec.messages[frame_id]
        if frame_id in self.own_ids:
            reason = f'{msg.name}: our own identifier, sent by another node'
            self._raise(alarms, AlarmKind.SPOOFED_ID, frame_id, stamp_ns, reason)
            return alarms
        cfg = self.config
        if track.period_s > 0:
            if track.last_ns is not None:
                gap_s = (stamp_ns - track.last_ns) / NS_PER_S
                if gap_s > self._suspension_s(track) and not track.suspended:
                    self._raise(
                        alarms,
                        AlarmKind.SUSPENSION,
                        frame_id,
                        stamp_ns,
                        f'{msg.name}: gap {gap_s:.3f} s, cycle {track.period_s:.3f} s',
                    )
            times = track.times
            times.append(stamp_ns)
            horizon = stamp_ns - int(cfg.window_s * NS_PER_S)
            while times and times[0] <= horizon:
                times.popleft()
            expected = cfg.window_s / track.period_s
            if len(times) > expected * cfg.flood_factor + cfg.flood_margin:
                self._raise(
                    alarms,
                    AlarmKind.FLOODING,
                    frame_id,
                    stamp_ns,
                    f'{msg.name}: {len(times)} frames in {cfg.window_s:g} s, '
                    f'expected {expected:.0f}',
                )
        track.last_ns = stamp_ns
        track.suspended = False
        if len(data) != msg.length:
            self._raise(
                alarms,
                AlarmKind.OUT_OF_RANGE,
                frame_id,
                stamp_ns,
                f'{msg.name}: {len(data)} bytes, expected {msg.length}',
            )
            return alarms
        if values is None:
            try:
                values = msg.decode(data, decode_choices=False)
            except Exception as err:  # cantools DecodeError and friends
                self._raise(alarms, AlarmKind.OUT_OF_RANGE, frame_id, stamp_ns, str(err))
                return alarms
        bad = out_of_range_signals(self.codec.ranges[frame_id], values)
        if bad:
            shown = ', '.join(f'{name}={values[name]}' for name in bad)
            self._raise(alarms, AlarmKind.OUT_OF_RANGE, frame_id, stamp_ns, f'{msg.name}: {shown}')
        if frame_id in self.codec.data_ids:
            self._check_counter(alarms, track, frame_id, data, stamp_ns)
        return alarms

    def check_silence(self, now_ns: int) -> list[Alarm]:
        """Suspension of senders that went quiet (call periodically; once per silence)."""
        alarms: list[Alarm] = []
        for fid, track in self._tracks.items():
            if track.period_s <= 0 or track.last_ns is None or track.suspended:
                continue
            gap_s = (now_ns - track.last_ns) / NS_PER_S
            if gap_s > self._suspension_s(track):
                track.suspended = True
                name = self.codec.messages[fid].name
                self._raise(
                    alarms,
                    AlarmKind.SUSPENSION,
                    fid,
                    now_ns,
                    f'{name}: silent {gap_s * 1e3:.0f} ms, cycle {track.period_s * 1e3:.0f} ms',
                )
        return alarms

    def _suspension_s(self, track: _Track) -> float:
        return max(self.config.suspension_factor * track.period_s, self.config.min_suspension_s)

    def _check_counter(
        self, alarms: list[Alarm], track: _Track, fid: int, data: bytes, stamp_ns: int
    ) -> None:
        name = self.codec.messages[fid].name
        counter = data[e2e.COUNTER_BYTE] & 0x0F
        last, track.last_counter = track.last_counter, counter
        if last is None:
            return
        delta = (counter - last) % e2e.COUNTER_MODULO
        if delta == 1:
            return
        if delta == 0:
            reason = f'{name}: counter repeated ({counter})'
        elif counter == 0:
            reason = f'{name}: counter reset {last} -> 0'
        else:
            reason = f'{name}: counter jumped {last} -> {counter}'
        self._raise(alarms, AlarmKind.COUNTER, fid, stamp_ns, reason)

    def _raise(
        self, alarms: list[Alarm], kind: AlarmKind, fid: int, stamp_ns: int, reason: str
    ) -> None:
        self.counts[kind.value] += 1
        key = (kind, fid)
        last = self._last_alarm.get(key)
        if last is not None and stamp_ns - last < self.config.holdoff_s * NS_PER_S:
            return
        self._last_alarm[key] = stamp_ns
        alarms.append(Alarm(kind, fid, stamp_ns, reason))

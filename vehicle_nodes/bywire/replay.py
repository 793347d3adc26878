"""Replay and offline check of a candump log: ``python -m vehicle_nodes.bywire.replay LOG``.

``analyse`` runs every frame of a log through the kit decoder (E2E check per identifier) and the
intrusion detector, on the log's own time stamps, as fast as it reads. ``play`` sends the frames
onto a CAN bus again with their recorded spacing (scaled by ``speed``; 0 = as fast as possible),
as can-utils' ``canplayer`` does. Exit status: 0 clean, 1 alarms or bad frames, 2 unusable input.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from vehicle_nodes.bywire.bus import INTERFACES, CanPort
from vehicle_nodes.bywire.candump import Direction, LogFrame, read_log
from vehicle_nodes.bywire.codec import DecodeOutcome, FrameCodec
from vehicle_nodes.bywire.dbc import load_dbc
from vehicle_nodes.bywire.errors import BywireError
from vehicle_nodes.bywire.ids import Alarm, IntrusionDetector
from vehicle_nodes.bywire.kit import find_default_dbc

NS_PER_S = 1_000_000_000


@dataclass
class ReplayReport:
    frames: int = 0
    per_id: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    e2e: Counter[str] = field(default_factory=Counter)
    alarms: list[Alarm] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        bad = sum(n for k, n in self.outcomes.items() if k != DecodeOutcome.OK.value)
        return not self.alarms and bad == 0

    def lines(self, codec: FrameCodec) -> list[str]:
        out = [f'{self.frames} frames, {len(self.per_id)} identifiers']
        for fid, n in sorted(self.per_id.items()):
            name = codec.messages[fid].name if fid in codec.messages else '(unknown)'
            out.append(f'  0x{fid:03x} {name:<16} {n}')
        out.append('decode: ' + ', '.join(f'{k} {n}' for k, n in sorted(self.outcomes.items())))
        if self.e2e:
            out.append('e2e: ' + ', '.join(f'{k} {n}' for k, n in sorted(self.e2e.items())))
        out.append(f'alarms: {len(self.alarms)}')
        out += [
            f'  {a.stamp_ns / NS_PER_S:.6f} {a.kind.value} 0x{a.frame_id:x}: {a.reason}'
            for a in self.alarms
        ]
        return out


def analyse(frames: Iterable[LogFrame], codec: FrameCodec) -> ReplayReport:
    """Decode, E2E-check and watch every frame, per direction of the original bus."""
    report = ReplayReport()
    ids = IntrusionDetector(codec)
    last_check = None
    for frame in frames:
        report.frames += 1
        report.per_id[frame.arbitration_id] += 1
        ext = frame.is_extended
        decoded = codec.decode(frame.arbitration_id, frame.data, extended=ext)
        report.outcomes[decoded.outcome.value] += 1
        if decoded.e2e_status is not None:
            report.e2e[decoded.e2e_status.value] += 1
        values = decoded.signals if decoded.outcome is DecodeOutcome.OK else None
        report.alarms += ids.observe(
            frame.arbitration_id, frame.data, frame.stamp_ns, values=values, extended=ext
        )
        if last_check is None or frame.stamp_ns - last_check >= NS_PER_S // 100:
            report.alarms += ids.check_silence(frame.stamp_ns)
            last_check = frame.stamp_ns
    return report


def play(
    frames: Iterable[LogFrame],
    port: CanPort,
    *,
    speed: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Send the frames with their recorded spacing divided by ``speed``; returns frames sent."""
    sent = 0
    start_wall = clock()
    first_ns = None
    for frame in frames:
        if first_ns is None:
            first_ns = frame.stamp_ns
        if speed > 0:
            due = start_wall + (frame.stamp_ns - first_ns) / NS_PER_S / speed
            delay = due - clock()
            if delay > 0:
                sleep(delay)
        if port.send(frame.arbitration_id, frame.data, extended=frame.is_extended):
            sent += 1
    return sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog='python -m vehicle_nodes.bywire.replay', description=__doc__.splitlines()[0]
    )
    parser.add_argument('log', help='candump log file')
    parser.add_argument('--dbc', default='', help='DBC (default: the shipped kit DBC)')
    parser.add_argument(
        '--direction',
        choices=('rx', 'tx', 'all'),
        default='all',
        help='frames to take, by the T/R mark',
    )
    parser.add_argument('--play', action='store_true', help='also send the frames onto a bus')
    parser.add_argument('--interface', choices=INTERFACES, default='socketcan')
    parser.add_argument('--channel', default='vcan0')
    parser.add_argument(
        '--speed', type=float, default=1.0, help='time scale for --play; 0 = no waiting'
    )
    args = parser.parse_args(argv)
    wanted = {
        'rx': {Direction.RX},
        'tx': {Direction.TX},
        'all': {Direction.RX, Direction.TX, None},
    }[args.direction]
    try:
        codec = FrameCodec(load_dbc(args.dbc or find_default_dbc()))
        frames = [f for f in read_log(args.log) if f.direction in wanted]
    except (BywireError, OSError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    report = analyse(frames, codec)
    print('\n'.join(report.lines(codec)))
    if args.play:
        port = CanPort(args.interface, args.channel)
        try:
            port.open()
        except BywireError as err:
            print(f'error: {err}', file=sys.stderr)
            return 2
        try:
            sent = play(frames, port, speed=args.speed)
            print(f'played {sent} frames on {args.interface} {args.channel}')
        finally:
            port.close()
    return 0 if report.clean else 1


if __name__ == '__main__':
    sys.exit(main())

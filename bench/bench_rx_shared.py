"""Many V2X receivers in one process, as in the simulator: CPU per delivered frame.

Traffic of ``--seconds`` simulated seconds (unsigned link, security none): ``--vehicles`` BSM
senders at 10 Hz driving straight at 12 m/s, one RSU sending SPAT and an RSM of 10
participants at 10 Hz and a MAP at 1 Hz. Every frame reaches each of ``--receivers``
receivers (``V2xReceiver.on_frame``, each with its own clock value: 20 ms + 1 ms per receiver
after the send). Timed: the ``on_frame`` calls (process time), per delivered frame. Baseline in
the same run: the same receivers with the shared conversions turned off (``SHARED.maxsize =
0``: every frame converted by every receiver, as before ``v2x_nodes/rx/shared.py``; the lookup
still runs, so the ratio is if anything low). Best of ``ROUNDS`` alternating rounds.

    python bench/bench_rx_shared.py [--receivers 20] [--vehicles 30] [--seconds 5]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'test' / 'support'))

from v2x_link_fixtures import (
    NOW_NS,
    ORIGIN,
    intersection_map,
    intersection_state,
    origin_parameters,
    participant,
)

from v2x_nodes.codec import convert as cv
from v2x_nodes.codec import uper
from v2x_nodes.codec.offsets import GeoPoint
from v2x_nodes.codec.uper import MessageKind
from v2x_nodes.radio.bridge import rx_frame
from v2x_nodes.rx import V2xReceiver
from v2x_nodes.rx.shared import SHARED
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

ROUNDS = 3
STEP_NS = 100_000_000
SPEED_MPS = 12.0


def traffic(vehicles: int, seconds: float) -> list[tuple[int, bytes]]:
    """(send time, UPER frame), in time order."""
    out = []
    rsu_ref = GeoPoint.from_degrees(*ORIGIN)
    for step in range(round(seconds * 1e9 / STEP_NS)):
        t = NOW_NS + step * STEP_NS
        moved = SPEED_MPS * step * STEP_NS / 1e9
        for v in range(vehicles):
            p = participant(0x100 + v, -150.0 + moved, -60.0 + 4.0 * v, stamp_ns=t)
            p.heading_rad, p.velocity.x, p.velocity.y = 0.0, SPEED_MPS, 0.0
            value = cv.bsm_from_participant(p, step)
            out.append((t + v * 1_000_000, uper.encode_frame(MessageKind.BSM, value)))
        spat = cv.spat_from_intersections([intersection_state(t)], msg_count=step)
        out.append((t + 40_000_000, uper.encode_frame(MessageKind.SPAT, spat)))
        objects = [
            participant(k, -30.0 + 3.0 * k + moved / 4, 8.0 * (k % 3), stamp_ns=t)
            for k in range(1, 11)
        ]
        array = m.new('v2x_stack/msg/ParticipantArray', header=m.header(t), participants=objects)
        rsm = cv.rsm_from_participants(array, rsu_id='00000000000000a1', ref=rsu_ref)
        out.append((t + 50_000_000, uper.encode_frame(MessageKind.RSM, rsm)))
        if step % 10 == 0:
            value = cv.map_from_intersections([intersection_map(t)])
            out.append((t + 60_000_000, uper.encode_frame(MessageKind.MAP, value)))
    return sorted(out, key=lambda item: item[0])


def run(frames: list[tuple[int, bytes]], receivers: int, shared: bool) -> tuple[float, dict]:
    """(µs of CPU per delivered frame, the first receiver's counters)."""
    SHARED.clear()
    SHARED.maxsize = 1024 if shared else 0
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    rxs = [
        rt.add_component(
            V2xReceiver,
            name='v2x_rx',
            namespace=f'/car{j}',
            parameters={**origin_parameters(), 'drop_misbehaving': True},
        )
        for j in range(receivers)
    ]
    rt.start()
    cpu = 0.0
    for sent_ns, data in frames:
        begin = time.process_time()
        for j, rx in enumerate(rxs):
            rt._now_ns = sent_ns + 20_000_000 + j * 1_000_000
            rx.on_frame(rx_frame(rt._now_ns, 0, math.nan, data))
        cpu += time.process_time() - begin
    rt.close()
    SHARED.maxsize = 1024
    return 1e6 * cpu / (len(frames) * receivers), dict(rxs[0].ctx.diagnostics.counters)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--receivers', type=int, default=20)
    parser.add_argument('--vehicles', type=int, default=30)
    parser.add_argument('--seconds', type=float, default=5.0)
    args = parser.parse_args()
    frames = traffic(args.vehicles, args.seconds)
    print(
        f'{len(frames)} frames ({args.vehicles} BSM senders, SPAT, RSM, MAP) x {args.receivers} '
        'receivers in one process, CPU per delivered frame (best of rounds)'
    )
    best = {True: math.inf, False: math.inf}
    counters = {}
    for _ in range(ROUNDS):
        for shared in (False, True):
            cost, counters[shared] = run(frames, args.receivers, shared)
            best[shared] = min(best[shared], cost)
    accepted = {k: v for k, v in counters[True].items() if k.startswith('accepted.')}
    assert accepted == {k: v for k, v in counters[False].items() if k.startswith('accepted.')}
    rejected = sum(v for k, v in counters[True].items() if k.startswith('rejected.'))
    print(f'  accepted by each receiver: {accepted}, rejected {rejected}')
    print(f'  baseline: every receiver converts every frame {best[False]:7.1f} us/frame')
    print(
        f'  shared conversions (v2x_nodes/rx/shared.py)   {best[True]:7.1f} us/frame'
        f'  x{best[False] / best[True]:.2f} faster'
    )


if __name__ == '__main__':
    main()

"""HMI benchmark: cost of one page update and one marker cycle with a busy scene.

    /work/venv/bin/python bench/bench_hmi.py

Scene: 200 remote vehicles + 50 roadside participants, 4 intersections of 12 phases, an
active warning, the example intersection map. Measured per cycle: wall time p50/p99 and
thread CPU time p50 (the figure to read on a shared, loaded machine):
- page update: scene from the inputs + state JSON (``state_message`` + ``encode``); baseline
  in the same run: ``json.dumps`` of the same participants as plain dicts (the least any JSON
  update must cost);
- markers: ``MarkerBuilder.build``; baseline: CDR ``serialize`` of the array it builds (what
  the runtime pays anyway to send it);
- arbitration: one ``Arbiter.step`` with 17 applications × 20 targets active; baseline: a
  ``min`` over the same candidates.
Targets (update_period_s 0.1, markers_period_s 0.2), CPU p50: page update ≤ 5 ms, markers
≤ 15 ms, arbitration ≤ 1 ms, so the HMI uses under 10 % of a core.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'test' / 'support'))

from hmi_support import odometry, participant, participants, spat, warning  # noqa: E402

from v2x_nodes.hmi import HmiServer, WarningArbiter  # noqa: E402
from v2x_nodes.hmi.arbitration import Arbiter, Candidate  # noqa: E402
from v2x_nodes.hmi.priority import APPLICATION_PRIORITY, PriorityTable  # noqa: E402
from v2x_nodes.hmi.protocol import encode, state_message  # noqa: E402
from v2x_runtime import messages as m  # noqa: E402
from v2x_runtime.embedded import EmbeddedRuntime  # noqa: E402

MAP = ROOT / 'config' / 'maps' / 'intersection.osm'
RUNS = 300


def timed(fn, runs=RUNS):  # type: ignore[no-untyped-def]
    """Wall and thread-CPU time per call, ms (CPU time is immune to a loaded machine)."""
    out = np.empty((2, runs))
    for i in range(runs):
        t0, c0 = time.perf_counter(), time.thread_time()
        fn()
        out[0, i], out[1, i] = time.perf_counter() - t0, time.thread_time() - c0
    return out * 1e3


def line(name: str, ms: np.ndarray, base: np.ndarray | None = None) -> None:
    p50, p99 = np.percentile(ms[0], [50, 99])
    cpu50 = np.percentile(ms[1], 50)
    ratio = (
        f'  CPU ratio vs baseline {cpu50 / np.percentile(base[1], 50):6.2f}'
        if base is not None
        else ''
    )
    print(f'{name:42s} wall p50 {p50:7.3f} p99 {p99:7.3f}  CPU p50 {cpu50:7.3f} ms{ratio}')


def main() -> None:
    rng = np.random.default_rng(1)
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    hmi = rt.add_component(HmiServer, name='hmi', parameters={'serve': False, 'map_file': str(MAP)})
    rt.add_component(WarningArbiter, name='arbiter')
    xy = rng.uniform(-150, 150, size=(250, 2))
    yaw = rng.uniform(-math.pi, math.pi, 250)
    vehicles = [participant(i, *xy[i], yaw[i], source_id=f'{i:08x}', source=1) for i in range(200)]
    roadside = [
        participant(i, *xy[200 + i], yaw[200 + i], cls=int(rng.integers(1, 7))) for i in range(50)
    ]
    rt.publish('/localization/odometry', odometry(0, -40.0, -5.25, 0.0, 12.0))
    rt.publish('/v2x/remote_vehicles', participants(0, vehicles))
    rt.publish('/v2x/roadside_participants', participants(0, roadside))
    for k in range(4):
        rt.publish('/v2x/spat', spat(0, [(p, 3 + 3 * (p % 2), 10.0) for p in range(1, 13)], k + 1))
    rt.publish('/v2x/warnings', warning('FCW', 4, target='00000007', ttc_s=1.5, text='Brake!'))
    rt.run(duration_s=0.05)
    scene = hmi.scene()
    print(
        f'scene: {len(scene.targets)} targets, {len(scene.signals)} intersections, '
        f'{len(hmi.lanes.lanes)} lanes; {RUNS} runs each'
    )

    page = timed(lambda: encode(state_message(hmi.scene(), 1)))
    plain = [
        {
            'id': t.id,
            'x': t.x_m,
            'y': t.y_m,
            'yaw': t.yaw_rad,
            'speed': t.speed_mps,
            'length': t.length_m,
            'width': t.width_m,
        }
        for t in scene.targets
    ]
    base_json = timed(lambda: json.dumps(plain))
    size = len(encode(state_message(scene, 1)))
    line('baseline: json.dumps of the targets', base_json)
    line(f'page update (scene + JSON, {size / 1024:.0f} KiB)', page, base_json)

    array = hmi.markers.build(scene, 0, with_lanes=False)
    markers = timed(lambda: hmi.markers.build(scene, 0, with_lanes=False))
    base_cdr = timed(lambda: m.serialize(array))
    line('baseline: CDR serialize of the markers', base_cdr)
    line(f'markers ({len(array.markers)} markers, no lanes)', markers, base_cdr)
    with_lanes = timed(lambda: hmi.markers.build(scene, 0, with_lanes=True), runs=30)
    line('markers with lanes (every lanes_period_s)', with_lanes, base_cdr)

    arb = Arbiter(PriorityTable(), min_display_s=2.0, expire_after_s=0.0)
    for app in APPLICATION_PRIORITY:
        for target in range(20):
            arb.report(
                application=app,
                target_id=str(target),
                level=int(rng.integers(1, 5)),
                time_to_collision_s=float(rng.uniform(0.5, 10)),
                now_ns=0,
            )
    step = timed(lambda: arb.step(0))
    base_min = timed(lambda: min(arb.candidates.values(), key=Candidate.rank))
    line('baseline: min over the candidates', base_min)
    line(f'arbitration step ({len(arb.candidates)} candidates)', step, base_min)
    rt.close()


if __name__ == '__main__':
    main()

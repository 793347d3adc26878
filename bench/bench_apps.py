"""Applications benchmark: one cycle of all 17 Day-1 applications with 200 remote vehicles
(one BSM each per cycle) and 50 roadside participants (one RSM per cycle), on the example
intersection with SPAT and 10 RSI events.

Measured in the same run, per 10 Hz cycle:
- baseline: iterating the cycle's inputs and converting them to numpy arrays (the least any
  implementation does);
- ingest: the suite's subscriptions queueing the same messages' reports for its target table;
- evaluate: ``ApplicationSuite.cycle`` (the target table updated from the queued reports,
  classification on the map, prediction, every application, hysteresis, publishing);
- total = ingest + evaluate, the application cycle time. Target: p99 <= 10 ms.
Wall time on a shared machine measures the queue for a CPU: read the CPU time (thread time).
Run: ``python bench/bench_apps.py [--cycles N]``.

``--replay S``: the suites of the simulator's default scenario instead. The scenario runs for
S simulated seconds with every ApplicationSuite's inputs (messages, timer ticks) kept in
order; then fresh suites with the same parameters get them again, at the same simulated
times, ``--repeat`` times. Printed: the suites' CPU per simulated second in the run (its CPU
accounting) and in each replay (the suites alone, without the rest of the run competing for
the caches), and a digest of everything the replays published and counted, which two code
versions with the same behaviour share.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

import numpy as np

from v2x_nodes.applications import APPLICATIONS, ApplicationSuite
from v2x_nodes.applications.lanes import LaneIndex
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.hdmap import load_map

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / 'config' / 'maps' / 'intersection.osm'
START_NS = 100_000_000_000
VEHICLES, VRUS, EVENTS = 200, 50, 10


def _vec(x: float, y: float) -> object:
    return m.new('geometry_msgs/msg/Vector3', x=x, y=y)


def _participant(t_ns: int, i: int, x: float, y: float, yaw: float, v: float, cls: int,
                 source_id: str) -> object:  # fmt: skip
    return m.new(
        'v2x_stack/msg/Participant',
        header=m.header(t_ns, 'map'),
        id=i,
        participant_class=cls,
        source_id=source_id,
        trust=1,
        position=m.new('geometry_msgs/msg/Point', x=x, y=y),
        heading_rad=yaw,
        velocity=_vec(v * math.cos(yaw), v * math.sin(yaw)),
        size=_vec(4.5, 1.8),
    )


def make_inputs(cycles: int, seed: int) -> list[tuple[int, list, object, object, object]]:
    """Per cycle: (time, BSM arrays, RSM array, odometry, status)."""
    rng = np.random.default_rng(seed)
    hd = load_map(MAP)
    keys = [k for k, ll in hd.lanelets.items() if ll.drivable]
    lanes = [hd.lanelets[k] for k in rng.choice(keys, VEHICLES)]
    s0 = np.array([rng.uniform(0, ll.length_m) for ll in lanes])
    speed = rng.uniform(0.0, 14.0, VEHICLES)
    ped_xy = rng.uniform(-25, 25, (VRUS, 2))
    ped_yaw = rng.uniform(-math.pi, math.pi, VRUS)
    out = []
    for c in range(cycles):
        t = c * 0.1
        t_ns = START_NS + round(t * 1e9)
        bsms = []
        for i, ll in enumerate(lanes):
            s = (s0[i] + speed[i] * t) % ll.length_m
            x, y = ll.point_at(s)
            p = _participant(t_ns, i, x, y, ll.heading_at(s), speed[i], 1, f'{i:08x}')
            bsms.append(m.new('v2x_stack/msg/ParticipantArray', header=m.header(t_ns, 'map'),
                              participants=[p]))  # fmt: skip
        peds = [_participant(t_ns, i, ped_xy[i, 0] + 1.2 * t * math.cos(ped_yaw[i]),
                             ped_xy[i, 1] + 1.2 * t * math.sin(ped_yaw[i]), ped_yaw[i], 1.2, 5, '')
                for i in range(VRUS)]  # fmt: skip
        rsm = m.new('v2x_stack/msg/ParticipantArray', header=m.header(t_ns, 'map'),
                    participants=peds)  # fmt: skip
        ex = -150.0 + 12.0 * t
        odom = m.new('nav_msgs/msg/Odometry', header=m.header(t_ns, 'map'))
        odom.pose.pose.position.x, odom.pose.pose.position.y = ex, -5.25
        odom.pose.pose.orientation.w = 1.0
        odom.twist.twist.linear.x = 12.0
        status = m.new('v2x_stack/msg/VehicleStatus', header=m.header(t_ns, 'base_link'),
                       speed_mps=12.0, lights=1)  # fmt: skip
        out.append((t_ns, bsms, rsm, odom, status))
    return out


def baseline(bsms: list, rsm: object) -> np.ndarray:
    """Just read every participant into a numpy table."""
    rows = []
    for arr in [*bsms, rsm]:
        for p in arr.participants:
            rows.append((p.position.x, p.position.y, p.velocity.x, p.velocity.y, p.heading_rad,
                         p.size.x, p.size.y, p.participant_class, p.trust,
                         m.to_ns(p.header.stamp)))  # fmt: skip
    return np.array(rows)


Event = tuple[int, str, str | None, object]  # (time, namespace, topic or None: tick, message)


def capture_default(
    duration_s: float, out_dir: str
) -> tuple[list[Event], dict[str, tuple[str, dict]], float]:
    """Run the default scenario into ``out_dir`` (its map file is the suites' parameter)
    keeping the suites' inputs: (events in the order they ran, name and parameters per
    namespace, the suites' CPU seconds in the run)."""
    from sim_nodes.runner import run_scenario  # (only this mode needs the simulator)

    events: list[Event] = []
    params: dict[str, tuple[str, dict]] = {}
    original = ApplicationSuite.__init__

    def keeping(self: ApplicationSuite, ctx: object) -> None:
        ns, sub, timer = ctx.namespace, ctx.create_subscription, ctx.create_timer

        def subscribe(topic: str, msgtype: str, callback: object, qos: object) -> None:
            def kept(msg: object) -> None:
                events.append((ctx.now_ns(), ns, topic, msg))
                callback(msg)

            sub(topic, msgtype, kept, qos)

        def tick_timer(period_s: float, callback: object, **kw: object) -> object:
            def kept() -> None:
                events.append((ctx.now_ns(), ns, None, None))
                callback()

            return timer(period_s, kept, **kw)

        ctx.create_subscription, ctx.create_timer = subscribe, tick_timer
        original(self, ctx)
        params[ns] = (ctx.name, dict(ctx.values))

    ApplicationSuite.__init__ = keeping
    try:
        result = run_scenario('default', out_dir=out_dir, progress=False, duration_s=duration_s)
    finally:
        ApplicationSuite.__init__ = original
    kinds = result.metrics['timing']['cpu']['by_type']
    cpu = sum(k['cpu_s'] for k in kinds if k['kind'] == 'ApplicationSuite')
    return events, params, cpu


def replay(events: list[Event], params: dict[str, tuple[str, dict]]) -> tuple[float, str, int]:
    """Fresh suites fed the kept events at their times: (CPU s, digest of what they
    published and counted, messages published)."""
    getattr(LaneIndex, '_shared', {}).clear()  # per-map tables built again, as in a run
    rt = EmbeddedRuntime(seed=1, diagnostics_period_s=0)
    published: list[tuple[int, str, object]] = []
    rt._deliver = lambda info, msg: published.append((rt.now_ns(), info.name, msg))
    callbacks: dict[tuple[str, str | None], object] = {}
    suites = {}
    for ns, (name, values) in params.items():
        suites[ns] = rt.add_component(_Hooks(ns, callbacks).suite_class(), name=name,
                                      namespace=ns, parameters=values)  # fmt: skip
    gc.collect()
    c0 = time.process_time()
    for now, ns, topic, msg in events:
        rt._now_ns = now
        if topic is None:
            callbacks[ns, None]()
        else:
            callbacks[ns, topic](msg)
    cpu = time.process_time() - c0
    counters = {ns: sorted(s.ctx.diagnostics.counters.items()) for ns, s in suites.items()}
    digest = hashlib.sha256(repr((published, counters)).encode()).hexdigest()[:16]
    return cpu, digest, len(published)


class _Hooks:
    """A suite class that hands its subscriptions' and timer's callbacks to ``callbacks``."""

    def __init__(self, ns: str, callbacks: dict) -> None:
        self.ns, self.callbacks = ns, callbacks

    def suite_class(self) -> type[ApplicationSuite]:
        hooks = self

        class Hooked(ApplicationSuite):
            def __init__(self, ctx: object) -> None:
                sub, timer = ctx.create_subscription, ctx.create_timer

                def subscribe(topic: str, msgtype: str, cb: object, qos: object) -> None:
                    hooks.callbacks[hooks.ns, topic] = cb
                    sub(topic, msgtype, cb, qos)

                def tick_timer(period_s: float, cb: object, **kw: object) -> object:
                    hooks.callbacks[hooks.ns, None] = cb
                    return timer(period_s, cb, **kw)

                ctx.create_subscription, ctx.create_timer = subscribe, tick_timer
                super().__init__(ctx)

        Hooked.__name__ = 'ApplicationSuite'
        return Hooked


def main_replay(duration_s: float, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as out:
        events, params, run_cpu = capture_default(duration_s, out)
        runs = [replay(events, params) for _ in range(repeat)]
    in_run = run_cpu / duration_s * 1e3
    print(f'default scenario, {duration_s:g} s: {len(params)} suites, {len(events)} inputs; '
          f'ApplicationSuite in the run {in_run:.1f} ms CPU per sim s')  # fmt: skip
    cpu = sorted(r[0] / duration_s * 1e3 for r in runs)
    print(f'  replayed {repeat}x: CPU per sim s min {cpu[0]:.1f} ms, median '
          f'{cpu[len(cpu) // 2]:.1f} ms; {runs[0][2]} messages published, digest '
          f'{", ".join(sorted({r[1] for r in runs}))}')  # fmt: skip
    print(f'  load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--cycles', type=int, default=300)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument(
        '--replay',
        type=float,
        default=0.0,
        metavar='S',
        help="replay the default scenario's suite inputs of S simulated seconds",
    )
    ap.add_argument('--repeat', type=int, default=5, help='replays (with --replay)')
    args = ap.parse_args()
    if args.replay > 0:
        main_replay(args.replay, args.repeat)
        return
    inputs = make_inputs(args.cycles, args.seed)
    rt = EmbeddedRuntime(start_ns=START_NS)
    suite = rt.add_component(ApplicationSuite, name='apps', parameters={'map_file': str(MAP)})
    assert isinstance(suite, ApplicationSuite)
    lane = m.new('v2x_stack/msg/LanePosition', lanelet_id=1133, lane_heading_rad=0.0,
                 lane_width_m=3.5, speed_limit_mps=13.9, stop_line_distance_m=60.0,
                 signal_group=8, intersection_id=1)  # fmt: skip
    phase = m.new('v2x_stack/msg/SignalPhase', phase_id=8, light=3, likely_end_s=8.0,
                  min_end_s=8.0, next_start_s=8.0, next_duration_s=20.0)  # fmt: skip
    events = m.new('v2x_stack/msg/RoadEventArray', source_id='rsu', events=[
        m.new('v2x_stack/msg/RoadEvent', id=i, event_type=401 if i % 2 else 0,
              sign_type=0 if i % 2 else 38, description='60 km/h', radius_m=20.0,
              position=m.new('geometry_msgs/msg/Point', x=20.0 * i - 100, y=-5.0))
        for i in range(EVENTS)])  # fmt: skip
    suite.world.on_lane(lane)
    suite.on_events(events)
    base, ingest, evaluate, cpu_base, cpu_ingest, cpu_eval = [], [], [], [], [], []
    raised = 0
    for t_ns, bsms, rsm, odom, status in inputs:
        c0 = time.thread_time()
        t0 = time.perf_counter()
        baseline(bsms, rsm)
        t1 = time.perf_counter()
        c1 = time.thread_time()
        for arr in bsms:
            suite.on_remote(arr)
        suite.on_roadside(rsm)
        suite.on_odometry(odom)
        suite.on_status(status)
        spat = m.new('v2x_stack/msg/IntersectionState', header=m.header(t_ns, 'map'),
                     intersection_id=1, phases=[phase])  # fmt: skip
        suite.world.on_spat(spat, t_ns)
        t2 = time.perf_counter()
        c2 = time.thread_time()
        raised += len(suite.cycle(t_ns + 50_000_000))  # (applies the queued reports first)
        t3 = time.perf_counter()
        cpu_base.append(c1 - c0)
        cpu_ingest.append(c2 - c1)
        cpu_eval.append(time.thread_time() - c2)
        base.append(t1 - t0)
        ingest.append(t2 - t1)
        evaluate.append(t3 - t2)
    skip = min(10, len(base) // 10)  # warm-up
    series = (base, ingest, evaluate, cpu_base, cpu_ingest, cpu_eval)
    b, i, e, cb, ci, ce = (np.array(x[skip:]) * 1e3 for x in series)
    total, ct = i + e, ci + ce
    print(f'{len(APPLICATIONS)} applications, {VEHICLES} remote vehicles, {VRUS} roadside '
          f'participants, {EVENTS} events, {len(b)} cycles ({raised} warnings raised)')  # fmt: skip
    for name, x in (('baseline (inputs -> numpy)', b), ('ingest', i), ('evaluate', e),
                    ('total cycle', total), ('baseline, CPU time', cb),
                    ('ingest, CPU time', ci), ('evaluate, CPU time', ce),
                    ('total cycle, CPU time', ct)):  # fmt: skip
        print(
            f'  {name:28s} p50 {np.percentile(x, 50):7.3f} ms   p99 {np.percentile(x, 99):7.3f} ms'
        )
    print(f'  ratio total / baseline (p50): {np.percentile(total, 50) / np.percentile(b, 50):.2f}')
    print(
        f'  ratio CPU total / baseline (p50): {np.percentile(ct, 50) / np.percentile(cb, 50):.2f}'
    )
    for name, x in (('wall', total), ('CPU', ct)):
        p99 = float(np.percentile(x, 99))
        print(
            f'  target p99 <= 10 ms ({name}): {"met" if p99 <= 10.0 else "NOT met"} ({p99:.2f} ms)'
        )
    print(f'  load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs')


if __name__ == '__main__':
    main()

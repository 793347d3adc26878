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
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

import numpy as np

from v2x_nodes.applications import APPLICATIONS, ApplicationSuite
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--cycles', type=int, default=300)
    ap.add_argument('--seed', type=int, default=1)
    args = ap.parse_args()
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

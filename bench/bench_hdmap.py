"""HD map and fusion benchmark: map-matching latency per fix, filter updates per second.

    /work/venv/bin/python bench/bench_hdmap.py

Map matching runs drives along the centre lines (0.5 m noise) of the example maps, the
Karlsruhe Lanelet2 example (when ../shared/realdata is present) and a generated 1 km² street
grid; the baseline in the same run is a brute-force matcher projecting every fix onto every
drivable lanelet and taking the nearest. Latency is wall time per fix (p50/p99) and, beside
it, the thread's CPU time (immune to other processes on a shared machine). Target: p99 ≤ 1 ms.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo import LocalFrame  # noqa: E402
from vehicle_nodes.fusion import FilterConfig, FixKind, Localizer, LocalizerConfig  # noqa: E402
from vehicle_nodes.fusion.simulate import SensorModel, replay, simulate  # noqa: E402
from vehicle_nodes.hdmap import HdMap, load_map  # noqa: E402
from vehicle_nodes.hdmap import geometry as geom  # noqa: E402
from vehicle_nodes.hdmap.generate import write_grid  # noqa: E402
from vehicle_nodes.hdmap.matching import LaneMatcher  # noqa: E402
from vehicle_nodes.hdmap.trajectory import drive  # noqa: E402


def brute_force_nearest(hd: HdMap, x: float, y: float) -> int:
    """Baseline: project onto every drivable centre line, keep the nearest."""
    best, best_d = 0, math.inf
    for key, ll in hd.lanelets.items():
        if ll.drivable:
            d = geom.project(ll.centre_xy, ll.s_m, x, y).distance_m
            if d < best_d:
                best, best_d = key, d
    return best


def random_routes(hd: HdMap, count: int, min_length_m: float, seed: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    g = hd.routing
    keys = sorted(k for k in g.successors if g.following(k))
    routes = []
    while len(routes) < count:
        route = [int(rng.choice(keys))]
        length = hd.lanelets[route[0]].length_m
        while length < min_length_m:
            nxt = [k for k in g.following(route[-1]) if k not in route]
            if not nxt:
                break
            route.append(int(rng.choice(nxt)))
            length += hd.lanelets[route[-1]].length_m
        if length >= min_length_m:
            routes.append(route)
    return routes


def bench_matching(name: str, hd: HdMap, routes: list[list[int]], sigma_m: float = 0.5) -> None:
    rng = np.random.default_rng(1)
    wall, cpu, base_wall = [], [], []
    hits = total = base_hits = 0
    every = max(5, len(hd.drivable_keys) // 100)  # the baseline is slow: a sample of the fixes
    for route in routes:
        d = drive(hd, route, speed_mps=10.0, dt_s=0.1)
        matcher = LaneMatcher(hd)
        noisy = d.xy_m + rng.normal(0.0, sigma_m, d.xy_m.shape)
        for i in range(len(d.t_s)):
            x, y = float(noisy[i, 0]), float(noisy[i, 1])
            w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
            res = matcher.update(float(d.t_s[i]), x, y, yaw_rad=float(d.yaw_rad[i]), speed_mps=10.0,
                                 sigma_m=sigma_m, yaw_sigma_rad=0.05)  # fmt: skip
            c1, w1 = time.thread_time_ns(), time.perf_counter_ns()
            wall.append(w1 - w0)
            cpu.append(c1 - c0)
            hits += res.lanelet_key == d.key[i]
            total += 1
            if i % every == 0:
                b0 = time.perf_counter_ns()
                base = brute_force_nearest(hd, x, y)
                base_wall.append(time.perf_counter_ns() - b0)
                base_hits += base == d.key[i]
    w50, w99 = np.percentile(wall, [50, 99]) / 1e3
    c99 = float(np.percentile(cpu, 99)) / 1e3
    b50, b99 = np.percentile(base_wall, [50, 99]) / 1e3
    drivable = len(hd.drivable_keys)
    base_rate = 100 * base_hits / len(base_wall)
    print(f'{name:<28} {drivable:>6} {total:>6}  HMM p50 {w50:7.1f} µs p99 {w99:7.1f} µs '
          f'(cpu p99 {c99:6.1f})  right lanelet {100 * hits / total:5.1f} %  |  '
          f'brute force p50 {b50:8.1f} µs p99 {b99:8.1f} µs, right {base_rate:5.1f} %  '
          f'|  speed-up p50 ×{b50 / w50:5.1f}')  # fmt: skip


def bench_filter() -> None:
    model = SensorModel(
        lever_arm_m=(1.2, 0.3), outages_s=((40.0, 50.0),), jumps=((30.0, 5.0, 0.0),)
    )
    d = simulate(60.0, 15.0, model, 1)
    loc = Localizer(LocalizerConfig(filter=FilterConfig(lever_arm_m=model.lever_arm_m)))
    events = len(d.t_imu_s) + len(d.t_wheel_s) + 2 * int(d.gnss_valid.sum())
    t0 = time.perf_counter()
    r = replay(d, loc, fix_kind=FixKind.RTK_FIXED, fix_sigma_m=model.gnss_sigma_m,
               velocity_sigma_mps=model.gnss_velocity_sigma_mps)  # fmt: skip
    elapsed = time.perf_counter() - t0
    rate = events / elapsed
    realtime = rate / (model.imu_rate_hz + model.wheel_rate_hz + 2 * model.gnss_rate_hz)
    settled = (r.t_s > 5) & (r.t_s < 40)
    rms = math.sqrt(float(np.mean(r.error_m[settled] ** 2)))
    print(f'filter: {rate:,.0f} measurements/s ({realtime:,.0f}× real time at 100 Hz IMU + 50 Hz '
          f'wheel + 10 Hz GNSS pos/vel)')  # fmt: skip
    outage = r.error_at(49.9)
    print(f'  RTK fixed 2 cm: RMS {100 * rms:.1f} cm; 10 s outage at 15 m/s: {outage:.2f} m '
          f'at its end; 5 m jump at 30 s: {dict(r.outcomes)[30.0]}')  # fmt: skip


def main() -> None:
    maps = ROOT / 'config' / 'maps'
    print('map                        lanelets fixes')
    inter = load_map(maps / 'intersection.osm')
    g = inter.routing
    starts = sorted(k for k in g.successors if not g.predecessors.get(k))

    def paths(k: int) -> list[list[int]]:
        nxt = g.following(k)
        return [[k]] if not nxt else [[k, *p] for n in nxt for p in paths(n)]

    bench_matching('intersection (all 12 moves)', inter, [p for k in starts for p in paths(k)])
    road = load_map(maps / 'road_segment.osm')
    bench_matching('road segment 3+3 × 1 km', road, random_routes(road, 6, 900.0, 2))
    for base in (ROOT.parent, ROOT.parent.parent):
        ka = base / 'shared' / 'realdata' / 'lanelet2' / 'mapping_example.osm'
        if ka.exists():
            hd = load_map(ka, LocalFrame(49.0, 8.4))
            bench_matching('Karlsruhe (Lanelet2 example)', hd, random_routes(hd, 15, 150.0, 3))
            break
    else:
        print('Karlsruhe map: ../shared/realdata absent, skipped')
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'grid.osm'
        write_grid(path, size_m=1000.0, spacing_m=100.0)
        grid = load_map(path)
    bench_matching('grid 1 km² (121 junctions)', grid, random_routes(grid, 8, 800.0, 4))
    bench_filter()


if __name__ == '__main__':
    main()

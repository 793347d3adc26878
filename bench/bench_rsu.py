"""RSU benchmark: georeferencing + event detection, 50 objects at 10 Hz.

Measured in one run:
- ours: one 10 Hz cycle of ``Georeferencer`` (sensor → map + WGS84 of 50 tracked objects) and
  ``EventDetector`` (lane lookup, six event rules, hysteresis) in the embedded runtime, wall
  time per cycle (the input arrays are built beforehand);
- baselines: the bare numpy rotation + pyproj ``to_geodetic`` of the same 50 points (what
  georeferencing cannot avoid), and a naive lane lookup (``hdmap.geometry.project`` of every
  object onto every drivable lanelet) against our vectorised ``LaneIndex.locate_many``.
Run: ``python bench/bench_rsu.py [--cycles N]``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

import numpy as np

from geo import LocalFrame
from rsu_nodes.events.lanes import LaneIndex
from rsu_nodes.events.node import EventDetector
from rsu_nodes.georef.extrinsics import SensorPose
from rsu_nodes.georef.node import Georeferencer
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.hdmap.geometry import project
from vehicle_nodes.hdmap.loader import load_map

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / 'config' / 'maps' / 'intersection.osm'
ORIGIN = (31.2837, 121.1638, 0.0)
POSE = ((-20.0, -20.0, 6.0), (0.0, 0.02, math.radians(45.0)))
N_OBJECTS = 50


def scene(t: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """50 objects in the map frame: cars on the four approaches, some pedestrians, debris."""
    k = np.arange(N_OBJECTS)
    arm = k % 4
    s = 20.0 + (11.0 * k + 10.0 * t) % 130.0
    lane = 1.75 + 3.5 * (k % 3)
    ang = arm * (math.pi / 2)
    x = np.cos(ang) * s - np.sin(ang) * lane
    y = np.sin(ang) * s + np.cos(ang) * lane
    vx, vy = -np.cos(ang) * 10.0, -np.sin(ang) * 10.0
    pos = np.stack([x, y, np.zeros(N_OBJECTS)], axis=1) + rng.normal(0, 0.05, (N_OBJECTS, 3))
    vel = np.stack([vx, vy, np.zeros(N_OBJECTS)], axis=1)
    cls = np.where(k % 10 == 9, 5, np.where(k % 17 == 16, 6, 1))
    return pos, vel, cls


def sensor_array(t: float, pose: SensorPose, rng: np.random.Generator) -> object:
    pos, vel, cls = scene(t, rng)
    sp = pose.points_to_sensor(pos)
    sv = vel @ pose.rotation
    ns = round(t * 1e9)
    cov = np.diag([0.04, 0.04, 0.25, 0.25]).ravel()
    return m.new(
        'v2x_stack/msg/ParticipantArray',
        header=m.header(ns, 'lidar'),
        participants=[
            m.new(
                'v2x_stack/msg/Participant',
                header=m.header(ns, 'lidar'),
                id=i + 1,
                participant_class=int(cls[i]),
                source=6,
                position=m.new('geometry_msgs/msg/Point', x=sp[i, 0], y=sp[i, 1], z=sp[i, 2]),
                velocity=m.new('geometry_msgs/msg/Vector3', x=sv[i, 0], y=sv[i, 1], z=sv[i, 2]),
                heading_rad=math.atan2(sv[i, 1], sv[i, 0]),
                size=m.new('geometry_msgs/msg/Vector3', x=4.5, y=1.8, z=1.5),
                covariance=cov.copy(),
                heading_variance=0.01,
                latitude_deg=math.nan,
                longitude_deg=math.nan,
                altitude_m=math.nan,
            )
            for i in range(N_OBJECTS)
        ],
    )


def pct(samples: list[float]) -> tuple[float, float]:
    a = np.asarray(samples) * 1e3
    return float(np.median(a)), float(np.percentile(a, 99))


def bench_pipeline(cycles: int) -> list[float]:
    rng = np.random.default_rng(1)
    pose = SensorPose(*POSE)
    rt = EmbeddedRuntime(seed=1, diagnostics_period_s=1.0)
    origin = {'origin_lat_deg': ORIGIN[0], 'origin_lon_deg': ORIGIN[1]}
    rt.add_component(Georeferencer, name='georef', parameters={
        'translation_m': list(POSE[0]), 'rpy_rad': list(POSE[1]), **origin})  # fmt: skip
    rt.add_component(EventDetector, name='events', parameters={'map_file': str(MAP), **origin})
    got: list = []
    rt.subscribe('/rsu/events', 'v2x_stack/msg/RoadEventArray', got.append)
    arrays = [sensor_array(k / 10.0, pose, rng) for k in range(cycles)]
    times = []
    for k, msg in enumerate(arrays):
        rt.publish('/perception/objects', msg, at_ns=round(k * 1e8))
        t0 = time.perf_counter()
        rt.run(until_ns=round(k * 1e8) + 99_000_000)
        times.append(time.perf_counter() - t0)
    rt.close()
    assert got, 'no events published'
    return times


def bench_baselines(cycles: int) -> dict[str, list[float]]:
    rng = np.random.default_rng(2)
    pose = SensorPose(*POSE)
    frame = LocalFrame(*ORIGIN)
    hd = load_map(MAP)
    index = LaneIndex(hd)
    drivable = [ll for ll in hd.lanelets.values() if ll.drivable]
    out: dict[str, list[float]] = {'bare_georef': [], 'naive_lanes': [], 'our_lanes': []}
    for k in range(cycles):
        pos, vel, _ = scene(k / 10.0, rng)
        t0 = time.perf_counter()
        mp = pose.points_to_sensor(pos) @ pose.rotation.T + np.asarray(POSE[0])
        frame.to_geodetic(mp[:, 0], mp[:, 1], mp[:, 2])
        out['bare_georef'].append(time.perf_counter() - t0)
        yaw = np.arctan2(vel[:, 1], vel[:, 0])
        t0 = time.perf_counter()
        index.locate_many(pos[:, :2], yaw)
        out['our_lanes'].append(time.perf_counter() - t0)
        if k % 5 == 0:  # the naive lookup is slow: sample it
            t0 = time.perf_counter()
            for x, y in pos[:, :2]:
                for ll in drivable:
                    pr = project(ll.centre_xy, ll.s_m, float(x), float(y))
                    _ = pr.distance_m <= ll.width_at(pr.s_m) / 2.0
            out['naive_lanes'].append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--cycles', type=int, default=600, help='10 Hz cycles (default 600 = 60 s)')
    args = ap.parse_args()
    print(f'RSU benchmark: {N_OBJECTS} objects at 10 Hz, {args.cycles} cycles')
    pipe = bench_pipeline(args.cycles)
    base = bench_baselines(args.cycles)
    p50, p99 = pct(pipe)
    print(f'georef + events, embedded runtime, per cycle: median {p50:.2f} ms, p99 {p99:.2f} ms '
          f'(budget 100 ms: {p99 / 100.0:.1%} of it)')  # fmt: skip
    for name in ('bare_georef', 'our_lanes', 'naive_lanes'):
        b50, b99 = pct(base[name])
        print(f'{name:12s}: median {b50:.3f} ms, p99 {b99:.3f} ms')
    n50, _ = pct(base['naive_lanes'])
    o50, _ = pct(base['our_lanes'])
    print(
        f'lane lookup: naive / ours = {n50 / o50:.1f}x; '
        f'whole cycle / bare georef = {p50 / pct(base["bare_georef"])[0]:.1f}x'
    )


if __name__ == '__main__':
    main()

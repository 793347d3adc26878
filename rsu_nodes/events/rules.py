"""Per-cycle event conditions over all tracked participants (pure: arrays in, candidates out).

A candidate is a condition that holds *now*; ``EventBook`` turns candidates into events with
hysteresis. Vehicles queued from a stop line (slow, gap-chained from the line) are traffic,
not stopped vehicles; the same queues give each approach its queue length. An object of
unknown class chained into such a queue *behind* a queued vehicle is a queued vehicle the
lidar sees only in part (occluded by the one ahead), not debris: it is queued too. Debris
ahead of a queue, alone in a lane, or classed as an obstacle is still an obstacle. Nor is a
tall, vehicle-sized unknown standing in the queue zone of a stop line (within ``queue_gap_m``
of it, or queued): cars waiting side by side in adjacent lanes merge into one box too wide
for any class (the default simulator scenario at ~42 s: 5.4 x 4.4 x 1.5 m across two lanes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rsu_nodes.events.codes import EventKind
from rsu_nodes.events.lanes import LaneFix, LaneIndex

CAR, TRUCK, MOTORCYCLE, PEDESTRIAN, OBSTACLE, EMERGENCY, UNKNOWN = 1, 2, 3, 5, 6, 7, 0
VEHICLES = frozenset({CAR, TRUCK, MOTORCYCLE, EMERGENCY})
MAX_PATH_POINTS = 32


@dataclass(frozen=True)
class Thresholds:
    stopped_speed_mps: float = 0.5
    wrong_way_speed_mps: float = 2.0
    speeding_tolerance: float = 0.1  # fraction above the limit
    obstacle_speed_mps: float = 0.3
    queue_speed_mps: float = 2.0
    queue_gap_m: float = 12.0
    congestion_queue_m: float = 50.0
    congestion_speed_mps: float = 2.5
    congestion_min_vehicles: int = 6
    debris_max_height_m: float = 1.0
    vehicle_min_length_m: float = 3.0


@dataclass
class Objects:
    """The participants of one cycle as arrays (map frame)."""

    ids: np.ndarray
    cls: np.ndarray
    pos: np.ndarray  # (n, 3)
    vel: np.ndarray  # (n, 3)
    yaw: np.ndarray
    length_m: np.ndarray
    geo: np.ndarray  # (n, 3) lat, lon, alt (NaN when unknown)
    width_m: np.ndarray | None = None  # None: unknown (every rule then assumes debris-sized)
    height_m: np.ndarray | None = None

    def vehicle_sized(self, i: int, th: Thresholds) -> bool:
        """Tall and long like a car: lidar debris is low (a lost load, a tyre)."""
        if self.width_m is None or self.height_m is None:
            return False
        tall = self.height_m[i] > th.debris_max_height_m
        return bool(tall and max(self.length_m[i], self.width_m[i]) > th.vehicle_min_length_m)

    @property
    def speed(self) -> np.ndarray:
        return np.hypot(self.vel[:, 0], self.vel[:, 1])

    def motion_yaw(self, moving_mps: float = 0.5) -> np.ndarray:
        course = np.arctan2(self.vel[:, 1], self.vel[:, 0])
        facing = np.where(np.isfinite(self.yaw), self.yaw, course)
        return np.where(self.speed > moving_mps, course, facing)


@dataclass
class Candidate:
    kind: EventKind
    key: int  # participant id, or arm index for congestion
    xyz: tuple[float, float, float]
    geo: tuple[float, float, float]
    text: str
    path: list[tuple[float, float]] = field(default_factory=list)
    path_radius_m: float = 0.0


@dataclass(frozen=True)
class ApproachStats:
    arm: int
    vehicles: int
    mean_speed_mps: float
    queue_m: float


def queues(
    objs: Objects, fixes: list[LaneFix], index: LaneIndex, th: Thresholds
) -> tuple[set[int], list[ApproachStats]]:
    """Indices of queued vehicles (and queued part-seen ones: unknown class behind a queued
    vehicle) and the statistics of every approach."""
    speed = objs.speed
    speeds, classes, lengths = speed.tolist(), objs.cls.tolist(), objs.length_m.tolist()
    by_arm: dict[int, list[int]] = {}  # one pass over the fixes, not one per approach
    for i, f in enumerate(fixes):
        if f.approach >= 0:
            by_arm.setdefault(f.approach, []).append(i)
    queued: set[int] = set()
    stats = []
    for ap in index.approaches:
        on_arm = by_arm.get(ap.arm, [])
        members = [i for i in on_arm if classes[i] in VEHICLES]
        chainable = [i for i in on_arm if classes[i] in VEHICLES or classes[i] == UNKNOWN]
        queue_m = 0.0
        for lane_id in ap.lanes:
            slow = sorted(
                (fixes[i].stop_dist_m, i)
                for i in chainable
                if fixes[i].lane_id == lane_id and speeds[i] < th.queue_speed_mps
            )
            front = 0.0
            vehicle_ahead = False
            for dist, i in slow:
                if dist - front > th.queue_gap_m:
                    break
                if classes[i] == UNKNOWN and not vehicle_ahead:
                    continue  # first in the chain: nothing occludes it, so it may be debris
                vehicle_ahead = True
                queued.add(i)
                half = lengths[i] / 2 if lengths[i] > 0 else 2.5
                front = dist + half
                queue_m = max(queue_m, front)
        # np.mean's own sum and division, without its ~10 us of dispatch per approach
        mean = float(np.add.reduce(speed[members])) / len(members) if members else math.nan
        stats.append(ApproachStats(ap.arm, len(members), mean, queue_m))
    return queued, stats


def _truncate(
    points: np.ndarray, s_table: np.ndarray, length_m: float
) -> list[tuple[float, float]]:
    keep = points[s_table < length_m]
    end = np.array([np.interp(length_m, s_table, points[:, k]) for k in (0, 1)])
    pts = np.vstack([keep, end]) if len(keep) else np.vstack([points[0], end])
    if len(pts) > MAX_PATH_POINTS:
        pts = pts[np.linspace(0, len(pts) - 1, MAX_PATH_POINTS).round().astype(int)]
    return [(float(x), float(y)) for x, y in pts]


def evaluate(
    objs: Objects, fixes: list[LaneFix], index: LaneIndex, th: Thresholds
) -> tuple[list[Candidate], list[ApproachStats]]:
    """Every condition that holds in this cycle."""
    speed = objs.speed
    queued, stats = queues(objs, fixes, index, th)
    out: list[Candidate] = []

    def add(kind: EventKind, i: int, text: str) -> None:
        p, g = objs.pos[i], objs.geo[i]
        xyz = (float(p[0]), float(p[1]), float(p[2]))
        out.append(
            Candidate(kind, int(objs.ids[i]), xyz, (float(g[0]), float(g[1]), float(g[2])), text)
        )

    for i, fix in enumerate(fixes):
        c = int(objs.cls[i])
        v = float(speed[i])
        ident = f'id {int(objs.ids[i])}'
        if c in VEHICLES and fix.on_road:
            if v < th.stopped_speed_mps and i not in queued:
                add(EventKind.STOPPED_VEHICLE, i, f'stopped vehicle in lane ({ident})')
            if v > th.wrong_way_speed_mps and fix.opposed:
                add(EventKind.WRONG_WAY, i, f'wrong-way vehicle at {v:.1f} m/s ({ident})')
            limit = fix.speed_limit_mps
            if fix.aligned and math.isfinite(limit) and v > limit * (1 + th.speeding_tolerance):
                add(EventKind.SPEEDING, i, f'speeding {v:.1f} m/s, limit {limit:.1f} ({ident})')
        elif c == PEDESTRIAN and fix.on_road and not fix.in_crosswalk:
            add(EventKind.PEDESTRIAN, i, f'pedestrian on the carriageway ({ident})')
        elif (
            c in (OBSTACLE, UNKNOWN)
            and fix.on_road
            and v < th.obstacle_speed_mps
            and i not in queued
            and not (
                c == UNKNOWN
                and fix.approach >= 0
                and fix.stop_dist_m <= th.queue_gap_m
                and objs.vehicle_sized(i, th)
            )
        ):
            add(EventKind.OBSTACLE, i, f'obstacle on the carriageway ({ident})')
    for ap, st in zip(index.approaches, stats, strict=True):
        if (
            st.vehicles >= th.congestion_min_vehicles
            and st.mean_speed_mps < th.congestion_speed_mps
            and st.queue_m >= th.congestion_queue_m
        ):
            pts, s_table = max(ap.lanes.values(), key=lambda ln: ln[1][-1])
            out.append(
                Candidate(
                    EventKind.CONGESTION,
                    ap.arm,
                    (ap.stop_xy[0], ap.stop_xy[1], 0.0),
                    (math.nan, math.nan, math.nan),
                    f'congestion on arm {ap.arm}: queue {st.queue_m:.0f} m, '
                    f'mean speed {st.mean_speed_mps:.1f} m/s, {st.vehicles} vehicles',
                    _truncate(pts, s_table, min(st.queue_m, float(s_table[-1]))),
                    ap.width_m / 2.0,
                )
            )
    return out, stats

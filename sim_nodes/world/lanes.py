"""The lane network the world drives on: centre-line polylines with successors and signals.

This is the small interface the simulator needs from a map. The built-in four-arm generator
(``sim_nodes.world.four_arm``) produces it; the HD map (Lanelet2, ``vehicle_nodes/hdmap``)
plugs in through one adapter that fills the same dataclasses, so nothing else changes.

Conventions: map frame, ENU metres. A lane with ``signal_group > 0`` is a movement through
an intersection: its stop line is at its start (s = 0) and a vehicle may enter it only on
that group's green. Crosswalks carry the pedestrian signal group that protects them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim_nodes.errors import MapError


def polyline_lengths(points: np.ndarray) -> np.ndarray:
    """Cumulative arc length (m) at each vertex of an (K, 2) polyline, starting at 0."""
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(seg)])


@dataclass(frozen=True)
class Lane:
    """One lane (or one movement through a junction) with its centre line."""

    id: str
    centreline: np.ndarray  # (K, 2) m, K >= 2, in driving direction
    successors: tuple[str, ...] = ()
    width_m: float = 3.5
    speed_limit_mps: float = 13.9
    signal_group: int = 0  # > 0: entering this lane needs this group's green
    intersection_id: int = -1

    @property
    def length_m(self) -> float:
        return float(polyline_lengths(self.centreline)[-1])


@dataclass(frozen=True)
class Crosswalk:
    """A pedestrian crossing from one kerb to the other, protected by a pedestrian group."""

    id: str
    path: np.ndarray  # (2, 2) m, kerb to kerb
    signal_group: int = 0
    width_m: float = 4.0
    intersection_id: int = 1


@dataclass
class LaneNetwork:
    """Lanes, crosswalks, buildings (obstruction footprints) and intersection centres."""

    lanes: dict[str, Lane]
    crosswalks: dict[str, Crosswalk] = field(default_factory=dict)
    buildings: list[np.ndarray] = field(default_factory=list)  # (K, 2) polygons, m
    building_height_m: float = 12.0
    intersections: dict[int, np.ndarray] = field(default_factory=dict)  # id -> (2,) centre

    def __post_init__(self) -> None:
        for lane in self.lanes.values():
            if lane.centreline.ndim != 2 or lane.centreline.shape[0] < 2:
                raise MapError(f'lane {lane.id}: centre line needs at least 2 points (K, 2)')
            for succ in lane.successors:
                if succ not in self.lanes:
                    raise MapError(f'lane {lane.id}: successor {succ!r} is not a lane')

    def lane(self, lane_id: str) -> Lane:
        try:
            return self.lanes[lane_id]
        except KeyError:
            raise MapError(f'no lane {lane_id!r}; lanes: {", ".join(sorted(self.lanes))}') from None

    def expand_route(self, waypoints: Sequence[str]) -> list[str]:
        """Lane ids from the first to the last waypoint, the shortest chain through each."""
        if not waypoints:
            raise MapError('a route needs at least one lane')
        route = [self.lane(waypoints[0]).id]
        for target in waypoints[1:]:
            self.lane(target)
            route += self._shortest(route[-1], target)[1:]
        return route

    def _shortest(self, start: str, goal: str) -> list[str]:
        if start == goal:
            return [start]
        previous: dict[str, str] = {}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            for nxt in self.lanes[here].successors:
                if nxt in previous or nxt == start:
                    continue
                previous[nxt] = here
                if nxt == goal:
                    path = [goal]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return path[::-1]
                queue.append(nxt)
        raise MapError(f'no lane path from {start!r} to {goal!r}')

    def entry_lanes(self) -> list[str]:
        """Lanes no other lane leads into (where traffic is spawned)."""
        targets = {s for lane in self.lanes.values() for s in lane.successors}
        return sorted(lid for lid in self.lanes if lid not in targets)

    def exit_chains(self, start: str) -> list[list[str]]:
        """Every route from ``start`` to a lane without successors (for random traffic)."""
        out: list[list[str]] = []
        stack = [[start]]
        while stack:
            path = stack.pop()
            succ = self.lanes[path[-1]].successors
            if not succ:
                out.append(path)
            for nxt in succ:
                if nxt not in path:
                    stack.append([*path, nxt])
        return sorted(out)


@dataclass(frozen=True)
class RoutePath:
    """A route flattened to one polyline: what a vehicle follows."""

    lane_ids: tuple[str, ...]
    points: np.ndarray  # (K, 2)
    s: np.ndarray  # (K,) cumulative arc length
    lane_start_s: np.ndarray  # (R,) arc length at which each lane of the route starts
    lane_end_s: np.ndarray  # (R,)

    @property
    def length_m(self) -> float:
        return float(self.s[-1])


def route_path(network: LaneNetwork, lane_ids: Iterable[str]) -> RoutePath:
    """Concatenate the centre lines of a lane chain (joints shared, not duplicated)."""
    ids = tuple(lane_ids)
    pieces: list[np.ndarray] = []
    starts, ends = [], []
    total = 0.0
    for i, lid in enumerate(ids):
        line = np.asarray(network.lane(lid).centreline, dtype=float)
        if i and np.allclose(pieces[-1][-1], line[0], atol=0.05):
            line = line[1:]
        elif i:
            total += float(np.linalg.norm(line[0] - pieces[-1][-1]))
        starts.append(total)
        piece = line if not pieces else np.vstack([pieces[-1][-1:], line])
        total += float(polyline_lengths(piece)[-1])
        ends.append(total)
        pieces.append(line)
    points = np.vstack(pieces)
    return RoutePath(ids, points, polyline_lengths(points), np.array(starts), np.array(ends))


def interpolate(path_points: np.ndarray, path_s: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Points at arc lengths ``s`` along one polyline (clamped to its ends)."""
    x = np.interp(s, path_s, path_points[:, 0])
    y = np.interp(s, path_s, path_points[:, 1])
    return np.stack([x, y], axis=-1)

"""The loaded map: lanelets by key, the routing graph and a k-d tree for candidate search."""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from vehicle_nodes.hdmap.errors import RoutingError
from vehicle_nodes.hdmap.frame import GeodeticFrame
from vehicle_nodes.hdmap.geometry import FloatArray
from vehicle_nodes.hdmap.model import Lanelet, TrafficLight
from vehicle_nodes.hdmap.routing import RoutingGraph


@dataclass(frozen=True)
class StopLineAhead:
    """The next stop line along the lanes ahead; ``light`` None when there is none."""

    distance_m: float
    lanelet_key: int
    light: TrafficLight | None


NO_STOP_LINE = StopLineAhead(math.inf, 0, None)
STOP_LINE_HORIZON_M = 500.0


def _stop_lines_ahead(
    lanelets: Mapping[int, Lanelet], routing: RoutingGraph, horizon_m: float
) -> dict[int, tuple[float, int]]:
    """For each lanelet, the distance from its start to the nearest stop line ahead over any
    successor branch: a Dijkstra run backwards from every stop line, once per map."""
    best: dict[int, tuple[float, int]] = {}
    heap = []
    for k, ll in lanelets.items():
        if ll.drivable and ll.has_stop_line:
            best[k] = (ll.stop_line_s_m, k)
            heap.append((ll.stop_line_s_m, k, k))
    heapq.heapify(heap)
    while heap:
        d, k, stop = heapq.heappop(heap)
        if best.get(k, (math.inf, 0))[0] < d:
            continue
        for p in routing.predecessors.get(k, ()):
            if lanelets[p].has_stop_line:
                continue  # its own stop line comes first
            nd = d + lanelets[p].length_m
            if nd <= horizon_m and nd < best.get(p, (math.inf, 0))[0]:
                best[p] = (nd, stop)
                heapq.heappush(heap, (nd, p, stop))
    return best


@dataclass(frozen=True, eq=False)
class HdMap:
    path: str
    lanelets: Mapping[int, Lanelet]
    traffic_lights: Mapping[int, TrafficLight]
    routing: RoutingGraph
    frame: GeodeticFrame | None
    _tree: cKDTree
    _owner: np.ndarray  # lanelet key of each tree sample
    _ahead: Mapping[int, tuple[float, int]]  # key → (start → nearest stop line, its lanelet)

    @classmethod
    def build(
        cls,
        path: str,
        lanelets: Mapping[int, Lanelet],
        lights: Mapping[int, TrafficLight],
        frame: GeodeticFrame | None,
    ) -> HdMap:
        drivable = [ll for ll in lanelets.values() if ll.drivable]
        pts = np.concatenate([ll.centre_xy for ll in drivable]) if drivable else np.zeros((1, 2))
        owner = np.concatenate(
            [np.full(len(ll.centre_xy), ll.key, dtype=np.int64) for ll in drivable]
        ) if drivable else np.zeros(1, dtype=np.int64)  # fmt: skip
        routing = RoutingGraph.build(drivable)
        return cls(path, dict(lanelets), dict(lights), routing, frame, cKDTree(pts), owner,
                   _stop_lines_ahead(lanelets, routing, STOP_LINE_HORIZON_M))  # fmt: skip

    @property
    def drivable_keys(self) -> list[int]:
        return [k for k, ll in self.lanelets.items() if ll.drivable]

    def bounds(self) -> FloatArray:
        """[[min_x, min_y], [max_x, max_y]] of the drivable centre lines."""
        data = self._tree.data
        return np.array([data.min(axis=0), data.max(axis=0)])

    def candidates(self, x: float, y: float, radius_m: float) -> np.ndarray:
        """Keys of drivable lanelets with a centre-line sample within ``radius_m``."""
        idx = self._tree.query_ball_point((x, y), radius_m)
        if not idx:
            return np.zeros(0, dtype=np.int64)
        return np.unique(self._owner[idx])

    def nearest_lanelet(self, x: float, y: float) -> int:
        """Key of the drivable lanelet owning the nearest centre-line sample."""
        _, i = self._tree.query((x, y))
        return int(self._owner[i])

    def route(self, start_id: int, goal_id: int) -> list[int]:
        """Shortest drivable route between two lanelets (keys; see ``RoutingGraph.route``)."""
        lengths = {k: ll.length_m for k, ll in self.lanelets.items() if ll.drivable}
        try:
            return self.routing.route(start_id, goal_id, lengths)
        except KeyError as err:
            raise RoutingError(f'lanelet {err} is not part of the routing graph') from None

    def next_stop_line(
        self,
        key: int,
        s_m: float,
        *,
        route: Sequence[int] | None = None,
        horizon_m: float = 500.0,
    ) -> StopLineAhead:
        """Nearest stop line ahead of (key, s_m) within ``horizon_m``.

        Along ``route`` when given (keys after ``key`` in it), else over every successor
        branch (the nearest one wins: at a fork, the stop lines of all branches count; the
        map precomputes these, up to ``STOP_LINE_HORIZON_M``).
        """
        ll = self.lanelets[key]
        if ll.has_stop_line and ll.stop_line_s_m >= s_m:
            return StopLineAhead(ll.stop_line_s_m - s_m, key, ll.traffic_light)
        start = ll.length_m - s_m
        if route is not None and key in route:
            travelled = start
            for k in route[list(route).index(key) + 1 :]:
                nxt = self.lanelets[k]
                if travelled > horizon_m:
                    break
                if nxt.has_stop_line:
                    return StopLineAhead(travelled + nxt.stop_line_s_m, k, nxt.traffic_light)
                travelled += nxt.length_m
            return NO_STOP_LINE
        best = NO_STOP_LINE
        for k in self.routing.following(key):
            d, stop = self._ahead.get(k, (math.inf, 0))
            d += start
            if d <= horizon_m and d < best.distance_m:
                best = StopLineAhead(d, stop, self.lanelets[stop].traffic_light)
        return best

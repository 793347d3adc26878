"""The routing graph of the drivable lanelets: successors, neighbours, lane changes, routes.

A lanelet follows another when its left and right bounds start at the nodes where the
other's end (Lanelet2's rule). Neighbours share a boundary in the same direction; a lane
change is allowed when that boundary's marking may be crossed from the lanelet's side.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vehicle_nodes.hdmap.errors import RoutingError
from vehicle_nodes.hdmap.model import Lanelet


@dataclass(frozen=True)
class RoutingGraph:
    successors: Mapping[int, tuple[int, ...]]
    predecessors: Mapping[int, tuple[int, ...]]
    left: Mapping[int, int]  # key → key of the same-direction neighbour on the left
    right: Mapping[int, int]
    change_left: frozenset[int]  # keys whose left neighbour may be reached by a lane change
    change_right: frozenset[int]

    @classmethod
    def build(cls, lanelets: Iterable[Lanelet]) -> RoutingGraph:
        drivable = [ll for ll in lanelets if ll.drivable]
        by_start: dict[tuple[int, int], list[int]] = defaultdict(list)
        by_right_pair: dict[tuple[int, int], list[int]] = defaultdict(list)
        by_left_pair: dict[tuple[int, int], list[int]] = defaultdict(list)
        for ll in drivable:
            ls, le, rs, re = ll.end_nodes
            by_start[(ls, rs)].append(ll.key)
            by_right_pair[(rs, re)].append(ll.key)
            by_left_pair[(ls, le)].append(ll.key)
        succ: dict[int, tuple[int, ...]] = {}
        pred: dict[int, list[int]] = defaultdict(list)
        left: dict[int, int] = {}
        right: dict[int, int] = {}
        change_left: set[int] = set()
        change_right: set[int] = set()
        for ll in drivable:
            ls, le, rs, re = ll.end_nodes
            nxt = tuple(k for k in by_start.get((le, re), ()) if k != -ll.key)
            succ[ll.key] = nxt
            for k in nxt:
                pred[k].append(ll.key)
            lefts = [k for k in by_right_pair.get((ls, le), ()) if k != ll.key]
            if lefts:
                left[ll.key] = lefts[0]
                if ll.left.crossable:
                    change_left.add(ll.key)
            rights = [k for k in by_left_pair.get((rs, re), ()) if k != ll.key]
            if rights:
                right[ll.key] = rights[0]
                if ll.right.crossable:
                    change_right.add(ll.key)
        return cls(
            successors=succ,
            predecessors={k: tuple(v) for k, v in pred.items()},
            left=left,
            right=right,
            change_left=frozenset(change_left),
            change_right=frozenset(change_right),
        )

    def following(self, key: int) -> tuple[int, ...]:
        return self.successors.get(key, ())

    def lane_changes(self, key: int) -> tuple[int, ...]:
        """Neighbours reachable from ``key`` by an allowed lane change."""
        out = []
        if key in self.change_left:
            out.append(self.left[key])
        if key in self.change_right:
            out.append(self.right[key])
        return tuple(out)

    def route(
        self,
        start: int,
        goal: int,
        lengths_m: Mapping[int, float],
        *,
        lane_change_cost_m: float = 30.0,
    ) -> list[int]:
        """Shortest sequence of lanelet keys from ``start`` to ``goal`` (Dijkstra).

        Cost is the length of each lanelet left behind, plus ``lane_change_cost_m`` per
        lane change. :raises RoutingError: unknown key or no route.
        """
        for k in (start, goal):
            if k not in self.successors:
                raise RoutingError(f'lanelet {k} is not a drivable lanelet of this map')
        dist = {start: 0.0}
        prev: dict[int, int] = {}
        heap = [(0.0, start)]
        while heap:
            d, k = heapq.heappop(heap)
            if k == goal:
                break
            if d > dist.get(k, float('inf')):
                continue
            steps = [(n, lengths_m[k]) for n in self.following(k)]
            steps += [(n, lane_change_cost_m) for n in self.lane_changes(k)]
            for n, cost in steps:
                nd = d + cost
                if nd < dist.get(n, float('inf')):
                    dist[n] = nd
                    prev[n] = k
                    heapq.heappush(heap, (nd, n))
        if goal not in dist:
            raise RoutingError(f'no route from lanelet {start} to lanelet {goal}')
        path = [goal]
        while path[-1] != start:
            path.append(prev[path[-1]])
        return path[::-1]

"""Ground-truth lanes for scoring the car stacks' map matching.

A vehicle's true lane at a position is a lane of its own route (or of a scripted lane change's
route) whose centre line lies within half the lane width (+ ``TOLERANCE_M``) of the true
position. Where two route lanes meet both count, so the boundary instant is never a miss; the
world's overlapping junction movements never are on one route, so they never are confused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sim_nodes.world.lanes import LaneNetwork

TOLERANCE_M = 0.25


def _segment_distance(points: np.ndarray, x: float, y: float) -> float:
    a, b = points[:-1], points[1:]
    ab = b - a
    t = np.clip(((x - a[:, 0]) * ab[:, 0] + (y - a[:, 1]) * ab[:, 1]) / (ab**2).sum(axis=1), 0, 1)
    px, py = a[:, 0] + t * ab[:, 0], a[:, 1] + t * ab[:, 1]
    return float(np.min(np.hypot(px - x, py - y)))


class LaneTruth:
    """Which lanelets a vehicle truly is on, from its route lanes and the true position."""

    def __init__(
        self, network: LaneNetwork, vehicles: Sequence[object], lanelet_ids: Mapping[str, int]
    ) -> None:
        self.network = network
        self.lanelet_ids = dict(lanelet_ids)
        self.routes: dict[str, list[str]] = {}
        for spec in vehicles:
            lanes = list(spec.route)
            for _, chain in getattr(spec, 'lane_changes', ()):
                lanes += list(network.expand_route(list(chain)))
            self.routes[spec.name] = list(dict.fromkeys(lanes))

    def lanelets_at(self, vehicle: str, x_m: float, y_m: float) -> set[int]:
        out = set()
        for lid in self.routes.get(vehicle, ()):
            lane = self.network.lanes[lid]
            if _segment_distance(lane.centreline, x_m, y_m) <= 0.5 * lane.width_m + TOLERANCE_M:
                out.add(self.lanelet_ids[lid])
        return out

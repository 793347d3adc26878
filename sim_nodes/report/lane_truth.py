"""Ground-truth lanes for scoring the car stacks' map matching.

A vehicle's true lane at a position is a lane of its own route (or of a scripted lane change's
route) whose centre line lies within half the lane width (+ ``TOLERANCE_M``) of the true
position. Where two route lanes meet both count, so the boundary instant is never a miss; the
world's overlapping junction movements never are on one route, so they never are confused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim_nodes.world.lanes import LaneNetwork

TOLERANCE_M = 0.25


@dataclass(frozen=True)
class _Segments:
    """The centre-line segments of a vehicle's route lanes, stacked: start points ``a``,
    vectors ``ab``, their squared lengths, the row where each lane starts, and each lane's
    lanelet id and half width + tolerance."""

    a0: np.ndarray
    a1: np.ndarray
    ab0: np.ndarray
    ab1: np.ndarray
    length_sq: np.ndarray
    starts: np.ndarray
    lanelets: list[int]
    limits: np.ndarray


def _segments(network: LaneNetwork, lanes: Sequence[str], ids: Mapping[str, int]) -> _Segments:
    parts, starts, row = [], [], 0
    for lid in lanes:
        points = network.lanes[lid].centreline
        parts.append((points[:-1], points[1:] - points[:-1]))
        starts.append(row)
        row += len(points) - 1
    a = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, 2))
    ab = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, 2))
    return _Segments(
        a[:, 0].copy(),
        a[:, 1].copy(),
        ab[:, 0].copy(),
        ab[:, 1].copy(),
        (ab**2).sum(axis=1),
        np.array(starts, dtype=np.intp),
        [ids[lid] for lid in lanes],
        np.array([0.5 * network.lanes[lid].width_m + TOLERANCE_M for lid in lanes]),
    )


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
        self._segments: dict[str, _Segments] = {}

    def lanelets_at(self, vehicle: str, x_m: float, y_m: float) -> set[int]:
        ids, near = self.near(vehicle, np.array([x_m]), np.array([y_m]))
        return {int(lanelet) for lanelet in ids[near[0]]}

    def near(self, vehicle: str, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The lanelet id of each route lane, and for each point (row) whether it is on that
        lane: every lane's distance from every point in one pass over the stacked segments
        (the same float operations per point and segment as one lane at a time)."""
        lanes = self.routes.get(vehicle)
        if not lanes:
            return np.zeros(0, int), np.zeros((len(x_m), 0), bool)
        seg = self._segments.get(vehicle)
        if seg is None:
            seg = self._segments[vehicle] = _segments(self.network, lanes, self.lanelet_ids)
        x, y = x_m[:, None], y_m[:, None]
        t = np.clip(((x - seg.a0) * seg.ab0 + (y - seg.a1) * seg.ab1) / seg.length_sq, 0, 1)
        d = np.hypot(seg.a0 + t * seg.ab0 - x, seg.a1 + t * seg.ab1 - y)
        return np.array(seg.lanelets), np.minimum.reduceat(d, seg.starts, axis=1) <= seg.limits

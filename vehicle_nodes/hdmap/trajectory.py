"""Drive a route along the lanelet centre lines: ground truth for matching tests and benches."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vehicle_nodes.hdmap.errors import RoutingError
from vehicle_nodes.hdmap.geometry import FloatArray
from vehicle_nodes.hdmap.lanemap import HdMap


@dataclass(frozen=True)
class DrivenRoute:
    """Samples every ``dt`` of a drive at constant speed (arrays of equal length)."""

    t_s: FloatArray
    xy_m: FloatArray  # (N, 2)
    yaw_rad: FloatArray
    key: np.ndarray  # lanelet key driven at each sample
    s_m: FloatArray  # arc length on that lanelet
    speed_mps: float


def drive(hd: HdMap, route: Sequence[int], *, speed_mps: float, dt_s: float) -> DrivenRoute:
    """Follow ``route`` (consecutive successors) from its start to its end.

    :raises RoutingError: two consecutive keys that are not successors.
    """
    for a, b in itertools.pairwise(route):
        if b not in hd.routing.following(a):
            raise RoutingError(f'lanelet {b} does not follow {a}')
    lengths = np.array([hd.lanelets[k].length_m for k in route])
    starts = np.concatenate(([0.0], np.cumsum(lengths)))
    dist = np.arange(0.0, starts[-1], speed_mps * dt_s)
    idx = np.clip(np.searchsorted(starts, dist, side='right') - 1, 0, len(route) - 1)
    xy = np.empty((len(dist), 2))
    yaw = np.empty(len(dist))
    s = dist - starts[idx]
    for j, k in enumerate(route):
        sel = idx == j
        ll = hd.lanelets[k]
        xy[sel, 0] = np.interp(s[sel], ll.s_m, ll.centre_xy[:, 0])
        xy[sel, 1] = np.interp(s[sel], ll.s_m, ll.centre_xy[:, 1])
        seg = np.clip(np.searchsorted(ll.s_m, s[sel], side='right') - 1, 0, len(ll.heading_rad) - 1)
        yaw[sel] = ll.heading_rad[seg]
    keys = np.asarray(route, dtype=np.int64)[idx]
    return DrivenRoute(np.arange(len(dist)) * dt_s, xy, yaw, keys, s, speed_mps)

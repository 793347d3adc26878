"""Scripted lane changes: at a given time a vehicle takes a new lane chain (from the adjacent
lane on) and moves across over ``lane_change_s`` seconds.

The new route's centre line is where the vehicle ends up; the pure-pursuit target is shifted
by the vehicle's lateral offset from it at the start of the change, shrinking linearly to zero
over the duration, so the bicycle model drives a smooth lane change. There is no gap
acceptance: a scripted change into an occupied gap is what BSW/LCW scenarios are made of.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim_nodes.world.batch import PolylineBatch
from sim_nodes.world.lanes import route_path

if TYPE_CHECKING:
    from sim_nodes.world.vehicles import VehicleFleet


class LaneChanges:
    def __init__(self, fleet: VehicleFleet) -> None:
        self.pending = sorted(
            (t, i, chain) for i, spec in enumerate(fleet.specs) for t, chain in spec.lane_changes
        )
        n = fleet.n
        self.offset = np.zeros((n, 2))
        self.t0 = np.full(n, -np.inf)
        self.duration = np.array([max(s.lane_change_s, 0.1) for s in fleet.specs], dtype=float)
        self.done: list[tuple[float, int]] = []

    def apply(self, fleet: VehicleFleet, t_s: float) -> list[int]:
        """Start the changes that are due; returns the vehicles that changed route."""
        changed = []
        while self.pending and self.pending[0][0] <= t_s:
            _, i, chain = self.pending.pop(0)
            if not fleet.active[i]:
                continue  # not on the road (yet, or any more): the change is dropped
            new = route_path(fleet.network, chain)
            single = PolylineBatch([new.points], [new.s])
            here = np.array([[fleet.x[i], fleet.y[i]]])
            s_new, _ = single.project(here)
            foot, _ = single.at(np.array([0]), s_new[0])
            self.offset[i] = here[0] - foot[0]
            self.t0[i] = t_s
            fleet.route_paths[i] = new
            fleet.s[i] = float(s_new[0, 0])
            fleet.committed[i] = -1
            self.done.append((t_s, int(i)))
            changed.append(int(i))
        if changed:
            fleet.set_routes()
        return changed

    def target_shift(self, rows: np.ndarray, at_s: np.ndarray) -> np.ndarray:
        """Offset (M, 2) to add to the pursuit targets of ``rows`` for the times ``at_s``."""
        left = np.clip(1.0 - (at_s - self.t0[rows]) / self.duration[rows], 0.0, 1.0)
        return self.offset[rows] * left[:, None]

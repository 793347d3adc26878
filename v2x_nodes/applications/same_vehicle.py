"""Which roadside participant is the same vehicle as a BSM sender heard in the same cycle.

The RSU reports every road user it tracks (RSM/SSM), connected vehicles included, and those
vehicles send their own BSMs: without this, one car is two targets and each warning about it
comes twice. A pair is the same vehicle when, both extrapolated to now, their positions differ
by less than ``gate_sigma`` standard deviations of the difference (the two reports' position
variances, plus each one's velocity variance over its age), and never more than ``max_m`` (a
car beside it in the next lane is a lane width, 3.5 m, away; one queued behind it two lengths);
their velocities agree within ``max_dv_mps`` plus three standard deviations; and their classes
are compatible (both vehicles, or the same class). Each BSM sender takes at most one roadside
participant and each participant at most one sender, nearest pairs (in standard deviations)
first, so of two cars close together the RSU track of each goes to its own BSM.

The BSM target is kept (its identity, exact class, brake and event data come from the vehicle
itself); the matched roadside participant is not used for triggering.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from v2x_nodes.applications.kinematics import FloatArray, member
from v2x_nodes.applications.targets import VEHICLE_CLASSES

# Where a report gives no position variance: a GNSS position without RTK, an RSU box centre.
UNKNOWN_POS_VAR_M2 = 1.0
# Where it gives no velocity variance.
UNKNOWN_SPEED_VAR_M2PS2 = 1.0
# The BSM's reference point and the roadside box centre are not the same point of the car.
REFERENCE_POINT_VAR_M2 = 0.25


@dataclass(frozen=True)
class SameVehicleGate:
    gate_sigma: float = 3.0  # position gate, standard deviations of the difference
    max_m: float = 2.5  # and never wider: a car in the next lane is 3.5 m away
    max_dv_mps: float = 2.0  # velocity difference allowed besides three sigmas


def _var(v: FloatArray, unknown: float) -> FloatArray:
    return np.where(v >= 0.0, v, unknown)


def extrapolated_var(pos_var: FloatArray, speed_var: FloatArray, age_s: FloatArray) -> FloatArray:
    """Variance of each report's position extrapolated to now over its age, m²."""
    sv = _var(speed_var, UNKNOWN_SPEED_VAR_M2PS2)
    return _var(pos_var, UNKNOWN_POS_VAR_M2) + sv * np.maximum(age_s, 0.0) ** 2


def match_same_vehicle(  # noqa: PLR0917 (the two sources' columns)
    x: FloatArray, y: FloatArray, vx: FloatArray, vy: FloatArray, pos_var: FloatArray,
    speed_var: FloatArray, age_s: FloatArray, cls: np.ndarray, bsm: np.ndarray,
    roadside: np.ndarray, gate: SameVehicleGate,
) -> list[tuple[int, int]]:  # fmt: skip
    """(BSM target, roadside target) index pairs that are one vehicle; ``bsm`` and ``roadside``
    are the candidate indices (into the columns) of each source."""
    if not len(bsm) or not len(roadside):
        return []
    var = extrapolated_var(pos_var, speed_var, age_s)
    b, r = bsm[:, None], roadside[None, :]
    d = np.hypot(x[b] - x[r], y[b] - y[r])
    sigma = np.sqrt(var[b] + var[r] + REFERENCE_POINT_VAR_M2)
    radius = np.minimum(gate.gate_sigma * sigma, gate.max_m)
    sv = _var(speed_var, UNKNOWN_SPEED_VAR_M2PS2)
    dv = np.hypot(vx[b] - vx[r], vy[b] - vy[r])
    dv_ok = dv <= gate.max_dv_mps + 3.0 * np.sqrt(sv[b] + sv[r])
    vehicles = member(cls, VEHICLE_CLASSES)
    cls_ok = (vehicles[b] & vehicles[r]) | (cls[b] == cls[r])
    ok = (d <= radius) & dv_ok & cls_ok
    ib, ir = ok.nonzero()
    if not len(ib):
        return []
    cost = d[ib, ir] / sigma[ib, ir]
    taken_b: set[int] = set()
    taken_r: set[int] = set()
    pairs = []
    for k in np.lexsort((ir, ib, cost)).tolist():  # nearest first, ties by index
        i, j = int(ib[k]), int(ir[k])
        if i in taken_b or j in taken_r:
            continue
        taken_b.add(i)
        taken_r.add(j)
        pairs.append((int(bsm[i]), int(roadside[j])))
    return pairs

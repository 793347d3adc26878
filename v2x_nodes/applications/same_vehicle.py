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

import math
from dataclasses import dataclass

import numpy as np

from v2x_nodes.applications.kinematics import FloatArray
from v2x_nodes.applications.targets import VEHICLE_CLASSES

# Where a report gives no position variance: a GNSS position without RTK, an RSU box centre.
UNKNOWN_POS_VAR_M2 = 1.0
# Where it gives no velocity variance.
UNKNOWN_SPEED_VAR_M2PS2 = 1.0
# The BSM's reference point and the roadside box centre are not the same point of the car.
REFERENCE_POINT_VAR_M2 = 0.25


@dataclass(frozen=True)
class SameVehicleGate:
    """The gate of ``match_same_vehicle`` (parameters ``same_vehicle_*``)."""

    gate_sigma: float = 3.0  # position gate, standard deviations of the difference
    max_m: float = 2.5  # and never wider: a car in the next lane is 3.5 m away
    max_dv_mps: float = 2.0  # velocity difference allowed besides three sigmas


FEW_PAIRS = 64  # up to this many (a car's cycle): the distances pair by pair in floats


def _var(v: float, unknown: float) -> float:
    return v if v >= 0.0 else unknown  # (-1: not reported)


def match_same_vehicle(  # noqa: PLR0917 (the two sources' columns)
    x: FloatArray, y: FloatArray, speed: FloatArray, course: FloatArray, pos_var: FloatArray,
    speed_var: FloatArray, age_s: FloatArray, cls: np.ndarray, bsm: np.ndarray,
    roadside: np.ndarray, gate: SameVehicleGate,
) -> list[tuple[int, int]]:  # fmt: skip
    """(BSM target, roadside target) index pairs that are one vehicle; ``bsm`` and ``roadside``
    are the candidate indices (into the columns) of each source.

    Only pairs within ``max_m`` are looked at further (a handful: a car is near its own
    track), in floats."""
    if not len(bsm) or not len(roadside):
        return []
    max_m = gate.max_m
    xs, ys = x.tolist(), y.tolist()
    if len(bsm) * len(roadside) <= FEW_PAIRS:
        near = [(i, j) for i in bsm.tolist() for j in roadside.tolist()
                if math.hypot(xs[i] - xs[j], ys[i] - ys[j]) <= max_m]  # fmt: skip
    else:
        ib, ir = (np.hypot(x[bsm][:, None] - x[roadside], y[bsm][:, None] - y[roadside])
                  <= max_m).nonzero()  # fmt: skip
        near = list(zip(bsm[ib].tolist(), roadside[ir].tolist(), strict=True))
    if not near:
        return []
    # the near pairs' columns as floats (a handful of pairs: numpy scalars cost more)
    sv, pv, age = speed_var.tolist(), pos_var.tolist(), age_s.tolist()
    sp, co, cl = speed.tolist(), course.tolist(), cls.tolist()
    cand = []
    for i, j in near:
        d = math.hypot(xs[i] - xs[j], ys[i] - ys[j])
        sv_i = _var(sv[i], UNKNOWN_SPEED_VAR_M2PS2)
        sv_j = _var(sv[j], UNKNOWN_SPEED_VAR_M2PS2)
        var = (_var(pv[i], UNKNOWN_POS_VAR_M2) + sv_i * max(age[i], 0.0) ** 2
               + _var(pv[j], UNKNOWN_POS_VAR_M2) + sv_j * max(age[j], 0.0) ** 2
               + REFERENCE_POINT_VAR_M2)  # fmt: skip
        sigma = math.sqrt(var)
        if d > gate.gate_sigma * sigma:
            continue
        vi, vj, ci, cj = sp[i], sp[j], co[i], co[j]
        dv = math.hypot(
            vi * math.cos(ci) - vj * math.cos(cj), vi * math.sin(ci) - vj * math.sin(cj)
        )
        if dv > gate.max_dv_mps + 3.0 * math.sqrt(sv_i + sv_j):
            continue
        a, b = cl[i], cl[j]
        if a != b and not (a in VEHICLE_CLASSES and b in VEHICLE_CLASSES):
            continue
        cand.append((d / sigma, i, j))
    cand.sort()  # nearest (in standard deviations) first, ties by index
    taken_b: set[int] = set()
    taken_r: set[int] = set()
    pairs = []
    for _, i, j in cand:
        if i in taken_b or j in taken_r:
            continue
        taken_b.add(i)
        taken_r.add(j)
        pairs.append((i, j))
    return pairs

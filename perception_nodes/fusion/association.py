"""Association of one source's objects with the fused list: Mahalanobis gate, class gate,
then one globally optimal assignment (scipy's linear_sum_assignment) per source per cycle."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

INFEASIBLE = 1e9


def position_distances(
    xa: np.ndarray, pa: np.ndarray, xb: np.ndarray, pb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Squared Mahalanobis distances (A, B) of positions and the log det of each pair's S.

    ``S = Pa + Pb`` over (x, y) — the correlation between the two is unknown, and leaving it
    out widens S, so the gate errs on the side of association. Written per 2x2 entry: three
    (A, B) sums instead of an (A, B, 2, 2) array.
    """
    sxx = pa[:, None, 0, 0] + pb[None, :, 0, 0]
    sxy = pa[:, None, 0, 1] + pb[None, :, 0, 1]
    syy = pa[:, None, 1, 1] + pb[None, :, 1, 1]
    det = np.maximum(sxx * syy - sxy * sxy, 1e-12)
    dx = xb[None, :, 0] - xa[:, None, 0]
    dy = xb[None, :, 1] - xa[:, None, 1]
    d2 = (syy * dx * dx - 2.0 * sxy * dx * dy + sxx * dy * dy) / det
    return d2, np.log(det)


Estimates = tuple[np.ndarray, np.ndarray, np.ndarray]  # states (N, 4), covs (N, 4, 4), groups


def gated_costs(a: Estimates, b: Estimates, *, gate_chi2: float, gate_max_m: float) -> np.ndarray:
    """Cost (A, B): ``d² + ln|S|`` inside the gates, INFEASIBLE outside.

    ``ga``/``gb`` are class groups (``reports.class_group``): a vehicle never pairs with a
    pedestrian; unknown pairs with anything. The Euclidean gate ``gate_max_m`` stops two vague
    estimates from pairing across a junction.
    """
    xa, pa, ga = a
    xb, pb, gb = b
    if 0 < len(xa) * len(xb) <= SCALAR_PAIRS:
        return _gated_costs_few(a, b, gate_chi2, gate_max_m)
    cost = np.full((len(xa), len(xb)), INFEASIBLE)
    if len(xa) == 0 or len(xb) == 0:
        return cost
    # Euclidean gate first, on the whole matrix; the Mahalanobis terms only for the pairs
    # inside it (in a real scene most pairs are far apart)
    d = xb[None, :, :2] - xa[:, None, :2]  # (A, B, 2): B's position minus A's
    dx, dy = d[:, :, 0], d[:, :, 1]
    ri, ci = np.nonzero(dx * dx + dy * dy <= gate_max_m * gate_max_m)
    if len(ri) == 0:
        return cost
    s = pa[ri, :2, :2] + pb[ci, :2, :2]  # S = Pa + Pb over (x, y), per candidate pair
    sxx, sxy, syy = s[:, 0, 0], s[:, 0, 1], s[:, 1, 1]
    det = np.maximum(sxx * syy - sxy * sxy, 1e-12)
    e = d[ri, ci]
    ex, ey = e[:, 0], e[:, 1]
    d2 = (syy * ex * ex - 2.0 * sxy * ex * ey + sxx * ey * ey) / det
    g1, g2 = ga[ri], gb[ci]
    ok = (d2 <= gate_chi2) & ((g1 == g2) | (g1 == 0) | (g2 == 0))
    cost[ri[ok], ci[ok]] = d2[ok] + np.log(det[ok])
    return cost


# up to this many pairs the gates run on Python floats: a car's fusion pairs a handful of
# roadside objects with a handful of V2V senders, where the thirty numpy calls of the array
# form cost more than the arithmetic (tested against it bit for bit); from about 110 pairs on
# the array form is as fast (measured)
SCALAR_PAIRS = 96


def _gated_costs_few(a: Estimates, b: Estimates, gate_chi2: float, gate_max_m: float) -> np.ndarray:
    """``gated_costs`` pair by pair: the same operations in the same order on the same floats
    (no fused multiply-add in either), and ``np.log`` on the kept determinants."""
    xa, pa, ga = a
    xb, pb, gb = b
    na, nb = len(xa), len(xb)
    gate2 = gate_max_m * gate_max_m
    pos_b = xb[:, :2].tolist()
    cov_b = pb[:, :2, :2].reshape(nb, 4).tolist()
    groups_b = gb.tolist()
    flat = [INFEASIBLE] * (na * nb)
    kept: list[int] = []  # flat index of each pair inside every gate
    d2s: list[float] = []
    dets: list[float] = []
    k = 0
    for (ax, ay), (a00, a01, _, a11), g1 in zip(
        xa[:, :2].tolist(), pa[:, :2, :2].reshape(na, 4).tolist(), ga.tolist(), strict=True
    ):
        for (bx, by), (b00, b01, _, b11), g2 in zip(pos_b, cov_b, groups_b, strict=True):
            ex = bx - ax
            ey = by - ay
            if ex * ex + ey * ey <= gate2:
                sxx, sxy, syy = a00 + b00, a01 + b01, a11 + b11
                det = max(sxx * syy - sxy * sxy, 1e-12)  # a NaN stays NaN, as in np.maximum
                d2 = (syy * ex * ex - 2.0 * sxy * ex * ey + sxx * ey * ey) / det
                if d2 <= gate_chi2 and (g1 in (g2, 0) or g2 == 0):
                    kept.append(k)
                    d2s.append(d2)
                    dets.append(det)
            k += 1
    if kept:
        logs = np.log(np.array(dets)).tolist()
        for k, d2, lg in zip(kept, d2s, logs, strict=True):
            flat[k] = d2 + lg
    return np.array(flat).reshape(na, nb)


def assign(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optimal feasible pairs (rows, cols) of a gated cost matrix."""
    if cost.size == 0 or cost.min() >= INFEASIBLE:  # nothing inside the gates
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if cost.size <= SCALAR_PAIRS:
        pairs = _without_conflict(cost.tolist())
        if pairs is not None:
            return np.array(pairs[0], dtype=np.int64), np.array(pairs[1], dtype=np.int64)
    rows, cols = linear_sum_assignment(cost)
    good = cost[rows, cols] < INFEASIBLE
    return rows[good].astype(np.int64), cols[good].astype(np.int64)


_SMALL = 1e6  # a gated cost is d² <= gate_chi2 plus ln|S|: a few dozen


def _without_conflict(cost: list[list[float]]) -> tuple[list[int], list[int]] | None:
    """The feasible pairs of ``cost`` (rows ascending) when no row and no column has two of
    them, each costs less than 1e6 in size and every other entry is exactly INFEASIBLE; else
    None (ask the solver).

    Then ``assign`` finds those pairs too: an assignment without one of them holds one more
    INFEASIBLE entry (swap it for the pair: 1e9 more against less than 2e6), and the solver
    returns its rows sorted. Most gated matrices of a car's cycle are such (a handful of
    objects, each near at most one other), where the solver's call costs more than reading
    the matrix."""
    rows: list[int] = []
    cols: list[int] = []
    taken: set[int] = set()
    for r, line in enumerate(cost):
        found = -1
        for c, v in enumerate(line):
            if v < INFEASIBLE:
                if found >= 0 or c in taken or not -_SMALL < v < _SMALL:
                    return None
                found = c
            elif v != INFEASIBLE:  # above, inf or NaN: the solver's own rules
                return None
        if found >= 0:
            rows.append(r)
            cols.append(found)
            taken.add(found)
    return rows, cols

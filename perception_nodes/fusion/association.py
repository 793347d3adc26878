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


def assign(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optimal feasible pairs (rows, cols) of a gated cost matrix."""
    if cost.size == 0 or cost.min() >= INFEASIBLE:  # nothing inside the gates
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows, cols = linear_sum_assignment(cost)
    good = cost[rows, cols] < INFEASIBLE
    return rows[good].astype(np.int64), cols[good].astype(np.int64)

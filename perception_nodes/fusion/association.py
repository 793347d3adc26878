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
    out widens S, so the gate errs on the side of association.
    """
    s = pa[:, None, :2, :2] + pb[None, :, :2, :2]  # (A, B, 2, 2)
    det = np.maximum(s[..., 0, 0] * s[..., 1, 1] - s[..., 0, 1] * s[..., 1, 0], 1e-12)
    dx = xb[None, :, 0] - xa[:, None, 0]
    dy = xb[None, :, 1] - xa[:, None, 1]
    d2 = (s[..., 1, 1] * dx * dx - 2.0 * s[..., 0, 1] * dx * dy + s[..., 0, 0] * dy * dy) / det
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
    if len(xa) == 0 or len(xb) == 0:
        return np.zeros((len(xa), len(xb)))
    d2, logdet = position_distances(xa, pa, xb, pb)
    eu2 = (xb[None, :, 0] - xa[:, None, 0]) ** 2 + (xb[None, :, 1] - xa[:, None, 1]) ** 2
    classes_ok = (ga[:, None] == gb[None, :]) | (ga[:, None] == 0) | (gb[None, :] == 0)
    ok = (d2 <= gate_chi2) & (eu2 <= gate_max_m * gate_max_m) & classes_ok
    return np.where(ok, d2 + logdet, INFEASIBLE)


def assign(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optimal feasible pairs (rows, cols) of a gated cost matrix."""
    if cost.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows, cols = linear_sum_assignment(cost)
    good = cost[rows, cols] < INFEASIBLE
    return rows[good].astype(np.int64), cols[good].astype(np.int64)

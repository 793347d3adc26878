"""Gated global nearest neighbour: Mahalanobis gate, then Hungarian on the gated costs."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

_INFEASIBLE = 1e9


def assign(
    d2: np.ndarray, det_s: np.ndarray, gate_d2: float, euclid_sq_m2: np.ndarray, max_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Optimal pairs (track index, detection index) among those inside both gates.

    ``d2``, ``det_s`` (innovation covariance determinant) and ``euclid_sq_m2`` are (T, D): per
    pair, as the measurement noise differs by range.

    The cost is the negative log likelihood up to a constant, ``d2 + ln|S|``, so a sharp track
    is not outbid by a vague one at the same distance.
    """
    if d2.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ok = (d2 <= gate_d2) & (euclid_sq_m2 <= max_m * max_m)
    cost = np.full(d2.shape, _INFEASIBLE)
    cost[ok] = d2[ok] + np.log(det_s[ok])  # log only where gated: it is slow on big arrays
    rows, cols = linear_sum_assignment(cost)
    good = ok[rows, cols]
    return rows[good].astype(np.int64), cols[good].astype(np.int64)

"""Gated global nearest neighbour: distance pre-gate, Mahalanobis gate, Hungarian on the rest.

Only track/detection pairs within ``max_m`` of each other (found with a k-d tree, or a distance
matrix when there are few of both) are scored, so the cost of gating grows with the pairs that
matter, not with tracks x detections.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

_INFEASIBLE = 1e9
_EMPTY = np.zeros(0, dtype=np.int64)
# below this many track x detection pairs a distance matrix beats building two k-d trees
_BRUTE_PAIRS = 1024


def candidate_pairs(
    track_xy: np.ndarray, det_xy: np.ndarray, max_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """(track index, detection index) of every pair closer than ``max_m``."""
    if track_xy.shape[0] == 0 or det_xy.shape[0] == 0:
        return _EMPTY, _EMPTY
    if track_xy.shape[0] * det_xy.shape[0] <= _BRUTE_PAIRS:  # two k-d trees cost ~40 us
        d = track_xy[:, None, :] - det_xy[None, :, :]
        ti, dj = np.nonzero(np.einsum('tdk,tdk->td', d, d) <= max_m * max_m)
        return ti.astype(np.int64), dj.astype(np.int64)
    close = cKDTree(track_xy).sparse_distance_matrix(cKDTree(det_xy), max_m, output_type='ndarray')
    return close['i'].astype(np.int64), close['j'].astype(np.int64)


def mahalanobis_pairs(
    pred_xy: np.ndarray,
    p_xy: np.ndarray,
    det_xy: np.ndarray,
    det_var: np.ndarray,
    *,
    ti: np.ndarray,
    dj: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Squared Mahalanobis distance and det(S) of the listed pairs.

    ``S = P_xy[track] + var[detection] * I`` is 2 x 2, so its inverse is written out.
    """
    a = p_xy[ti, 0, 0] + det_var[dj]
    e = p_xy[ti, 1, 1] + det_var[dj]
    b = p_xy[ti, 0, 1]
    det_s = np.maximum(a * e - b * b, 1e-12)
    dx = det_xy[dj, 0] - pred_xy[ti, 0]
    dy = det_xy[dj, 1] - pred_xy[ti, 1]
    return (e * dx * dx - 2.0 * b * dx * dy + a * dy * dy) / det_s, det_s


def assign(
    ti: np.ndarray,
    dj: np.ndarray,
    d2: np.ndarray,
    det_s: np.ndarray,
    *,
    gate_d2: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Optimal pairs (track index, detection index) among the candidates inside the gate.

    The cost is the negative log likelihood up to a constant, ``d2 + ln|S|``, so a sharp track
    is not outbid by a vague one at the same distance.
    """
    ok = d2 <= gate_d2
    if not ok.any():
        return _EMPTY, _EMPTY
    ti, dj = ti[ok], dj[ok]
    # only rows and columns with a candidate enter the Hungarian step
    rows_u, ti_c = np.unique(ti, return_inverse=True)
    cols_u, dj_c = np.unique(dj, return_inverse=True)
    cost = np.full((rows_u.size, cols_u.size), _INFEASIBLE)
    cost[ti_c, dj_c] = d2[ok] + np.log(det_s[ok])
    feasible = np.zeros(cost.shape, dtype=bool)
    feasible[ti_c, dj_c] = True
    r, c = linear_sum_assignment(cost)
    good = feasible[r, c]
    return rows_u[r[good]].astype(np.int64), cols_u[c[good]].astype(np.int64)

"""Constant-velocity prediction of object states ``[x, y, vx, vy]``, vectorised over objects.

Reported objects carry only position, velocity and their 4x4 covariance, so time alignment
uses the constant-velocity model with white-noise acceleration (the discretised continuous
model, Bar-Shalom et al. 2001, §6.2.2). The onboard tracker's IMM (``perception_nodes.tracking``)
needs a turn rate and mode probabilities that a received object does not have.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def predict_cv(
    x: np.ndarray, p: np.ndarray, dt_s: np.ndarray, accel_sigma_mps2: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Predict states (N, 4) and covariances (N, 4, 4) by ``dt_s`` (N,) seconds each.

    ``accel_sigma_mps2`` is the white-noise acceleration std, per object or one for all.
    Negative ``dt_s`` (retrodiction) is allowed; the process noise uses ``|dt_s|``.
    """
    n = x.shape[0]
    dt = np.asarray(dt_s, dtype=float).reshape(n)
    q = np.asarray(accel_sigma_mps2, dtype=float) ** 2  # (N,) or one for all
    if 0 < n <= SCALAR_ROWS:
        try:
            return predict_few(list(x), list(p), dt.tolist(), np.broadcast_to(q, (n,)).tolist())
        except OverflowError:  # |dt|³ beyond a float: numpy's inf, below
            pass
    return _predict_arrays(x, p, dt, q)


def _predict_arrays(
    x: np.ndarray, p: np.ndarray, dt: np.ndarray, q: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``predict_cv`` on arrays: ``dt`` (N,), ``q`` the variances (N,) or one for all."""
    n = x.shape[0]
    xp = x.copy()
    xp[:, :2] += dt[:, None] * x[:, 2:]
    # F P F^T for F = [[I, dt I], [0, I]] written out per block (no (N,4,4) matmuls)
    pp = p.copy()
    d = dt[:, None, None]
    pp[:, :2, :] += d * p[:, 2:, :]
    pp[:, :, :2] += d * pp[:, :, 2:]
    adt = np.abs(dt)
    q11 = q * adt**3 / 3.0
    q12 = q * adt**2 / 2.0
    q22 = q * adt
    # the same Q block [[q11, q12], [q12, q22]] on (x, vx) and on (y, vy): strided views
    block = np.empty((n, 2, 2))  # filled entry by entry (np.stack's wrappers cost more)
    block[:, 0, 0] = q11
    block[:, 0, 1] = q12
    block[:, 1, 0] = q12
    block[:, 1, 1] = q22
    pp[:, 0::2, 0::2] += block
    pp[:, 1::2, 1::2] += block
    return xp, pp


# up to this many objects the prediction runs on Python floats: a car's fusion predicts one
# or two reports a cycle that no other car predicted before it (``CycleMemo``), where the
# thirty numpy calls of the array form cost more than the arithmetic
SCALAR_ROWS = 6


def predict_few(
    states: Sequence[np.ndarray],
    covs: Sequence[np.ndarray],
    dts: Sequence[float],
    variances: Sequence[float],
) -> tuple[np.ndarray, np.ndarray]:
    """``predict_cv`` of a few objects, given as rows (a state (4,) and covariance (4, 4)
    each), their steps and acceleration variances (σ², as ``accel_sigma_mps2 ** 2``), on
    Python floats: the same IEEE operations in the same order as the array form (``|dt|**3``
    is libm's pow, as numpy's; numpy squares ``adt**2``), so the same bits. Raises
    OverflowError where ``|dt|**3`` overflows (the array form gives inf)."""
    xs: list[float] = []
    ps: list[float] = []
    for state, cov, dt, q in zip(states, covs, dts, variances, strict=True):
        x0, x1, v0, v1 = state.tolist()
        (p00, p01, p02, p03), (p10, p11, p12, p13), (c0, c1, c2, c3), (d0, d1, d2, d3) = (
            cov.tolist()
        )
        # rows 0, 1 += dt * rows 2, 3; then columns 0, 1 += dt * columns 2, 3; then Q
        a0, a1, a2, a3 = p00 + dt * c0, p01 + dt * c1, p02 + dt * c2, p03 + dt * c3
        b0, b1, b2, b3 = p10 + dt * d0, p11 + dt * d1, p12 + dt * d2, p13 + dt * d3
        adt = abs(dt)
        q11 = q * adt**3 / 3.0
        q12 = q * (adt * adt) / 2.0
        q22 = q * adt
        xs += (x0 + dt * v0, x1 + dt * v1, v0, v1)
        ps += (
            (a0 + dt * a2) + q11, a1 + dt * a3, a2 + q12, a3,
            b0 + dt * b2, (b1 + dt * b3) + q11, b2, b3 + q12,
            (c0 + dt * c2) + q12, c1 + dt * c3, c2 + q22, c3,
            d0 + dt * d2, (d1 + dt * d3) + q12, d2, d3 + q22,
        )  # fmt: skip
    n = len(xs) // 4
    return np.array(xs).reshape(n, 4), np.array(ps).reshape(n, 4, 4)

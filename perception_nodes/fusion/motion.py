"""Constant-velocity prediction of object states ``[x, y, vx, vy]``, vectorised over objects.

Reported objects carry only position, velocity and their 4x4 covariance, so time alignment
uses the constant-velocity model with white-noise acceleration (the discretised continuous
model, Bar-Shalom et al. 2001, §6.2.2). The onboard tracker's IMM (``perception_nodes.tracking``)
needs a turn rate and mode probabilities that a received object does not have.
"""

from __future__ import annotations

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
            return _predict_few(x, p, dt.tolist(), np.broadcast_to(q, (n,)).tolist())
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
# thirty numpy calls below cost more than the arithmetic
SCALAR_ROWS = 8


def _predict_few(
    x: np.ndarray, p: np.ndarray, dts: list[float], qs: list[float]
) -> tuple[np.ndarray, np.ndarray]:
    """``predict_cv`` row by row on Python floats: the same IEEE operations in the same order
    (``|dt|**3`` is libm's pow, as numpy's; ``adt**2`` numpy squares), so the same bits."""
    xs, ps = [], []
    for (x0, x1, v0, v1), (a, b, c, d), dt, q in zip(x.tolist(), p.tolist(), dts, qs, strict=True):
        xs.append([x0 + dt * v0, x1 + dt * v1, v0, v1])
        # rows 0, 1 += dt * rows 2, 3; then columns 0, 1 += dt * columns 2, 3
        r0 = [a[0] + dt * c[0], a[1] + dt * c[1], a[2] + dt * c[2], a[3] + dt * c[3]]
        r1 = [b[0] + dt * d[0], b[1] + dt * d[1], b[2] + dt * d[2], b[3] + dt * d[3]]
        rows = [r0, r1, c, d]  # c and d are this call's own lists
        for r in rows:
            r[0] = r[0] + dt * r[2]
            r[1] = r[1] + dt * r[3]
        adt = abs(dt)
        q11 = q * adt**3 / 3.0
        q12 = q * (adt * adt) / 2.0
        q22 = q * adt
        r0[0] += q11
        r0[2] += q12
        c[0] += q12
        c[2] += q22
        r1[1] += q11
        r1[3] += q12
        d[1] += q12
        d[3] += q22
        ps.append(rows)
    return np.array(xs, dtype=float), np.array(ps, dtype=float)

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

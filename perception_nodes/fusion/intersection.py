"""Track-to-track fusion of pairs of estimates, vectorised over pairs.

Covariance intersection (Julier & Uhlmann 1997) is consistent whatever the unknown
cross-correlation between the two estimates (a roadside track and an onboard track of the
same car share the car's manoeuvres, and relayed V2X data may share sensors):

    P⁻¹ = ω A⁻¹ + (1 - ω) B⁻¹,    x = P (ω A⁻¹ a + (1 - ω) B⁻¹ b),    ω ∈ [0, 1].

``ci`` picks ω minimising det P (exactly, through the generalised eigenvalues; all pairs at
once); ``fast_ci`` uses
the closed form of Fränken & Hüpper (2005), ω = (det(Iₐ+I_b) - det I_b + det Iₐ) / (2 det(Iₐ+I_b)),
clipped to [0, 1]; ``independent`` is the information sum (ω = 1 on both), right only when the
errors are known to be uncorrelated and overconfident otherwise.
"""

from __future__ import annotations

from enum import Enum

import numpy as np


class FusionMethod(Enum):
    CI = 'ci'
    FAST_CI = 'fast_ci'
    INDEPENDENT = 'independent'


def _sym(p: np.ndarray) -> np.ndarray:
    return 0.5 * (p + np.swapaxes(p, -1, -2))


def optimal_omega(ia: np.ndarray, ib: np.ndarray, iterations: int = 24) -> np.ndarray:
    """ω ∈ [0, 1] maximising det of the fused information, per pair (K,).

    With λᵢ the generalised eigenvalues of (Iₐ, I_b), det(ω Iₐ + (1-ω) I_b) =
    det I_b · ∏ (1 + ω (λᵢ - 1)): one batched eigen-decomposition turns the search into a
    scalar concave problem per pair, whose derivative Σ (λᵢ-1) / (1 + ω(λᵢ-1)) falls
    monotonically in ω. Bisection on its sign (24 halvings: 6e-8) is exact enough and cheap.
    """
    k = ia.shape[0]
    if k == 0:
        return np.zeros(0)
    linv = np.linalg.inv(np.linalg.cholesky(ib))
    lam = np.linalg.eigvalsh(linv @ ia @ np.swapaxes(linv, -1, -2))  # (K, n), all > 0
    d = lam - 1.0
    if k <= SCALAR_PAIRS:
        return np.array([_bisect_omega(row, iterations) for row in d.tolist()])

    def slope(w: np.ndarray) -> np.ndarray:
        return (d / (1.0 + w[:, None] * d)).sum(axis=1)

    lo, hi = np.zeros(k), np.ones(k)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        up = slope(mid) > 0.0
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    w = 0.5 * (lo + hi)
    w = np.where(slope(np.zeros(k)) <= 0.0, 0.0, w)  # B alone is best
    return np.where(slope(np.ones(k)) >= 0.0, 1.0, w)  # A alone is best


# up to this many pairs the bisection runs on Python floats (a few pairs a cycle is the
# common case: two dozen small numpy calls per halving cost more than the arithmetic)
SCALAR_PAIRS = 8


def _slope(d: list[float], w: float) -> float:
    total = 0.0  # summed in order, as numpy sums a row this short: the same bits
    for x in d:
        total += x / (1.0 + w * x)
    return total


def _bisect_omega(d: list[float], iterations: int) -> float:
    """``optimal_omega`` of one pair from its ``λᵢ - 1`` (same steps, same result)."""
    if _slope(d, 1.0) >= 0.0:
        return 1.0  # A alone is best
    if _slope(d, 0.0) <= 0.0:
        return 0.0  # B alone is best
    lo, hi = 0.0, 1.0
    if len(d) == 4:  # a state of four: the sum written out, in the same order
        d0, d1, d2, d3 = d
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            # 0.0 + the first term is the first term (a -0.0 becomes 0.0: the same sign test)
            if (
                d0 / (1.0 + mid * d0)
                + d1 / (1.0 + mid * d1)
                + d2 / (1.0 + mid * d2)
                + d3 / (1.0 + mid * d3)
                > 0.0
            ):
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        total = 0.0  # _slope(d, mid), inline: this loop is the hot one
        for x in d:
            total += x / (1.0 + mid * x)
        if total > 0.0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def fast_omega(ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Fränken-Hüpper closed-form ω (improved fast CI), per pair."""
    d_sum = np.linalg.det(ia + ib)
    w = (d_sum - np.linalg.det(ib) + np.linalg.det(ia)) / (2.0 * d_sum)
    return np.clip(w, 0.0, 1.0)


def fuse_pairs(
    a: np.ndarray,
    pa: np.ndarray,
    b: np.ndarray,
    pb: np.ndarray,
    method: FusionMethod = FusionMethod.CI,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fuse estimates ``a`` (K, n) / ``pa`` (K, n, n) with ``b`` / ``pb``.

    Returns the fused states, covariances and ω per pair (1.0 for ``independent``).
    Covariances must be positive definite.
    """
    k = a.shape[0]
    if k == 0:
        return a.copy(), pa.copy(), np.zeros(0)
    inverses = np.linalg.inv(np.concatenate((pa, pb)))  # one call: each matrix on its own
    ia, ib = inverses[:k], inverses[k:]
    if method is FusionMethod.INDEPENDENT:
        info = ia + ib
        wa = ia
        wb = ib
        w = np.ones(k)
    else:
        w = optimal_omega(ia, ib) if method is FusionMethod.CI else fast_omega(ia, ib)
        wk = w[:, None, None]
        wa = wk * ia
        wb = (1.0 - wk) * ib
        info = wa + wb
    p = _sym(np.linalg.inv(info))
    x = np.einsum('kij,kj->ki', p, np.einsum('kij,kj->ki', wa, a) + np.einsum('kij,kj->ki', wb, b))
    return x, p, w

"""Covariance intersection: PSD, consistent for any cross-correlation, ω optimal, fast CI."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perception_nodes.fusion import intersection
from perception_nodes.fusion.intersection import (
    FusionMethod,
    fast_omega,
    fuse_pairs,
    optimal_omega,
)


def _spd(rng, n=4, k=1):
    a = rng.normal(size=(k, n, n))
    return a @ np.swapaxes(a, 1, 2) + 0.05 * np.eye(n)


seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=60, deadline=None)
@given(seeds, st.floats(-0.99, 0.99))
def test_ci_is_psd_and_consistent_for_any_correlation(seed, rho):
    """For a joint error covariance [[A, C], [Cᵀ, B]] with any admissible C, the CI
    covariance bounds the true error covariance of the CI estimate (P_ci − P_true ⪰ 0)."""
    rng = np.random.default_rng(seed)
    a, b = _spd(rng)[0], _spd(rng)[0]
    la, lb = np.linalg.cholesky(a), np.linalg.cholesky(b)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    c = rho * la @ q @ lb.T  # ‖la⁻¹ C lb⁻ᵀ‖ = |rho| < 1: the joint matrix stays PSD
    joint = np.block([[a, c], [c.T, b]])
    assert np.linalg.eigvalsh(joint).min() > -1e-9
    for method in (FusionMethod.CI, FusionMethod.FAST_CI):
        x, p, w = fuse_pairs(np.zeros((1, 4)), a[None], np.zeros((1, 4)), b[None], method)
        assert np.allclose(x, 0.0)
        assert np.linalg.eigvalsh(p[0]).min() > 0
        assert 0.0 <= w[0] <= 1.0
        # the estimate is K_a x_a + K_b x_b with gains from P_ci; its true error covariance:
        ia, ib = np.linalg.inv(a), np.linalg.inv(b)
        ka, kb = p[0] @ (w[0] * ia), p[0] @ ((1 - w[0]) * ib)
        gain = np.hstack([ka, kb])
        true = gain @ joint @ gain.T
        assert np.linalg.eigvalsh(p[0] - true).min() > -1e-8 * np.trace(p[0])


@settings(max_examples=40, deadline=None)
@given(seeds)
def test_optimal_omega_is_no_worse_than_a_grid_and_than_either_input(seed):
    rng = np.random.default_rng(seed)
    a, b = _spd(rng, k=3), _spd(rng, k=3)
    ia, ib = np.linalg.inv(a), np.linalg.inv(b)
    w = optimal_omega(ia, ib)
    grid = np.linspace(0, 1, 201)
    for k in range(3):
        best = max(np.linalg.det(g * ia[k] + (1 - g) * ib[k]) for g in grid)
        got = np.linalg.det(w[k] * ia[k] + (1 - w[k]) * ib[k])
        assert got >= best * (1 - 1e-6)
    _, p, _ = fuse_pairs(np.zeros((3, 4)), a, np.zeros((3, 4)), b)
    assert (np.linalg.det(p) <= np.minimum(np.linalg.det(a), np.linalg.det(b)) * (1 + 1e-9)).all()


@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(1, intersection.SCALAR_PAIRS))
def test_the_scalar_bisection_of_a_few_pairs_is_the_vectorised_one_bit_for_bit(seed, k):
    rng = np.random.default_rng(seed)
    ia, ib = np.linalg.inv(_spd(rng, k=k)), np.linalg.inv(_spd(rng, k=k))
    ib[0] = 3.0 * ia[0]  # one pair where a single input is best (ω at a bound)
    scalar = optimal_omega(ia, ib)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(intersection, 'SCALAR_PAIRS', 0)
        vectorised = optimal_omega(ia, ib)
    assert np.array_equal(scalar, vectorised)
    assert scalar[0] in (0.0, 1.0)


@settings(max_examples=40, deadline=None)
@given(seeds)
def test_fast_omega_in_unit_interval_and_symmetric(seed):
    rng = np.random.default_rng(seed)
    ia, ib = _spd(rng, k=4), _spd(rng, k=4)
    w = fast_omega(ia, ib)
    assert ((w >= 0) & (w <= 1)).all()
    assert np.allclose(fast_omega(ib, ia), 1 - w, atol=1e-9)


def test_ci_of_an_estimate_with_itself_is_itself():
    rng = np.random.default_rng(3)
    a = _spd(rng, k=2)
    x = rng.normal(size=(2, 4))
    xf, pf, _ = fuse_pairs(x, a, x, a)
    assert np.allclose(xf, x) and np.allclose(pf, a)


def test_ci_picks_the_sharper_of_two_isotropic_estimates():
    a = np.eye(4)[None] * 0.1
    b = np.eye(4)[None] * 1.0
    x, p, w = fuse_pairs(np.zeros((1, 4)), a, np.ones((1, 4)), b)
    assert w[0] == 1.0 and np.allclose(p, a) and np.allclose(x, 0.0)


def test_independent_rule_is_the_information_sum():
    rng = np.random.default_rng(4)
    a, b = _spd(rng, k=2), _spd(rng, k=2)
    xa, xb = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    x, p, _ = fuse_pairs(xa, a, xb, b, FusionMethod.INDEPENDENT)
    ia, ib = np.linalg.inv(a), np.linalg.inv(b)
    assert np.allclose(p, np.linalg.inv(ia + ib))
    want = np.einsum(
        'kij,kj->ki', p, np.einsum('kij,kj->ki', ia, xa) + np.einsum('kij,kj->ki', ib, xb)
    )
    assert np.allclose(x, want)


def test_ci_gains_on_crossed_ellipses():
    """Two estimates sharp in different directions: CI is sharper than both."""
    a = np.diag([0.01, 1.0, 0.01, 1.0])[None]
    b = np.diag([1.0, 0.01, 1.0, 0.01])[None]
    _, p, w = fuse_pairs(np.zeros((1, 4)), a, np.zeros((1, 4)), b)
    assert 0.4 < w[0] < 0.6
    assert np.trace(p[0]) < 0.1


def test_empty_input():
    x, p, w = fuse_pairs(
        np.zeros((0, 4)), np.zeros((0, 4, 4)), np.zeros((0, 4)), np.zeros((0, 4, 4))
    )
    assert x.shape == (0, 4) and p.shape == (0, 4, 4) and w.shape == (0,)

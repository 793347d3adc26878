"""Gating and the optimal assignment."""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from perception_nodes.fusion.association import (
    INFEASIBLE,
    assign,
    gated_costs,
    position_distances,
)

seeds = st.integers(0, 2**32 - 1)


def _spd(rng, k):
    a = rng.normal(size=(k, 4, 4)) * 0.5
    return a @ np.swapaxes(a, 1, 2) + 0.05 * np.eye(4)


@settings(max_examples=50, deadline=None)
@given(seeds, st.integers(1, 6), st.integers(1, 6))
def test_distance_is_the_mahalanobis_distance_and_symmetric(seed, na, nb):
    rng = np.random.default_rng(seed)
    xa, xb = rng.normal(size=(na, 4)) * 3, rng.normal(size=(nb, 4)) * 3
    pa, pb = _spd(rng, na), _spd(rng, nb)
    d2, logdet = position_distances(xa, pa, xb, pb)
    d2_rev, _ = position_distances(xb, pb, xa, pa)
    assert np.allclose(d2, d2_rev.T)
    for i, j in itertools.product(range(na), range(nb)):
        s = pa[i, :2, :2] + pb[j, :2, :2]
        v = xb[j, :2] - xa[i, :2]
        assert np.isclose(d2[i, j], v @ np.linalg.solve(s, v))
        assert np.isclose(logdet[i, j], np.log(np.linalg.det(s)))


@settings(max_examples=10, deadline=None)
@given(seeds)
def test_gate_holds_the_chi_square_fraction_of_true_pairs(seed):
    """Pairs of estimates of the same point, errors drawn from their covariances: the 99 %
    gate keeps about 99 % of them."""
    rng = np.random.default_rng(seed)
    n = 1000
    pa, pb = _spd(rng, n), _spd(rng, n)
    xa = (np.linalg.cholesky(pa) @ rng.normal(size=(n, 4, 1)))[..., 0]
    xb = (np.linalg.cholesky(pb) @ rng.normal(size=(n, 4, 1)))[..., 0]
    d2 = np.array(
        [
            position_distances(xa[i : i + 1], pa[i : i + 1], xb[i : i + 1], pb[i : i + 1])[0][0, 0]
            for i in range(n)
        ]
    )
    inside = np.mean(d2 <= chi2.ppf(0.99, 2))
    assert 0.975 <= inside <= 1.0


@settings(max_examples=50, deadline=None)
@given(seeds, st.integers(1, 5), st.integers(1, 5))
def test_assignment_is_optimal_and_feasible(seed, na, nb):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(-3, 10, size=(na, nb))
    cost[rng.random((na, nb)) < 0.4] = INFEASIBLE
    rows, cols = assign(cost)
    assert (cost[rows, cols] < INFEASIBLE).all()
    assert len(set(rows)) == len(rows) and len(set(cols)) == len(cols)
    # brute force: no feasible matching of the same size or larger costs less
    best = 0.0
    found = None
    small, large = (na, nb) if na <= nb else (nb, na)
    for perm in itertools.permutations(range(large), small):
        pairs = [(i, p) for i, p in enumerate(perm)]
        pairs = [(i, p) if na <= nb else (p, i) for i, p in pairs]
        feas = [(i, j) for i, j in pairs if cost[i, j] < INFEASIBLE]
        total = sum(cost[i, j] for i, j in feas) + INFEASIBLE * (len(pairs) - len(feas))
        if found is None or total < found:
            found, best = total, len(feas)
    assert len(rows) == best


def test_class_gate_keeps_vehicles_and_pedestrians_apart():
    x = np.zeros((1, 4))
    p = np.eye(4)[None]
    for ga, gb, ok in [(1, 2, False), (1, 1, True), (0, 2, True), (2, 0, True), (2, 2, True)]:
        cost = gated_costs(
            (x, p, np.array([ga])), (x, p, np.array([gb])), gate_chi2=9.2, gate_max_m=5.0
        )
        assert (cost[0, 0] < INFEASIBLE) == ok


def test_euclidean_gate_stops_vague_estimates_pairing_far_apart():
    xa = np.zeros((1, 4))
    xb = np.array([[10.0, 0, 0, 0]])
    vague = np.eye(4)[None] * 400.0
    cost = gated_costs(
        (xa, vague, np.zeros(1, int)), (xb, vague, np.zeros(1, int)), gate_chi2=9.2, gate_max_m=6.0
    )
    assert cost[0, 0] == INFEASIBLE
    cost = gated_costs(
        (xa, vague, np.zeros(1, int)), (xb, vague, np.zeros(1, int)), gate_chi2=9.2, gate_max_m=20.0
    )
    assert cost[0, 0] < INFEASIBLE


def test_empty_sides():
    e = (np.zeros((0, 4)), np.zeros((0, 4, 4)), np.zeros(0, int))
    one = (np.zeros((1, 4)), np.eye(4)[None], np.zeros(1, int))
    assert gated_costs(e, one, gate_chi2=9, gate_max_m=5).shape == (0, 1)
    rows, cols = assign(np.zeros((0, 3)))
    assert len(rows) == len(cols) == 0

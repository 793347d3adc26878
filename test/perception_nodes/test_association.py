"""Association: distance pre-gate, Mahalanobis gate, globally optimal assignment."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from perception_nodes.tracking.association import assign, candidate_pairs, mahalanobis_pairs


def _score(track_xy, det_xy, var=0.25, max_m=6.0, gate=13.8):
    p = np.tile(np.eye(2) * var, (len(track_xy), 1, 1))
    ti, dj = candidate_pairs(track_xy, det_xy, max_m)
    d2, det_s = mahalanobis_pairs(track_xy, p, det_xy, np.full(len(det_xy), var), ti=ti, dj=dj)
    return assign(ti, dj, d2, det_s, gate_d2=gate)


def test_global_optimum_beats_greedy():
    """Greedy would give detection 0 to track 0 (0.9 m) and leave track 1 unmatched."""
    tracks = np.array([[0.0, 0.0], [1.6, 0.0]])
    dets = np.array([[0.9, 0.0], [-0.8, 0.0]])
    rows, cols = _score(tracks, dets)
    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == [(0, 1), (1, 0)]


def test_far_pairs_and_gated_pairs_are_left_out():
    tracks = np.array([[0.0, 0.0], [50.0, 0.0]])
    dets = np.array([[0.3, 0.0], [57.0, 0.0], [53.0, 0.0]])
    rows, cols = _score(tracks, dets, var=0.1)
    # (1, 1) is beyond the 6 m pre-gate, (1, 2) beyond the chi-square gate at var 0.1
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [(0, 0)]


def test_mahalanobis_matches_the_matrix_form():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 2, 2))
    p = a @ np.swapaxes(a, 1, 2) + np.eye(2) * 0.1
    tracks, dets = rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    var = rng.uniform(0.01, 1.0, 3)
    ti, dj = np.repeat(np.arange(4), 3), np.tile(np.arange(3), 4)
    d2, det_s = mahalanobis_pairs(tracks, p, dets, var, ti=ti, dj=dj)
    for k, (i, j) in enumerate(zip(ti, dj, strict=True)):
        s = p[i] + np.eye(2) * var[j]
        nu = dets[j] - tracks[i]
        assert d2[k] == pytest.approx(nu @ np.linalg.solve(s, nu))
        assert det_s[k] == pytest.approx(np.linalg.det(s))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), n_t=st.integers(0, 12), n_d=st.integers(0, 12))
def test_assignment_equals_dense_hungarian(seed, n_t, n_d):
    """The sparse assignment gives the dense optimum over the gated pairs."""
    rng = np.random.default_rng(seed)
    tracks, dets = rng.uniform(0, 15, (n_t, 2)), rng.uniform(0, 15, (n_d, 2))
    rows, cols = _score(tracks, dets, var=0.5, max_m=4.0, gate=9.0)
    assert len(set(rows.tolist())) == rows.size and len(set(cols.tolist())) == cols.size
    if n_t == 0 or n_d == 0:
        assert rows.size == 0
        return
    d = np.linalg.norm(tracks[:, None] - dets[None], axis=-1)
    s = 0.5 + 0.5
    d2 = d**2 / s
    ok = (d <= 4.0) & (d2 <= 9.0)
    cost = np.where(ok, d2 + np.log(s * s), 1e9)
    r, c = linear_sum_assignment(cost)
    good = ok[r, c]
    dense = cost[r[good], c[good]].sum()
    got = cost[rows, cols].sum()
    assert rows.size == good.sum()
    assert got == pytest.approx(dense)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**16), n_t=st.integers(1, 60), n_d=st.integers(1, 60))
def test_candidate_pairs_are_those_a_kd_tree_finds(seed, n_t, n_d):
    """Few tracks and detections take a distance matrix, many two k-d trees: same pairs."""
    rng = np.random.default_rng(seed)
    tracks, dets = rng.uniform(-30, 30, (n_t, 2)), rng.uniform(-30, 30, (n_d, 2))
    ti, dj = candidate_pairs(tracks, dets, 6.0)
    ref = cKDTree(tracks).sparse_distance_matrix(cKDTree(dets), 6.0, output_type='ndarray')
    assert sorted(zip(ti.tolist(), dj.tolist(), strict=True)) == sorted(
        zip(ref['i'].tolist(), ref['j'].tolist(), strict=True)
    )

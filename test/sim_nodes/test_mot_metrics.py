"""CLEAR-MOT and IDF1 on hand-made sequences with known answers, and their bounds."""

from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from sim_nodes.report import mot_metrics
from sim_nodes.report.mot_metrics import Frame, MotResult, _idf1, evaluate_mot


def frame(gt, tracks):
    return Frame(
        [g for g, _ in gt],
        np.array([p for _, p in gt], float).reshape(-1, 2),
        [t for t, _ in tracks],
        np.array([p for _, p in tracks], float).reshape(-1, 2),
    )


def test_perfect_tracking():
    frames = [
        frame([(1, (k, 0)), (2, (0, k))], [(10, (k + 0.1, 0)), (20, (0, k))]) for k in range(1, 11)
    ]
    r = evaluate_mot(frames)
    assert (r.mota, r.idf1, r.id_switches, r.misses, r.false_positives) == (1.0, 1.0, 0, 0, 0)
    assert r.motp_m == pytest.approx(0.05)


def test_one_identity_switch_halfway():
    frames = [frame([(1, (k, 0))], [(10 if k < 5 else 11, (k, 0))]) for k in range(10)]
    r = evaluate_mot(frames)
    assert r.id_switches == 1
    assert r.mota == pytest.approx(1 - 1 / 10)
    assert r.idf1 == pytest.approx(0.5)  # the best single identity covers half the frames


def test_misses_and_false_positives():
    frames = [
        frame([(1, (0, 0)), (2, (10, 0))], [(7, (0.5, 0))]),  # 2 missed
        frame([(1, (1, 0))], [(7, (1, 0)), (8, (50, 50))]),  # a false positive far away
    ]
    r = evaluate_mot(frames)
    assert (r.ground_truth, r.misses, r.false_positives, r.matches) == (3, 1, 1, 2)
    assert r.mota == pytest.approx(1 - 2 / 3)


def test_a_track_beyond_the_gate_is_not_a_match():
    r = evaluate_mot([frame([(1, (0, 0))], [(5, (3, 0))])], gate_m=2.0)
    assert (r.misses, r.false_positives, r.matches) == (1, 1, 0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.integers(0, 5), max_size=4, unique=True),
            st.lists(st.integers(0, 5), max_size=4, unique=True),
            st.floats(0, 3),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_bounds(seq):
    frames = [
        frame([(g, (g * 5.0, 0)) for g in gs], [(t, (t * 5.0 + off, 0)) for t in ts])
        for gs, ts, off in seq
    ]
    r = evaluate_mot(frames)
    if r.ground_truth:
        assert r.mota <= 1.0
        assert r.misses + r.matches == r.ground_truth
    if not np.isnan(r.idf1):
        assert 0.0 <= r.idf1 <= 1.0


def _distances(a, b):
    """The frame's distances as ``evaluate_mot`` first computed them (``np.linalg.norm``)."""
    a, b = np.asarray(a, float).reshape(-1, 2), np.asarray(b, float).reshape(-1, 2)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)


def _idf1_pair_by_pair(frames, gate_m=2.0):
    """IDF1 with the gated pairs counted entry by entry (the loop ``evaluate_mot`` had)."""
    pairs, gt_count, tr_count = defaultdict(int), defaultdict(int), defaultdict(int)
    for f in frames:
        for g in f.gt_ids:
            gt_count[g] += 1
        for t in f.track_ids:
            tr_count[t] += 1
        d = _distances(f.gt_xy, f.track_xy)
        for gi, g in enumerate(f.gt_ids):
            for ti, t in enumerate(f.track_ids):
                if d[gi, ti] <= gate_m:
                    pairs[g, t] += 1
    return _idf1(pairs, gt_count, tr_count)


_point = st.tuples(st.integers(0, 4), st.floats(-4, 4), st.floats(-4, 4))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.lists(_point, max_size=5), st.lists(_point, max_size=5)), max_size=8))
def test_idf1_counts_the_gated_pairs_as_an_entry_by_entry_loop(raw):
    """Ids may repeat inside a frame and positions may coincide: the gated pairs found by one
    array comparison give the IDF1 of the entry-by-entry loop."""
    frames = [
        frame([(g, (x, y)) for g, x, y in gts], [(10 + t, (x, y)) for t, x, y in tracks])
        for gts, tracks in raw
    ]
    got = evaluate_mot(frames).idf1
    want = _idf1_pair_by_pair(frames)
    assert got == want or (np.isnan(got) and np.isnan(want))


def _mot_frame_by_frame(frames, gate_m=2.0):
    """``evaluate_mot`` as it was: the distances, the continuing matches and the solver frame
    by frame."""
    gt_total = fn = fp = idsw = matches = 0
    dist_sum = 0.0
    last = {}
    pair_frames, gt_count, tr_count = defaultdict(int), defaultdict(int), defaultdict(int)
    for f in frames:
        g_ids, t_ids = list(f.gt_ids), list(f.track_ids)
        gt_total += len(g_ids)
        for g in g_ids:
            gt_count[g] += 1
        for t in t_ids:
            tr_count[t] += 1
        d = _distances(f.gt_xy, f.track_xy)
        near_g, near_t = np.nonzero(d <= gate_m)
        for gi, ti in zip(near_g.tolist(), near_t.tolist(), strict=True):
            pair_frames[g_ids[gi], t_ids[ti]] += 1
        matched = {}
        for gi, g in enumerate(g_ids):
            t = last.get(g)
            if t in t_ids:
                ti = t_ids.index(t)
                if d[gi, ti] <= gate_m and ti not in matched.values():
                    matched[gi] = ti
        free_g = [i for i in range(len(g_ids)) if i not in matched]
        free_t = [i for i in range(len(t_ids)) if i not in matched.values()]
        if free_g and free_t:
            sub = d[np.ix_(free_g, free_t)]
            cost = np.where(sub <= gate_m, sub, 1e6)
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] < 1e6:
                    matched[free_g[r]] = free_t[c]
        for gi, ti in matched.items():
            g, t = g_ids[gi], t_ids[ti]
            if g in last and last[g] != t:
                idsw += 1
            last[g] = t
            dist_sum += d[gi, ti]
        matches += len(matched)
        fn += len(g_ids) - len(matched)
        fp += len(t_ids) - len(matched)
    mota = 1.0 - (fn + fp + idsw) / gt_total if gt_total else float('nan')
    motp = dist_sum / matches if matches else float('nan')
    return MotResult(mota, motp, _idf1(pair_frames, gt_count, tr_count), gt_total, fn, fp, idsw,
                     matches)  # fmt: skip


# (id, x, y): ids repeat, points near one of six places 3 m apart (alone or crowded in a gate)
_crowd = st.builds(
    lambda i, place, dx, dy: (i, 3.0 * place + dx, dy),
    st.integers(0, 3),
    st.integers(0, 5),
    st.floats(-1.2, 1.2),
    st.floats(-1.2, 1.2),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(_crowd, max_size=6),
            st.lists(_crowd, max_size=6),
            st.sampled_from([0.0, np.nan, np.inf]),
        ),
        max_size=30,
    ),
    st.integers(1, 40),
)
def test_the_frames_in_arrays_score_as_frame_by_frame(raw, chunk):
    """Crowded frames (two entries inside one gate), ids repeated inside a frame, tracks
    that stay or switch, a non-finite position now and then, frames stacked in chunks of
    any size: every count and float equals the frame-by-frame loop's."""
    frames = []
    for gts, tracks, bad in raw:
        track_xy = np.array([(x, y) for _, x, y in tracks], float).reshape(-1, 2)
        if len(track_xy) and bad:
            track_xy[0, 0] = bad
        frames.append(
            Frame(
                [g for g, _, _ in gts],
                np.array([(x, y) for _, x, y in gts], float).reshape(-1, 2),
                [10 + t for t, _, _ in tracks],
                track_xy,
            )
        )
    want = _mot_frame_by_frame(frames)
    old_chunk = mot_metrics.CHUNK_ENTRIES
    mot_metrics.CHUNK_ENTRIES = chunk
    try:
        got = evaluate_mot(frames)
    finally:
        mot_metrics.CHUNK_ENTRIES = old_chunk
    same = [a == b or (np.isnan(a) and np.isnan(b)) for a, b in zip(
        got.as_dict().values(), want.as_dict().values(), strict=True)]  # fmt: skip
    assert all(same), (got, want)

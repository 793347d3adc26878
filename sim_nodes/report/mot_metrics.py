"""Tracking metrics against ground truth: CLEAR-MOT (MOTA, MOTP) and IDF1.

CLEAR-MOT (Bernardin & Stiefelhagen 2008): per frame, keep last frame's matches that are
still within the gate, match the rest by Hungarian assignment on distance; count misses,
false positives and identity switches; MOTA = 1 - (FN + FP + IDSW) / GT, MOTP = mean
distance of matches. IDF1 (Ristani et al. 2016): one global assignment between ground-truth
and track identities maximising the frames they are matched in (the same gate), then
IDF1 = 2 IDTP / (2 IDTP + IDFP + IDFN).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class Frame:
    """One time step: ground-truth ids and positions, track ids and positions (m)."""

    gt_ids: Sequence[int]
    gt_xy: np.ndarray  # (G, 2)
    track_ids: Sequence[int]
    track_xy: np.ndarray  # (T, 2)


@dataclass(frozen=True)
class MotResult:
    mota: float
    motp_m: float
    idf1: float
    ground_truth: int
    misses: int
    false_positives: int
    id_switches: int
    matches: int

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def evaluate_mot(frames: Sequence[Frame], gate_m: float = 2.0) -> MotResult:
    """CLEAR-MOT and IDF1 of ``frames`` (in time order).

    The distances of every frame come from one array pass per chunk of frames (``_gated``);
    what stays per frame is what depends on the frames before it (the matches kept from the
    last frame). A frame where no road user and no track has two entries inside the gate
    (most frames) is matched without the solver: every entry inside the gate is then a match
    whatever the order (any assignment without one costs about 1e6 more), the continuing
    ones first as the solver path would take them. ``_evaluate_frame`` is that path, kept
    for the other frames; a test holds the two equal."""
    gt_total = fn = fp = idsw = matches = 0
    dist_sum = 0.0
    last: dict[int, int] = {}  # gt id -> track id it was matched to last time
    pair_frames: Counter[tuple[int, int]] = Counter()
    gt_count: Counter[int] = Counter()
    tr_count: Counter[int] = Counter()
    for chunk in _chunks(frames):
        g_lists = [list(f.gt_ids) for f in chunk]
        t_lists = [list(f.track_ids) for f in chunk]
        g_flat, t_flat = list(chain.from_iterable(g_lists)), list(chain.from_iterable(t_lists))
        gt_total += len(g_flat)
        gt_count.update(g_flat)
        tr_count.update(t_flat)
        st = _gated(chunk, gate_m)
        g_row, t_row, g_first, t_first, shared = (
            st.g_row,
            st.t_row,
            st.g_first,
            st.t_first,
            st.shared,
        )
        pair_frames.update(zip([g_flat[i] for i in g_row], [t_flat[i] for i in t_row], strict=True))
        bounds, d_gated = st.bounds, st.d_gated
        for k, (g_ids, t_ids) in enumerate(zip(g_lists, t_lists, strict=True)):
            lo, hi = bounds[k], bounds[k + 1]
            n_g, n_t = len(g_ids), len(t_ids)
            if lo == hi:  # nothing within the gate: no match
                fn += n_g
                fp += n_t
                continue
            if k in shared:
                d = st.dist[st.entry_first[k] : st.entry_first[k] + n_g * n_t].reshape(n_g, n_t)
                pairs = _evaluate_frame(g_ids, t_ids, d, gate_m, last)
            else:
                g0, t0 = g_first[k], t_first[k]
                kept, new = [], []
                for e in range(lo, hi):
                    gi, ti = g_row[e] - g0, t_row[e] - t0
                    t = last.get(g_ids[gi])
                    continuing = t is not None and t == t_ids[ti] and t_ids.index(t) == ti
                    (kept if continuing else new).append((gi, ti, d_gated[e]))
                pairs = kept + new
            for gi, ti, d_match in pairs:
                g, t = g_ids[gi], t_ids[ti]
                if g in last and last[g] != t:
                    idsw += 1
                last[g] = t
                dist_sum += d_match
            matches += len(pairs)
            fn += n_g - len(pairs)
            fp += n_t - len(pairs)
    mota = 1.0 - (fn + fp + idsw) / gt_total if gt_total else float('nan')
    motp = dist_sum / matches if matches else float('nan')
    idf1 = _idf1(pair_frames, gt_count, tr_count)
    return MotResult(mota, motp, idf1, gt_total, fn, fp, idsw, matches)


CHUNK_ENTRIES = 1 << 18  # (ground truth, track) entries stacked at once (a few MB of arrays)


def _chunks(frames: Sequence[Frame]) -> list[Sequence[Frame]]:
    """``frames`` cut into runs of at most ``CHUNK_ENTRIES`` entries (at least one frame)."""
    out, start, entries = [], 0, 0
    for k, f in enumerate(frames):
        n = len(f.gt_ids) * len(f.track_ids)
        if entries and entries + n > CHUNK_ENTRIES:
            out.append(frames[start:k])
            start, entries = k, 0
        entries += n
    if start < len(frames):
        out.append(frames[start:])
    return out


@dataclass
class _Stacked:
    """A chunk's (ground truth, track) entries: distances of every frame, frame by frame
    row-major; each frame's first entry; the entries inside the gate (frame by frame) as
    stacked ground-truth and track rows, each frame's first row of both, the gated
    entries' distances and where each frame's gated entries start (``bounds[k]`` to
    ``bounds[k + 1]``); the frames where a row or a track has two entries inside the gate."""

    dist: np.ndarray
    entry_first: list[int]
    g_row: list[int]
    t_row: list[int]
    g_first: list[int]
    t_first: list[int]
    d_gated: list[float]
    bounds: list[int]
    shared: set[int]


def _gated(frames: Sequence[Frame], gate_m: float) -> _Stacked:
    """The frames' entries in one array pass: the distances by the formula of
    ``np.linalg.norm`` (the root of the summed squares of the differences)."""
    gxy = [np.asarray(f.gt_xy, float).reshape(-1, 2) for f in frames]
    txy = [np.asarray(f.track_xy, float).reshape(-1, 2) for f in frames]
    n_g = np.array([len(a) for a in gxy], dtype=np.int64)
    n_t = np.array([len(a) for a in txy], dtype=np.int64)
    g_first, t_first = np.cumsum(n_g) - n_g, np.cumsum(n_t) - n_t
    sizes = n_g * n_t
    entry_first = np.cumsum(sizes) - sizes
    frame = np.repeat(np.arange(len(frames)), sizes)
    local = np.arange(int(sizes.sum())) - entry_first[frame]
    width = n_t[frame]  # > 0 wherever a frame has entries
    g_row = g_first[frame] + local // width
    t_row = t_first[frame] + local % width
    diff = np.concatenate(gxy)[g_row] - np.concatenate(txy)[t_row]
    dist = np.sqrt(np.add.reduce(diff * diff, axis=-1))
    inside = np.flatnonzero(dist <= gate_m)
    shared: set[int] = set()
    for rows in (g_row[inside], t_row[inside]):
        _, first, counts = np.unique(rows, return_index=True, return_counts=True)
        shared.update(frame[inside[first[counts > 1]]].tolist())
    return _Stacked(
        dist,
        entry_first.tolist(),
        g_row[inside].tolist(),
        t_row[inside].tolist(),
        g_first.tolist(),
        t_first.tolist(),
        dist[inside].tolist(),
        np.searchsorted(frame[inside], np.arange(len(frames) + 1)).tolist(),
        shared,
    )


def _evaluate_frame(
    g_ids: list[int], t_ids: list[int], d: np.ndarray, gate_m: float, last: dict[int, int]
) -> list[tuple[int, int, float]]:
    """One frame's matches (ground-truth row, track row, distance) in the order they are
    counted: last frame's matches still within the gate, then the solver's on the rest."""
    matched: dict[int, int] = {}
    for gi, g in enumerate(g_ids):  # keep continuing matches
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
    return [(gi, ti, d.item(gi, ti)) for gi, ti in matched.items()]


def _idf1(
    pairs: dict[tuple[int, int], int], gt_count: dict[int, int], tr_count: dict[int, int]
) -> float:
    total_gt, total_tr = sum(gt_count.values()), sum(tr_count.values())
    if total_gt + total_tr == 0:
        return float('nan')
    gts, trs = sorted(gt_count), sorted(tr_count)
    if not gts or not trs:
        return 0.0
    gi = {g: i for i, g in enumerate(gts)}
    ti = {t: i for i, t in enumerate(trs)}
    weight = np.zeros((len(gts), len(trs)))
    for (g, t), n in pairs.items():
        weight[gi[g], ti[t]] = n
    rows, cols = linear_sum_assignment(-weight)
    idtp = float(weight[rows, cols].sum())
    idfp, idfn = total_tr - idtp, total_gt - idtp
    return 2 * idtp / (2 * idtp + idfp + idfn)

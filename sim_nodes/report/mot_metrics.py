"""Tracking metrics against ground truth: CLEAR-MOT (MOTA, MOTP) and IDF1.

CLEAR-MOT (Bernardin & Stiefelhagen 2008): per frame, keep last frame's matches that are
still within the gate, match the rest by Hungarian assignment on distance; count misses,
false positives and identity switches; MOTA = 1 - (FN + FP + IDSW) / GT, MOTP = mean
distance of matches. IDF1 (Ristani et al. 2016): one global assignment between ground-truth
and track identities maximising the frames they are matched in (the same gate), then
IDF1 = 2 IDTP / (2 IDTP + IDFP + IDFN).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

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


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)


def evaluate_mot(frames: Sequence[Frame], gate_m: float = 2.0) -> MotResult:
    gt_total = fn = fp = idsw = matches = 0
    dist_sum = 0.0
    last: dict[int, int] = {}  # gt id -> track id it was matched to last time
    pair_frames: dict[tuple[int, int], int] = defaultdict(int)
    gt_count: dict[int, int] = defaultdict(int)
    tr_count: dict[int, int] = defaultdict(int)
    for f in frames:
        g_ids, t_ids = list(f.gt_ids), list(f.track_ids)
        gt_total += len(g_ids)
        for g in g_ids:
            gt_count[g] += 1
        for t in t_ids:
            tr_count[t] += 1
        d = _distances(
            np.asarray(f.gt_xy, float).reshape(-1, 2), np.asarray(f.track_xy, float).reshape(-1, 2)
        )
        near_g, near_t = np.nonzero(d <= gate_m)  # the pairs within the gate, row by row
        for gi, ti in zip(near_g.tolist(), near_t.tolist(), strict=True):
            pair_frames[g_ids[gi], t_ids[ti]] += 1
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
    idf1 = _idf1(pair_frames, gt_count, tr_count)
    return MotResult(mota, motp, idf1, gt_total, fn, fp, idsw, matches)


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

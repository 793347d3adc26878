"""The cooperative-perception scores of a run's fused outputs, worked out as arrays.

``PerceptionProbe`` keeps every fused output's instant during the run and scores them when the
metrics are asked for. Scored one instant and source at a time, each (instant, source) pair
cost ~30 numpy calls on a few rows; here the objects of every pair are stacked and predicted,
filtered and paired with their instant's road users in a handful of array operations; the
counts and error sums of every pair are array operations too (each (vehicle, source)'s sums
added left to right, in the order the instants came, as the loop added them), and only the
identities and MOT frames are made pair by pair. Every float is made by the same operation on
the same operands as in ``PerceptionProbe.score`` (tests compare the two on random lists, the
unrounded sums bit for bit): prediction ``x + v dt``, ``hypot`` distances to the ego,
``sqrt(dx² + dy²)`` between road users and objects, ``d * d`` and ``ex * ex + ey * ey`` per
match; the Hungarian solver runs only for pairs where two entries share a row or column
inside the gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from sim_nodes.report.mot_metrics import Frame

if TYPE_CHECKING:
    from sim_nodes.report.perception_eval import (
        PerceptionProbe,
        SourceScore,
        _Instant,
        _Objects,
        _Truth,
    )


@dataclass
class _Pair:
    """One (instant, source): where its objects and its road users sit in the stacked arrays."""

    instant: int
    source: str
    parts: list[_Objects]
    rows: int = 0  # first stacked object row


def score_instants(probe: PerceptionProbe, pending: list[_Instant]) -> None:
    """Score ``pending`` (instants in arrival order) into ``probe``'s vehicles, as
    ``probe.score`` would one by one (for runs without named targets)."""
    from sim_nodes.report.perception_eval import _assign_rest, _truth_at

    cfg = probe.config
    truths: list[tuple[_Truth, np.ndarray] | None] = []
    pairs: list[_Pair] = []
    for k, instant in enumerate(pending):
        truths.append(_truth_at(instant, cfg))
        if truths[-1] is None:
            continue
        for source in probe.vehicles[instant.vehicle].sources:
            parts = instant.latest.get(source)
            if parts is not None:  # scored from its first list on
                pairs.append(_Pair(k, source, parts))
    if not pairs:
        return
    # --- every pair's objects, stacked, predicted to their instant ---------------------------
    blocks, sizes, t_rows, ego_rows, gts = [], [], [], [], []
    row = 0
    for pair in pairs:
        pair.rows = row
        truth = truths[pair.instant]
        assert truth is not None
        for part in pair.parts:
            blocks.append(part.rows)
            row += len(part.rows)
        sizes.append(row - pair.rows)
        t_rows.append(pending[pair.instant].t)
        ego_rows.append(truth[1])
        gts.append(truth[0])
    rows = np.concatenate(blocks) if blocks else np.zeros((0, 5))
    sizes_a = np.array(sizes)
    t = np.repeat(np.array(t_rows), sizes_a)
    ego = np.repeat(np.array(ego_rows).reshape(-1, 2), sizes_a, axis=0)
    age = t - rows[:, 4]
    finite = np.isfinite(rows[:, :4])  # ``_Objects.masks`` of every part at once
    keep = (age <= cfg.max_age_s) & finite[:, 0] & finite[:, 1]
    move = finite[:, 2] & finite[:, 3]
    dt = np.maximum(age, 0.0)
    xy = rows[:, :2].copy()
    with np.errstate(invalid='ignore', over='ignore'):  # dropped rows may hold inf or NaN
        xy[move] += rows[move, 2:4] * dt[move, None]
        d_obj = np.hypot(xy[:, 0] - ego[:, 0], xy[:, 1] - ego[:, 1])
    keep &= (d_obj <= cfg.radius_m + cfg.gate_m) & (d_obj > cfg.ego_radius_m)
    kept = np.flatnonzero(keep)
    kxy, kvel = xy[kept], rows[kept, 2:4]
    inside = d_obj[kept] <= cfg.radius_m
    pair_of_kept = np.searchsorted(np.array([p.rows for p in pairs]), kept, 'right') - 1
    n_kept = np.bincount(pair_of_kept, minlength=len(pairs))
    # --- every pair's road users against its kept objects ------------------------------------
    n_gt = np.array([len(gt.xy) for gt in gts])
    gxy = np.concatenate([gt.xy for gt in gts])
    gvel = np.concatenate([gt.vel for gt in gts])
    first_kept = np.cumsum(n_kept) - n_kept
    per_gt = np.repeat(n_kept, n_gt)  # objects each road user is paired with
    gt_of = np.repeat(np.arange(len(gxy)), per_gt)  # road user of each pair, road user major
    block = np.repeat(np.cumsum(per_gt) - per_gt, per_gt)
    obj_first = np.repeat(np.repeat(first_kept, n_gt), per_gt)
    obj_of = obj_first + np.arange(len(gt_of)) - block
    dx = gxy[gt_of, 0] - kxy[obj_of, 0]
    dy = gxy[gt_of, 1] - kxy[obj_of, 1]
    dist = np.sqrt(dx * dx + dy * dy)
    gated = np.flatnonzero(dist <= cfg.gate_m)
    first_pair = np.cumsum(n_gt * n_kept) - n_gt * n_kept
    g_pair = np.searchsorted(first_pair, gated, 'right') - 1
    # a road user or object with two entries inside the gate: its pair needs the solver
    shared = np.zeros(len(gated), bool)
    for column in (gt_of[gated], obj_of[gated]):
        values, counts = np.unique(column, return_counts=True)
        shared |= np.isin(column, values[counts > 1])
    solver = np.unique(g_pair[shared]).tolist()
    # --- the matches of every pair, in the order of the pairs and, in a pair, the solver's ----
    plain = ~np.isin(g_pair, solver)
    m_pair, m_entry = [g_pair[plain]], [gated[plain]]
    duplicates = np.zeros(len(pairs), np.int64)
    for p in solver:
        n, m, start = int(n_gt[p]), int(n_kept[p]), int(first_pair[p])
        matrix = dist[start : start + n * m].reshape(n, m)
        matches, duplicates[p] = _assign_rest(matrix, matrix <= cfg.gate_m)
        m_pair.append(np.full(len(matches), p))
        m_entry.append(np.array([start + i * m + j for i, j in matches], np.int64))
    order = np.argsort(np.concatenate(m_pair), kind='stable')
    match_pair = np.concatenate(m_pair)[order]
    match_entry = np.concatenate(m_entry)[order]
    match_gt, match_obj = gt_of[match_entry], obj_of[match_entry]
    tp = np.bincount(match_pair, minlength=len(pairs))
    fp = np.bincount(pair_of_kept, weights=inside, minlength=len(pairs)) - np.bincount(
        match_pair, weights=inside[match_obj], minlength=len(pairs)
    )
    d = dist[match_entry]
    pos_terms = d * d
    vx, vy = kvel[match_obj, 0], kvel[match_obj, 1]
    moving = np.isfinite(vx) & np.isfinite(vy)
    with np.errstate(invalid='ignore', over='ignore'):  # terms of non-finite ones are dropped
        ex, ey = vx - gvel[match_gt, 0], vy - gvel[match_gt, 1]
        vel_terms = ex * ex + ey * ey
    # --- the sums of each (vehicle, source), in the order of its instants --------------------
    score_of: dict[tuple[str, str], int] = {}
    scores: list[SourceScore] = []
    pair_score = []
    for pair in pairs:
        key = (pending[pair.instant].vehicle, pair.source)
        s = score_of.get(key)
        if s is None:
            s = score_of[key] = len(scores)
            scores.append(probe.vehicles[key[0]].scores[key[1]])
        pair_score.append(s)
    pair_score_a = np.array(pair_score)
    counts = np.stack(
        [np.ones(len(pairs), np.int64), tp, n_gt - tp, np.rint(fp).astype(np.int64), duplicates]
    )
    sums = np.zeros((5, len(scores)), np.int64)
    for row_sums, values in zip(sums, counts, strict=True):
        np.add.at(row_sums, pair_score_a, values)
    match_score = pair_score_a[match_pair]
    by_score = np.argsort(match_score, kind='stable')
    cuts = np.searchsorted(match_score[by_score], np.arange(len(scores) + 1)).tolist()
    for s, score in enumerate(scores):
        instants, n_tp, n_fn, n_fp, n_dup = sums[:, s].tolist()
        score.instants += instants
        score.tp += n_tp
        score.fn += n_fn
        score.fp += n_fp
        score.duplicates += n_dup
        mine = by_score[cuts[s] : cuts[s + 1]]
        if len(mine):
            score.pos_sq = _sequential_sum(score.pos_sq, pos_terms[mine])
            finite_v = mine[moving[mine]]
            score.vel_sq = _sequential_sum(score.vel_sq, vel_terms[finite_v])
            score.vel_n += len(finite_v)
    # --- identities and MOT frames, pair by pair in the order of the instants and sources -----
    ids = list(chain.from_iterable(part.ids for pair in pairs for part in pair.parts))
    kept_l, first_kept_l, n_kept_l = kept.tolist(), first_kept.tolist(), n_kept.tolist()
    table = probe._obj_ids
    new_id = table.setdefault
    for pair, gt, k0, m in zip(pairs, gts, first_kept_l, n_kept_l, strict=True):
        vehicle_source = (pending[pair.instant].vehicle, pair.source)
        obj_ids = [new_id(vehicle_source + ids[k], len(table)) for k in kept_l[k0 : k0 + m]]
        if gt.ids is None:  # after the first source's objects: the order ids are handed out
            vehicle = vehicle_source[0]
            gt.ids = [new_id((vehicle, '', str(name), 0), len(table)) for name in gt.names]
        scores[score_of[vehicle_source]].frames.append(
            Frame(gt.ids, gt.xy, obj_ids, kxy[k0 : k0 + m])
        )


def _sequential_sum(start: float, terms: np.ndarray) -> float:
    """``start + terms[0] + terms[1] + ...`` added one at a time, left to right (as a Python
    loop adds them; ``np.sum`` adds pairwise, which rounds differently)."""
    if not len(terms):
        return start
    return float(np.add.accumulate(np.concatenate(([start], terms)))[-1])

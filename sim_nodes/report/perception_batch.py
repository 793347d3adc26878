"""The cooperative-perception scores of a run's fused outputs, worked out as arrays.

``PerceptionProbe`` keeps every fused output's instant during the run and scores them when the
metrics are asked for. Scored one instant and source at a time, each (instant, source) pair
cost ~30 numpy calls on a few rows; here the objects of every pair are stacked and predicted,
filtered and paired with their instant's road users in a handful of array operations, and
only the bookkeeping (counts, error sums, identities, MOT frames) runs per pair, in the order
the instants came. Every float is made by the same operation on the same operands as in
``PerceptionProbe.score`` (tests compare the two on random lists): prediction ``x + v dt``,
``hypot`` distances to the ego, ``sqrt(dx² + dy²)`` between road users and objects; the
Hungarian solver runs only for pairs where two entries share a row or column inside the gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isfinite
from typing import TYPE_CHECKING

import numpy as np

from sim_nodes.report.mot_metrics import Frame

if TYPE_CHECKING:
    from sim_nodes.report.perception_eval import PerceptionProbe, _Instant, _Objects, _Truth


@dataclass
class _Pair:
    """One (instant, source): where its objects and its road users sit in the stacked arrays."""

    instant: int
    source: str
    parts: list[_Objects]
    rows: int = 0  # first stacked object row
    kept: int = 0  # first kept object
    n_kept: int = 0
    gt: int = 0  # first stacked road user
    pairs: int = 0  # first (road user, object) pair


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
    blocks, sizes, finite, moving, t_rows, ego_rows = [], [], [], [], [], []
    row = 0
    for pair in pairs:
        pair.rows = row
        truth = truths[pair.instant]
        assert truth is not None
        for part in pair.parts:
            n = len(part.rows)
            finite_xy, move = part.masks()
            blocks.append(part.rows)
            finite.append(np.ones(n, bool) if finite_xy is None else finite_xy)
            moving.append(np.ones(n, bool) if move is None else move)
            row += n
        sizes.append(row - pair.rows)
        t_rows.append(pending[pair.instant].t)
        ego_rows.append(truth[1])
    rows = np.concatenate(blocks) if blocks else np.zeros((0, 5))
    sizes_a = np.array(sizes)
    t = np.repeat(np.array(t_rows), sizes_a)
    ego = np.repeat(np.array(ego_rows).reshape(-1, 2), sizes_a, axis=0)
    age = t - rows[:, 4]
    keep = (age <= cfg.max_age_s) & np.concatenate(finite)
    move = np.concatenate(moving)
    dt = np.maximum(age, 0.0)
    xy = rows[:, :2].copy()
    with np.errstate(invalid='ignore', over='ignore'):  # dropped rows may hold inf or NaN
        xy[move] += rows[move, 2:4] * dt[move, None]
        d_obj = np.hypot(xy[:, 0] - ego[:, 0], xy[:, 1] - ego[:, 1])
    keep &= (d_obj <= cfg.radius_m + cfg.gate_m) & (d_obj > cfg.ego_radius_m)
    kept = np.flatnonzero(keep)
    kxy, kvel = xy[kept], rows[kept, 2:4]
    inside = (d_obj[kept] <= cfg.radius_m).tolist()
    n_kept = np.bincount(np.searchsorted(np.array([p.rows for p in pairs]), kept, 'right') - 1,
                         minlength=len(pairs))  # fmt: skip
    # --- every pair's road users against its kept objects ------------------------------------
    gt_blocks, first_kept, first_gt = [], 0, 0
    for pair, m in zip(pairs, n_kept.tolist(), strict=True):
        truth = truths[pair.instant]
        assert truth is not None
        pair.kept, pair.n_kept, pair.gt = first_kept, m, first_gt
        gt_blocks.append(truth[0].xy)
        first_kept += m
        first_gt += len(truth[0].xy)
    gxy = np.concatenate(gt_blocks) if gt_blocks else np.zeros((0, 2))
    n_gt = np.array([len(b) for b in gt_blocks])
    per_gt = np.repeat(n_kept, n_gt)  # objects each road user is paired with
    gt_of = np.repeat(np.arange(len(gxy)), per_gt)  # road user of each pair, road user major
    block = np.repeat(np.cumsum(per_gt) - per_gt, per_gt)
    obj_first = np.repeat(np.repeat(np.array([p.kept for p in pairs]), n_gt), per_gt)
    obj_of = obj_first + np.arange(len(gt_of)) - block
    dx = gxy[gt_of, 0] - kxy[obj_of, 0]
    dy = gxy[gt_of, 1] - kxy[obj_of, 1]
    dist = np.sqrt(dx * dx + dy * dy)
    gated = np.flatnonzero(dist <= cfg.gate_m)
    first_pair = np.cumsum(n_gt * n_kept) - n_gt * n_kept
    for pair, start in zip(pairs, first_pair.tolist(), strict=True):
        pair.pairs = start
    # a road user or object with two entries inside the gate: its pair needs the solver
    shared = set()
    for column in (gt_of[gated], obj_of[gated]):
        values, counts = np.unique(column, return_counts=True)
        shared.update(values[counts > 1].tolist())
    g_pair = np.searchsorted(first_pair, gated, 'right') - 1
    g_pair_l = g_pair.tolist()
    gt_of_l, obj_of_l = gt_of[gated].tolist(), obj_of[gated].tolist()
    by_pair: dict[int, list[int]] = {}
    for n, p in enumerate(g_pair_l):
        by_pair.setdefault(p, []).append(n)
    vel_l = kvel.tolist()
    # --- the bookkeeping, pair by pair, in the order of the instants and sources -------------
    ident = probe._id
    for p, pair in enumerate(pairs):
        instant = pending[pair.instant]
        truth = truths[pair.instant]
        assert truth is not None
        gt = truth[0]
        vehicle, source = instant.vehicle, pair.source
        score = probe.vehicles[vehicle].scores[source]
        score.instants += 1
        n, m = len(gt.xy), pair.n_kept
        mine = by_pair.get(p, [])
        if any(gt_of_l[e] in shared or obj_of_l[e] in shared for e in mine):
            matrix = dist[pair.pairs : pair.pairs + n * m].reshape(n, m)
            matches, duplicates = _assign_rest(matrix, matrix <= cfg.gate_m)
        else:
            matches = [(gt_of_l[e] - pair.gt, obj_of_l[e] - pair.kept) for e in mine]
            duplicates = 0
        score.tp += len(matches)
        score.fn += n - len(matches)
        fp = sum(inside[pair.kept : pair.kept + m])
        gt_vel = gt.vel_list() if matches else None
        for i, j in matches:
            fp -= inside[pair.kept + j]
            d = dist.item(pair.pairs + i * m + j)
            score.pos_sq += d * d
            vx, vy = vel_l[pair.kept + j]
            if isfinite(vx) and isfinite(vy):
                assert gt_vel is not None
                gvx, gvy = gt_vel[i]
                score.vel_sq += (vx - gvx) * (vx - gvx) + (vy - gvy) * (vy - gvy)
                score.vel_n += 1
        score.duplicates += duplicates
        score.fp += fp
        ids = [i for part in pair.parts for i in part.ids]
        local = kept[pair.kept : pair.kept + m] - pair.rows
        obj_ids = [ident(vehicle, source, *ids[k]) for k in local.tolist()]
        if gt.ids is None:  # after the first source's objects: the order ids are handed out
            gt.ids = [ident(vehicle, '', str(name), 0) for name in gt.names]
        score.frames.append(Frame(gt.ids, gt.xy, obj_ids, kxy[pair.kept : pair.kept + m]))

"""One fusion cycle: align every stored report to the fusion time, associate source by
source, fuse by covariance intersection, and give the result stable ids.

Pure logic (no messages, no clock): the component feeds it reports and the time.
"""

from __future__ import annotations

import math
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import numpy as np

from perception_nodes.fusion.association import assign, gated_costs
from perception_nodes.fusion.errors import FusionConfigError
from perception_nodes.fusion.identity import IdentityKeeper, MemberKey
from perception_nodes.fusion.intersection import FusionMethod, fuse_pairs
from perception_nodes.fusion.motion import SCALAR_ROWS, predict_cv, predict_few
from perception_nodes.fusion.reports import (
    TRUST_UNKNOWN,
    TRUST_UNVERIFIED,
    TRUST_VERIFIED,
    ObjectReport,
    SourceKind,
)
from perception_nodes.fusion.shared import CYCLE_MEMO


@dataclass(frozen=True)
class FusionConfig:
    gate_chi2: float = 13.8  # 2 dof, 99.9 %
    gate_max_m: float = 6.0
    accel_sigma_vehicle_mps2: float = 2.0
    accel_sigma_vru_mps2: float = 1.0
    method: FusionMethod = FusionMethod.CI
    id_hold_s: float = 2.0

    def __post_init__(self) -> None:
        for name in ('gate_chi2', 'gate_max_m', 'accel_sigma_vehicle_mps2', 'accel_sigma_vru_mps2'):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise FusionConfigError(f'FusionConfig.{name}: expected > 0, got {v}')
        if self.id_hold_s < 0:
            raise FusionConfigError(f'FusionConfig.id_hold_s: expected >= 0, got {self.id_hold_s}')


@dataclass(frozen=True)
class FusedObject:
    fused_id: int
    state: np.ndarray  # (4,) map frame, at the fusion time
    cov: np.ndarray  # (4, 4)
    members: tuple[MemberKey, ...]
    kinds: frozenset[SourceKind]
    participant_class: int
    size_m: tuple[float, float, float]
    heading_rad: float
    heading_variance: float
    confidence: float
    trust: int


new_object = object.__new__
_NO_STATES, _NO_COVS, _NO_GROUPS = (
    np.zeros((0, 4)),
    np.zeros((0, 4, 4)),
    np.zeros(0, dtype=np.int64),
)


def _fused_trust(trusts: list[int]) -> int:
    if TRUST_VERIFIED in trusts:
        return TRUST_VERIFIED
    if trusts and all(t == TRUST_UNVERIFIED for t in trusts):
        return TRUST_UNVERIFIED
    return TRUST_UNKNOWN


def _attributes(
    reps: list[ObjectReport], order: list[int]
) -> tuple[int, tuple[float, float, float], float, float]:
    """Class by confidence-weighted vote of the known classes; size and heading from the
    sharpest member (``order``: indices of ``reps`` by position variance) that has them."""
    if len(reps) == 1:
        r = reps[0]
        return r.participant_class, r.size_m, r.heading_rad, r.heading_variance
    votes: dict[int, float] = {}
    for r in reps:
        if r.participant_class:
            votes[r.participant_class] = votes.get(r.participant_class, 0.0) + max(
                r.confidence, 1e-3
            )
    cls = max(votes, key=votes.__getitem__) if votes else 0
    size = next((reps[i].size_m for i in order if reps[i].size_m[0] > 0), (0.0, 0.0, 0.0))
    head = next((reps[i] for i in order if math.isfinite(reps[i].heading_rad)), None)
    if head is None:
        return cls, size, math.nan, -1.0
    return cls, size, head.heading_rad, head.heading_variance


class FusionEngine:
    """Fuses the reports it is given at a time it is told (see module docstring)."""

    def __init__(self, config: FusionConfig) -> None:
        self.config = config
        # what an aligned row or a fused pair depends on besides its reports and the time
        self._memo_settings = (
            config.accel_sigma_vru_mps2,
            config.accel_sigma_vehicle_mps2,
            config.method,
            config.gate_chi2,
            config.gate_max_m,
        )
        self._rid: list[int] = []  # id() of each report of the cycle being fused
        # σ² of the manoeuvre noise (VRU, vehicle), as predict_cv squares it: numpy's square
        # of a float64 is the float product
        vru, vehicle = float(config.accel_sigma_vru_mps2), float(config.accel_sigma_vehicle_mps2)
        self._variances = (vru * vru, vehicle * vehicle)
        self.ids = IdentityKeeper(
            hold_s=config.id_hold_s, gate_chi2=config.gate_chi2, gate_max_m=config.gate_max_m
        )

    def _align(
        self, reports: list[ObjectReport], groups: np.ndarray, memo: dict[Any, Any], now_ns: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """States and covariances of ``reports`` predicted to ``now_ns`` (constant velocity);
        rows another engine predicted at this time are taken from ``memo`` (``shared.py``)."""
        if not reports:
            return np.zeros((0, 4)), np.zeros((0, 4, 4))
        found = [memo.get(id(r)) for r in reports]
        missing = [
            i
            for i, (e, r) in enumerate(zip(found, reports, strict=True))
            if e is None or e[0] is not r
        ]
        if missing:
            CYCLE_MEMO.misses += len(missing)
            todo = [reports[i] for i in missing]
            dts = [(now_ns - r.stamp_ns) * 1e-9 for r in todo]
            xp = None
            if len(todo) <= SCALAR_ROWS:  # the usual one or two: no array is made to begin
                vru, vehicle = self._variances
                with suppress(OverflowError):  # |dt|³ beyond a float: the array form's inf
                    xp, pp = predict_few(
                        [r.state for r in todo],
                        [r.cov for r in todo],
                        dts,
                        [vru if groups[i] == 2 else vehicle for i in missing],
                    )
            if xp is None:
                acc = np.where(
                    groups[missing] == 2,
                    self.config.accel_sigma_vru_mps2,
                    self.config.accel_sigma_vehicle_mps2,
                )
                x = np.array([r.state for r in todo])
                p = np.array([r.cov for r in todo])
                xp, pp = predict_cv(x, p, np.array(dts), acc)
            for i, r, xr, pr in zip(missing, todo, list(xp), list(pp), strict=True):
                found[i] = memo[id(r)] = (r, xr, pr)
            if len(missing) == len(reports):
                return xp.copy(), pp.copy()  # the memo's rows are views of these
        CYCLE_MEMO.hits += len(reports) - len(missing)
        return np.array([e[1] for e in found]), np.array([e[2] for e in found])

    def _fuse_pairs(
        self,
        rows: list[list[int]],
        cols: list[int],
        reports: list[ObjectReport],
        a: tuple[np.ndarray, np.ndarray],
        b: tuple[np.ndarray, np.ndarray],
        *,
        memo: dict[Any, Any],
    ) -> tuple[np.ndarray, np.ndarray]:
        """``fuse_pairs`` of rows ``a`` (each the fusion of the reports ``rows[k]``, in order,
        or one of them as aligned) with rows ``b`` (the reports ``cols``, as aligned); a pair
        is taken from ``memo`` when another engine fused the same reports at this time (a
        fused row's state is a function of its reports in order, as in ``_associate``)."""
        rid = self._rid
        keys = [
            ('pair', tuple([rid[i] for i in row]), rid[c])
            for row, c in zip(rows, cols, strict=True)
        ]
        found = [memo.get(key) for key in keys]
        missing = [k for k, e in enumerate(found) if e is None]
        method = self.config.method
        if len(missing) == len(found):
            nx, npp, _ = fuse_pairs(a[0], a[1], b[0], b[1], method)
        elif missing:
            nx, npp, _ = fuse_pairs(
                a[0][missing], a[1][missing], b[0][missing], b[1][missing], method
            )
        if missing:
            CYCLE_MEMO.misses += len(missing)
            for k, xr, pr in zip(missing, list(nx), list(npp), strict=True):
                # the entry holds the reports, so the ids in its key stay theirs
                e = ([reports[i] for i in rows[k]] + [reports[cols[k]]], xr, pr)
                memo[keys[k]] = found[k] = e
            if len(missing) == len(found):
                return nx, npp
        CYCLE_MEMO.hits += len(found) - len(missing)
        return np.array([e[1] for e in found]), np.array([e[2] for e in found])

    def _associate(
        self,
        fused_members: list[list[int]],
        group: list[int],
        reports: list[ObjectReport],
        a: tuple[np.ndarray, np.ndarray, np.ndarray],
        b: tuple[np.ndarray, np.ndarray, np.ndarray],
        *,
        memo: dict[Any, Any],
    ) -> tuple[np.ndarray, np.ndarray]:
        """``assign(gated_costs(a, b))`` of the fused list so far (rows made of the reports
        ``fused_members``) with one group's reports; taken from ``memo`` when another engine
        associated the same rows with the same reports at this time (every car hears the same
        roadside objects, so the RSU-with-RSU step is the same for most of them).

        A fused row's state is a function of its reports, in order, at the cycle time (the
        memo table is per time and settings), so the key fixes the gates' inputs."""
        cfg = self.config
        rid = self._rid  # id of each report of the cycle
        key = (  # a one-report row by its report's id, a fused one by the tuple of them
            'assoc',
            tuple(
                [
                    rid[mem[0]] if len(mem) == 1 else tuple([rid[i] for i in mem])
                    for mem in fused_members
                ]
            ),
            tuple([rid[i] for i in group]),
        )
        hit = memo.get(key)
        if hit is not None:
            CYCLE_MEMO.hits += 1
            return hit[1], hit[2]
        CYCLE_MEMO.misses += 1
        rows, cols = assign(gated_costs(a, b, gate_chi2=cfg.gate_chi2, gate_max_m=cfg.gate_max_m))
        # the entry holds the reports, so the ids in its key stay theirs
        keep = [reports[i] for mem in fused_members for i in mem] + [reports[i] for i in group]
        memo[key] = (keep, rows, cols)
        return rows, cols

    def _merged(
        self,
        reports: list[ObjectReport],
        mem: list[int],
        keys: list[MemberKey],
        sharp: list[float],
        memo: dict[Any, Any],
    ) -> dict[str, Any]:
        """The fields after id, state and covariance of the object fused of ``reports[mem]``
        (in field order); taken from ``memo`` when another engine fused the same reports, in
        the same order, at this time: they depend on nothing else (``sharp``, the aligned
        position variances, is a function of each report at the cycle time)."""
        rid = self._rid
        key = ('merged', tuple([rid[i] for i in mem]))
        hit = memo.get(key)
        if hit is not None:
            CYCLE_MEMO.hits += 1
            return hit[1]
        CYCLE_MEMO.misses += 1
        reps = [reports[i] for i in mem]
        order_k = sorted(range(len(mem)), key=lambda j: sharp[mem[j]])
        cls, size, heading, heading_var = _attributes(reps, order_k)
        miss = 1.0
        for r in reps:
            miss *= 1.0 - r.confidence
        fields = {
            'members': tuple(keys),
            'kinds': frozenset(r.kind for r in reps),
            'participant_class': cls,
            'size_m': size,
            'heading_rad': heading,
            'heading_variance': heading_var,
            'confidence': 1.0 - miss,
            'trust': _fused_trust([r.trust for r in reps]),
        }
        memo[key] = (reps, fields)  # the entry holds the reports: the ids stay theirs
        return fields

    def fuse(self, reports: list[ObjectReport], now_ns: int) -> list[FusedObject]:
        """One cycle over every live report; returns the fused objects at ``now_ns``."""
        if not reports:  # nothing to fuse: only the id bookkeeping moves on
            self.ids.assign([], _NO_STATES, _NO_COVS, _NO_GROUPS, now_ns)
            return []
        classes = np.array([r.class_group for r in reports], dtype=np.int64)
        memo = CYCLE_MEMO.table(now_ns, self._memo_settings)
        self._rid = list(map(id, reports))
        xs, ps = self._align(reports, classes, memo, now_ns)
        by_group: dict[tuple[int, str], list[int]] = {}
        for i, r in enumerate(reports):
            by_group.setdefault(r.group, []).append(i)
        # rows in group order, each group a slice; the fused list so far is ``alive`` (rows in
        # the order the groups added them) and a row paired with one of it is merged into it:
        # the same list as growing it group by group, without a copy per group
        order = [i for g in sorted(by_group) for i in by_group[g]]
        if order != list(range(len(reports))):
            sx, sp, sg = xs[order], ps[order], classes[order]
        else:
            sx, sp, sg = xs, ps, classes
        row_members = [[i] for i in order]
        sharp: list[float] = []  # position variance of each report, once any is merged
        alive: list[int] = []
        start = 0
        for group in sorted(by_group):
            end = start + len(by_group[group])
            if alive:
                if len(alive) == start:  # nothing merged yet: the rows before this group
                    fx, fp, fg = sx[:start], sp[:start], sg[:start]
                else:
                    fx, fp, fg = sx[alive], sp[alive], sg[alive]
                gx, gp, gg = sx[start:end], sp[start:end], sg[start:end]
                rows, cols = self._associate(
                    [row_members[t] for t in alive],
                    order[start:end],
                    reports,
                    (fx, fp, fg),
                    (gx, gp, gg),
                    memo=memo,
                )
                if len(rows):
                    if not sharp:  # before the first merge writes over ps (sp may be ps)
                        sharp = (ps[:, 0, 0] + ps[:, 1, 1]).tolist()
                    target = np.array(alive)[rows]
                    nx, npp = self._fuse_pairs(
                        [row_members[t] for t in target.tolist()],
                        [order[start + c] for c in cols.tolist()],
                        reports,
                        (fx[rows], fp[rows]),
                        (gx[cols], gp[cols]),
                        memo=memo,
                    )
                    sx[target], sp[target] = nx, npp
                    sg[target] = np.maximum(fg[rows], gg[cols])  # unknown takes the known group
                    for r, c in zip(target.tolist(), cols.tolist(), strict=True):
                        row_members[r].extend(row_members[start + c])
                    paired = set(cols.tolist())
                    alive.extend(start + c for c in range(end - start) if c not in paired)
                else:
                    alive.extend(range(start, end))
            else:  # the first group: nothing to associate with
                alive.extend(range(start, end))
            start = end
        if len(alive) != len(order):
            fx, fp, fg = sx[alive], sp[alive], sg[alive]
        else:
            fx, fp, fg = sx, sp, sg
        members = [row_members[r] for r in alive]
        report_keys = [r.key for r in reports]
        keys = [[report_keys[i] for i in mem] for mem in members]
        ids = self.ids.assign(keys, fx, fp, fg, now_ns)
        out = []
        # rows as views, made in one go (as fx[k], fp[k] would make them one by one)
        for k, (mem, state, cov) in enumerate(zip(members, list(fx), list(fp), strict=True)):
            obj = new_object(FusedObject)  # frozen.assemble, inline: every field in order
            fields = obj.__dict__
            fields['fused_id'], fields['state'], fields['cov'] = ids[k], state, cov
            fields.update(  # one source (most objects): its attributes as they are
                reports[mem[0]].one_source
                if len(mem) == 1
                else self._merged(reports, mem, keys[k], sharp, memo)
            )
            out.append(obj)
        return out

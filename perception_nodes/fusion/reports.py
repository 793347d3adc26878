"""Reported objects: one source's view of one object, checked and with a usable covariance.

Participant messages carry [x, y, vx, vy] covariances with -1 on the diagonal where unknown;
a report replaces those by the configured priors, so every report has a positive-definite
4x4 covariance and can be fused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import Any

import numpy as np

from perception_nodes.fusion.errors import ObjectInputError
from v2x_runtime import messages as m
from v2x_runtime.frozen import assemble

TRUST_UNKNOWN, TRUST_VERIFIED, TRUST_UNVERIFIED, TRUST_MISBEHAVING = 0, 1, 2, 3
CLASS_UNKNOWN, CLASS_PEDESTRIAN, CLASS_CYCLIST = 0, 5, 4
MAX_STATE = 1e7  # m, m/s: beyond any map frame or road user
MAX_COV = 1e10  # m², m²/s²
_VEHICLES = frozenset({1, 2, 3, 7})
_VULNERABLE = frozenset({4, 5})
_NO_SIZE = (0.0, 0.0, 0.0)


class SourceKind(IntEnum):
    """Where a report comes from; also the order in which the sources are associated."""

    ONBOARD = 0
    ROADSIDE = 1
    V2V = 2


def class_group(participant_class: int) -> int:
    """0 unknown/obstacle, 1 vehicle, 2 vulnerable road user: groups that may associate."""
    if participant_class in _VEHICLES:
        return 1
    if participant_class in _VULNERABLE:
        return 2
    return 0


_KIND_SETS = {kind: frozenset((kind,)) for kind in SourceKind}


@dataclass(frozen=True)
class CovariancePriors:
    """Variances used where a report says 'unknown', and floors against overconfidence."""

    position_sigma_m: float = 1.0
    velocity_sigma_mps: float = 5.0
    min_position_sigma_m: float = 0.05
    min_velocity_sigma_mps: float = 0.05


@dataclass(frozen=True)
class ObjectReport:
    """One object as one source reported it (map frame once it is stored)."""

    kind: SourceKind
    source_id: str
    object_id: int
    stamp_ns: int
    state: np.ndarray  # (4,) x, y, vx, vy
    cov: np.ndarray  # (4, 4)
    participant_class: int
    size_m: tuple[float, float, float]
    heading_rad: float
    heading_variance: float
    confidence: float
    trust: int

    @cached_property  # set once in the instance's __dict__ (not a field: no effect on ==)
    def key(self) -> tuple[int, str, int]:
        """Identity of the object at its source."""
        return (int(self.kind), self.source_id, self.object_id)

    @cached_property
    def group(self) -> tuple[int, str]:
        """Association group: reports of one group are distinct objects, never merged.

        Each roadside unit is its own group; onboard is one; V2V senders describe only
        themselves, so all V2V reports form one group.
        """
        return (int(self.kind), self.source_id if self.kind is SourceKind.ROADSIDE else '')

    @cached_property
    def class_group(self) -> int:
        """``class_group`` of the participant class."""
        return class_group(self.participant_class)

    @cached_property
    def position_xy(self) -> tuple[float, float]:
        """The reported position as Python floats (the relevance region's test)."""
        x, y = self.state[:2].tolist()
        return x, y

    @cached_property
    def one_source(self) -> dict[str, Any]:
        """The fields a fused object seen by this report alone takes from it, in field order
        (``engine.FusedObject`` after its id, state and covariance): shared by every cycle and
        every fusion that fuses this report."""
        return {
            'members': (self.key,),
            'kinds': _KIND_SETS[self.kind],
            'participant_class': self.participant_class,
            'size_m': self.size_m,
            'heading_rad': self.heading_rad,
            'heading_variance': self.heading_variance,
            'confidence': self.confidence,
            'trust': self.trust
            if self.trust in (TRUST_VERIFIED, TRUST_UNVERIFIED)
            else TRUST_UNKNOWN,
        }


def usable_covariances(
    raw: np.ndarray, priors: CovariancePriors
) -> tuple[np.ndarray, list[str | None]]:
    """``usable_covariance`` for many rows at once: (N, 16) or (N, 4, 4) → (N, 4, 4).

    Returns the covariances and, per row, None or why it is refused (the row then holds an
    identity placeholder). One batched eigendecomposition instead of one per report: the
    checks are the same, row by row.
    """
    flat = np.array(raw, dtype=float).reshape(-1, 16)
    n = flat.shape[0]
    cov = flat.reshape(n, 4, 4)
    diag = flat[:, ::5]  # (N, 4) view of the diagonals: basic slicing, no gathers
    errors: list[str | None] = [None] * n
    finite = np.isfinite(flat).all(axis=1)
    with np.errstate(invalid='ignore'):
        bad = ~finite | (np.abs(flat).max(axis=1) > MAX_COV)
    if bad.any():
        for i in np.flatnonzero(bad):
            errors[i] = (
                'covariance has non-finite entries'
                if not finite[i]
                else f'covariance entry beyond {MAX_COV:g}'
            )
        cov[bad] = np.eye(4)
    for lo, prior, floor in (
        (0, priors.position_sigma_m, priors.min_position_sigma_m),
        (2, priors.velocity_sigma_mps, priors.min_velocity_sigma_mps),
    ):
        block = diag[:, lo : lo + 2]
        unknown = (block < 0).any(axis=1)
        if unknown.any():
            rows = np.flatnonzero(unknown)
            cov[rows, lo : lo + 2, :] = 0.0
            cov[rows, :, lo : lo + 2] = 0.0
            block[rows] = prior * prior
        np.maximum(block, floor * floor, out=block)
    cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
    try:
        eig = np.linalg.eigvalsh(cov)
    except np.linalg.LinAlgError:  # one bad row fails the batch: find it row by row
        eig = np.empty((n, 4))
        for i in range(n):
            try:
                eig[i] = np.linalg.eigvalsh(cov[i])
            except np.linalg.LinAlgError as err:
                errors[i] = errors[i] or f'covariance eigenvalues: {err}'
                cov[i] = np.eye(4)
                eig[i] = 1.0
    low = eig[:, 0]
    indefinite = low < -1e-9 * np.maximum(eig[:, -1], 1.0)
    for i in np.flatnonzero(indefinite & ~bad):
        errors[i] = errors[i] or f'covariance not positive semi-definite (eig {low[i]:.3g})'
    shift = np.flatnonzero((low <= 0.0) & ~indefinite)
    if shift.size:
        cov[shift] += np.eye(4) * (1e-9 - low[shift])[:, None, None]
    return cov, errors


def scale_covariances(
    covs: np.ndarray, cov_scale: np.ndarray | None, position_var_m2: float
) -> None:
    """In place on (N, 4, 4) usable covariances: times ``cov_scale`` (per row, None: 1), then
    ``position_var_m2`` added to the position variances (a component's down-weighting and
    its sender error). The one writing of it: the cache and the uncached path must agree bit
    for bit, so they share it."""
    if cov_scale is not None:
        scaled = np.flatnonzero(cov_scale != 1.0)
        covs[scaled] = covs[scaled] * cov_scale[scaled, None, None]
    if position_var_m2 > 0.0:
        covs[:, 0, 0] += position_var_m2
        covs[:, 1, 1] += position_var_m2


class CovarianceCache:
    """The covariances of ``reports_from_participants`` remembered by their input.

    Senders quantise their accuracies (an RSM or a BSM carries a few coded values that the
    codec turns back into a covariance), so a handful of distinct rows repeat across thousands
    of reports: 8 distinct rows in 18 000 reports of the 100-vehicle scenario. The result for
    a row depends only on the row, the priors, the scale and the sender variance, so the
    remembered one is the same, bit for bit (computed by the same batched code on first
    sight). Remembered arrays are read-only: reports share them. At most ``max_rows`` are kept
    (all forgotten when full: a sender with continuous covariances then costs one batched
    check per array, as without the cache).
    """

    def __init__(self, priors: CovariancePriors, max_rows: int = 512) -> None:
        self.priors = priors
        self.max_rows = max_rows
        self._rows: dict[tuple[bytes, float, float], tuple[np.ndarray, str | None]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def usable(
        self,
        raw: Sequence[Any],
        cov_scale: np.ndarray | None = None,
        position_var_m2: float = 0.0,
    ) -> tuple[list[np.ndarray], list[str | None]]:
        """Per row of ``raw`` (16 or 4x4 values): the usable covariance, times its
        ``cov_scale``, plus ``position_var_m2`` on the position variances; and None or why
        the row is refused (as ``usable_covariances``)."""
        rows = self._rows
        scales = [1.0] * len(raw) if cov_scale is None else cov_scale.tolist()
        keys = [
            (np.asarray(r, dtype=float).tobytes(), k, position_var_m2)
            for r, k in zip(raw, scales, strict=True)
        ]
        missing = [k for k in dict.fromkeys(keys) if k not in rows]
        if missing:
            if len(rows) + len(missing) > self.max_rows:
                rows.clear()  # and this array's rows that were kept go with the rest
                missing = list(dict.fromkeys(keys))
            covs, errors = usable_covariances(
                np.frombuffer(b''.join(k[0] for k in missing), dtype=float).reshape(-1, 16),
                self.priors,
            )
            scale_covariances(covs, np.array([k[1] for k in missing]), position_var_m2)
            covs.flags.writeable = False
            for k, c, e in zip(missing, covs, errors, strict=True):
                rows[k] = (c, e)
        found = [rows[k] for k in keys]
        return [c for c, _ in found], [e for _, e in found]


def usable_covariance(raw: np.ndarray, priors: CovariancePriors, where: str) -> np.ndarray:
    """The 4x4 covariance with unknown (negative diagonal) blocks replaced by priors.

    Raises ObjectInputError for non-finite entries or a matrix that is not positive
    semi-definite where it is given.
    """
    cov, errors = usable_covariances(np.asarray(raw, dtype=float).reshape(1, 16), priors)
    if errors[0] is not None:
        raise ObjectInputError(f'{where}: {errors[0]}')
    return cov[0]


def reports_from_participants(
    parts: Sequence[Any],
    kind: SourceKind,
    priors: CovariancePriors,
    default_stamp_ns: int,
    *,
    cov_scale: np.ndarray | None = None,
    position_var_m2: float = 0.0,
    cache: CovarianceCache | None = None,
) -> list[ObjectReport | ObjectInputError]:
    """``report_from_participant`` for a whole array: a report or the error, per participant.

    The checks run on all rows at once. ``cov_scale`` (per participant) multiplies and
    ``position_var_m2`` is then added to the position variances of the usable covariance
    (the component's down-weighting and sender error). ``cache`` (made with the same
    ``priors``) remembers the checked covariances of rows seen before.
    """
    n = len(parts)
    if n == 0:
        return []
    name = kind.name.lower()
    key_kind, roadside = int(kind), kind is SourceKind.ROADSIDE
    values = [(p.position.x, p.position.y, p.velocity.x, p.velocity.y) for p in parts]
    states = np.array(values, dtype=float).reshape(n, 4)
    covs: Sequence[np.ndarray]
    if cache is not None:
        covs, cov_errors = cache.usable([p.covariance for p in parts], cov_scale, position_var_m2)
    else:
        stacked, cov_errors = usable_covariances(np.array([p.covariance for p in parts]), priors)
        scale_covariances(stacked, cov_scale, position_var_m2)
        covs = list(stacked)  # rows as views made in one go (as stacked[i] one by one)
    # finite and in range (NaN and inf fail ``<=`` too); the reason only for refused rows
    good = [
        abs(x) <= MAX_STATE
        and abs(y) <= MAX_STATE
        and abs(vx) <= MAX_STATE
        and abs(vy) <= MAX_STATE
        for x, y, vx, vy in values
    ]
    out: list[ObjectReport | ObjectInputError] = []
    for p, ok, cov_error, state, cov in zip(
        parts, good, cov_errors, list(states), covs, strict=True
    ):
        if not ok or cov_error is not None:
            where = f'{name} {p.source_id or "-"}/{p.id}'
            if not np.isfinite(state).all():
                text = f'non-finite position/velocity {state.tolist()}'
            elif not ok:
                text = f'position/velocity beyond {MAX_STATE:g} {state.tolist()}'
            else:
                text = str(cov_error)
            out.append(ObjectInputError(f'{where}: {text}'))
            continue
        heading = float(p.heading_rad)
        hvar = float(p.heading_variance)
        size = (float(p.size.x), float(p.size.y), float(p.size.z))
        conf = float(p.confidence)
        source_id, object_id = str(p.source_id), int(p.id)
        out.append(
            assemble(
                ObjectReport,
                kind=kind,
                source_id=source_id,
                object_id=object_id,
                stamp_ns=int(m.to_ns(p.header.stamp) or default_stamp_ns),
                state=state,
                cov=cov,
                participant_class=int(p.participant_class),
                size_m=size if _valid_size(size) else _NO_SIZE,
                heading_rad=heading if math.isfinite(heading) else math.nan,
                heading_variance=hvar if math.isfinite(hvar) else -1.0,
                confidence=conf if math.isfinite(conf) and 0.0 <= conf <= 1.0 else 0.5,
                trust=int(p.trust),
                # the cached properties' values, set with the fields (as their first read would)
                key=(key_kind, source_id, object_id),
                group=(key_kind, source_id if roadside else ''),
            )
        )
    return out


def _valid_size(size: tuple[float, float, float]) -> bool:
    x, y, z = size  # each finite and >= 0 (NaN fails the comparison)
    return 0.0 <= x < math.inf and 0.0 <= y < math.inf and 0.0 <= z < math.inf


def report_from_participant(
    p: Any, kind: SourceKind, priors: CovariancePriors, default_stamp_ns: int
) -> ObjectReport:
    """An ObjectReport from a Participant (its own frame; stamp 0 falls back to the array's).

    Raises ObjectInputError on non-finite position or velocity or a bad covariance.
    """
    (out,) = reports_from_participants([p], kind, priors, default_stamp_ns)
    if isinstance(out, ObjectInputError):
        raise out
    return out

"""Reported objects: one source's view of one object, checked and with a usable covariance.

Participant messages carry [x, y, vx, vy] covariances with -1 on the diagonal where unknown;
a report replaces those by the configured priors, so every report has a positive-definite
4x4 covariance and can be fused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from perception_nodes.fusion.errors import ObjectInputError
from v2x_runtime import messages as m

TRUST_UNKNOWN, TRUST_VERIFIED, TRUST_UNVERIFIED, TRUST_MISBEHAVING = 0, 1, 2, 3
CLASS_UNKNOWN, CLASS_PEDESTRIAN, CLASS_CYCLIST = 0, 5, 4
MAX_STATE = 1e7  # m, m/s: beyond any map frame or road user
MAX_COV = 1e10  # m², m²/s²
_VEHICLES = frozenset({1, 2, 3, 7})
_VULNERABLE = frozenset({4, 5})


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

    @property
    def key(self) -> tuple[int, str, int]:
        """Identity of the object at its source."""
        return (int(self.kind), self.source_id, self.object_id)

    @property
    def group(self) -> tuple[int, str]:
        """Association group: reports of one group are distinct objects, never merged.

        Each roadside unit is its own group; onboard is one; V2V senders describe only
        themselves, so all V2V reports form one group.
        """
        return (int(self.kind), self.source_id if self.kind is SourceKind.ROADSIDE else '')


def usable_covariance(raw: np.ndarray, priors: CovariancePriors, where: str) -> np.ndarray:
    """The 4x4 covariance with unknown (negative diagonal) blocks replaced by priors.

    Raises ObjectInputError for non-finite entries or a matrix that is not positive
    semi-definite where it is given.
    """
    cov = np.asarray(raw, dtype=float).reshape(4, 4).copy()
    if not np.isfinite(cov).all():
        raise ObjectInputError(f'{where}: covariance has non-finite entries')
    if np.abs(cov).max() > MAX_COV:
        raise ObjectInputError(f'{where}: covariance entry beyond {MAX_COV:g}')
    for block, prior, floor in (
        (slice(0, 2), priors.position_sigma_m, priors.min_position_sigma_m),
        (slice(2, 4), priors.velocity_sigma_mps, priors.min_velocity_sigma_mps),
    ):
        diag = np.diag(cov)[block]
        if (diag < 0).any():
            cov[block, :] = 0.0
            cov[:, block] = 0.0
            idx = np.arange(4)[block]
            cov[idx, idx] = prior * prior
        idx = np.arange(4)[block]
        cov[idx, idx] = np.maximum(cov[idx, idx], floor * floor)
    cov = 0.5 * (cov + cov.T)
    try:
        eig = np.linalg.eigvalsh(cov)
    except np.linalg.LinAlgError as err:
        raise ObjectInputError(f'{where}: covariance eigenvalues: {err}') from err
    if eig[0] < -1e-9 * max(eig[-1], 1.0):
        raise ObjectInputError(f'{where}: covariance not positive semi-definite (eig {eig[0]:.3g})')
    if eig[0] <= 0.0:
        cov += np.eye(4) * (1e-9 - eig[0])
    return cov


def report_from_participant(
    p: Any, kind: SourceKind, priors: CovariancePriors, default_stamp_ns: int
) -> ObjectReport:
    """An ObjectReport from a Participant (its own frame; stamp 0 falls back to the array's).

    Raises ObjectInputError on non-finite position or velocity or a bad covariance.
    """
    stamp = m.to_ns(p.header.stamp) or default_stamp_ns
    where = f'{kind.name.lower()} {p.source_id or "-"}/{p.id}'
    state = np.array([p.position.x, p.position.y, p.velocity.x, p.velocity.y], dtype=float)
    if not np.isfinite(state).all():
        raise ObjectInputError(f'{where}: non-finite position/velocity {state.tolist()}')
    if np.abs(state).max() > MAX_STATE:
        raise ObjectInputError(f'{where}: position/velocity beyond {MAX_STATE:g} {state.tolist()}')
    cov = usable_covariance(p.covariance, priors, where)
    heading = float(p.heading_rad)
    hvar = float(p.heading_variance)
    size = (float(p.size.x), float(p.size.y), float(p.size.z))
    conf = float(p.confidence)
    return ObjectReport(
        kind=kind,
        source_id=str(p.source_id),
        object_id=int(p.id),
        stamp_ns=int(stamp),
        state=state,
        cov=cov,
        participant_class=int(p.participant_class),
        size_m=size if all(math.isfinite(v) and v >= 0 for v in size) else (0.0, 0.0, 0.0),
        heading_rad=heading if math.isfinite(heading) else math.nan,
        heading_variance=hvar if math.isfinite(hvar) else -1.0,
        confidence=conf if math.isfinite(conf) and 0.0 <= conf <= 1.0 else 0.5,
        trust=int(p.trust),
    )

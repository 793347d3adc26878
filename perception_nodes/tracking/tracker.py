"""Multi-object tracker: IMM (CV + CT) per track, gated Hungarian assignment, track life cycle.

Tracks live in arrays (one row per track) so prediction, gating and update run over all of
them at once. Life cycle: a detection nobody claims opens a TENTATIVE track; ``confirm_hits``
hits make it CONFIRMED; a confirmed track that misses becomes LOST and coasts on its
prediction until ``max_coast_s`` has passed without a hit, when it is dropped; a tentative
track is dropped after ``tentative_max_misses`` misses. Ids count up and are never reused.
Heading comes from the velocity when the object moves, otherwise from the box, with the box's
pi ambiguity resolved towards the last heading.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from perception_nodes.tracking import imm
from perception_nodes.tracking.association import assign, candidate_pairs, mahalanobis_pairs
from perception_nodes.tracking.errors import MeasurementError, TimeOrderError, TrackerConfigError
from v2x_runtime.frozen import assemble_values

N_CLASSES = 8
CLASS_UNKNOWN = 0


class TrackStatus(enum.IntEnum):
    TENTATIVE = 0
    CONFIRMED = 1
    LOST = 2


@dataclass(frozen=True)
class TrackerConfig:
    """Gates, life cycle and noise; distances in m, times in s."""

    gate_chi2: float = 13.8  # chi-square, 2 dof, 0.999
    gate_max_m: float = 6.0
    confirm_hits: int = 3
    tentative_max_misses: int = 1
    max_coast_s: float = 1.0
    position_std_m: float = 0.15
    position_std_per_m: float = 0.004  # measurement std grows with range from the sensor
    init_speed_std_mps: float = 8.0
    init_omega_std_rps: float = 0.3
    heading_min_speed_mps: float = 1.0
    size_smoothing: float = 0.3
    imm: imm.ImmParams = field(default_factory=imm.ImmParams)

    def __post_init__(self) -> None:
        checks = {
            'gate_chi2': self.gate_chi2 > 0,
            'gate_max_m': self.gate_max_m > 0,
            'confirm_hits': self.confirm_hits >= 1,
            'tentative_max_misses': self.tentative_max_misses >= 1,
            'max_coast_s': self.max_coast_s > 0,
            'position_std_m': self.position_std_m > 0,
            'position_std_per_m': self.position_std_per_m >= 0,
            'init_speed_std_mps': self.init_speed_std_mps > 0,
            'size_smoothing': 0 < self.size_smoothing <= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise TrackerConfigError(f'tracker {name}: out of range, got {getattr(self, name)}')


@dataclass(frozen=True)
class DetectionSet:
    """One sensor cycle's detections as arrays of D: centre, size (l, w, h), yaw, class, conf.

    ``position_var_m2`` (D,), when given, is each detection's own position variance; entries
    that are not finite and positive fall back to the tracker's range model.
    """

    xyz_m: np.ndarray
    size_m: np.ndarray
    yaw_rad: np.ndarray
    class_id: np.ndarray
    confidence: np.ndarray
    position_var_m2: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.xyz_m.shape[0])

    def check(self) -> None:
        n = self.xyz_m.shape[0]
        arrays = (self.size_m, self.yaw_rad, self.class_id, self.confidence)
        if self.position_var_m2 is not None:
            arrays = (*arrays, self.position_var_m2)
        if self.xyz_m.shape != (n, 3) or any(a.shape[0] != n for a in arrays):
            raise MeasurementError(
                f'detection arrays disagree: xyz {self.xyz_m.shape}, size {self.size_m.shape}, '
                f'yaw {self.yaw_rad.shape}, class {self.class_id.shape}'
            )
        if not (
            np.isfinite(self.xyz_m).all()
            and np.isfinite(self.size_m).all()
            and np.isfinite(self.yaw_rad).all()
        ):
            raise MeasurementError('detections contain NaN or inf in position, size or yaw')


def class_vote(det: DetectionSet, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The class each of the detections ``idx`` votes for, and the weight of its vote.

    A track's class is the largest of its slowly forgotten votes, its class confidence that
    vote's share of them all. A classified detection votes with its confidence (its class's
    membership score). An UNKNOWN one carries as its confidence the score of the best class it
    was still refused for (below ``class_min_confidence``, mostly 0: a box no class fits), so
    it votes UNKNOWN with the complement, 1 - that score: how clearly the box is no known
    class. UNKNOWN is a verdict of the classifier, not an abstention: it is what debris and a
    truck's bare rear face look like, and the RSU's events treat a standing UNKNOWN as an
    obstacle and RSM/SSM send it as ptcType unknown. A track seen 9 times as UNKNOWN and once
    as a CAR is therefore UNKNOWN, with a low class confidence once CAR votes come in (a
    tracker reads each look as one piece of evidence, as Autoware's multi-object tracker
    adds every measurement's normalised classification, UNKNOWN included); the abstention
    belongs to the fusion (``fusion.engine``), where another source that knows the class
    (a car's own BSM) speaks for the same instant.
    """
    classes = det.class_id[idx].astype(np.int64) % N_CLASSES
    conf = det.confidence[idx]
    return classes, np.where(classes == CLASS_UNKNOWN, 1.0 - conf, conf)


@dataclass(frozen=True)
class Track:
    """One track's estimate; covariance is of [x, y, vx, vy] (m², m²/s²)."""

    track_id: int
    status: TrackStatus
    x_m: float
    y_m: float
    z_m: float
    vx_mps: float
    vy_mps: float
    yaw_rate_rps: float
    covariance: np.ndarray
    heading_rad: float
    heading_variance: float
    length_m: float
    width_m: float
    height_m: float
    object_class: int
    class_confidence: float
    hits: int
    age_s: float
    ct_probability: float

    @property
    def speed_mps(self) -> float:
        return float(np.hypot(self.vx_mps, self.vy_mps))


_TRACK_FIELDS = tuple(f.name for f in fields(Track))


def _track(values: tuple[Any, ...]) -> Track:
    """A ``Track`` of its field values in declaration order, without the frozen ``__init__``
    (~10x the cost; ``v2x_runtime.frozen``): the output of every frame builds one per track."""
    return assemble_values(Track, _TRACK_FIELDS, values)


class MultiObjectTracker:
    """Feed ``step(stamp_s, detections)`` in time order; returns the confirmed and lost tracks."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.last_stamp_s: float | None = None
        self.next_id = 1
        self.x = np.zeros((0, imm.N_MODES, imm.N_STATE))
        self.p = np.zeros((0, imm.N_MODES, imm.N_STATE, imm.N_STATE))
        self.mu = np.zeros((0, imm.N_MODES))
        self.ids = np.zeros(0, dtype=np.int64)
        self.status = np.zeros(0, dtype=np.int8)
        self.hits = np.zeros(0, dtype=np.int64)
        self.misses = np.zeros(0, dtype=np.int64)
        self.born_s = np.zeros(0)
        self.last_hit_s = np.zeros(0)
        self.z = np.zeros(0)
        self.size = np.zeros((0, 3))
        self.heading = np.zeros(0)
        self.heading_var = np.zeros(0)
        self.class_votes = np.zeros((0, N_CLASSES))

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def _meas_cov(self, xy: np.ndarray, own_var: np.ndarray | None) -> np.ndarray:
        std = self.config.position_std_m + self.config.position_std_per_m * np.sqrt(
            xy[:, 0] ** 2 + xy[:, 1] ** 2
        )
        var = std**2
        if own_var is not None:
            good = np.isfinite(own_var) & (own_var > 0)
            var = np.where(good, own_var, var)
        r = np.zeros((xy.shape[0], 2, 2))
        r[:, 0, 0] = r[:, 1, 1] = var
        return r

    def step(self, stamp_s: float, det: DetectionSet) -> list[Track]:
        """Predict to ``stamp_s``, associate, update, manage tracks; raises on bad input."""
        det.check()
        if self.last_stamp_s is not None and stamp_s <= self.last_stamp_s:
            raise TimeOrderError(
                f'detections at {stamp_s:.3f} s are not newer than the last at '
                f'{self.last_stamp_s:.3f} s'
            )
        dt = 0.0 if self.last_stamp_s is None else stamp_s - self.last_stamp_s
        self.last_stamp_s = stamp_s
        cfg = self.config
        if dt > 0:
            self.x, self.p, c = imm.predict(self.x, self.p, self.mu, dt, cfg.imm)
        else:
            c = self.mu
        xc, pc = imm.combine(self.x, self.p, c)
        z_xy = det.xyz_m[:, :2].astype(np.float64)
        r = self._meas_cov(z_xy, det.position_var_m2)
        # pre-gate by distance (k-d tree), then the Mahalanobis gate with each pair's own
        # innovation covariance (the measurement noise varies by range)
        ti, dj = candidate_pairs(xc[:, :2], z_xy, cfg.gate_max_m)
        d2, det_s = mahalanobis_pairs(xc[:, :2], pc[:, :2, :2], z_xy, r[:, 0, 0], ti=ti, dj=dj)
        rows, cols = assign(ti, dj, d2, det_s, gate_d2=cfg.gate_chi2)
        mu = c.copy()
        if rows.size:
            xu, pu, mu_u = imm.update(self.x[rows], self.p[rows], c[rows], z_xy[cols], r[cols])
            self.x[rows], self.p[rows] = xu, pu
            mu[rows] = mu_u
        self.mu = mu
        # the combined estimate the heading update makes is the one the output needs: combine
        # works row by row, so the rows born and pruned below only add and drop rows of it
        xc, pc = self._bookkeep(stamp_s, det, rows, cols)
        free = np.ones(len(det), dtype=bool)
        free[cols] = False  # a mask: setdiff1d sorts, ~40 us a frame for nothing
        n_old = len(self)
        self._birth(stamp_s, det, np.flatnonzero(free), r)
        if len(self) > n_old:
            xn, pn = imm.combine(self.x[n_old:], self.p[n_old:], self.mu[n_old:])
            xc, pc = np.concatenate([xc, xn]), np.concatenate([pc, pn])
        keep = self._prune(stamp_s)
        if keep is not None:
            xc, pc = xc[keep], pc[keep]
        return self._tracks(stamp_s, xc, pc, include_tentative=False)

    def _bookkeep(
        self, stamp_s: float, det: DetectionSet, rows: np.ndarray, cols: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Hits, misses, sizes, classes, life cycle and heading; returns the combined state
        and covariance after the update."""
        cfg = self.config
        hit = np.zeros(len(self), dtype=bool)
        hit[rows] = True
        self.hits[rows] += 1
        self.misses[rows] = 0
        self.misses[~hit] += 1
        self.last_hit_s[rows] = stamp_s
        a = cfg.size_smoothing
        self.size[rows] = (1 - a) * self.size[rows] + a * det.size_m[cols]
        self.z[rows] = det.xyz_m[cols, 2]
        # rows are one-to-one assignments, so a fancy += adds once per row (np.add.at, its
        # unbuffered form, costs ~20 us a frame for nothing)
        classes, weights = class_vote(det, cols)
        self.class_votes[rows, classes] += weights
        self.class_votes *= 0.95  # slowly forget old votes
        status = self.status
        status[hit & (status == TrackStatus.LOST)] = TrackStatus.CONFIRMED
        status[hit & (status == TrackStatus.TENTATIVE) & (self.hits >= cfg.confirm_hits)] = (
            TrackStatus.CONFIRMED
        )
        status[~hit & (status == TrackStatus.CONFIRMED)] = TrackStatus.LOST
        return self._update_heading(det, rows, cols)

    def _update_heading(
        self, det: DetectionSet, rows: np.ndarray, cols: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        xc, pc = imm.combine(self.x, self.p, self.mu)
        vx, vy = xc[:, 2], xc[:, 3]
        speed2 = vx * vx + vy * vy
        moving = speed2 >= self.config.heading_min_speed_mps**2
        j = np.stack([-vy, vx], axis=1) / np.maximum(speed2, 1e-9)[:, None]
        var_v = np.einsum('ta,tab,tb->t', j, pc[:, 2:4, 2:4], j)
        self.heading[moving] = np.arctan2(vy[moving], vx[moving])
        self.heading_var[moving] = np.minimum(var_v[moving], np.pi**2)
        # standing objects: the box yaw, flipped by pi to the side of the last heading
        still = np.zeros(len(self), dtype=bool)
        still[rows] = ~moving[rows]
        if still.any():
            idx = np.nonzero(still[rows])[0]
            tr, dc = rows[idx], cols[idx]
            yaw = det.yaw_rad[dc]
            flip = np.cos(yaw - self.heading[tr]) < 0
            yaw = np.where(flip, yaw + np.pi, yaw)
            self.heading[tr] = (yaw + np.pi) % (2 * np.pi) - np.pi
            self.heading_var[tr] = np.maximum(self.heading_var[tr], 0.05)
        return xc, pc

    def _birth(self, stamp_s: float, det: DetectionSet, free: np.ndarray, r: np.ndarray) -> None:
        if free.size == 0:
            return
        cfg = self.config
        xy = det.xyz_m[free, :2].astype(np.float64)
        x, p, mu = imm.init_state(xy, r[free, 0, 0], cfg.init_speed_std_mps, cfg.init_omega_std_rps)
        k = free.size
        votes = np.zeros((k, N_CLASSES))
        classes, weights = class_vote(det, free)
        votes[np.arange(k), classes] = weights
        self.x = np.concatenate([self.x, x])
        self.p = np.concatenate([self.p, p])
        self.mu = np.concatenate([self.mu, mu])
        self.ids = np.concatenate([self.ids, np.arange(self.next_id, self.next_id + k)])
        self.next_id += k
        self.status = np.concatenate([self.status, np.zeros(k, dtype=np.int8)])
        self.hits = np.concatenate([self.hits, np.ones(k, dtype=np.int64)])
        self.misses = np.concatenate([self.misses, np.zeros(k, dtype=np.int64)])
        self.born_s = np.concatenate([self.born_s, np.full(k, stamp_s)])
        self.last_hit_s = np.concatenate([self.last_hit_s, np.full(k, stamp_s)])
        self.z = np.concatenate([self.z, det.xyz_m[free, 2]])
        self.size = np.concatenate([self.size, det.size_m[free]])
        self.heading = np.concatenate([self.heading, det.yaw_rad[free]])
        self.heading_var = np.concatenate([self.heading_var, np.full(k, np.pi**2 / 3)])
        self.class_votes = np.concatenate([self.class_votes, votes])
        if self.config.confirm_hits <= 1:
            self.status[-k:] = TrackStatus.CONFIRMED

    def _prune(self, stamp_s: float) -> np.ndarray | None:
        """Drop the tracks that are done; returns the mask of those kept (None: all kept)."""
        cfg = self.config
        drop = (self.status == TrackStatus.TENTATIVE) & (self.misses >= cfg.tentative_max_misses)
        drop |= (self.status == TrackStatus.LOST) & (stamp_s - self.last_hit_s > cfg.max_coast_s)
        if drop.any():
            keep = ~drop
            for name in (
                'x',
                'p',
                'mu',
                'ids',
                'status',
                'hits',
                'misses',
                'born_s',
                'last_hit_s',
                'z',
                'size',
                'heading',
                'heading_var',
                'class_votes',
            ):
                setattr(self, name, getattr(self, name)[keep])
            return keep
        return None

    def tracks(self, stamp_s: float, *, include_tentative: bool = False) -> list[Track]:
        """The current tracks as dataclasses (confirmed and lost; tentative on request)."""
        xc, pc = imm.combine(self.x, self.p, self.mu)
        return self._tracks(stamp_s, xc, pc, include_tentative=include_tentative)

    def _tracks(
        self, stamp_s: float, xc: np.ndarray, pc: np.ndarray, *, include_tentative: bool
    ) -> list[Track]:
        """``tracks`` from the combined state and covariance of every row."""
        best = np.argmax(self.class_votes, axis=1) if len(self) else np.zeros(0, dtype=int)
        total = self.class_votes.sum(axis=1)
        conf = (self.class_votes[np.arange(len(self)), best] / np.maximum(total, 1e-9)).tolist()
        cols = (
            self.ids.tolist(),
            self.status.tolist(),
            xc[:, 0].tolist(),
            xc[:, 1].tolist(),
            self.z.tolist(),
            xc[:, 2].tolist(),
            xc[:, 3].tolist(),
            xc[:, 4].tolist(),
            self.heading.tolist(),
            self.heading_var.tolist(),
            self.size.tolist(),
            best.tolist(),
            conf,
            self.hits.tolist(),
            (stamp_s - self.born_s).tolist(),
            self.mu[:, imm.CT].tolist(),
        )
        statuses = list(TrackStatus)
        out = []
        for i, (tid, st, x, y, z, vx, vy, w, hd, hv, size, cls, cc, hits, age, ct) in enumerate(
            zip(*cols, strict=True)
        ):
            if st == TrackStatus.TENTATIVE and not include_tentative:
                continue
            out.append(
                _track(
                    (tid, statuses[st], x, y, z, vx, vy, w, pc[i, :4, :4].copy(), hd, hv,
                     size[0], size[1], size[2], cls, cc, hits, age, ct)
                )
            )  # fmt: skip
        return out

"""Cooperative perception of the car stacks scored against the simulation's ground truth.

For every connected vehicle whose stack publishes ``perception/fused_objects``, at each fused
output (the fusion's cycle, 10 Hz) the probe scores what each source alone would give that
vehicle at that instant, and the fused list:

| source | topic in ``/<vehicle>/`` |
|---|---|
| ``onboard`` | ``perception/objects`` (the onboard lidar tracker, ego-motion compensated, map) |
| ``roadside`` | ``v2x/roadside_participants`` (RSM/SSM, the latest list of every RSU) |
| ``v2v`` | ``v2x/remote_vehicles`` (BSM senders) |
| ``fused`` | ``perception/fused_objects`` |

A source is scored from its first message on (every car stack runs the onboard pipeline;
only vehicles with a simulated lidar feed it). A source's objects are its latest reports no
older than ``max_age_s`` (the fusion's own bound), each predicted to the scoring instant
with its velocity (what the fusion does before associating), so every source is judged on
the same instants. Scored: road users within ``radius_m`` of the vehicle's true position
(the vehicle itself excluded); objects within ``ego_radius_m`` of it are the vehicle as
others see it and are left out. Per instant one Hungarian assignment with a ``gate_m``
gate: matches are true positives, unmatched road users misses, unmatched objects inside the
radius false positives; position and velocity RMSE over the matches; MOTA and IDF1 by
``mot_metrics`` over the same instants. A fused object left unmatched within the gate of a
matched road user is a *duplicate* of it.

For the road users an expectation names (``expect.perception`` targets), at any distance:
the first instant each source had an object within the gate of them, and for the fused list
the source kinds (``onboard``, ``rsu``, ``v2v``) of the nearest such object, and any further
fused object within the gate: a *duplicate* when it holds a source kind the nearest one
lacks (sources the fusion failed to associate), a *split by a source* when its kinds are all
in the nearest one's (one source, e.g. the onboard tracker seeing a car's front face apart,
reported the road user twice; the fusion cannot merge two objects of one source). The
occlusion scenarios' checks read them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain
from math import isfinite
from operator import itemgetter
from typing import Any, TypeAlias

import numpy as np
from scipy.optimize import linear_sum_assignment

from sim_nodes.report.mot_metrics import Frame, evaluate_mot
from sim_nodes.report.perception_batch import score_instants
from v2x_runtime import messages as m
from v2x_runtime.identity_memo import IdentityMemo

PARTICIPANTS = 'v2x_stack/msg/ParticipantArray'
SOURCE_TOPICS = {
    'onboard': 'perception/objects',
    'roadside': 'v2x/roadside_participants',
    'v2v': 'v2x/remote_vehicles',
    'fused': 'perception/fused_objects',
}
FUSED_TOPIC = SOURCE_TOPICS['fused']
MAP_FRAMES = ('map', '/map')


@dataclass(frozen=True)
class EvalConfig:
    radius_m: float = 60.0
    gate_m: float = 2.0
    max_age_s: float = 0.5
    ego_radius_m: float = 3.0


@dataclass
class SourceScore:
    """Counts and squared errors of one source (summed over instants and vehicles)."""

    instants: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    pos_sq: float = 0.0
    vel_sq: float = 0.0
    vel_n: int = 0
    duplicates: int = 0
    frames: list[Frame] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        mot = evaluate_mot(self.frames) if self.frames else None
        return {
            'instants': self.instants,
            'true_positives': self.tp,
            'false_positives': self.fp,
            'misses': self.fn,
            'precision': _r(self.tp / (self.tp + self.fp)) if self.tp + self.fp else None,
            'recall': _r(self.tp / (self.tp + self.fn)) if self.tp + self.fn else None,
            'position_rmse_m': _r(np.sqrt(self.pos_sq / self.tp)) if self.tp else None,
            'velocity_rmse_mps': _r(np.sqrt(self.vel_sq / self.vel_n)) if self.vel_n else None,
            'mota': None if mot is None or not mot.ground_truth else _r(mot.mota),
            'idf1': None if mot is None or not mot.ground_truth else _r(mot.idf1),
            'id_switches': None if mot is None else mot.id_switches,
            'duplicates': self.duplicates,
        }


def _r(x: float) -> float:
    return round(float(x), 4)


@dataclass
class _Objects:
    """One source's current objects: map-frame rows x, y, vx, vy, stamp s, and their ids."""

    rows: np.ndarray = field(default_factory=lambda: np.zeros((0, 5)))
    ids: list[tuple[str, int]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    _masks: tuple[np.ndarray | None, np.ndarray | None] | None = None

    def masks(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The rows with a finite position and with a finite velocity (None: every row):
        worked out once per list, for every scoring instant that uses it."""
        if self._masks is None:
            finite = np.isfinite(self.rows[:, :4])
            if finite.all():
                self._masks = (None, None)
            else:
                finite_xy, moving = finite[:, :2].all(axis=1), finite[:, 2:].all(axis=1)
                self._masks = (
                    None if finite_xy.all() else finite_xy,
                    None if moving.all() else moving,
                )
        return self._masks


def objects_of(msg: Any, reads: IdentityMemo[_Read] | None = None) -> _Objects:
    """A map-frame ParticipantArray as rows (non-finite velocities become NaN).

    With ``reads``, each participant is read once (``_read``) and found again by the object
    itself: the cars' receivers share the decoded roadside and BSM participants, so one
    participant sits in the lists of ~15 cars (dense run: 175 000 list entries, 10 500
    participants), and a flat list of floats makes the array faster than one of rows. The
    same numbers either way."""
    ps = msg.participants
    if reads is None:
        rows = np.array(
            [
                [
                    p.position.x,
                    p.position.y,
                    p.velocity.x,
                    p.velocity.y,
                    to_ns(p.header.stamp) / 1e9,
                ]
                for p in ps
            ],
            dtype=float,
        ).reshape(-1, 5)
        return _Objects(
            rows, [(str(p.source_id), int(p.id)) for p in ps], [p.source_id for p in ps]
        )
    got = list(map(reads.get, ps))
    if None in got:
        for k, entry in enumerate(got):
            if entry is None:
                got[k] = reads.put(ps[k], _read(ps[k]))
    rows = np.array(list(chain.from_iterable(map(_ROW, got))), dtype=float).reshape(-1, 5)
    return _Objects(rows, list(map(_IDS, got)), list(map(_LABEL, got)))


MAX_READS = 8192  # participants kept read (~1 s of the dense scenario's shared ones)
# (x, y, vx, vy, stamp s), (source id, id), label
_Read: TypeAlias = 'tuple[tuple[Any, Any, Any, Any, float], tuple[str, int], Any]'


_ROW, _IDS, _LABEL = itemgetter(0), itemgetter(1), itemgetter(2)
to_ns = m.to_ns


def _read(p: Any) -> _Read:
    pos, vel = p.position, p.velocity
    row = (pos.x, pos.y, vel.x, vel.y, to_ns(p.header.stamp) / 1e9)
    return row, (str(p.source_id), int(p.id)), p.source_id


def _subset(objs: _Objects, mask: np.ndarray) -> _Objects:
    idx = np.flatnonzero(mask)
    return _Objects(objs.rows[idx], [objs.ids[i] for i in idx], [objs.labels[i] for i in idx])


@dataclass
class _Truth:
    """The road users scored at one instant (the same for each source): names, positions
    brought to the instant, velocities, and their MOT ids once handed out."""

    names: list[str]
    xy: np.ndarray
    vel: np.ndarray
    all_xy: np.ndarray  # every road user brought to the instant (for the named targets)
    ids: list[int] | None = None
    _vel: list[list[float]] | None = None

    def vel_list(self) -> list[list[float]]:
        if self._vel is None:
            self._vel = self.vel.tolist()
        return self._vel


def _assign(dist: np.ndarray, gated: np.ndarray) -> tuple[list[tuple[int, int]], bool]:
    """Matches (truth row, object row) in row order where no row and no column holds two
    entries inside the gate (most instants), and whether that is so (else: ``_assign_rest``).

    Those entries are then the answer of the Hungarian assignment on ``dist`` with the
    entries outside the gate priced at 1e6 (priced ones dropped): a solution without one of
    them would cost about 1e6 more, and they are disjoint, so every optimum holds them all and
    nothing else inside the gate; ``np.nonzero`` lists them in row order, as the solver's rows
    come.
    """
    r, c = np.nonzero(gated)
    rows, cols = r.tolist(), c.tolist()
    if len(set(rows)) == len(rows) and len(set(cols)) == len(cols):
        return list(zip(rows, cols, strict=True)), True
    return [], False


def _assign_rest(dist: np.ndarray, gated: np.ndarray) -> tuple[list[tuple[int, int]], int]:
    """The solver's matches (entries outside the gate priced at 1e6 and dropped) and the
    duplicates: unmatched entries inside the gate of a matched road user."""
    cost = np.where(gated, dist, 1e6)
    r, c = linear_sum_assignment(cost)
    matches = [(i, j) for i, j in zip(r.tolist(), c.tolist(), strict=True) if gated[i, j]]
    if not matches:
        return matches, 0
    unmatched = np.ones(dist.shape[1], bool)
    unmatched[[j for _, j in matches]] = False
    return matches, int(np.count_nonzero(gated[[i for i, _ in matches]] & unmatched))


def _truth_at(instant: _Instant, cfg: EvalConfig) -> tuple[_Truth, np.ndarray] | None:
    """The road users scored at a fused output (within ``radius_m`` of the vehicle, itself
    excluded, all brought to the instant) and the vehicle's own position; None when the
    vehicle is not in the truth."""
    me, truth = instant.rows, instant.truth
    if not me:
        return None
    lag = instant.t - instant.truth_t  # the truth is at most one world step old: bring it to t
    gt_xy = truth['xy'] + truth['vel'] * lag
    ego = gt_xy[me[0]]
    d_gt = np.hypot(*(gt_xy - ego).T)
    others = d_gt <= cfg.radius_m
    others[me] = False
    sel = np.flatnonzero(others)
    return _Truth(truth['names'][sel].tolist(), gt_xy[sel], truth['vel'][sel], gt_xy), ego


def _joined(masks: list[np.ndarray | None], sizes: list[int]) -> np.ndarray | None:
    """Per-part row masks (None: all rows) as one mask over the stacked parts."""
    if all(mask is None for mask in masks):
        return None
    return np.concatenate(
        [np.ones(n, bool) if mask is None else mask for mask, n in zip(masks, sizes, strict=True)]
    )


def source_kinds(label: str) -> set[str]:
    """``onboard+rsu:rsu1+v2v:0a`` → {'onboard', 'rsu', 'v2v'}."""
    return {part.split(':', 1)[0] for part in label.split('+') if part}


@dataclass(frozen=True)
class _Instant:
    """A fused output to score: its vehicle and stamp, the ground truth then (its stamp and the
    vehicle's rows in it) and each source's lists then."""

    vehicle: str
    t: float
    truth: dict[str, np.ndarray]
    truth_t: float
    rows: list[int] | None
    latest: dict[str, list[_Objects]]


@dataclass
class _Vehicle:
    sources: list[str] = field(default_factory=list)  # the sources its stack publishes
    latest: dict[str, dict[str, _Objects]] = field(default_factory=lambda: defaultdict(dict))
    scores: dict[str, SourceScore] = field(default_factory=lambda: defaultdict(SourceScore))
    first_seen: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # most kinds
    target_duplicates: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    target_splits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seen: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))


class PerceptionProbe:
    """Subscribes to the sources of every car stack that fuses; scores at each fused output."""

    max_pending = 1000  # fused outputs kept for scoring in one batch (~12 s of the default run)

    def __init__(self, config: EvalConfig | None = None, targets: Iterable[str] = ()) -> None:
        self.config = config or EvalConfig()
        self.targets = set(targets)
        self.vehicles: dict[str, _Vehicle] = {}
        self.topics: list[str] = []
        self._truth: dict[str, np.ndarray] | None = None
        self._truth_t = 0.0
        self._truth_rows: dict[str, list[int]] = {}
        self._pending: list[_Instant] = []
        self._obj_ids: dict[tuple[str, str, str, int], int] = {}
        self._reads: IdentityMemo[_Read] = IdentityMemo(MAX_READS)  # (``objects_of``)

    # --- wiring -----------------------------------------------------------------------------
    def attach(self, runtime: Any, vehicles: Iterable[str]) -> None:
        runtime.subscribe('/sim/ground_truth', PARTICIPANTS, self.on_truth)
        for name in sorted(vehicles):
            info = runtime.topics.get(f'/{name}/{FUSED_TOPIC}')
            if info is None or not info.publishers:
                continue
            vehicle = self.vehicles[name] = _Vehicle()
            for source, rel in SOURCE_TOPICS.items():
                topic = f'/{name}/{rel}'
                info = runtime.topics.get(topic)
                if info is None or not info.publishers or info.msgtype != PARTICIPANTS:
                    continue
                self.topics.append(topic)
                vehicle.sources.append(source)
                runtime.subscribe(
                    topic, PARTICIPANTS, lambda msg, n=name, s=source: self.on_source(n, s, msg)
                )

    # --- inputs -----------------------------------------------------------------------------
    def on_truth(self, msg: Any) -> None:
        ps = msg.participants
        self._truth_t = m.to_ns(msg.header.stamp) / 1e9
        self._truth = {
            'names': np.array([p.source_id for p in ps], dtype=object),
            'xy': np.array([[p.position.x, p.position.y] for p in ps], float).reshape(-1, 2),
            'vel': np.array([[p.velocity.x, p.velocity.y] for p in ps], float).reshape(-1, 2),
        }
        # rows of each name: scoring looks its vehicle up 10 times a second per car (an
        # object-array comparison over every road user each time)
        index: dict[str, list[int]] = {}
        for i, p in enumerate(ps):
            index.setdefault(p.source_id, []).append(i)
        self._truth_rows = index

    def on_source(self, vehicle: str, source: str, msg: Any) -> None:
        if msg.header.frame_id not in MAP_FRAMES:
            return  # an onboard list in base_link would need the ego pose: not scored
        v = self.vehicles[vehicle]
        # a car's fused list is its own (nothing to find again); the others share participants
        objs = objects_of(msg, None if source == 'fused' else self._reads)
        # the roadside topic carries one RSU's list per message: keep the latest of each
        key = objs.ids[0][0] if source == 'roadside' and objs.ids else ''
        v.latest[source][key] = objs
        if source == 'fused' and self._truth is not None:
            # scored with the other instants once the run is over (``scored``): in one tight
            # loop it costs half what it did between the components' callbacks. The truth
            # is replaced, never changed, by on_truth; the lists in force are copied.
            self._pending.append(
                _Instant(
                    vehicle,
                    m.to_ns(msg.header.stamp) / 1e9,
                    self._truth,
                    self._truth_t,
                    self._truth_rows.get(vehicle),
                    {s: list(parts.values()) for s, parts in v.latest.items()},
                )
            )
            if len(self._pending) >= self.max_pending:
                self.scored()  # a long run's memory stays bounded (every instant holds lists)

    def scored(self) -> None:
        """Score the fused outputs received so far, in the order they came."""
        pending, self._pending = self._pending, []
        if self.targets:  # the named road users are followed instant by instant
            for instant in pending:
                self.score(instant)
        else:
            score_instants(self, pending)

    # --- scoring ----------------------------------------------------------------------------
    def _current(self, parts: list[_Objects], t: float) -> _Objects:
        """The source's objects no older than ``max_age_s`` with a finite position, each
        moved to ``t`` by its velocity (where finite); rows are copies."""
        if not parts:
            return _Objects()
        if len(parts) == 1:  # every source but the roadside one (one list per RSU)
            part = parts[0]
            rows, ids, labels = part.rows, part.ids, part.labels
            finite_xy, moving = part.masks()
        else:
            rows = np.vstack([p.rows for p in parts])
            ids = [i for p in parts for i in p.ids]
            labels = [lab for p in parts for lab in p.labels]
            masks = [p.masks() for p in parts]
            sizes = [len(p.rows) for p in parts]
            finite_xy = _joined([mask[0] for mask in masks], sizes)
            moving = _joined([mask[1] for mask in masks], sizes)
        age = t - rows[:, 4]
        keep = age <= self.config.max_age_s
        if finite_xy is not None:
            keep &= finite_xy
        if keep.all():
            idx_list = None
        else:
            idx = np.flatnonzero(keep)
            rows, age = np.take(rows, idx, axis=0), age[idx]
            if moving is not None:
                moving = moving[idx]
            idx_list = idx.tolist()
        dt = np.maximum(age, 0.0)
        out = rows.copy()
        if moving is None:
            out[:, :2] += rows[:, 2:4] * dt[:, None]
        else:
            out[moving, :2] += rows[moving, 2:4] * dt[moving, None]
        if idx_list is None:
            return _Objects(out, ids, labels)
        return _Objects(out, [ids[i] for i in idx_list], [labels[i] for i in idx_list])

    def score(self, instant: _Instant) -> None:
        """Score one fused output (``scored`` does them all at once when no target is named)."""
        at = _truth_at(instant, self.config)
        if at is None:
            return
        gt, ego = at
        vehicle, t, cfg = instant.vehicle, instant.t, self.config
        moved = {'names': instant.truth['names'], 'xy': gt.all_xy}
        v = self.vehicles[vehicle]
        for source in v.sources:
            parts = instant.latest.get(source)
            if parts is None:  # scored from its first list on (a car without a lidar
                continue  # still runs the idle onboard pipeline: not scored)
            objs = self._current(parts, t)
            d_obj = np.hypot(*(objs.rows[:, :2] - ego).T) if len(objs.rows) else np.zeros(0)
            if self.targets:
                self._targets(v, source, t, _subset(objs, d_obj > cfg.ego_radius_m), moved)
            keep = np.flatnonzero((d_obj <= cfg.radius_m + cfg.gate_m) & (d_obj > cfg.ego_radius_m))
            self._score_one(
                v=v, vehicle=vehicle, source=source, gt=gt, objs=objs, keep=keep, d_obj=d_obj
            )

    def _score_one(
        self,
        *,
        v: _Vehicle,
        vehicle: str,
        source: str,
        gt: _Truth,
        objs: _Objects,
        keep: np.ndarray,
        d_obj: np.ndarray,
    ) -> None:
        cfg = self.config
        score = v.scores[source]
        score.instants += 1
        gt_xy = gt.xy
        rows = np.take(objs.rows, keep, axis=0)
        diff = gt_xy[:, None, :] - rows[None, :, :2]
        dist = np.sqrt(np.add.reduce(diff * diff, axis=-1))  # np.linalg.norm's own formula
        gated = dist <= cfg.gate_m
        matches, disjoint = _assign(dist, gated)
        duplicates = 0
        if not disjoint:
            matches, duplicates = _assign_rest(dist, gated)
        n_matched = len(matches)
        score.tp += n_matched
        score.fn += len(gt_xy) - n_matched
        inside = (d_obj[keep] <= cfg.radius_m).tolist()
        fp = sum(inside)
        if n_matched:
            # per match, in order: the float operations of numpy's square and row sum
            item, rows_l, gt_vel = dist.item, rows.tolist(), gt.vel_list()
            for i, j in matches:
                fp -= inside[j]
                d = item(i, j)
                score.pos_sq += d * d
                _, _, vx, vy, _ = rows_l[j]
                if isfinite(vx) and isfinite(vy):
                    gvx, gvy = gt_vel[i]
                    score.vel_sq += (vx - gvx) * (vx - gvx) + (vy - gvy) * (vy - gvy)
                    score.vel_n += 1
        score.duplicates += duplicates
        score.fp += fp
        obj_ids, ident = objs.ids, self._id
        ids = [ident(vehicle, source, *obj_ids[k]) for k in keep.tolist()]
        if gt.ids is None:  # after the first source's objects: the order ids are handed out
            gt.ids = [ident(vehicle, '', str(n), 0) for n in gt.names]
        score.frames.append(Frame(gt.ids, gt_xy, ids, rows[:, :2]))

    def _targets(
        self, v: _Vehicle, source: str, t: float, objs: _Objects, truth: dict[str, np.ndarray]
    ) -> None:
        """Named road users at any distance: does the source have an object within the gate
        (the nearest one; for the fused list also its source kinds and any second copy)?"""
        cfg = self.config
        for name in self.targets:
            at = np.flatnonzero(truth['names'] == name)
            if at.size == 0 or not len(objs.rows):
                continue
            d = np.hypot(*(objs.rows[:, :2] - truth['xy'][at[0]]).T)
            near = np.flatnonzero(d <= cfg.gate_m)
            if near.size == 0:
                continue
            v.first_seen[name].setdefault(source, round(t, 3))
            v.seen[name, source].append(t)
            if source == 'fused':
                best = near[np.argmin(d[near])]
                kinds = source_kinds(objs.labels[best])
                v.kinds[name] = max(v.kinds[name], len(kinds))
                for j in near[near != best]:  # a second fused object of the same road user:
                    if source_kinds(objs.labels[j]) <= kinds:  # one source reported it twice
                        v.target_splits[name] += 1
                    else:  # sources the fusion did not associate
                        v.target_duplicates[name] += 1

    def _id(self, vehicle: str, source: str, name: str, ident: int) -> int:
        """An int per (vehicle, source, object): vehicles' lists never share an identity."""
        return self._obj_ids.setdefault((vehicle, source, name, ident), len(self._obj_ids))

    # --- output -----------------------------------------------------------------------------
    def metrics(self) -> dict[str, Any] | None:
        """The ``cooperative_perception`` section of metrics.json (None: no car fuses)."""
        self.scored()
        if not self.vehicles:
            return None
        total: dict[str, SourceScore] = defaultdict(SourceScore)
        for v in self.vehicles.values():
            for source, s in v.scores.items():
                t = total[source]
                t.instants += s.instants
                t.tp, t.fp, t.fn = t.tp + s.tp, t.fp + s.fp, t.fn + s.fn
                t.pos_sq, t.vel_sq, t.vel_n = (
                    t.pos_sq + s.pos_sq,
                    t.vel_sq + s.vel_sq,
                    (t.vel_n + s.vel_n),
                )
                t.duplicates += s.duplicates
                t.frames += s.frames
        cfg = self.config
        return {
            'radius_m': cfg.radius_m,
            'gate_m': cfg.gate_m,
            'max_age_s': cfg.max_age_s,
            'vehicles': sorted(self.vehicles),
            'sources': {s: total[s].as_dict() for s in SOURCE_TOPICS if s in total},
            'targets': {
                name: {
                    target: {
                        'first_seen_s': dict(sorted(v.first_seen.get(target, {}).items())),
                        'fused_duplicates': v.target_duplicates.get(target, 0),
                        'fused_split_by_a_source': v.target_splits.get(target, 0),
                        'fused_max_source_kinds': v.kinds.get(target, 0),
                    }
                    for target in sorted(self.targets)
                }
                for name, v in sorted(self.vehicles.items())
                if self.targets
            },
            'topics': list(self.topics),
        }

"""A scripted cooperative-perception scene with known truth, and three simulated sources.

The scene (map frame, metres; ego drives east along y = -1.75):
- a vehicle ahead of the ego and one behind it, both sending BSMs; an oncoming equipped car;
- a parked truck at x 20..30, y -6.75..-4.25, with a pedestrian behind it who steps out at
  t = 6 s (hidden from the ego until it clears the truck's front at t ≈ 9 s);
- a building on the corner x -15..-2, y 4..20 hiding a car that comes down the cross street;
- a pedestrian on the south footway; the roadside unit stands at (35, -15) on a mast, seeing
  over parked vehicles but not through buildings.

Each source reports truth + Gaussian noise matching the covariance it states, plus its sender's
own position error (a Gauss-Markov offset shared by everything that sender reports), detection
probability, range, occlusion, latency with jitter and packet loss. Used by the tests, the
evaluation and the benchmark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from perception_nodes.fusion.reports import ObjectReport, SourceKind

CAR, TRUCK, PEDESTRIAN = 1, 2, 5
NS = 1_000_000_000
EGO = (4.5, 1.85, 1.5)


@dataclass(frozen=True)
class Actor:
    """Moves at ``velocity`` between ``t_go_s`` and ``t_stop_s``, stands still otherwise."""

    actor_id: int
    participant_class: int
    start_m: tuple[float, float]
    velocity_mps: tuple[float, float]
    size_m: tuple[float, float, float]
    t_go_s: float = 0.0
    t_stop_s: float = math.inf
    equipped: bool = False  # sends BSMs


@dataclass(frozen=True)
class Occluder:
    box_m: tuple[float, float, float, float]  # x_min, x_max, y_min, y_max
    tall: bool  # a building (blocks the roadside mast too), not a parked vehicle


@dataclass(frozen=True)
class Scene:
    actors: tuple[Actor, ...]
    occluders: tuple[Occluder, ...]
    ego_start_m: tuple[float, float] = (-50.0, -1.75)
    ego_velocity_mps: tuple[float, float] = (6.0, 0.0)
    rsu_position_m: tuple[float, float] = (35.0, -15.0)
    hidden_pedestrian_id: int = 5
    hidden_vehicle_id: int = 6
    three_source_vehicle_id: int = 1

    def truth(self, t_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ids (N,), classes (N,) and states [x, y, vx, vy] (N, 4) at ``t_s``."""
        ids, cls, states = [], [], []
        for a in self.actors:
            moving = a.t_go_s <= t_s < a.t_stop_s
            tau = min(max(t_s - a.t_go_s, 0.0), a.t_stop_s - a.t_go_s)
            vx, vy = a.velocity_mps
            ids.append(a.actor_id)
            cls.append(a.participant_class)
            states.append(
                [
                    a.start_m[0] + vx * tau,
                    a.start_m[1] + vy * tau,
                    *(a.velocity_mps if moving else (0, 0)),
                ]
            )
        return np.array(ids), np.array(cls), np.array(states, dtype=float)

    def ego(self, t_s: float) -> np.ndarray:
        """Ego state [x, y, vx, vy] at ``t_s`` (heading east)."""
        (x0, y0), (vx, vy) = self.ego_start_m, self.ego_velocity_mps
        return np.array([x0 + vx * t_s, y0 + vy * t_s, vx, vy])

    def visible(self, origin: np.ndarray, targets: np.ndarray, *, tall_only: bool) -> np.ndarray:
        """Line of sight from ``origin`` (2,) to each target (N, 2), by the slab test."""
        ok = np.ones(len(targets), dtype=bool)
        d = targets - origin
        for occ in self.occluders:
            if tall_only and not occ.tall:
                continue
            x0, x1, y0, y1 = occ.box_m
            inside = (targets[:, 0] >= x0) & (targets[:, 0] <= x1)
            inside &= (targets[:, 1] >= y0) & (targets[:, 1] <= y1)
            with np.errstate(divide='ignore', invalid='ignore'):
                tx = np.stack([(x0 - origin[0]) / d[:, 0], (x1 - origin[0]) / d[:, 0]], 1)
                ty = np.stack([(y0 - origin[1]) / d[:, 1], (y1 - origin[1]) / d[:, 1]], 1)
            tx = np.where(np.isnan(tx), -np.inf, tx)
            ty = np.where(np.isnan(ty), -np.inf, ty)
            t_in = np.maximum(tx.min(1), ty.min(1))
            t_out = np.minimum(tx.max(1), ty.max(1))
            hit = (t_in <= t_out) & (t_out >= 0.0) & (t_in <= 1.0)
            ok &= ~hit | inside
        return ok

    @staticmethod
    def scripted() -> Scene:
        car = (4.5, 1.85, 1.5)
        ped = (0.5, 0.5, 1.7)
        return Scene(
            actors=(
                Actor(1, CAR, (-35.0, -1.75), (6.5, 0.0), car, equipped=True),
                Actor(2, CAR, (90.0, 1.75), (-8.0, 0.0), car, equipped=True),
                Actor(3, CAR, (-62.0, -1.75), (6.0, 0.0), car, equipped=True),
                Actor(4, TRUCK, (25.0, -5.5), (0.0, 0.0), (10.0, 2.5, 3.5)),
                Actor(5, PEDESTRIAN, (29.0, -7.5), (0.9, 1.1), ped, t_go_s=6.0, t_stop_s=16.0),
                Actor(6, CAR, (-5.0, 75.0), (0.0, -7.0), car, t_stop_s=10.0),
                Actor(7, PEDESTRIAN, (-20.0, -8.0), (1.2, 0.0), ped),
            ),
            occluders=(
                Occluder((20.0, 30.0, -6.75, -4.25), tall=False),
                Occluder((-40.0, -8.0, 4.0, 40.0), tall=True),
            ),
        )


@dataclass(frozen=True)
class SourceModel:
    """How one source sees the scene and how its reports travel."""

    kind: SourceKind
    source_id: str = ''
    sigma_pos_m: float = 0.3  # along the line of sight (sensors) or east (GNSS of a BSM)
    sigma_cross_m: float = 0.3  # across it at the sensor (or north)
    sigma_cross_per_m: float = 0.0  # growth of the cross-range std with range
    sigma_vel_mps: float = 0.4
    range_m: float = 50.0
    rate_hz: float = 10.0
    p_detect: float = 0.95
    latency_s: float = 0.02
    jitter_s: float = 0.01
    loss: float = 0.0
    sender_sigma_m: float = 0.0  # the sender's own position error (std), shared by its reports
    sender_tau_s: float = 2.0

    def degraded(self, *, latency_s: float, loss: float, sender_sigma_m: float) -> SourceModel:
        return replace(self, latency_s=latency_s, loss=loss, sender_sigma_m=sender_sigma_m)


def default_sources() -> dict[SourceKind, SourceModel]:
    return {
        SourceKind.ONBOARD: SourceModel(
            SourceKind.ONBOARD,
            '',
            sigma_pos_m=0.15,
            sigma_cross_m=0.1,
            sigma_cross_per_m=0.012,
            sigma_vel_mps=0.5,
            range_m=45.0,
            latency_s=0.05,
        ),
        SourceKind.ROADSIDE: SourceModel(
            SourceKind.ROADSIDE,
            'rsu1',
            sigma_pos_m=0.2,
            sigma_cross_m=0.1,
            sigma_cross_per_m=0.008,
            sigma_vel_mps=0.6,
            range_m=90.0,
        ),
        SourceKind.V2V: SourceModel(
            SourceKind.V2V,
            '',
            sigma_pos_m=0.35,
            sigma_cross_m=0.6,
            sigma_vel_mps=0.3,
            range_m=300.0,
            p_detect=1.0,
        ),
    }


@dataclass
class Delivery:
    """One message: what a source reported at ``stamp_ns``, arriving at ``arrival_ns``."""

    arrival_ns: int
    stamp_ns: int
    kind: SourceKind
    source_id: str
    reports: list[ObjectReport]
    truth_ids: list[int] = field(default_factory=list)


def position_cov(model: SourceModel, origin: np.ndarray | None, xy: np.ndarray) -> np.ndarray:
    """The source's 2x2 position covariance of an object at ``xy``: radial/cross-range axes
    seen from a sensor at ``origin``, east/north for a GNSS self-report (``origin`` None)."""
    if origin is None:
        return np.diag([model.sigma_pos_m**2, model.sigma_cross_m**2])
    d = xy - origin
    rng_m = float(np.hypot(*d))
    cross = model.sigma_cross_m + model.sigma_cross_per_m * rng_m
    th = math.atan2(d[1], d[0])
    rot = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
    return rot @ np.diag([model.sigma_pos_m**2, cross**2]) @ rot.T


def _report(
    model: SourceModel,
    *,
    sid: str,
    oid: int,
    stamp: int,
    state: np.ndarray,
    cls: int,
    size: tuple,
    pos_cov: np.ndarray,
) -> ObjectReport:
    cov = np.zeros((4, 4))
    cov[:2, :2] = pos_cov
    cov[2:, 2:] = _velocity_cov(model, pos_cov)
    return ObjectReport(
        kind=model.kind,
        source_id=sid,
        object_id=oid,
        stamp_ns=stamp,
        state=state,
        cov=cov,
        participant_class=int(cls),
        size_m=tuple(float(v) for v in size),
        heading_rad=math.atan2(state[3], state[2]) if abs(state[2]) + abs(state[3]) > 0.3 else 0.0,
        heading_variance=0.05,
        confidence=0.9,
        trust=1 if model.kind is not SourceKind.ONBOARD else 0,
    )


def simulate(
    scene: Scene, model: SourceModel, duration_s: float, rng: np.random.Generator
) -> list[Delivery]:
    """Every message ``model`` sends during ``duration_s`` (lost ones left out), by stamp."""
    out: list[Delivery] = []
    sizes = {a.actor_id: a.size_m for a in scene.actors}
    equipped = {a.actor_id for a in scene.actors if a.equipped}
    period = 1.0 / model.rate_hz
    a = math.exp(-period / model.sender_tau_s)
    bias: dict[int | str, np.ndarray] = {}
    steps = int(duration_s * model.rate_hz)
    for k in range(1, steps + 1):
        t = k * period
        ids, cls, states = scene.truth(t)
        stamp = round(t * NS)
        for key in list(bias) + [x for x in (*equipped, 'rsu') if x not in bias]:
            prev = bias.get(key)
            fresh = rng.normal(0.0, model.sender_sigma_m, 2)
            bias[key] = fresh if prev is None else a * prev + math.sqrt(1 - a * a) * fresh
        if model.kind is SourceKind.V2V:
            for i, aid in enumerate(ids):
                if aid not in equipped or rng.random() < model.loss:
                    continue
                cov = position_cov(model, None, states[i, :2])
                noisy = states[i] + _noise(model, rng, cov)
                noisy[:2] += bias[int(aid)]
                sid = f'{int(aid):08x}'
                rep = _report(
                    model,
                    sid=sid,
                    oid=int(aid),
                    stamp=stamp,
                    state=noisy,
                    cls=cls[i],
                    size=sizes[int(aid)],
                    pos_cov=cov,
                )
                arrival = stamp + round((model.latency_s + rng.uniform(0, model.jitter_s)) * NS)
                out.append(Delivery(arrival, stamp, model.kind, sid, [rep], [int(aid)]))
            continue
        if model.kind is SourceKind.ONBOARD:
            origin = scene.ego(t)[:2]
            vis = scene.visible(origin, states[:, :2], tall_only=False)
            vis &= np.hypot(*(states[:, :2] - origin).T) > 3.0  # not the ego itself
        else:
            origin = np.asarray(scene.rsu_position_m)
            vis = scene.visible(origin, states[:, :2], tall_only=True)
        in_range = np.hypot(*(states[:, :2] - origin).T) <= model.range_m
        seen = vis & in_range & (rng.random(len(ids)) < model.p_detect)
        reps, tids = [], []
        for i in np.flatnonzero(seen):
            cov = position_cov(model, origin, states[i, :2])
            noisy = states[i] + _noise(model, rng, cov)
            noisy[:2] += bias['rsu'] if model.kind is SourceKind.ROADSIDE else 0.0
            rep = _report(
                model,
                sid=model.source_id,
                oid=int(ids[i]) + 100,
                stamp=stamp,
                state=noisy,
                cls=cls[i],
                size=sizes[int(ids[i])],
                pos_cov=cov,
            )
            reps.append(rep)
            tids.append(int(ids[i]))
        if model.kind is SourceKind.ROADSIDE:  # the RSU sees the ego car too
            ego = scene.ego(t)
            if np.hypot(*(ego[:2] - origin)) <= model.range_m:
                cov = position_cov(model, origin, ego[:2])
                noisy = ego + _noise(model, rng, cov)
                noisy[:2] += bias['rsu']
                rep = _report(
                    model,
                    sid=model.source_id,
                    oid=99,
                    stamp=stamp,
                    state=noisy,
                    cls=CAR,
                    size=EGO,
                    pos_cov=cov,
                )
                reps.append(rep)
                tids.append(0)
        if rng.random() < model.loss:
            continue
        arrival = stamp + round((model.latency_s + rng.uniform(0, model.jitter_s)) * NS)
        out.append(Delivery(arrival, stamp, model.kind, model.source_id, reps, tids))
    return out


def _velocity_cov(model: SourceModel, pos_cov: np.ndarray) -> np.ndarray:
    """Velocity error shaped like the position error (both come from the same geometry),
    with a mean variance of ``sigma_vel_mps``²."""
    return pos_cov * (model.sigma_vel_mps**2 / (0.5 * np.trace(pos_cov)))


def _noise(model: SourceModel, rng: np.random.Generator, pos_cov: np.ndarray) -> np.ndarray:
    pos = np.linalg.cholesky(pos_cov) @ rng.normal(0.0, 1.0, 2)
    vel = np.linalg.cholesky(_velocity_cov(model, pos_cov)) @ rng.normal(0.0, 1.0, 2)
    return np.concatenate([pos, vel])

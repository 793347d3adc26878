"""Evaluation of cooperative fusion against the scripted scene's ground truth.

``run_fusion`` drives the real CooperativeFusion component in the embedded runtime: every
simulated message is published at its arrival time, odometry at 50 Hz, and each fused cycle
is collected. ``score`` matches outputs to truth per cycle (Hungarian on distance, 2 m gate)
and reports detection precision/recall, position/velocity RMSE and the NEES of the stated
covariances; MOTA and IDF1 come from the simulator's CLEAR-MOT/IDF1 implementation
(``sim_nodes.report.mot_metrics``). Run as a script for the table in docs/fusion.md:

    /work/venv/bin/python -m perception_nodes.fusion.evaluation --seeds 5
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from perception_nodes.fusion.component import CooperativeFusion
from perception_nodes.fusion.conversions import PARTICIPANT_ARRAY, reports_to_msg
from perception_nodes.fusion.reports import SourceKind
from perception_nodes.fusion.synthetic import (
    NS,
    Delivery,
    Scene,
    SourceModel,
    default_sources,
    simulate,
)
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

TOPIC = {
    SourceKind.ONBOARD: '/perception/objects',
    SourceKind.ROADSIDE: '/v2x/roadside_participants',
    SourceKind.V2V: '/v2x/remote_vehicles',
}
ODOM = '/localization/odometry'


@dataclass
class Cycle:
    """One fused output: time, ids, states (N, 4), covariances (N, 4, 4), source labels."""

    t_s: float
    ids: np.ndarray
    states: np.ndarray
    covs: np.ndarray
    sources: list[str]


@dataclass
class Scores:
    precision: float
    recall: float
    pos_rmse_m: float
    vel_rmse_mps: float
    nees: float  # mean NEES over matches, 4 dof: [x, y, vx, vy]
    nees_samples: int
    mota: float = math.nan
    idf1: float = math.nan
    matched: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def odometry_msg(scene: Scene, t_s: float, sigma_m: float = 0.05) -> object:
    """The ego's odometry at ``t_s`` (truth; a small stated covariance)."""
    ego = scene.ego(t_s)
    yaw = math.atan2(ego[3], ego[2])
    msg = m.new(ODOM_TYPE, header=m.header(round(t_s * NS), 'map'), child_frame_id='base_link')
    msg.pose.pose.position.x, msg.pose.pose.position.y = float(ego[0]), float(ego[1])
    msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    cov = np.zeros(36)
    cov[0] = cov[7] = sigma_m**2
    cov[35] = 1e-4
    msg.pose.covariance = cov
    msg.twist.twist.linear.x = float(math.hypot(ego[2], ego[3]))
    return msg


ODOM_TYPE = 'nav_msgs/msg/Odometry'


def deliveries(
    scene: Scene, models: Iterable[SourceModel], duration_s: float, seed: int
) -> list[Delivery]:
    out: list[Delivery] = []
    for k, model in enumerate(models):
        out.extend(simulate(scene, model, duration_s, np.random.default_rng([seed, k])))
    return out


def run_fusion(
    scene: Scene,
    messages: list[Delivery],
    duration_s: float,
    parameters: dict[str, object] | None = None,
) -> tuple[list[Cycle], dict[str, str]]:
    """Fused cycles and the component's final diagnostics (key → value)."""
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    node = rt.add_component(CooperativeFusion, name='fusion', parameters=parameters or {})
    cycles: list[Cycle] = []

    def collect(msg: object) -> None:
        ps = msg.participants
        cycles.append(
            Cycle(
                m.to_ns(msg.header.stamp) / NS,
                np.array([p.id for p in ps], dtype=np.int64),
                np.array(
                    [[p.position.x, p.position.y, p.velocity.x, p.velocity.y] for p in ps]
                ).reshape(-1, 4),
                np.array([np.asarray(p.covariance).reshape(4, 4) for p in ps]).reshape(-1, 4, 4),
                [p.source_id for p in ps],
            )
        )

    rt.subscribe('/perception/fused_objects', PARTICIPANT_ARRAY, collect)
    for t in np.arange(0.0, duration_s, 0.02):
        rt.publish(ODOM, odometry_msg(scene, float(t)), at_ns=round(t * NS))
    for d in messages:
        msg = reports_to_msg(d.reports, d.stamp_ns, 'map')
        rt.publish(TOPIC[d.kind], msg, at_ns=d.arrival_ns)
    rt.run(duration_s=duration_s)
    rt.close()
    return cycles, dict(node.ctx.diagnostics.key_values())


def _truth_in_view(scene: Scene, t_s: float, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    ids, _, states = scene.truth(t_s)
    near = np.hypot(*(states[:, :2] - scene.ego(t_s)[:2]).T) <= radius_m
    return ids[near], states[near]


def match(truth_xy: np.ndarray, out_xy: np.ndarray, gate_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Optimal truth↔output pairs within ``gate_m`` (rows into truth, cols into outputs)."""
    if len(truth_xy) == 0 or len(out_xy) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    d = np.linalg.norm(truth_xy[:, None, :] - out_xy[None, :, :], axis=-1)
    rows, cols = linear_sum_assignment(np.where(d <= gate_m, d, 1e6))
    ok = d[rows, cols] <= gate_m
    return rows[ok], cols[ok]


def score(
    scene: Scene,
    cycles: list[Cycle],
    *,
    radius_m: float = 60.0,
    gate_m: float = 2.0,
    t_from_s: float = 1.0,
) -> Scores:
    """Scores of the cycles from ``t_from_s`` on, objects within ``radius_m`` of the ego."""
    tp = fp = fn = 0
    pos_sq, vel_sq, nees = [], [], []
    frames = []
    for c in cycles:
        if c.t_s < t_from_s:
            continue
        tids, truth = _truth_in_view(scene, c.t_s, radius_m)
        ego = scene.ego(c.t_s)[:2]
        near = np.hypot(*(c.states[:, :2] - ego).T) <= radius_m if len(c.ids) else np.zeros(0, bool)
        ids, states, covs = c.ids[near], c.states[near], c.covs[near]
        rows, cols = match(truth[:, :2], states[:, :2], gate_m)
        tp += len(rows)
        fp += len(ids) - len(rows)
        fn += len(tids) - len(rows)
        err = states[cols] - truth[rows]
        pos_sq.extend((err[:, :2] ** 2).sum(1))
        vel_sq.extend((err[:, 2:] ** 2).sum(1))
        if len(rows):
            sol = np.linalg.solve(covs[cols], err[:, :, None])[:, :, 0]
            nees.extend((err * sol).sum(1))
        frames.append((tids, truth[:, :2], ids, states[:, :2]))
    mota, idf1 = mot_scores(frames, gate_m)
    return Scores(
        precision=tp / (tp + fp) if tp + fp else math.nan,
        recall=tp / (tp + fn) if tp + fn else math.nan,
        pos_rmse_m=math.sqrt(np.mean(pos_sq)) if pos_sq else math.nan,
        vel_rmse_mps=math.sqrt(np.mean(vel_sq)) if vel_sq else math.nan,
        nees=float(np.mean(nees)) if nees else math.nan,
        nees_samples=len(nees),
        mota=mota,
        idf1=idf1,
        matched=tp,
    )


def mot_scores(frames: list[tuple], gate_m: float) -> tuple[float, float]:
    """MOTA and IDF1 by the simulator's metrics; NaN where that module is not installed."""
    try:
        from sim_nodes.report.mot_metrics import Frame, evaluate_mot
    except ImportError:
        return math.nan, math.nan
    res = evaluate_mot([Frame(list(a), b, list(c), d) for a, b, c, d in frames], gate_m=gate_m)
    return res.mota, res.idf1


def first_seen(scene: Scene, cycles: list[Cycle], actor_id: int, gate_m: float = 2.0) -> float:
    """First time an output lies within ``gate_m`` of ``actor_id`` (inf if never)."""
    for c in cycles:
        ids, _, states = scene.truth(c.t_s)
        truth = states[list(ids).index(actor_id), :2]
        if len(c.ids) and (np.hypot(*(c.states[:, :2] - truth).T) <= gate_m).any():
            return c.t_s
    return math.inf


CONFIGS = {
    'onboard': (SourceKind.ONBOARD,),
    'roadside': (SourceKind.ROADSIDE,),
    'fused': (SourceKind.ONBOARD, SourceKind.ROADSIDE, SourceKind.V2V),
}


def sources_for(degraded: bool, *, sender_sigma_m: float = 0.3) -> dict[SourceKind, SourceModel]:
    """The default sources, or with 100 ms latency, 20 % loss and sender position noise on V2X."""
    base = default_sources()
    if not degraded:
        return base
    return {
        k: (
            v
            if k is SourceKind.ONBOARD
            else v.degraded(latency_s=0.1, loss=0.2, sender_sigma_m=sender_sigma_m)
        )
        for k, v in base.items()
    }


def evaluate(
    seeds: Iterable[int], *, degraded: bool, duration_s: float = 20.0
) -> dict[str, Scores]:
    """Mean scores over seeds for onboard-only, roadside-only and fused."""
    scene = Scene.scripted()
    sigma = 0.3 if degraded else 0.0
    params = {'rsu_position_sigma_m': sigma, 'v2v_position_sigma_m': sigma}
    out: dict[str, list[Scores]] = {name: [] for name in CONFIGS}
    for seed in seeds:
        models = sources_for(degraded)
        msgs = deliveries(scene, models.values(), duration_s, seed)
        for name, kinds in CONFIGS.items():
            cycles, _ = run_fusion(scene, [d for d in msgs if d.kind in kinds], duration_s, params)
            out[name].append(score(scene, cycles))
    return {name: _mean(v) for name, v in out.items()}


def sweep(
    seeds: Iterable[int],
    *,
    latencies_s: Iterable[float] = (0.0, 0.1, 0.3),
    losses: Iterable[float] = (0.0, 0.2, 0.5),
    sender_sigmas_m: Iterable[float] = (0.0, 0.3, 0.6),
    duration_s: float = 12.0,
) -> list[tuple[float, float, float, Scores]]:
    """Fused scores over a grid of V2X latency, loss and sender position noise (one axis at a
    time from the nominal point, and all three together at each level)."""
    scene = Scene.scripted()
    seeds = list(seeds)
    points = {(lat, 0.0, 0.0) for lat in latencies_s}
    points |= {(0.0, loss, 0.0) for loss in losses}
    points |= {(0.0, 0.0, sig) for sig in sender_sigmas_m}
    points |= set(zip(latencies_s, losses, sender_sigmas_m, strict=True))
    out = []
    for lat, loss, sig in sorted(points):
        per_seed = []
        for seed in seeds:
            base = default_sources()
            models = [
                v
                if k is SourceKind.ONBOARD
                else v.degraded(latency_s=lat, loss=loss, sender_sigma_m=sig)
                for k, v in base.items()
            ]
            msgs = deliveries(scene, models, duration_s, seed)
            params = {'rsu_position_sigma_m': sig, 'v2v_position_sigma_m': sig}
            cycles, _ = run_fusion(scene, msgs, duration_s, params)
            per_seed.append(score(scene, cycles))
        out.append((lat, loss, sig, _mean(per_seed)))
    return out


def _mean(scores: list[Scores]) -> Scores:
    fields_ = ('precision', 'recall', 'pos_rmse_m', 'vel_rmse_mps', 'nees', 'mota', 'idf1')
    vals = {f: float(np.mean([getattr(s, f) for s in scores])) for f in fields_}
    return Scores(
        **vals,
        nees_samples=sum(s.nees_samples for s in scores),
        matched=sum(s.matched for s in scores),
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, default=5)
    ap.add_argument('--sweep', action='store_true', help='latency/loss/noise sweep (fused)')
    args = ap.parse_args(argv)
    if args.sweep:
        print(
            '| V2X latency s | loss | sender noise m | precision | recall | pos RMSE m '
            '| NEES (4) | MOTA | IDF1 |'
        )
        print('|---|---|---|---|---|---|---|---|---|')
        for lat, loss, sig, s in sweep(range(args.seeds)):
            print(
                f'| {lat:.1f} | {loss:.1f} | {sig:.1f} | {s.precision:.3f} | {s.recall:.3f} '
                f'| {s.pos_rmse_m:.3f} | {s.nees:.2f} | {s.mota:.3f} | {s.idf1:.3f} |'
            )
        return
    print(
        '| condition | source | precision | recall | pos RMSE m | vel RMSE m/s | NEES (4) '
        '| MOTA | IDF1 |'
    )
    print('|---|---|---|---|---|---|---|---|---|')
    for degraded in (False, True):
        res = evaluate(range(args.seeds), degraded=degraded)
        cond = '100 ms, 20 % loss, 0.3 m' if degraded else 'nominal'
        for name, s in res.items():
            print(
                f'| {cond} | {name} | {s.precision:.3f} | {s.recall:.3f} | {s.pos_rmse_m:.3f} '
                f'| {s.vel_rmse_mps:.3f} | {s.nees:.2f} | {s.mota:.3f} | {s.idf1:.3f} |'
            )


if __name__ == '__main__':
    main()

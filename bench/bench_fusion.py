"""Cooperative fusion benchmark: one fusion cycle with 100 onboard, 200 roadside (two RSUs of
100) and 100 V2V objects (target p99 <= 20 ms), against the bare linear_sum_assignment on
the same cost matrices, measured in the same run. Also: the three fusion rules, and the whole
component cycle (reports → ParticipantArray + MarkerArray).

Then the component against itself as it was on main before the CPU work of issue #5
(``FUSION_BASELINE``, loaded from git by ``baseline_source``): the scripted evaluation scene
(three sources, 10 Hz cycles, odometry at 50 Hz) delivered to both, message for message, with
the covariances as sent (continuous) and quantised to a few coded accuracies as an RSM or BSM
carries them; CPU per callback kind and the published bytes compared.

Then the sizes of the default scenario (a car's fusion sees a handful of objects per source):
the input of one ParticipantArray converted at once against one participant at a time (the
former path), and a 12-report cycle with ω bisected on Python floats against the vectorised
bisection (the former path; the results are asserted identical).

    /work/venv/bin/python bench/bench_fusion.py
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline_source import baseline_module

import perception_nodes.fusion.engine as engine_module
from perception_nodes.fusion import intersection
from perception_nodes.fusion.component import CooperativeFusion
from perception_nodes.fusion.conversions import reports_to_msg
from perception_nodes.fusion.engine import FusionConfig, FusionEngine
from perception_nodes.fusion.intersection import FusionMethod
from perception_nodes.fusion.reports import (
    CovariancePriors,
    ObjectReport,
    SourceKind,
    report_from_participant,
    reports_from_participants,
)
from perception_nodes.fusion.store import Admission
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

NS = 1_000_000_000
ROUNDS = 200
# the first cycles start every track (and warm the caches): not the steady state measured
WARMUP_ROUNDS = 5


def scene(rng: np.random.Generator) -> list[ObjectReport]:
    """300 road users in 400 m x 400 m; each source sees its own subset with its own noise."""
    n = 300
    xy = rng.uniform(-200, 200, size=(n, 2))
    vel = rng.normal(0, 6, size=(n, 2))
    cls = rng.choice([1, 1, 1, 2, 4, 5], size=n)
    now = 10 * NS
    reports = []

    def add(kind: SourceKind, sid: str, idx: np.ndarray, sigma: float, age_s: float) -> None:
        for k, i in enumerate(idx):
            cov = np.diag([sigma**2, (1.5 * sigma) ** 2, 0.25, 0.36])
            state = np.concatenate([xy[i], vel[i]]) + rng.multivariate_normal(np.zeros(4), cov)
            state[:2] -= vel[i] * age_s
            reports.append(
                ObjectReport(
                    kind,
                    sid,
                    k + 1,
                    now - round(age_s * NS),
                    state,
                    cov,
                    int(cls[i]),
                    (4.5, 1.8, 1.5),
                    0.0,
                    0.01,
                    0.9,
                    1,
                )
            )

    add(SourceKind.ONBOARD, '', rng.choice(n, 100, replace=False), 0.2, 0.05)
    add(SourceKind.ROADSIDE, 'rsu1', rng.choice(n, 100, replace=False), 0.3, 0.1)
    add(SourceKind.ROADSIDE, 'rsu2', rng.choice(n, 100, replace=False), 0.3, 0.12)
    add(SourceKind.V2V, '', rng.choice(n, 100, replace=False), 0.5, 0.1)
    return reports


def percentiles(samples: list[float]) -> tuple[float, float]:
    a = np.asarray(samples) * 1e3
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


def bench_cycle(reports: list[ObjectReport], method: FusionMethod) -> tuple[list[float], list[Any]]:
    """Wall times of ROUNDS cycles (one engine, so the id bookkeeping runs as it does live),
    and the cost matrices the last cycle associated."""
    engine = FusionEngine(FusionConfig(method=method))
    now = 10 * NS
    costs: list[np.ndarray] = []
    real_assign = engine_module.assign

    def recording_assign(cost: np.ndarray) -> Any:
        costs.append(cost.copy())
        return real_assign(cost)

    times = []
    for k in range(-WARMUP_ROUNDS, ROUNDS):
        if k == ROUNDS - 1:
            engine_module.assign = recording_assign
        begin = time.process_time()
        out = engine.fuse(reports, now + k)
        if k >= 0:
            times.append(time.process_time() - begin)
    engine_module.assign = real_assign
    assert len(out) < len(reports)  # association did merge
    return times, costs


def bench_lsa(costs: list[np.ndarray]) -> list[float]:
    times = []
    for _ in range(ROUNDS):
        begin = time.process_time()
        for c in costs:
            linear_sum_assignment(c)
        times.append(time.process_time() - begin)
    return times


def bench_component(reports: list[ObjectReport]) -> list[float]:
    rt = EmbeddedRuntime(diagnostics_period_s=0, start_ns=10 * NS)
    node = rt.add_component(CooperativeFusion, name='fusion')
    for r in reports:
        assert node.store.admit(r, 10 * NS) is Admission.ACCEPTED
    times = []
    for _ in range(ROUNDS // 4):
        begin = time.process_time()
        node.on_cycle()
        times.append(time.process_time() - begin)
    return times


def cpu_us(fn: Any, rounds: int) -> float:
    """Median CPU µs of ``fn()`` over ``rounds`` batches of 20 calls."""
    samples = []
    for _ in range(rounds):
        begin = time.process_time()
        for _ in range(20):
            fn()
        samples.append((time.process_time() - begin) / 20)
    return float(np.median(samples)) * 1e6


def bench_small(rng: np.random.Generator) -> None:
    """The default scenario's sizes: input arrays of a few objects, cycles of a dozen."""
    priors = CovariancePriors()
    reports = scene(rng)
    print('default-scenario sizes, median process CPU per call (before = the former path):')
    for n in (4, 100):
        parts = reports_to_msg(reports[100 : 100 + n], 10 * NS, 'map').participants
        batch = cpu_us(
            lambda p=parts: reports_from_participants(p, SourceKind.ROADSIDE, priors, 0), 40
        )
        alone = cpu_us(
            lambda p=parts: [report_from_participant(x, SourceKind.ROADSIDE, priors, 0) for x in p],
            40,
        )
        print(
            f'  input, one array of {n:3d}: at once {batch:8.1f} µs, one at a time '
            f'{alone:8.1f} µs  ({alone / batch:4.1f}x)'
        )
    small = [r for r in reports if r.object_id <= 4]  # 4 per source: 16 reports, 4 groups
    outs = {}
    times = {}
    for label, pairs in (('scalar ω', intersection.SCALAR_PAIRS), ('vectorised ω', 0)):
        intersection.SCALAR_PAIRS = pairs
        engine = FusionEngine(FusionConfig())
        for k in range(WARMUP_ROUNDS):
            engine.fuse(small, 10 * NS + k)
        times[label] = cpu_us(lambda e=engine: e.fuse(small, 10 * NS), 40)
        outs[label] = engine.fuse(small, 10 * NS)
    intersection.SCALAR_PAIRS = 8
    a, b = outs.values()
    assert all(
        np.array_equal(x.state, y.state) and np.array_equal(x.cov, y.cov)
        for x, y in zip(a, b, strict=True)
    )
    ta, tb = times.values()
    print(
        f'  cycle of {len(small)} reports ({len(a)} fused): scalar ω {ta:8.1f} µs, '
        f'vectorised ω {tb:8.1f} µs  ({tb / ta:4.1f}x; same states and covariances)'
    )


# main before the fusion's CPU work of issue #5
FUSION_BASELINE = '7ce9752'
_FUSION_MODULES = (
    'reports', 'association', 'intersection', 'motion', 'identity', 'engine', 'store', 'frames',
    'conversions', 'component',
)  # fmt: skip


# main before the process-wide sharing of session 5 (reports per message, rows and pairs per
# cycle time, odometry poses)
SHARING_BASELINE = '27d0e57'


def baseline_component(commit: str = FUSION_BASELINE) -> type | None:
    """CooperativeFusion as it was at ``commit``, on its own modules of then."""
    redirect: dict[str, str] = {}
    module = None
    names = _FUSION_MODULES if commit == FUSION_BASELINE else ('records', *_FUSION_MODULES)
    for name in names:
        path = f'perception_nodes/fusion/{name}.py'
        module = baseline_module(path, commit, redirect)
        if module is None:
            return None
        redirect[f'perception_nodes.fusion.{name}'] = module.__name__
    return module.CooperativeFusion if module is not None else None


def scripted_inputs(duration_s: float) -> tuple[list, list[tuple[int, str, Any]]]:
    """The scripted scene's deliveries from its sources, and the odometry (50 Hz) and cycle (10 Hz)
    events the component benches feed next to them."""
    from perception_nodes.fusion import evaluation
    from perception_nodes.fusion.synthetic import Scene

    scene = Scene.scripted()
    msgs = evaluation.deliveries(scene, evaluation.sources_for(False).values(), duration_s, 1)
    events: list[tuple[int, str, Any]] = []
    for t in np.arange(0.0, duration_s, 0.02):
        events.append((round(t * NS), 'odom', evaluation.odometry_msg(scene, float(t))))
    for k in range(1, int(duration_s * 10)):
        events.append((k * NS // 10, 'cycle', None))
    return msgs, events


def bench_process_sharing(vehicles: int = 8, duration_s: float = 20.0) -> None:
    """``vehicles`` fusions in one process, as in the simulator: every message (the scripted
    scene's arrays, a BSM table republished every cycle, the odometry) delivered to each,
    their cycles at the same instants. Before the sharing (SHARING_BASELINE) vs now."""

    old = baseline_component(SHARING_BASELINE)
    if old is None:
        print(f'process sharing vs {SHARING_BASELINE}: git or the commit not at hand, skipped')
        return
    msgs, events = scripted_inputs(duration_s)
    table: dict[int, Any] = {}  # the receiver's BSM table: senders' latest, republished
    for d in sorted(msgs, key=lambda d: d.arrival_ns):
        msg = reports_to_msg(d.reports, d.stamp_ns, 'map')
        if d.kind is SourceKind.V2V:
            for p in msg.participants:
                table[p.id] = p
            msg = m.new(
                'v2x_stack/msg/ParticipantArray',
                header=m.header(d.arrival_ns, 'map'),
                participants=list(table.values()),
            )
        events.append((d.arrival_ns, 'obj', (d.kind, msg)))
    ordered = sorted(events, key=lambda e: (e[0], e[1] != 'odom'))
    cpu, out = {}, {}
    for name, cls in (('before', old), ('now', CooperativeFusion)):
        cpu[name], out[name] = _drive_many(cls, ordered, vehicles)
    same = all(o == out['before'][0] for o in out['before'] + out['now'])
    b, n = cpu['before'], cpu['now']
    print(
        f'{vehicles} fusions in one process, the scripted scene ({duration_s:g} s, same messages '
        f'to each): process CPU {SHARING_BASELINE} (before) {b:.3f} s, now {n:.3f} s '
        f'({n / b:.2f}x); published bytes {"identical" if same else "DIFFERENT"}'
    )
    assert same


class _Capture:
    """Stands in for a component's publishers: keeps what it publishes."""

    def __init__(self, into: list[Any]) -> None:
        self.into = into

    def publish(self, msg: Any) -> None:
        self.into.append(msg)


def _callback(node: Any, what: str, payload: Any, kinds: Any) -> None:
    """Run the fusion callback an event of ``scripted_inputs`` stands for."""
    if what == 'cycle':
        node.on_cycle()
    elif what == 'obj':
        node.on_objects(payload[1], kinds(int(payload[0])))
    else:
        node.on_odometry(payload)


def _drive_many(cls: type, events: list[tuple[int, str, Any]], count: int) -> tuple[float, list]:
    """``_drive`` with ``count`` fresh components of ``cls`` in one runtime, each callback on
    each in turn; total CPU and every component's outputs."""
    from perception_nodes.fusion import frames, shared

    shared.SHARED_REPORTS.clear()
    shared.CYCLE_MEMO.clear()
    frames._LAST[0] = None
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    nodes = [rt.add_component(cls, name='fusion', namespace=f'car{i}') for i in range(count)]
    published: list[list[Any]] = [[] for _ in nodes]
    for node, into in zip(nodes, published, strict=True):
        node.pub = node.markers = _Capture(into)
    kinds = sys.modules[cls.__module__].SourceKind
    cpu = 0.0
    for t, what, payload in events:
        rt._now_ns = t
        begin = time.process_time()
        for node in nodes:
            _callback(node, what, payload, kinds)
        cpu += time.process_time() - begin
    return cpu, [[m.serialize(x) for x in p] for p in published]


def _quantised(reports: list[ObjectReport]) -> list[ObjectReport]:
    """The reports with diagonal covariances rounded to 0.1 m / 0.1 m/s steps of std: the few
    coded accuracies an RSM or a BSM carries."""
    out = []
    for r in reports:
        sd = np.maximum(np.round(np.sqrt(np.diag(r.cov)), 1), 0.1)
        out.append(replace(r, cov=np.diag(sd * sd)))
    return out


def bench_component_vs_baseline(duration_s: float = 20.0) -> None:

    old = baseline_component()
    if old is None:
        print(f'component vs {FUSION_BASELINE}: git or the commit not at hand, skipped')
        return
    msgs, events = scripted_inputs(duration_s)
    print(
        f'component, the scripted scene ({duration_s:g} s, {len(msgs)} input arrays): '
        f'process CPU s, {FUSION_BASELINE} (before) vs now, same messages'
    )
    for label, quantise in (('covariances as sent', False), ('quantised covariances', True)):
        arrays = [
            (d.arrival_ns, 'obj', (d.kind, reports_to_msg(
                _quantised(d.reports) if quantise else d.reports, d.stamp_ns, 'map'
            )))
            for d in msgs
        ]  # fmt: skip
        ordered = sorted(events + arrays, key=lambda e: (e[0], e[1] != 'odom'))
        cpu, out = {}, {}
        for name, cls in (('before', old), ('now', CooperativeFusion)):
            cpu[name], out[name] = _drive(cls, ordered)
        same = out['before'] == out['now']
        b, n = sum(cpu['before'].values()), sum(cpu['now'].values())
        parts = '  '.join(
            f'{k} {cpu["before"][k]:.3f} -> {cpu["now"][k]:.3f}' for k in cpu['before']
        )
        print(
            f'  {label}: {b:.3f} -> {n:.3f} s ({n / b:.2f}x; {parts}); published bytes '
            f'{"identical" if same else "DIFFERENT"} ({len(out["now"])} messages)'
        )
        assert same


def _drive(cls: type, events: list[tuple[int, str, Any]]) -> tuple[dict[str, float], list[bytes]]:
    """Every callback of ``events`` on a fresh ``cls`` at its time; CPU per kind, outputs."""
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    node = rt.add_component(cls, name='fusion')
    published: list[Any] = []
    node.pub = node.markers = _Capture(published)
    kinds = sys.modules[cls.__module__].SourceKind  # the baseline has its own enum
    cpu = {'cycle': 0.0, 'obj': 0.0, 'odom': 0.0}
    for t, what, payload in events:
        rt._now_ns = t  # the runtime's clock, set as its loop would
        begin = time.process_time()
        _callback(node, what, payload, kinds)
        cpu[what] += time.process_time() - begin
    return cpu, [m.serialize(x) for x in published]


def main() -> None:
    reports = scene(np.random.default_rng(1))
    print(
        f'one cycle: {len(reports)} reports (100 onboard, 2 x 100 roadside, 100 V2V), '
        f'{ROUNDS} rounds, process CPU ms (the machine is shared)'
    )
    ci_times, costs = bench_cycle(reports, FusionMethod.CI)
    lsa = bench_lsa(costs)
    p50, p99 = percentiles(ci_times)
    b50, b99 = percentiles(lsa)
    shapes = ', '.join(f'{c.shape[0]}x{c.shape[1]}' for c in costs)
    print(f'  fusion cycle (CI, optimal ω):  p50 {p50:6.2f}  p99 {p99:6.2f}  (target p99 <= 20)')
    print(
        f'  baseline: bare linear_sum_assignment on the same cost matrices ({shapes}): '
        f'p50 {b50:6.2f}  p99 {b99:6.2f}'
    )
    print(f'  ratio cycle/baseline: p50 {p50 / b50:5.1f}x  p99 {p99 / b99:5.1f}x')
    for method in (FusionMethod.FAST_CI, FusionMethod.INDEPENDENT):
        t, _ = bench_cycle(reports, method)
        q50, q99 = percentiles(t)
        print(f'  fusion cycle ({method.value}): p50 {q50:6.2f}  p99 {q99:6.2f}')
    c50, c99 = percentiles(bench_component(reports))
    print(
        f'  component cycle (fusion + ParticipantArray + MarkerArray): '
        f'p50 {c50:6.2f}  p99 {c99:6.2f}'
    )
    bench_small(np.random.default_rng(2))
    bench_component_vs_baseline()
    bench_process_sharing()


if __name__ == '__main__':
    main()

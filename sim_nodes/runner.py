"""Run scenarios: world + sensors + channel + stacks in the embedded runtime, then report.

``run_scenario`` writes into ``out_dir``: ``bag/`` (rosbag2 MCAP of every topic, lidar only
when the scenario asks), ``metrics.json`` and ``report.html``. Ctrl-C stops the run and still
closes the bag and writes a partial report; a component whose handler raises is reported in
the report (the runtime keeps going without that handler's work).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import multiprocessing
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo.local_frame import LocalFrame
from sim_nodes.channel.component import RadioChannel
from sim_nodes.errors import RunError
from sim_nodes.report import html as report_html
from sim_nodes.report import plots
from sim_nodes.report.checks import Check, evaluate, passed
from sim_nodes.report.lane_truth import LaneTruth
from sim_nodes.report.metrics import compute_metrics
from sim_nodes.report.perception_eval import PerceptionProbe
from sim_nodes.report.probe import Probe
from sim_nodes.report.sweep import write_sweep_report
from sim_nodes.scenarios import Scenario, expand_sweeps, list_scenarios, load_scenario
from sim_nodes.scenarios.shared import shared_scenario
from sim_nodes.sensors.lidar_component import RoadsideLidars
from sim_nodes.sensors.vehicle_lidar import VehicleLidars
from sim_nodes.sensors.vehicle_sensors import VehicleSensors
from sim_nodes.stacks import (
    StackReport,
    build_stacks,
    read_topology,
    rsu_parameters,
    rsu_station_id,
    scenario_parameters,
    stack_map,
    vehicle_parameters,
)
from sim_nodes.world.component import WorldComponent
from sim_nodes.world.road_events import RoadEvents
from sim_nodes.world.warning_markers import WarningMarkers
from v2x_runtime.accounting import cpu_summary
from v2x_runtime.embedded import EmbeddedRuntime

SIM_COMPONENTS = (
    (WorldComponent, 'world'),
    (VehicleSensors, 'vehicle_sensors'),
    (RoadsideLidars, 'roadside_lidars'),
    (VehicleLidars, 'vehicle_lidars'),
    (RadioChannel, 'radio_channel'),
    (RoadEvents, 'road_events'),
)
STACK_KINDS = frozenset({'car', 'rsu'})  # the car topology in connected vehicles, RSU in RSUs
MARKER = 'metrics.json'
# Not in the bag: the by-wire gate's 100 Hz output (a third of all messages, not actuated by
# the world and not used by the report; its counters stay in the gate's diagnostics).
UNRECORDED = ('/control/gated_command',)
LOG_FILE = 'sim.log'  # the components' log lines (warnings, errors) of a run
# The collector's thresholds during a run (Python's: 700, 10, 10). A run allocates ~1e8
# objects, nearly all freed by their counts; young passes every 10 000 allocations instead of
# 700 let most die before a pass would scan them, and full passes (each walks everything the
# probes and stacks hold, 50-100 ms) wait for 1 000 middle passes instead of 10.
RUN_GC_THRESHOLDS = (10_000, 10, 1_000)


@dataclass
class RunResult:
    scenario: str
    out_dir: Path
    metrics: dict[str, Any]
    checks: list[Check] = field(default_factory=list)
    interrupted: bool = False

    @property
    def bag(self) -> Path:
        return self.out_dir / 'bag'

    @property
    def passed(self) -> bool:
        return passed(self.checks) and not self.interrupted


class _FailureLog(logging.Handler):
    """Collects the exceptions the runtime logs for failing handlers, per component."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.by_component: dict[str, dict[str, Any]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        component = record.name.removeprefix('v2x').replace('.', '/') or record.name
        entry = self.by_component.setdefault(
            component, {'component': component, 'count': 0, 'message': record.getMessage()}
        )
        entry['count'] += 1


class _ComponentLog(logging.FileHandler):
    """The components' log lines of one run, in ``<out>/sim.log`` instead of the console.

    Counted per level for the metrics (``log``): the console keeps the progress bar and the
    summary, the file and the diagnostics keep every warning.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, mode='w', encoding='utf-8')
        self.setFormatter(logging.Formatter('%(levelname)s %(name)s: %(message)s'))
        self.counts: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.levelname] = self.counts.get(record.levelname, 0) + 1
        super().emit(record)


def _prepare(out_dir: Path) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MARKER).exists() and not (out_dir / 'bag').exists():
            raise RunError(
                f'{out_dir} exists and is not a previous run directory; choose another --out'
            )
        shutil.rmtree(out_dir / 'bag', ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)


def _sets_strings(sets: dict[str, Any]) -> list[str]:
    return [f'{k}={json.dumps(v)}' for k, v in sorted(sets.items())] or ['']


def run_scenario(
    name_or_path: str | Path | Scenario,
    *,
    seed: int | None = None,
    sets: dict[str, Any] | None = None,
    out_dir: str | Path,
    progress: bool = True,
    duration_s: float | None = None,
    stacks: frozenset[str] = STACK_KINDS,
) -> RunResult:
    """Run one scenario (with field overrides ``sets``) and write bag, metrics and report.

    A ``Scenario`` is one already loaded with these ``sets`` and ``seed`` (a batch's plan).
    ``stacks`` names the stacks to run ('car', 'rsu'); fewer only measure what the rest costs."""
    sets = dict(sets or {})
    if isinstance(name_or_path, Scenario):
        scenario = name_or_path
    else:
        scenario = load_scenario(name_or_path, sets=sets, seed=seed)
    out = Path(out_dir)
    _prepare(out)
    params = {
        'scenario': str(scenario.file),
        'sets': _sets_strings(sets),
        'seed': scenario.seed,
    }
    built = shared_scenario(
        str(scenario.file), tuple(s for s in params['sets'] if s), scenario.seed
    )
    runtime = EmbeddedRuntime(seed=scenario.seed)
    failures = _FailureLog()
    root_logger = logging.getLogger('v2x')
    root_logger.addHandler(failures)
    log_file = _ComponentLog(out / LOG_FILE)
    root_logger.addHandler(log_file)
    propagate, root_logger.propagate = root_logger.propagate, False
    stack_report = StackReport()
    lane_map = stack_map(built, out) if stacks else None
    try:
        for cls, name in SIM_COMPONENTS:
            runtime.add_component(cls, name=name, namespace='/sim', parameters=params)
        if stacks:
            add_stacks(runtime, built, lane_map, stack_report, out, kinds=stacks)
        warning_topics = sorted(
            t for t, info in runtime.topics.items() if info.msgtype == 'v2x_stack/msg/Warning'
        )
        if warning_topics:
            runtime.add_component(
                WarningMarkers,
                name='warning_markers',
                namespace='/sim',
                parameters={'topics': warning_topics},
            )
        lat, lon, h = scenario.gnss.origin_deg
        probe = Probe(
            set(built.connected()), {r.name for r in scenario.rsus}, LocalFrame(lat, lon, h)
        )
        probe.sensor_poses = {
            f'{r.name}_lidar': (r.position_m[0], r.position_m[1], r.lidar.yaw_rad)
            for r in scenario.rsus
            if r.lidar is not None
        }
        probe.rsu_events.stations = {rsu_station_id(i): r.name for i, r in enumerate(scenario.rsus)}
        if lane_map is not None:
            probe.lane_truth = LaneTruth(built.network, built.vehicles, lane_map.lanelet_ids)
        probe.attach(runtime)
        perception = PerceptionProbe(targets=[q.target for q in scenario.expect.perception])
        perception.attach(runtime, built.connected())
        runtime.record(
            out / 'bag',
            topics=_recorded_topics(runtime, scenario.record_lidar, scenario.record_internal),
        )
        sim_s = duration_s if duration_s is not None else scenario.duration_s
        interrupted, wall_s, cpu_s = _run(runtime, sim_s, progress, scenario.name)
    finally:
        runtime.close()
        root_logger.removeHandler(failures)
        root_logger.removeHandler(log_file)
        root_logger.propagate = propagate
        log_file.close()
    world = runtime.components['/sim/world']
    channel = runtime.components['/sim/radio_channel']
    scoring_start = time.process_time()  # the probes score what they kept once the run is over
    with _collector_settled():  # the probes' records are kept until the report
        metrics = compute_metrics(
            scenario=scenario,
            built=built,
            probe=probe,
            events=world.world.events,
            channel=channel.stats,
            simulated_s=runtime.now_ns() / 1e9,
            wall_s=wall_s,
            cpu_s=cpu_s,
            interrupted=interrupted,
            failures=sorted(failures.by_component.values(), key=lambda f: f['component']),
            stacks=stack_report,
            stops=world.world.stops,
        )
        metrics['log'] = {'file': LOG_FILE, 'lines': dict(sorted(log_file.counts.items()))}
        metrics['timing']['cpu'] = cpu_summary(
            runtime.cpu_accounts(), loop_cpu_s=runtime.loop_cpu_s, loop_wall_s=runtime.loop_wall_s
        )
        metrics['cooperative_perception'] = perception.metrics()
    metrics['timing']['scoring_cpu_s'] = round(time.process_time() - scoring_start, 3)
    checks = evaluate(scenario.expect, metrics)
    metrics['checks'] = [c.__dict__ for c in checks]
    (out / MARKER).write_text(json.dumps(metrics, indent=2, sort_keys=True) + '\n')
    figures = {
        'Trajectories': plots.trajectories(built.network, probe, metrics),
        'Warning timeline': plots.warning_timeline(probe, scenario.duration_s),
        'Positioning error CDF': plots.error_cdfs(probe),
        'V2X delivery vs distance': plots.delivery_vs_distance(
            channel.model, channel.stats.samples
        ),
    }
    if probe.topics.get('rsu_events'):
        figures['RSU events'] = plots.rsu_event_timeline(probe, scenario.duration_s)
    if (metrics['cooperative_perception'] or {}).get('sources'):
        figures['Cooperative perception vs ground truth'] = plots.perception_scores(
            metrics['cooperative_perception']
        )
        if perception.targets:
            figures['Hidden road users: when each source sees them'] = plots.target_timeline(
                perception, metrics['cooperative_perception']
            )
    (out / 'report.html').write_text(report_html.render(metrics, checks, figures), encoding='utf-8')
    return RunResult(scenario.name, out, metrics, checks, interrupted)


def add_stacks(
    runtime: EmbeddedRuntime,
    built: Any,
    lane_map: Any,
    report: StackReport,
    directory: Path,
    *,
    kinds: frozenset[str] = STACK_KINDS,
) -> None:
    """The car topology in every connected vehicle, the RSU topology in every RSU with a
    stack, with the scenario's map and origin imposed and each RSU's site parameters (pose,
    intersection, reference point, station id; shipped topologies strictly)."""
    scenario = built.scenario
    imposed = scenario_parameters(scenario, lane_map)
    if 'car' in kinds:
        build_stacks(
            runtime,
            read_topology(scenario.car_topology, report),
            built.connected(),
            report,
            imposed=imposed,
            per_namespace={v.name: vehicle_parameters(v) for v in built.vehicles if v.connected},
        )
    if 'rsu' not in kinds:
        return
    build_stacks(
        runtime,
        read_topology(scenario.rsu_topology, report),
        [r.name for r in scenario.rsus if r.stack],
        report,
        imposed=imposed,
        per_namespace=rsu_parameters(built, lane_map, directory),
        overrides={r.name: r.parameters for r in scenario.rsus if r.parameters},
    )


def _recorded_topics(
    runtime: EmbeddedRuntime, record_lidar: bool, record_internal: bool = False
) -> list[str]:
    topics = set(runtime.topics)
    topics |= {ctx.diagnostics_topic for ctx in runtime.contexts}
    if not record_lidar:
        topics = {t for t in topics if not t.endswith('/lidar/points')}
    if not record_internal:
        topics -= set(stack_internal_topics(runtime))
    return sorted(t for t in topics if not t.endswith(UNRECORDED))


def stack_internal_topics(runtime: EmbeddedRuntime) -> list[str]:
    """Topics that only pass between one stack's own components: published by a stack
    component and read by a stack component, never by the simulator's.

    They are left out of the bag by default (``record_internal: true`` keeps them): what the
    world gives a stack (sensors, V2X rx) and what the stack gives back (V2X tx, warnings,
    markers, commands) are recorded, and the stack run again on those inputs - deterministic
    in the embedded runtime - makes the rest. In the default scenario they are half of the
    recorder's CPU time (the decoded MAP/SPAT of every car, the verified copy of every frame,
    the fused objects).
    """
    sim_prefix = '/sim/'
    out = []
    for name, info in runtime.topics.items():
        if name.startswith(sim_prefix) or not info.publishers:
            continue
        if any(p.startswith(sim_prefix) or p.startswith('<') for p in info.publishers):
            continue
        readers = [s.owner.full_name for s in info.subscriptions if s.owner is not None]
        if readers and not any(r.startswith(sim_prefix) for r in readers):
            out.append(name)
    return sorted(out)


def _run(
    runtime: EmbeddedRuntime, sim_s: float, progress: bool, name: str
) -> tuple[bool, float, float]:
    """Run with a progress bar; returns (interrupted, wall seconds, CPU seconds)."""
    from tqdm import tqdm

    bar = tqdm(
        total=round(sim_s, 1),
        unit='sim s',
        desc=name,
        file=sys.stderr,
        disable=not progress,
        leave=False,
    )

    def update(done_ns: int, _total: int) -> None:
        bar.n = round(done_ns / 1e9, 1)
        bar.refresh()

    start, cpu_start = time.perf_counter(), time.process_time()
    interrupted = False
    try:
        with _collector_settled(paused=True), _stop_on_sigint(runtime):
            runtime.run(duration_s=sim_s, progress=update)
        interrupted = runtime.stop_requested
    except KeyboardInterrupt:  # a second Ctrl-C, or not in the main thread
        interrupted = True
    finally:
        bar.close()
    if interrupted:
        print(f'{name}: interrupted, closing the bag and writing a partial report', file=sys.stderr)
    return interrupted, time.perf_counter() - start, time.process_time() - cpu_start


@contextlib.contextmanager
def _collector_settled(*, paused: bool = False) -> Iterator[None]:
    """What lives now stays through the block (the set-up's ~250 000 objects for the run; the
    run's records for the scoring after it): frozen, the collector's full passes skip it (one
    took ~0.2 s), and its passes are rarer (``RUN_GC_THRESHOLDS``).

    ``paused`` (the run loop): no automatic pass at all. In a default 20 s run the passes
    (180 young, 15 middle, at these thresholds) took ~0.1 s of CPU, 5 ms per simulated
    second, and found 526 objects in reference cycles: nearly everything is freed by its
    reference count. What cycles there are wait for the first full pass after the block.
    The run's survivors are frozen at its end, so no young pass walks them afterwards either
    (unfrozen, they are the oldest generation, which only a full pass reads)."""
    gc.freeze()
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:  # what the run made and kept joins the old objects without a young pass
            gc.freeze()  # over all of it (~0.1 s in the default 20 s run)
        if enabled:
            gc.enable()
        gc.set_threshold(*thresholds)
        gc.unfreeze()


@contextlib.contextmanager
def _stop_on_sigint(runtime: EmbeddedRuntime) -> Iterator[None]:
    """The first Ctrl-C asks the runtime to stop after the event in progress (a raised
    KeyboardInterrupt can be swallowed by library code it lands in); a second one raises."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(_signum: int, _frame: Any) -> None:
        runtime.request_stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass(frozen=True)
class PlannedRun:
    """One run of a batch: a scenario, its sweep variant (in ``sets`` too), its overrides and
    seed, its label and where its output goes; ``scenario`` is what the plan loaded of it
    with these (it pickles, to a pool worker)."""

    scenario: Scenario
    name: str
    variant: dict[str, Any]
    sets: dict[str, Any]
    seed: int | None
    duration_s: float | None
    label: str
    out_dir: Path


def plan_runs(
    names: list[str] | None,
    *,
    out_dir: str | Path,
    seed: int | None = None,
    sets: dict[str, Any] | None = None,
    duration_s: float | None = None,
    sweeps: bool = False,
) -> list[list[PlannedRun]]:
    """The runs of a batch, one group per scenario (its sweep's variants with ``sweeps``, else
    one run). Every run's scenario is loaded here, once, so an invalid one (or an invalid
    sweep value) fails the batch before any run starts."""
    groups = []
    for name in names or list_scenarios():
        scenario = load_scenario(name, sets=sets, seed=seed)
        group = []
        for variant in expand_sweeps(scenario) if sweeps else [{}]:
            label = name + ''.join(f'[{k}={v}]' for k, v in variant.items())
            sub = Path(out_dir) / label.replace('/', '__').replace('[', '_').replace(']', '')
            run_sets = {**(sets or {}), **variant}
            loaded = load_scenario(name, sets=run_sets, seed=seed) if variant else scenario
            group.append(PlannedRun(loaded, name, variant, run_sets, seed, duration_s, label, sub))
        groups.append(group)
    return groups


def run_all(
    names: list[str] | None = None,
    *,
    out_dir: str | Path,
    seed: int | None = None,
    sets: dict[str, Any] | None = None,
    duration_s: float | None = None,
    sweeps: bool = False,
    progress: bool = True,
    jobs: int = 1,
) -> list[RunResult]:
    """Run several scenarios (default: the whole library); with ``sweeps`` every variant.

    ``jobs`` > 1 runs that many at once, each in a process of its own. A run depends only on
    its scenario, overrides and seed, so its bag and metrics are those of the same run made
    alone (only the timing differs), and results come in the order of the plan. Ctrl-C
    interrupts the runs in progress (each closes its bag and writes a partial report) and
    starts no further run: the results are those of the runs that started."""
    if jobs < 1:
        raise RunError(f'jobs must be >= 1, got {jobs}')
    groups = plan_runs(
        names, out_dir=out_dir, seed=seed, sets=sets, duration_s=duration_s, sweeps=sweeps
    )
    plan = [run for group in groups for run in group]
    if jobs == 1 or len(plan) == 1:
        results = _run_in_turn(plan, progress)
    else:
        results = _run_in_pool(plan, jobs, progress)
    first = 0
    for group in groups:
        done = results[first : first + len(group)]
        first += len(group)
        if len(group) > 1 and len(done) == len(group):  # one page comparing the combinations
            pairs = [(run.variant, r.metrics) for run, r in zip(group, done, strict=True)]
            page = Path(out_dir) / (group[0].name.replace('/', '__') + '_sweep')
            write_sweep_report(group[0].name, pairs, page)
    return results


def run_planned(run: PlannedRun, progress: bool = False) -> RunResult:
    """One run of a batch, labelled as planned."""
    result = run_scenario(
        run.scenario,
        seed=run.seed,
        sets=run.sets,
        out_dir=run.out_dir,
        progress=progress,
        duration_s=run.duration_s,
    )
    result.scenario = run.label
    return result


def _run_in_turn(plan: list[PlannedRun], progress: bool) -> list[RunResult]:
    results = []
    for run in plan:
        results.append(run_planned(run, progress))
        if results[-1].interrupted:  # Ctrl-C: the batch ends with this run's partial report
            break
    return results


def _ignore_sigint() -> None:
    """A pool worker leaves Ctrl-C to the run it is in (``_stop_on_sigint``): idle, it must
    not die of it, or the pool breaks and the other runs' reports are lost."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_in_pool(plan: list[PlannedRun], jobs: int, progress: bool) -> list[RunResult]:
    """The runs in ``jobs`` worker processes, forked from a server that has imported the
    runner (no inherited threads or open files, and no ~2 s of imports per worker). A run is
    handed out only when a worker is free, so after Ctrl-C none is left queued; a line per
    finished run instead of progress bars, which would write over each other."""
    context = multiprocessing.get_context('forkserver')
    context.set_forkserver_preload([__name__])
    started: list[Future[RunResult]] = []
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_ignore_sigint) as pool:
        running: set[Future[RunResult]] = set()
        stop = False
        try:
            for run in plan:
                if len(running) == jobs:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    stop = _report(done, started, progress)
                if stop:
                    break
                started.append(pool.submit(run_planned, run))
                running.add(started[-1])
            _report(wait(running).done, started, progress)
        except KeyboardInterrupt:  # the runs in progress got it too: they stop and report
            wait(running)
    return [future.result() for future in started]


def _report(done: set[Future[RunResult]], started: list[Future[RunResult]], progress: bool) -> bool:
    """Print the finished runs (with ``progress``); True when one was interrupted."""
    interrupted = False
    for future in done:
        result = future.result()  # a run that could not start raises here, as alone
        interrupted |= result.interrupted
        if progress:
            status = 'interrupted' if result.interrupted else 'done'
            print(f'[run {started.index(future) + 1}] {result.scenario}: {status}', file=sys.stderr)
    return interrupted


def summary_table(results: list[RunResult]) -> str:
    header = (
        f'{"scenario":<52} {"result":<7} {"coll":>4} {"rlv":>4} {"warn":>4} {"PDR":>6} {"RTF":>7}'
    )
    lines = [header, '-' * len(header)]
    for r in results:
        m = r.metrics
        pdr = m['v2x']['packet_delivery_ratio']
        verdict = 'INTR' if r.interrupted else ('pass' if r.passed else 'FAIL')
        lines.append(
            f'{r.scenario:<52} {verdict:<7} {m["collisions"]["count"]:>4} '
            f'{m["red_light_violations"]["count"]:>4} {m["warnings"]["count"]:>4} '
            f'{"-" if pdr is None else f"{pdr:.3f}":>6} '
            f'{m["timing"]["real_time_factor"] or 0:>6.1f}x'
        )
    return '\n'.join(lines)

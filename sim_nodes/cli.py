"""``v2x-stack sim`` and ``v2x-stack scenarios``: run the simulator from the command line.

v2x-stack sim                               the default scenario; bag + report in out/sim/default
v2x-stack sim physics/red_light_runner --seed 3 --set vehicles[0].speed_mps=15
v2x-stack sim --all --duration 20           the whole library, a summary table at the end
v2x-stack sim --all -j 2                    the same, two runs at a time
v2x-stack sim NAME --sweep                  every combination of the scenario's sweeps
v2x-stack scenarios list                    names and descriptions of the library
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim_nodes.errors import SimError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sim = subparsers.add_parser('sim', help='run a simulation scenario (bag, metrics, report)')
    sim.add_argument(
        'name',
        nargs='?',
        default='default',
        metavar='NAME',
        help='scenario name in config/scenarios or a .yaml path (default: default)',
    )
    sim.add_argument('--seed', type=int, help="random seed (default: the scenario's)")
    sim.add_argument(
        '--set',
        action='append',
        default=[],
        metavar='FIELD=VALUE',
        dest='sets',
        help='override a scenario field, e.g. traffic.count=40 (repeatable)',
    )
    sim.add_argument(
        '--out',
        type=Path,
        default=Path('out/sim'),
        metavar='DIR',
        help='output root; each run writes DIR/<scenario>/ (default out/sim)',
    )
    sim.add_argument('--all', action='store_true', help='run every scenario of the library')
    sim.add_argument(
        '--sweep', action='store_true', help="run every variant of the scenario's sweeps"
    )
    sim.add_argument('--duration', type=float, metavar='SECONDS', help='override duration_s')
    sim.add_argument(
        '--jobs',
        '-j',
        type=_positive_int,
        default=1,
        metavar='N',
        help='with --all or --sweep: N runs at once, each in its own process (default 1)',
    )
    sim.add_argument('--no-progress', action='store_true', help='no progress bar')
    scen = subparsers.add_parser('scenarios', help='the scenario library')
    scen_sub = scen.add_subparsers(dest='scenarios_command', metavar='ACTION')
    scen_sub.add_parser('list', help='list the scenarios with their descriptions')


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def run(args: argparse.Namespace) -> int:
    try:
        if args.command == 'scenarios':
            return _list()
        return _sim(args)
    except SimError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2


def _list() -> int:
    from sim_nodes.scenarios import list_scenarios, load_scenario

    for name in list_scenarios():
        try:
            description = load_scenario(name).description
        except SimError as err:
            description = f'INVALID: {err}'
        print(f'{name:<44} {description}')
    return 0


def _sim(args: argparse.Namespace) -> int:
    from sim_nodes.runner import run_all, summary_table
    from sim_nodes.scenarios import parse_sets

    sets = parse_sets(args.sets)
    progress = not args.no_progress and sys.stderr.isatty()
    names = None if args.all else [args.name]
    results = run_all(
        names,
        out_dir=args.out,
        seed=args.seed,
        sets=sets,
        duration_s=args.duration,
        sweeps=args.sweep,
        progress=progress,
        jobs=args.jobs,
    )
    if len(results) == 1:
        r = results[0]
        for check in r.checks:
            print(f'  {check.status:<5} {check.name}: {check.detail}')
        t = r.metrics['timing']
        lines = r.metrics.get('log', {}).get('lines', {})
        if lines:
            counted = ', '.join(f'{n} {level.lower()}' for level, n in lines.items())
            print(f'  component log: {counted} lines in {r.out_dir / "sim.log"}')
        print(
            f'{r.scenario}: {"passed" if r.passed else "FAILED"}; {r.metrics["simulated_s"]} s '
            f'simulated at {t["real_time_factor"]}x real time; report {r.out_dir / "report.html"}, '
            f'bag {r.bag}'
        )
    else:
        print(summary_table(results))
    return 0 if all(r.passed for r in results) else 1

"""``v2x-stack``: run topologies, replay bags and simulate, without ROS.

Commands of other areas (codec, pki, sim, scenarios) live beside their code as modules with
``register(subparsers)`` and ``run(args) -> int``; this file only lists them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from v2x_runtime.errors import RuntimeLayerError
from v2x_runtime.resources import config_dir

# Each module adds its own sub-commands; a module whose area is not installed is left out.
# The commands each one adds are listed so that a call imports only the module it needs: the
# HMI and PKI modules pull in scipy and the certificate stack, which `codec` must not wait for.
COMMAND_MODULES = {
    'v2x_nodes.codec.cli': ('codec',),
    'v2x_nodes.security.cli': ('pki',),
    'sim_nodes.cli': ('sim', 'scenarios'),
    'v2x_nodes.hmi.cli': ('hmi-demo',),
}

EPILOG = """\
examples:
  v2x-stack sim                                 the default scenario; bag + report in ./out/
  v2x-stack run rsu --duration 30 --out out/rsu run config/rsu.yaml for 30 simulated seconds
  v2x-stack replay out/rsu/bag --config rsu --out out/replayed
  v2x-stack check car                           validate a topology and list its topics
CONFIG is a topology name (car, rsu, sim: the files in config/) or a path to a .yaml file.
"""


def find_config(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix in ('.yaml', '.yml') or path.exists():
        return path
    return config_dir() / f'{name_or_path}.yaml'


def _add_topology_options(parser: argparse.ArgumentParser) -> None:
    from v2x_runtime.topology import add_set_option

    add_set_option(parser)
    parser.add_argument('--namespace', help="namespace of every component (default: the file's)")
    parser.add_argument('--seed', type=int, default=0, help='random seed (default 0)')
    parser.add_argument(
        '--fail-fast', action='store_true', help='stop at the first exception in a handler (tests)'
    )


def build_parser(modules: Sequence[ModuleType]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='v2x-stack',
        description='Vehicle-road cooperation (C-V2X) stack: run, replay and simulate.',
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument('-v', '--verbose', action='count', default=0, help='more log output')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')

    run = sub.add_parser('run', help='run a topology on the simulated clock, recording a bag')
    run.add_argument('config', metavar='CONFIG')
    run.add_argument(
        '--duration',
        type=float,
        default=10.0,
        metavar='SECONDS',
        help='simulated seconds to run (default 10)',
    )
    run.add_argument(
        '--out',
        type=Path,
        default=Path('out/run'),
        metavar='DIR',
        help='bag and log go here (default out/run)',
    )
    run.add_argument(
        '--real-time-factor',
        type=float,
        metavar='X',
        help='pace the clock at X times real time (default: as fast as possible)',
    )
    _add_topology_options(run)

    rep = sub.add_parser('replay', help='feed a rosbag2 through a topology, record its outputs')
    rep.add_argument('bag', type=Path, metavar='BAG')
    rep.add_argument('--config', required=True, metavar='CONFIG')
    rep.add_argument('--out', type=Path, required=True, metavar='OUT', help='new bag directory')
    _add_topology_options(rep)

    check = sub.add_parser('check', help='validate a topology and list components and topics')
    check.add_argument('config', metavar='CONFIG')
    check.add_argument('--set', action='append', default=[], metavar='COMPONENT.PARAM=VALUE')

    for module in modules:
        before = set(sub.choices)
        module.register(sub)
        for command in set(sub.choices) - before:
            PLUGIN_COMMANDS[command] = module
    return parser


def _load_modules(argv: Sequence[str] | None = None) -> list[ModuleType]:
    """The command modules, or only the one owning the command named in ``argv``."""
    words = [word for word in (sys.argv[1:] if argv is None else argv) if not word.startswith('-')]
    command = words[0] if words else None
    names = [name for name, commands in COMMAND_MODULES.items() if command in commands]
    modules = []
    for name in names or COMMAND_MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as err:
            if err.name is None or not name.startswith(err.name):
                raise
    return modules


def _progress_bar(total_s: float):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    bar = tqdm(
        total=round(total_s, 3),
        unit='sim s',
        file=sys.stderr,
        leave=False,
        disable=not sys.stderr.isatty(),
    )

    def update(done_ns: int, _total_ns: int) -> None:
        bar.n = round(done_ns / 1e9, 3)
        bar.refresh()

    return bar, update


def cmd_run(args: argparse.Namespace) -> int:
    from v2x_runtime.component import resolve_name
    from v2x_runtime.embedded import EmbeddedRuntime
    from v2x_runtime.topology import build, load_topology, parse_set_options

    topology = load_topology(find_config(args.config), parse_set_options(args.set))
    args.out.mkdir(parents=True, exist_ok=True)
    bag_path = args.out / 'bag'
    if bag_path.exists():
        raise RuntimeLayerError(f'{bag_path} exists already; choose another --out')
    _log_to_file(args.out / 'run.log')
    runtime = EmbeddedRuntime(
        seed=args.seed, fail_fast=args.fail_fast, real_time_factor=args.real_time_factor
    )
    bar, update = _progress_bar(args.duration)
    try:
        build(topology, runtime, namespace=args.namespace)
        record = None
        if topology.record is not None:
            ns = args.namespace or topology.namespace
            record = [resolve_name(topic, ns, '', {}) for topic in topology.record]
        runtime.record(bag_path, topics=record)
        runtime.run(duration_s=args.duration, progress=update)
    except KeyboardInterrupt:
        print('interrupted: closing the bag', file=sys.stderr)
    finally:
        bar.close()
        runtime.close()
    print(
        f'{topology.path}: ran {args.duration:g} s simulated, {runtime.events_run} events, '
        f'{runtime.handler_errors} handler errors; bag: {bag_path}'
    )
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from v2x_runtime.replay import replay
    from v2x_runtime.topology import load_topology, parse_set_options

    topology = load_topology(find_config(args.config), parse_set_options(args.set))
    result = replay(
        args.bag,
        topology,
        args.out,
        namespace=args.namespace,
        seed=args.seed,
        fail_fast=args.fail_fast,
    )
    print(
        f'{args.bag}: replayed {result.input_messages} messages, recorded '
        f'{result.output_messages} to {args.out}; skipped {dict(result.skipped)}'
    )
    for error in result.read_errors:
        print(f'bag damage: {error}', file=sys.stderr)
    return 1 if result.read_errors else 0


def cmd_check(args: argparse.Namespace) -> int:
    from v2x_runtime.embedded import EmbeddedRuntime
    from v2x_runtime.topology import build, load_topology, parse_set_options

    topology = load_topology(find_config(args.config), parse_set_options(args.set))
    runtime = EmbeddedRuntime()
    build(topology, runtime)
    print(f'{topology.path}: {topology.description or "(no description)"}')
    for process in topology.processes:
        print(f'process {process.name}:')
        for spec in process.components:
            print(f'  {spec.name} ({spec.plugin})')
    print('topics:')
    for name, topic in sorted(runtime.topics.items()):
        subs = len(topic.subscriptions)
        pubs = ', '.join(topic.publishers) or 'no publisher in this topology'
        print(f'  {name} [{topic.msgtype}] from {pubs}; {subs} subscriber(s)')
    return 0


def _log_to_file(path: Path) -> None:
    handler = logging.FileHandler(path, mode='w', encoding='utf-8')
    handler.setFormatter(logging.Formatter('%(asctime)s %(levelname)s %(name)s: %(message)s'))
    logging.getLogger().addHandler(handler)


BUILTIN = {'run': cmd_run, 'replay': cmd_replay, 'check': cmd_check}
PLUGIN_COMMANDS: dict[str, ModuleType] = {}


def main(argv: Sequence[str] | None = None) -> int:
    modules = _load_modules(argv)
    parser = build_parser(modules)
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format='%(levelname)s %(name)s: %(message)s')
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command in BUILTIN:
            return BUILTIN[args.command](args)
        return int(PLUGIN_COMMANDS[args.command].run(args))
    except RuntimeLayerError as err:
        print(f'v2x-stack {args.command}: error: {err}', file=sys.stderr)
        return 2


if __name__ == '__main__':  # python -m v2x_runtime.cli, where the v2x-stack script is not on PATH
    sys.exit(main())

"""``v2x-stack hmi-demo``: the HMI page live, fed by a scripted drive (``demo.DemoScene``).

Listed in ``v2x_runtime.cli.COMMAND_MODULES``; also runs as
``python -m v2x_nodes.hmi.cli [--port 8088]``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from v2x_nodes.hmi.demo import DemoScene
from v2x_nodes.hmi.hmi_server import HmiServer
from v2x_nodes.hmi.warning_arbiter import WarningArbiter
from v2x_runtime.embedded import EmbeddedRuntime
from v2x_runtime.resources import resource_path

DEFAULT_MAP = resource_path('config/maps/intersection.osm')


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = subparsers.add_parser(
        'hmi-demo', help='serve the driver HMI page with a scripted drive (open the URL printed)'
    )
    demo.add_argument(
        '--host', default='127.0.0.1', help='address to serve on (default %(default)s)'
    )
    demo.add_argument(
        '--port', type=int, default=8088, help='TCP port, 0: any (default %(default)s)'
    )
    demo.add_argument('--map', type=Path, default=DEFAULT_MAP, help='Lanelet2 OSM map')
    demo.add_argument(
        '--duration',
        type=float,
        default=0.0,
        help='simulated seconds to run, 0: until Ctrl-C (default)',
    )
    demo.add_argument('--speed', type=float, default=1.0, help='real-time factor (default 1)')


def run(args: argparse.Namespace) -> int:
    rt = EmbeddedRuntime(real_time_factor=args.speed, diagnostics_period_s=0)
    map_file = str(args.map) if args.map and Path(args.map).is_file() else ''
    if args.map and not map_file:
        print(f'hmi-demo: {args.map}: no such map file; drawing without lanes', file=sys.stderr)
    hmi = rt.add_component(
        HmiServer,
        name='hmi_server',
        parameters={'host': args.host, 'port': args.port, 'map_file': map_file},
    )
    rt.add_component(WarningArbiter, name='warning_arbiter')
    rt.add_component(DemoScene, name='demo_scene')
    try:
        rt.start()
        print(f'HMI demo at {hmi.url}  (Ctrl-C to stop)', flush=True)
        step_s = args.duration if args.duration > 0 else 3600.0
        while True:
            rt.run(duration_s=step_s)
            if args.duration > 0:
                break
    except KeyboardInterrupt:
        pass
    finally:
        rt.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m v2x_nodes.hmi.cli')
    sub = parser.add_subparsers(dest='command', required=True)
    register(sub)
    args = parser.parse_args(['hmi-demo', *(sys.argv[1:] if argv is None else argv)])
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(name)s: %(message)s')
    return run(args)


if __name__ == '__main__':
    sys.exit(main())

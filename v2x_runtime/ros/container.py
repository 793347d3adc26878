"""``container``: the components of one topology process as rclpy nodes in one executor.

    container --config FILE --process NAME [--set component.param=value ...]
              [--seed N] [--executor single|multi] [--fail-fast]
              [--ros-args -r __ns:=/ns -p use_sim_time:=true --log-level debug ...]

Python's form of ROS 2 composition: one process, one node per component (named after the
component), one executor. The topology is loaded and validated first (a bad file, component,
parameter or value exits with status 2 and a message naming them). The namespace is the
topology's unless the ROS arguments remap ``__ns``. One SIGINT or SIGTERM stops the components
in reverse order, destroys the nodes and exits 0; a second SIGINT kills the process.

The default executor is single-threaded: components are not thread-safe, and with Python's GIL
the multi-threaded executor is slower for this workload (see bench/bench_ros.py and docs/ros.md).
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

import rclpy
from rclpy.context import Context
from rclpy.executors import (
    ExternalShutdownException,
    MultiThreadedExecutor,
    SingleThreadedExecutor,
)
from rclpy.signals import SignalHandlerOptions
from rclpy.utilities import remove_ros_args

from v2x_runtime.errors import ParameterError, RuntimeLayerError, TopologyError
from v2x_runtime.ros.adapter import ComponentNode
from v2x_runtime.topology import (
    ProcessSpec,
    Topology,
    add_set_option,
    load_topology,
    parse_set_options,
)

SPIN_TIMEOUT_S = 0.1  # how often the loop looks at the stop flag (signal latency)
EXIT_CONFIG = 2
EXIT_RUNTIME = 1

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='container',
        description='Host the components of one topology process as rclpy nodes in one '
        'executor. ROS arguments (namespace, use_sim_time, log level, remappings) follow '
        '--ros-args.',
    )
    parser.add_argument('--config', required=True, help='topology YAML (config/*.yaml)')
    parser.add_argument('--process', required=True, help='process of the topology to host')
    add_set_option(parser)
    parser.add_argument('--seed', type=int, default=0, help='seed of every ctx.random')
    parser.add_argument(
        '--executor', choices=('single', 'multi'), default='single', help='rclpy executor kind'
    )
    parser.add_argument(
        '--fail-fast',
        action='store_true',
        help='exit (status 1) on the first exception in a handler instead of counting it',
    )
    return parser.parse_args(list(argv))


def _load(args: argparse.Namespace) -> tuple[Topology, ProcessSpec]:
    topology = load_topology(args.config, parse_set_options(args.set))
    return topology, topology.process(args.process)


def _build_nodes(
    topology: Topology, process: ProcessSpec, context: Context, args: argparse.Namespace
) -> list[ComponentNode]:
    nodes: list[ComponentNode] = []
    try:
        for spec in process.components:
            where = f'{topology.path}: processes.{process.name}.components.{spec.name}'
            try:
                nodes.append(
                    ComponentNode(
                        spec.load_class(),
                        name=spec.name,
                        context=context,
                        namespace=topology.namespace,
                        parameters=spec.parameters,
                        remappings=spec.remappings,
                        seed=args.seed,
                        fail_fast=args.fail_fast,
                    )
                )
            except ParameterError as err:
                raise TopologyError(f'{where}.parameters: {err}') from None
            except RuntimeLayerError as err:
                raise TopologyError(f'{where}: {err}') from None
    except BaseException:
        for node in nodes:
            node.destroy()
        raise
    return nodes


class _StopFlag:
    """Set by the first SIGINT/SIGTERM; a second SIGINT falls back to the default action."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.event.set()
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def main(argv: Sequence[str] | None = None) -> int:
    stop = _StopFlag()
    stop.install()  # first: a SIGINT while loading still ends in an orderly exit 0
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(remove_ros_args(['container', *argv])[1:])
    except RuntimeError as err:  # rclpy's RCLInvalidROSArgsError
        print(f'container: invalid ROS arguments {argv}: {err}', file=sys.stderr)
        return EXIT_CONFIG
    logging.basicConfig(level=logging.INFO, format='[%(levelname)s] [container]: %(message)s')
    try:
        topology, process = _load(args)
    except RuntimeLayerError as err:
        print(f'container: {err}', file=sys.stderr)
        return EXIT_CONFIG
    if stop.event.is_set():
        return 0
    context = Context()
    try:
        rclpy.init(
            args=['container', *argv],
            context=context,
            signal_handler_options=SignalHandlerOptions.NO,
        )
    except Exception as err:
        print(f'container: invalid ROS arguments {argv}: {err}', file=sys.stderr)
        return EXIT_CONFIG
    try:
        return _run(topology, process, context, args, stop)
    finally:
        context.try_shutdown()


def _run(
    topology: Topology,
    process: ProcessSpec,
    context: Context,
    args: argparse.Namespace,
    stop: _StopFlag,
) -> int:
    try:
        nodes = _build_nodes(topology, process, context, args)
    except RuntimeLayerError as err:
        print(f'container: {err}', file=sys.stderr)
        return EXIT_CONFIG
    executor = (
        MultiThreadedExecutor(context=context)
        if args.executor == 'multi'
        else SingleThreadedExecutor(context=context)
    )
    status = 0
    try:
        for node in nodes:
            executor.add_node(node.node)
        for node in nodes:
            node.start()
        # start-up objects (schemas, maps, models) live for the whole run: keep them out of
        # the collector's scans, which otherwise add pauses to every message's latency
        gc.freeze()
        names = ', '.join(n.full_name for n in nodes)
        nodes[0].node.get_logger().info(
            f'container {process.name}: {len(nodes)} component(s) running: {names}'
        )
        while not stop.event.is_set() and context.ok():
            executor.spin_once(timeout_sec=SPIN_TIMEOUT_S)
    except ExternalShutdownException:
        pass
    except Exception:
        log.exception(f'container {process.name}: stopping after an error')
        status = EXIT_RUNTIME
    finally:
        for node in nodes:
            if not node.quiesce():
                log.warning(f'{node.full_name}: a handler is still running at shutdown')
        _drain(executor)
        for node in reversed(nodes):
            node.stop()
        for node in reversed(nodes):
            executor.remove_node(node.node)
            node.destroy()
        executor.shutdown(timeout_sec=1.0)
    return status


def _drain(executor: SingleThreadedExecutor | MultiThreadedExecutor) -> None:
    """Wait for work the multi-threaded executor already handed to its thread pool.

    rclpy 7.1's ``Executor.shutdown`` does not wait for outstanding callbacks, and a queued
    task that takes from a destroyed subscription or timer fails with InvalidHandle. The pool
    is rclpy's (``_executor``); without one (single-threaded) there is nothing to wait for.
    """
    pool = getattr(executor, '_executor', None)
    if isinstance(pool, ThreadPoolExecutor):
        pool.shutdown(wait=True)


if __name__ == '__main__':
    sys.exit(main())

"""Messages/s through a container vs plain rclpy, measured in the same run.

    source .venv/ros_setup.bash && source install/setup.bash
    python bench/bench_ros.py [--window-s 3]

For each message (a small V2xFrame, a 20-participant ParticipantArray) a publisher process
publishes flat out (a 1 ms timer, a batch per tick) to a plain rclpy subscriber in this process,
which counts what arrives during a fixed window:
- baseline: a plain rclpy node publishing the rosidl message;
- container: ``container`` hosting the ``BurstTalker`` component below (typestore message →
  ``v2x_runtime.messages`` CDR → ``publish(bytes)``), with the single- and multi-threaded executor.
The ratio container/baseline is the adapter's cost on the publishing side. These wall-clock
rates depend on how busy the machine is; the first table (CPU time per message of each side's
message conversion, in one process) is the steadier comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT)]

import numpy as np  # noqa: E402

from v2x_runtime import QOS_RELIABLE, Component, ComponentContext  # noqa: E402
from v2x_runtime import messages as m  # noqa: E402

BATCH = 50
PERIOD_S = 0.001
DOMAIN_ID = 79
TYPES = ('v2x_stack/msg/V2xFrame', 'v2x_stack/msg/ParticipantArray')


def sample(msgtype: str) -> Any:
    """The message every publisher sends (built once)."""
    if msgtype == 'v2x_stack/msg/V2xFrame':
        return m.new(msgtype, source_id='00c0ffee', payload=np.arange(60, dtype=np.uint8))
    participant = m.new(
        'v2x_stack/msg/Participant',
        header=m.header(1, 'map'),
        source_id='rsu-1',
        covariance=np.eye(4).ravel(),
    )
    return m.new(msgtype, header=m.header(1, 'map'), participants=[participant] * 20)


class BurstTalker(Component):
    """Publishes ``batch`` copies of ``sample(msgtype)`` on ``bench`` every millisecond."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        msgtype = ctx.declare_parameter('msgtype', TYPES[0], 'Type', choices=TYPES)
        self.batch = ctx.declare_parameter('batch', BATCH, 'Per tick', range=(1, 10_000))
        self.message = sample(msgtype)
        self.pub = ctx.create_publisher('bench', msgtype, QOS_RELIABLE)
        ctx.create_timer(PERIOD_S, self.on_tick)

    def on_tick(self) -> None:
        for _ in range(self.batch):
            self.pub.publish(self.message)


def plain_publisher(msgtype: str) -> None:
    """The baseline: a plain rclpy node publishing the rosidl message the same way."""
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.serialization import deserialize_message

    from v2x_runtime.ros.interop import rosidl_class

    cls = rosidl_class(msgtype)
    message = deserialize_message(m.serialize(sample(msgtype)), cls)
    rclpy.init()
    node = rclpy.create_node('plain_talker')
    pub = node.create_publisher(cls, 'bench', 10)

    def tick() -> None:
        for _ in range(BATCH):
            pub.publish(message)

    node.create_timer(PERIOD_S, tick)
    with contextlib.suppress(KeyboardInterrupt, ExternalShutdownException):
        rclpy.spin(node)


def measure(command: list[str], msgtype: str, window_s: float) -> float:
    """Start ``command``; messages/s that this process's plain subscriber receives."""
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor

    from v2x_runtime.ros.interop import rosidl_class

    env = dict(os.environ, ROS_DOMAIN_ID=str(DOMAIN_ID))
    env['PYTHONPATH'] = os.pathsep.join([str(ROOT), str(HERE), env.get('PYTHONPATH', '')])
    context = Context()
    rclpy.init(context=context, domain_id=DOMAIN_ID)
    node = rclpy.create_node('bench_sub', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    count = [0]
    node.create_subscription(
        rosidl_class(msgtype), '/bench', lambda _msg: count.__setitem__(0, count[0] + 1), 10
    )
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while count[0] < 100:  # warm-up: discovery and the first messages
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f'no messages from {command}')
            executor.spin_once(timeout_sec=0.1)
        count[0] = 0
        begin = time.monotonic()
        while time.monotonic() - begin < window_s:
            executor.spin_once(timeout_sec=0.1)
        return count[0] / (time.monotonic() - begin)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        node.destroy_node()
        executor.shutdown()
        context.try_shutdown()


def container_command(config_dir: Path, msgtype: str, executor: str) -> list[str]:
    config = config_dir / f'bench_{executor}_{msgtype.rsplit("/", 1)[1]}.yaml'
    config.write_text(
        'namespace: /\nprocesses:\n  main:\n    components:\n      talker:\n'
        f'        plugin: bench_ros:BurstTalker\n        parameters: {{msgtype: {msgtype}}}\n',
        encoding='utf-8',
    )
    return [
        sys.executable,
        '-m',
        'v2x_runtime.ros.container',
        '--config',
        str(config),
        '--process',
        'main',
        '--executor',
        executor,
    ]


def conversion_costs(msgtype: str, repeat: int) -> tuple[float, float, float, float]:
    """CPU µs per message (process time, robust to other load) of each side's conversion.

    Publishing: rclpy ``publish(rosidl message)`` vs the adapter's ``publish`` (typestore
    message → CDR → ``publish(bytes)``), on a publisher without subscribers. Receiving: rclpy's
    ``deserialize_message`` (what a plain subscription does) vs ``messages.deserialize`` (what a
    component's raw subscription does).
    """
    import rclpy
    from rclpy.context import Context
    from rclpy.serialization import deserialize_message, serialize_message

    from v2x_runtime.ros.adapter import RosPublisher
    from v2x_runtime.ros.interop import rosidl_class

    cls = rosidl_class(msgtype)
    typed = sample(msgtype)
    native = deserialize_message(m.serialize(typed), cls)
    data = serialize_message(native)
    context = Context()
    rclpy.init(context=context, domain_id=DOMAIN_ID - 1)
    node = rclpy.create_node('bench_conversion', context=context)
    ros_pub = node.create_publisher(cls, 'bench_conversion', 10)
    adapter_pub = RosPublisher(ros_pub, ros_pub.topic_name, msgtype, 'bench')

    def per_message_us(action: Any, arg: Any) -> float:
        begin = time.process_time()
        for _ in range(repeat):
            action(arg)
        return (time.process_time() - begin) / repeat * 1e6

    try:
        return (
            per_message_us(ros_pub.publish, native),
            per_message_us(adapter_pub.publish, typed),
            per_message_us(lambda d: deserialize_message(d, cls), data),
            per_message_us(lambda d: m.deserialize(d, msgtype), data),
        )
    finally:
        node.destroy_node()
        context.try_shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--window-s', type=float, default=3.0)
    parser.add_argument('--plain-publisher', metavar='MSGTYPE', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain_publisher:
        plain_publisher(args.plain_publisher)
        return 0
    print('conversion cost, CPU µs per message (process time)')
    for msgtype in TYPES:
        pub_plain, pub_adapter, sub_plain, sub_adapter = conversion_costs(msgtype, 2000)
        print(f'{msgtype}')
        print(
            f'  publish   plain rclpy {pub_plain:8.1f}   adapter {pub_adapter:8.1f}'
            f'   ratio {pub_adapter / pub_plain:5.2f}'
        )
        print(
            f'  receive   plain rclpy {sub_plain:8.1f}   adapter {sub_adapter:8.1f}'
            f'   ratio {sub_adapter / sub_plain:5.2f}'
        )
    print(
        f'end to end (wall clock, sensitive to machine load): batches of {BATCH} per '
        f'{PERIOD_S * 1e3:.0f} ms timer; window {args.window_s} s'
    )
    with tempfile.TemporaryDirectory() as tmp:
        for msgtype in TYPES:
            size = len(m.serialize(sample(msgtype)))
            plain_cmd = [sys.executable, __file__, '--plain-publisher', msgtype]
            baseline = measure(plain_cmd, msgtype, args.window_s)
            print(f'{msgtype} ({size} B CDR)')
            print(f'  plain rclpy pub -> sub            {baseline:10.0f} msg/s')
            for executor in ('single', 'multi'):
                rate = measure(
                    container_command(Path(tmp), msgtype, executor), msgtype, args.window_s
                )
                print(
                    f'  container ({executor:6s} executor) -> sub {rate:10.0f} msg/s'
                    f'   ratio {rate / baseline:5.2f} of plain'
                )
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Runtime benchmarks, each against a baseline measured in the same run.

1. Embedded runtime: messages/s through a 3-component chain vs the same handlers called
   directly (overhead target <= 3x).
2. CDR round trip of a 120,000-point PointCloud2 (target <= 5 ms) and of a 200-participant
   ParticipantArray (target <= 2 ms), against rosbags' own CDR codec on the same message.
3. Bag writing: small messages/s to MCAP (target >= 50,000/s), against serialisation alone.

Times are process CPU time (best of several runs), so other load on the machine does not
count against the code measured.

    python bench/bench_runtime.py
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from v2x_runtime import QOS_RELIABLE, Component, ComponentContext
from v2x_runtime import messages as m
from v2x_runtime.bag import BagRecorder
from v2x_runtime.embedded import EmbeddedRuntime

WARNING = 'v2x_stack/msg/Warning'
REPS = 20


def best_of(fn: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        begin = time.process_time()
        fn()
        times.append(time.process_time() - begin)
    return min(times)


class Relay(Component):
    """Adds 1 to distance_m and passes the message on (a handler with a little real work)."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.pub = ctx.create_publisher('out', WARNING, QOS_RELIABLE)
        ctx.create_subscription('in', WARNING, self.on_message, QOS_RELIABLE)

    def on_message(self, msg: Any) -> None:
        self.pub.publish(m.new(WARNING, header=msg.header, distance_m=msg.distance_m + 1.0))


def bench_chain(n: int = 20_000) -> None:
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    for k, (src, dst) in enumerate([('a', 'b'), ('b', 'c'), ('c', 'd')]):
        rt.add_component(Relay, name=f'relay{k}', remappings={'in': src, 'out': dst})
    received = []
    rt.subscribe('/d', WARNING, received.append)
    msgs = [m.new(WARNING, distance_m=float(i)) for i in range(n)]

    def through_runtime() -> None:
        received.clear()
        for msg in msgs:
            rt.publish('/a', msg)
        rt.run(duration_s=0.001)

    class Direct:
        def __init__(self, nxt: Callable[[Any], None]) -> None:
            self.nxt = nxt

        def on_message(self, msg: Any) -> None:
            self.nxt(m.new(WARNING, header=msg.header, distance_m=msg.distance_m + 1.0))

    sink: list[Any] = []
    direct = Direct(Direct(Direct(sink.append).on_message).on_message)

    def handlers_directly() -> None:
        sink.clear()
        for msg in msgs:
            direct.on_message(msg)

    t_rt = best_of(through_runtime, 3)
    t_direct = best_of(handlers_directly, 3)
    assert len(received) == n and received[-1].distance_m == msgs[-1].distance_m + 3
    print(
        f'chain of 3 components: {n / t_rt:,.0f} msg/s through the embedded runtime, '
        f'{n / t_direct:,.0f} msg/s handlers called directly; '
        f'overhead {t_rt / t_direct:.2f}x (target <= 3x)'
    )


def pointcloud(points: int) -> Any:
    fields = [
        m.new('sensor_msgs/msg/PointField', name=name, offset=4 * i, datatype=7, count=1)
        for i, name in enumerate(('x', 'y', 'z', 'intensity'))
    ]
    data = np.random.default_rng(0).random((points, 4), dtype=np.float32).tobytes()
    return m.new(
        'sensor_msgs/msg/PointCloud2',
        header=m.header(1, 'lidar'),
        height=1,
        width=points,
        fields=fields,
        point_step=16,
        row_step=16 * points,
        data=np.frombuffer(data, dtype=np.uint8),
        is_dense=True,
    )


def participants(count: int) -> Any:
    rng = np.random.default_rng(1)
    return m.new(
        'v2x_stack/msg/ParticipantArray',
        header=m.header(1, 'map'),
        participants=[
            m.new(
                'v2x_stack/msg/Participant',
                header=m.header(1, 'map'),
                id=i,
                source_id='rsu1',
                position=m.new('geometry_msgs/msg/Point', x=float(x), y=float(y)),
                covariance=rng.random(16),
            )
            for i, (x, y) in enumerate(rng.random((count, 2)) * 100)
        ],
    )


def bench_serialisation() -> None:
    for label, msg, target_ms in (
        ('PointCloud2, 120,000 points', pointcloud(120_000), 5.0),
        ('ParticipantArray, 200 participants', participants(200), 2.0),
    ):
        msgtype = msg.__msgtype__
        data = m.serialize(msg)

        def round_trip(msg: Any = msg, msgtype: str = msgtype) -> None:
            m.deserialize(m.serialize(msg), msgtype)

        def rosbags_round_trip(msg: Any = msg, msgtype: str = msgtype) -> None:
            store = m.typestore()
            store.deserialize_cdr(store.serialize_cdr(msg, msgtype), msgtype)

        t_rt = best_of(lambda: [round_trip() for _ in range(REPS)]) / REPS
        t_rb = best_of(lambda: [rosbags_round_trip() for _ in range(REPS)]) / REPS
        print(
            f'{label}: {t_rt * 1e3:.3f} ms per CDR round trip ({len(data):,} bytes; '
            f"target <= {target_ms} ms); rosbags' own codec takes {t_rb * 1e3:.3f} ms "
            f'({t_rb / t_rt:.2f}x our time)'
        )


def bench_bag(n: int = 100_000) -> None:
    msgs = [m.new(WARNING, header=m.header(i), distance_m=float(i)) for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        recorder = BagRecorder(Path(tmp) / 'bag')
        begin = time.process_time()
        for i, msg in enumerate(msgs):
            recorder.write('/w', WARNING, QOS_RELIABLE, i, msg)
        recorder.close()
        t_bag = time.process_time() - begin
        size = sum(p.stat().st_size for p in (Path(tmp) / 'bag').iterdir())
    begin = time.process_time()
    for msg in msgs:
        m.serialize(msg)
    t_ser = time.process_time() - begin
    print(
        f'bag writing: {n / t_bag:,.0f} small messages/s to MCAP ({size / n:.0f} B each; '
        f'target >= 50,000/s); serialisation alone {n / t_ser:,.0f}/s '
        f'(bag costs {t_bag / t_ser:.2f}x serialisation)'
    )


if __name__ == '__main__':
    bench_chain()
    bench_serialisation()
    bench_bag()

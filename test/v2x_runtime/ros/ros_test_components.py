"""Small components for the ROS adapter tests (plugins ``ros_test_components:Name``).

The container subprocess imports them by that plugin path: the tests put this folder on its
PYTHONPATH. ``sample_array``/``sample_frame`` build the deterministic messages the tests expect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from v2x_runtime import QOS_RELIABLE, Component, ComponentContext, QosProfile
from v2x_runtime import messages as m
from v2x_runtime.qos import Durability, Reliability

ARRAY = 'v2x_stack/msg/ParticipantArray'
FRAME = 'v2x_stack/msg/V2xFrame'
WARNING = 'v2x_stack/msg/Warning'
QOS_HISTORY = QosProfile(Reliability.RELIABLE, Durability.TRANSIENT_LOCAL, 50)
"""Late joiners get the last 50 messages: no loss to discovery races in tests."""


def sample_array(seq: int, stamp_ns: int) -> Any:
    """A ParticipantArray with nested types, fixed and variable arrays, strings and constants.

    Every float is exactly representable in float32, so values compare exactly after CDR.
    """
    participants = []
    for k in range(3):
        cov = np.arange(16, dtype=np.float64) * 0.5 + k
        participants.append(
            m.new(
                'v2x_stack/msg/Participant',
                header=m.header(stamp_ns - k * 1000, 'map'),
                id=seq * 10 + k,
                participant_class=k + 1,
                source=6,
                source_id=f'rsu-{k:02x}',
                trust=k,
                position=m.new('geometry_msgs/msg/Point', x=1.5 * k, y=-2.25, z=0.125),
                latitude_deg=31.2 + k * 1e-7,
                longitude_deg=121.4 - k * 1e-7,
                altitude_m=4.0,
                heading_rad=0.75 * k,
                velocity=m.new('geometry_msgs/msg/Vector3', x=3.0, y=-1.0 * k, z=0.0),
                size=m.new('geometry_msgs/msg/Vector3', x=4.5, y=1.75, z=1.5),
                covariance=cov,
                heading_variance=0.015625,
                confidence=0.5 + 0.125 * k,
            )
        )
    return m.new(ARRAY, header=m.header(stamp_ns, f'seq-{seq}'), participants=participants)


def sample_frame(seq: int, stamp_ns: int) -> Any:
    payload = np.frombuffer(bytes((seq + i) % 256 for i in range(40)), dtype=np.uint8)
    return m.new(
        FRAME,
        header=m.header(stamp_ns, ''),
        message_type=1,
        source_id=f'{seq:08x}',
        channel=183,
        rssi_dbm=-87.5,
        security_status=1,
        psid=0x20,
        payload=payload.copy(),
        secured=np.zeros(0, dtype=np.uint8),
    )


def plain(message: Any) -> Any:
    """A message (typestore dataclass or rosidl class) as nested dicts/lists of Python values."""
    if hasattr(message, '__msgtype__'):
        return {name: plain(getattr(message, name)) for name in m.field_names(message.__msgtype__)}
    if hasattr(message, 'get_fields_and_field_types'):
        return {
            name: plain(getattr(message, name)) for name in message.get_fields_and_field_types()
        }
    if isinstance(message, np.ndarray):
        return message.tolist()
    if isinstance(message, list | tuple):
        return [plain(v) for v in message]
    if hasattr(message, 'tolist'):  # array.array of a rosidl sequence
        return message.tolist()
    if isinstance(message, bytes):
        return list(message)
    return message


class ArrayTalker(Component):
    """Publishes ``sample_array`` on ``objects`` and ``sample_frame`` on ``v2x/tx``."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        rate_hz = ctx.declare_parameter('rate_hz', 20.0, 'Rate', range=(0.1, 1000.0))
        self.batch = ctx.declare_parameter('batch', 1, 'Messages per tick', range=(1, 10000))
        self.objects = ctx.create_publisher('objects', ARRAY, QOS_RELIABLE)
        self.frames = ctx.create_publisher('v2x/tx', FRAME, QOS_RELIABLE)
        ctx.create_timer(1.0 / rate_hz, self.on_tick)
        self.seq = 0

    def on_tick(self) -> None:
        now = self.ctx.now_ns()
        for _ in range(self.batch):
            self.seq += 1
            self.objects.publish(sample_array(self.seq, now))
            self.frames.publish(sample_frame(self.seq, now))
            self.ctx.diagnostics.count('published')


class Echo(Component):
    """Republishes every V2xFrame of ``frames_in`` on ``frames_out`` and counts them."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.pub = ctx.create_publisher('frames_out', FRAME, QOS_RELIABLE)
        ctx.create_subscription('frames_in', FRAME, self.on_frame, QOS_RELIABLE)

    def on_frame(self, msg: Any) -> None:
        self.ctx.diagnostics.count('received')
        self.pub.publish(msg)


class Recorder(Component):
    """Keeps every ParticipantArray of ``objects`` (for in-process tests)."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.received: list[Any] = []
        ctx.create_subscription('objects', ARRAY, self.received.append, QOS_RELIABLE)


class Tunable(Component):
    """Parameters of every kind; each on_change is reported on ``changes`` as a Warning."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.pub = ctx.create_publisher('changes', WARNING, QOS_HISTORY)
        self.gain = ctx.declare_parameter(
            'gain', 1.0, 'Gain', range=(0.0, 10.0), dynamic=True, on_change=self.changed('gain')
        )
        self.mode = ctx.declare_parameter(
            'mode',
            'fast',
            'Mode',
            choices=('fast', 'slow'),
            dynamic=True,
            on_change=self.changed('mode'),
        )
        self.limit = ctx.declare_parameter('limit', 5, 'Read-only limit', range=(1, 100))
        self.weights = ctx.declare_parameter(
            'weights',
            [0.25, 0.5],
            'Weights',
            range=(0.0, 1.0),
            dynamic=True,
            on_change=self.changed('weights'),
        )
        self.enabled = ctx.declare_parameter('enabled', True, 'Switch', dynamic=True)

    def changed(self, name: str) -> Any:
        def on_change(value: Any) -> None:
            setattr(self, name, value)
            self.pub.publish(
                m.new(WARNING, header=m.header(self.ctx.now_ns()), text=f'{name}={value!r}')
            )

        return on_change


class Clocked(Component):
    """Publishes a Warning stamped ``now_ns`` on ``ticks`` every ``period_s``."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        period_s = ctx.declare_parameter('period_s', 0.5, 'Tick period', range=(0.001, 10.0))
        self.pub = ctx.create_publisher('ticks', WARNING, QOS_RELIABLE)
        ctx.create_timer(period_s, self.on_tick)
        self.count = 0

    def on_tick(self) -> None:
        self.count += 1
        self.pub.publish(
            m.new(WARNING, header=m.header(self.ctx.now_ns()), text=f'tick {self.count}')
        )


class Faulty(Component):
    """Raises on a V2xFrame without payload; counts the others as ``received``."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        ctx.create_subscription('frames_in', FRAME, self.on_frame, QOS_RELIABLE)

    def on_frame(self, msg: Any) -> None:
        if len(msg.payload) == 0:
            raise ValueError('frame without payload')
        self.ctx.diagnostics.count('received')


class Marker(Component):
    """Appends ``start <name>`` and ``stop <name>`` lines to the file ``marker_path``."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.path = Path(ctx.declare_parameter('marker_path', '', 'File to append to'))
        self.pub = ctx.create_publisher('alive', WARNING, QOS_RELIABLE)
        ctx.create_timer(0.2, lambda: self.pub.publish(m.new(WARNING, text=ctx.name)))

    def start(self) -> None:
        with self.path.open('a', encoding='utf-8') as out:
            out.write(f'start {self.ctx.name}\n')

    def stop(self) -> None:
        with self.path.open('a', encoding='utf-8') as out:
            out.write(f'stop {self.ctx.name}\n')

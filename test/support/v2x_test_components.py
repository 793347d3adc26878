"""Small components for runtime tests (importable as plugins ``v2x_test_components:Name``)."""

from __future__ import annotations

import math
from typing import Any

from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m

ARRAY = 'v2x_stack/msg/ParticipantArray'
WARNING = 'v2x_stack/msg/Warning'


class Talker(Component):
    """Publishes a numbered Warning on ``chatter`` at ``rate_hz`` with seeded noise."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.rate_hz = ctx.declare_parameter('rate_hz', 10.0, 'Rate', range=(0.1, 1000.0))
        self.text = ctx.declare_parameter('text', 'hello', 'Prefix of each message')
        self.pub = ctx.create_publisher('chatter', WARNING, QOS_RELIABLE)
        ctx.create_timer(1.0 / self.rate_hz, self.on_tick)
        self.count = 0

    def on_tick(self) -> None:
        self.count += 1
        self.pub.publish(
            m.new(
                WARNING,
                header=m.header(self.ctx.now_ns(), 'map'),
                application='TEST',
                text=f'{self.text} {self.count}',
                distance_m=float(self.ctx.random.normal()),
                time_to_collision_s=math.inf,
            )
        )


class Scaler(Component):
    """Scales participant positions from ``objects_in`` by ``gain`` onto ``objects_out``."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.gain = ctx.declare_parameter(
            'gain',
            2.0,
            'Position gain',
            range=(-10.0, 10.0),
            dynamic=True,
            on_change=self.set_gain,
        )
        self.mode = ctx.declare_parameter('mode', 'scale', 'What to do', choices=('scale', 'copy'))
        self.pub = ctx.create_publisher('objects_out', ARRAY, QOS_RELIABLE)
        ctx.create_subscription('objects_in', ARRAY, self.on_objects, QOS_SENSOR)

    def set_gain(self, value: float) -> None:
        self.gain = value

    def on_objects(self, msg: Any) -> None:
        self.ctx.diagnostics.count('received')
        out = []
        for p in msg.participants:
            if not m.finite(p.position.x, p.position.y, p.position.z):
                self.ctx.diagnostics.reject('nan_position', f'participant {p.id}')
                continue
            gain = self.gain if self.mode == 'scale' else 1.0
            position = m.new(
                'geometry_msgs/msg/Point',
                x=p.position.x * gain,
                y=p.position.y * gain,
                z=p.position.z,
            )
            out.append(
                m.new('v2x_stack/msg/Participant', header=p.header, id=p.id, position=position)
            )
        self.pub.publish(m.new(ARRAY, header=msg.header, participants=out))


class Faulty(Component):
    """Raises on every third message of ``objects_in``; counts the others."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        ctx.create_subscription('objects_in', ARRAY, self.on_objects, QOS_SENSOR)
        self.handled = 0

    def on_objects(self, msg: Any) -> None:
        if len(msg.participants) % 3 == 0:
            raise ValueError(f'cannot handle {len(msg.participants)} participants')
        self.handled += 1


class WrongType(Component):
    """Publishes Warnings on ``objects_in`` (a type clash with Scaler's subscription)."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        ctx.create_publisher('objects_in', WARNING, QOS_RELIABLE)


class Lifecycle(Component):
    """Records start/stop calls on a class-level list (checked by tests)."""

    calls: list[str] = []  # noqa: RUF012 - shared on purpose: the test reads it

    def start(self) -> None:
        self.calls.append(f'start {self.ctx.name}')

    def stop(self) -> None:
        self.calls.append(f'stop {self.ctx.name}')

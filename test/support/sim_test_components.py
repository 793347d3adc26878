"""Small real components the simulator tests put into the car topology of a scenario.

They stand where the applications and V2X nodes of other areas will run: a beacon sending
frames, a proximity warner publishing Warning messages, and components that fail or
interrupt on purpose to exercise the runner's failure and Ctrl-C paths.
"""

from __future__ import annotations

import math
import os
import signal
from typing import Any

import numpy as np

from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m


class Beacon(Component):
    """Sends a V2X frame on ``v2x/tx`` at ``rate_hz``."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        rate = ctx.declare_parameter('rate_hz', 10.0, 'Send rate', range=(0.1, 10000.0))
        self.message_type = ctx.declare_parameter(
            'message_type', 1, 'V2xFrame message_type (1 BSM, 3 SPAT, 5 RSM)', range=(0, 6)
        )
        self.pub = ctx.create_publisher('v2x/tx', 'v2x_stack/msg/V2xFrame', QOS_RELIABLE)
        self.sent = 0
        ctx.create_subscription('v2x/rx', 'v2x_stack/msg/V2xFrame', self.on_rx, QOS_RELIABLE)
        self.received = 0
        ctx.create_timer(1.0 / rate, self.send)

    def on_rx(self, _msg: Any) -> None:
        self.received += 1

    def send(self) -> None:
        self.sent += 1
        self.pub.publish(
            m.new(
                'v2x_stack/msg/V2xFrame',
                header=m.header(self.ctx.now_ns()),
                message_type=self.message_type,
                source_id=self.ctx.namespace.strip('/'),
                payload=np.frombuffer(
                    f'{self.ctx.namespace}:{self.sent}'.encode(), np.uint8
                ).copy(),
            )
        )


class ProximityWarner(Component):
    """Warns (application ``FCW``) when a vehicle is within ``range_m`` ahead, from truth."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.range_m = ctx.declare_parameter('range_m', 30.0, 'Warning distance', range=(1, 500))
        self.me = ctx.namespace.strip('/')
        self.pub = ctx.create_publisher('warnings/fcw', 'v2x_stack/msg/Warning', QOS_RELIABLE)
        ctx.create_subscription(
            '/sim/ground_truth', 'v2x_stack/msg/ParticipantArray', self.on_truth, QOS_SENSOR
        )

    def on_truth(self, msg: Any) -> None:
        mine = next((p for p in msg.participants if p.source_id == self.me), None)
        if mine is None:
            return
        c, s = math.cos(mine.heading_rad), math.sin(mine.heading_rad)
        for p in msg.participants:
            dx, dy = p.position.x - mine.position.x, p.position.y - mine.position.y
            ahead, side = dx * c + dy * s, -dx * s + dy * c
            if p is not mine and 0 < ahead < self.range_m and abs(side) < 1.5:
                self.pub.publish(
                    m.new(
                        'v2x_stack/msg/Warning',
                        header=m.header(self.ctx.now_ns()),
                        application='FCW',
                        level=3,
                        target_id=p.source_id,
                        time_to_collision_s=math.inf,
                        distance_m=ahead,
                    )
                )
                return


class Boom(Component):
    """Raises from its timer after ``after_s`` (a component failing during a run)."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.after_s = ctx.declare_parameter(
            'after_s', 1.0, 'When to start failing', range=(0, 1e6)
        )
        ctx.create_timer(0.5, self.tick)

    def tick(self) -> None:
        if self.ctx.now_ns() / 1e9 >= self.after_s:
            raise RuntimeError('boom: simulated component failure')


class Interrupter(Component):
    """Sends SIGINT to its own process at ``at_s`` (what Ctrl-C does)."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.at_s = ctx.declare_parameter('at_s', 2.0, 'When to interrupt', range=(0, 1e6))
        self.done = False
        ctx.create_timer(0.1, self.tick)

    def tick(self) -> None:
        if not self.done and self.ctx.now_ns() / 1e9 >= self.at_s:
            self.done = True
            os.kill(os.getpid(), signal.SIGINT)

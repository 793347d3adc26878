"""What the stacks tell the simulated drivers: speed advice and the by-wire gate's commands.

This closes the loop: a vehicle with ``follow_advice`` stays below the lowest advised maximum
speed of the SpeedAdvice its stack published in the last ``ADVICE_TTL_S`` (GLOSA, SLW; a ``stop``
advice leaves it to the driver's own stop-line behaviour); a vehicle with ``by_wire`` is driven
by ``control/gated_command`` while the gate is engaged (``autonomous``, ``safe_stop``,
``estop``), for at most ``COMMAND_TTL_S`` after the last one (the kit's own watchdog).
Malformed inputs (non-finite values, unknown gate states) are counted and ignored.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim_nodes.world.vehicles import VehicleFleet
from v2x_runtime import QOS_RELIABLE, ComponentContext

ADVICE_TTL_S = 1.0
COMMAND_TTL_S = 0.3
ENGAGED = ('autonomous', 'safe_stop', 'estop')


class DriverInputs:
    """Subscriptions of the world component for the advice- and command-driven vehicles."""

    def __init__(self, ctx: ComponentContext, fleet: VehicleFleet) -> None:
        self.ctx, self.fleet = ctx, fleet
        self.advice: dict[int, dict[str, tuple[float, int]]] = {}  # vehicle -> app -> (v, ns)
        self.command: dict[int, tuple[float, int]] = {}  # vehicle -> (accel, ns)
        for i, spec in enumerate(fleet.specs):
            if spec.follow_advice:
                self.advice[i] = {}
                ctx.create_subscription(
                    f'/{spec.name}/v2x/speed_advice',
                    'v2x_stack/msg/SpeedAdvice',
                    lambda msg, i=i: self.on_advice(i, msg),
                    QOS_RELIABLE,
                )
            if spec.by_wire:
                ctx.create_subscription(
                    f'/{spec.name}/control/gated_command',
                    'v2x_stack/msg/ControlCommand',
                    lambda msg, i=i: self.on_command(i, msg),
                    QOS_RELIABLE,
                )

    def on_advice(self, i: int, msg: Any) -> None:
        # the top of the advised band (GLOSA: arrive on green; SLW: the limit). Not the
        # 'recommended' speed: that is the current speed clamped into the band, and keeping
        # to the lowest of those ratchets a follower down with every measured slow-down
        v = float(msg.max_speed_mps)
        if msg.stop or math.isnan(v):
            self.advice[i].pop(str(msg.application), None)  # stop: the driver's own judgement
            return
        if not math.isfinite(v) or v < 0.0:
            self.ctx.diagnostics.reject('bad_advice', f'{msg.application}: speed {v}')
            return
        self.advice[i][str(msg.application)] = (v, self.ctx.now_ns())
        self.ctx.diagnostics.count('advice')

    def on_command(self, i: int, msg: Any) -> None:
        state = str(msg.source).partition(':')[0]
        a = float(msg.acceleration_mps2)
        if state not in ENGAGED:
            self.command.pop(i, None)
            return
        if not math.isfinite(a):
            self.ctx.diagnostics.reject('bad_command', f'acceleration {a}')
            return
        self.command[i] = (a, self.ctx.now_ns())
        self.ctx.diagnostics.count('commands')

    def apply(self, now_ns: int) -> None:
        """Write the fresh inputs into the fleet before a step."""
        man = self.fleet.manoeuvres
        for i, by_app in self.advice.items():
            fresh = [v for v, t in by_app.values() if now_ns - t <= ADVICE_TTL_S * 1e9]
            man.advice_mps[i] = min(fresh) if fresh else np.nan
        man.command_mps2[:] = np.nan
        for i, (a, t) in self.command.items():
            if now_ns - t <= COMMAND_TTL_S * 1e9:
                man.command_mps2[i] = a

"""The scenario's road events and signs, handed to the RSUs that broadcast them.

An RSU's stack turns ``rsu/events`` (RoadEventArray) into RSI; in a deployment that input
comes from event detection or from the traffic centre (roadworks, signs). Here the scenario's
``road_events`` play the centre: every ``PERIOD_S`` each RSU with events gets the ones active
now, so a car arriving later still hears them (RSI is repeated, T/CSAE 53).

Topics: out ``/<rsu>/rsu/events`` (v2x_stack/msg/RoadEventArray, map frame).
Parameters: scenario, sets, seed.
"""

from __future__ import annotations

import math
from typing import Any

from sim_nodes.scenarios.schema import RoadEventConfig
from sim_nodes.scenarios.shared import declare_scenario_parameters
from v2x_runtime import QOS_RELIABLE, Component, ComponentContext
from v2x_runtime import messages as m

PERIOD_S = 1.0


def road_event_msg(ev: RoadEventConfig, stamp_ns: int) -> Any:
    point = m.msg_class('geometry_msgs/msg/Point')
    return m.new(
        'v2x_stack/msg/RoadEvent',
        header=m.header(stamp_ns, 'map'),
        id=ev.id,
        event_type=ev.event_type,
        sign_type=ev.sign_type,
        source=2,  # SOURCE_GOVERNMENT: a traffic authority's event or sign
        position=point(x=ev.position_m[0], y=ev.position_m[1], z=0.0),
        latitude_deg=math.nan,
        longitude_deg=math.nan,
        altitude_m=math.nan,
        radius_m=ev.radius_m,
        path=[point(x=x, y=y, z=0.0) for x, y in ev.path_m],
        path_radius_m=ev.path_radius_m,
        description=ev.description,
    )


class RoadEvents(Component):
    """Publishes each RSU's active scenario events on its ``rsu/events`` every second."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        sc = declare_scenario_parameters(ctx).scenario
        self.by_rsu: dict[str, list[RoadEventConfig]] = {}
        for ev in sc.road_events:
            self.by_rsu.setdefault(ev.rsu, []).append(ev)
        self.pubs = {
            rsu: ctx.create_publisher(
                f'/{rsu}/rsu/events', 'v2x_stack/msg/RoadEventArray', QOS_RELIABLE
            )
            for rsu in self.by_rsu
        }
        self.t0_ns = 0
        if self.pubs:
            ctx.create_timer(PERIOD_S, self.on_timer)

    def start(self) -> None:
        self.t0_ns = self.ctx.now_ns()

    def on_timer(self) -> None:
        now = self.ctx.now_ns()
        t = (now - self.t0_ns) / 1e9  # scenario time
        for rsu, events in self.by_rsu.items():
            active = [road_event_msg(ev, now) for ev in events if ev.start_s <= t < ev.end_s]
            if active:
                self.pubs[rsu].publish(
                    m.new(
                        'v2x_stack/msg/RoadEventArray', header=m.header(now, 'map'), events=active
                    )
                )
                self.ctx.diagnostics.count('published', len(active))

"""Warnings as markers: what the applications raise, shown above the warned vehicle.

Topics: in every topic named in ``topics`` (v2x_stack/msg/Warning; the vehicle is the first
namespace element), ``/sim/ground_truth``; out ``/sim/warning_markers``
(visualization_msgs/msg/MarkerArray at ``rate_hz``: the application's name above the
vehicle for ``hold_s`` after its last warning, coloured by level).
"""

from __future__ import annotations

from typing import Any

from sim_nodes.world.component import GROUND_TRUTH
from sim_nodes.world.markers import TEXT, _colour, _marker, _pose
from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m

LEVEL_COLOURS = {1: (0.6, 0.8, 1.0), 2: (1.0, 0.8, 0.0), 3: (1.0, 0.3, 0.0), 4: (1.0, 0.0, 0.0)}


class WarningMarkers(Component):
    """Collects Warning messages and draws the active ones."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        topics = ctx.declare_parameter('topics', [''], 'Warning topics to show (absolute names)')
        rate = ctx.declare_parameter('rate_hz', 5.0, 'Marker rate', range=(0.1, 50.0))
        self.hold_s = ctx.declare_parameter(
            'hold_s', 1.0, 'How long a warning stays', range=(0, 60)
        )
        self.pub = ctx.create_publisher(
            '/sim/warning_markers', 'visualization_msgs/msg/MarkerArray', QOS_SENSOR
        )
        self.positions: dict[str, tuple[float, float, float]] = {}
        self.active: dict[tuple[str, str], tuple[int, int]] = {}  # (vehicle, app) -> (level, until)
        ctx.create_subscription(
            GROUND_TRUTH, 'v2x_stack/msg/ParticipantArray', self.on_truth, QOS_SENSOR
        )
        for topic in (t for t in topics if t):
            vehicle = topic.split('/')[1]
            ctx.create_subscription(
                topic,
                'v2x_stack/msg/Warning',
                lambda msg, v=vehicle: self.on_warning(v, msg),
                QOS_RELIABLE,
            )
        ctx.create_timer(1.0 / rate, self.on_tick)

    def on_truth(self, msg: Any) -> None:
        self.positions = {
            p.source_id: (p.position.x, p.position.y, p.size.z) for p in msg.participants
        }

    def on_warning(self, vehicle: str, msg: Any) -> None:
        key = (vehicle, msg.application)
        if msg.level == 0:
            self.active.pop(key, None)
            return
        self.active[key] = (int(msg.level), self.ctx.now_ns() + round(self.hold_s * 1e9))

    def on_tick(self) -> None:
        now = self.ctx.now_ns()
        self.active = {k: v for k, v in self.active.items() if v[1] >= now}
        vec = m.msg_class('geometry_msgs/msg/Vector3')
        header = m.header(now, 'map')
        out = [m.new('visualization_msgs/msg/Marker', header=header, action=3)]
        for n, ((vehicle, app), (level, _)) in enumerate(sorted(self.active.items())):
            pos = self.positions.get(vehicle)
            if pos is None:
                continue
            out.append(
                _marker(
                    header,
                    'warnings',
                    n,
                    TEXT,
                    pose=_pose(pos[0], pos[1], pos[2] + 3.5, 0.0),
                    scale=vec(x=0.0, y=0.0, z=2.0),
                    color=_colour(LEVEL_COLOURS.get(level, (1.0, 1.0, 1.0))),
                    text=app,
                )
            )
        self.pub.publish(m.new('visualization_msgs/msg/MarkerArray', markers=out))

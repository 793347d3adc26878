"""The world as a component: steps vehicles, pedestrians and signals; publishes the truth.

Topics (absolute, so one world serves every namespace):
  out ``/sim/ground_truth`` (v2x_stack/msg/ParticipantArray, map frame, every step),
  ``/sim/signals`` (v2x_stack/msg/IntersectionState, every step, one per intersection),
  ``/sim/markers`` (visualization_msgs/msg/MarkerArray, actors + signal heads, markers_rate_hz),
  ``/sim/map_markers`` (MarkerArray, latched, once), ``/clock`` (rosgraph_msgs/msg/Clock,
  every step, only when ``publish_clock`` is true: under ROS 2 the world is the clock source
  and every other node runs with use_sim_time), ``/sim/vehicle_lights``
  (std_msgs/msg/UInt8MultiArray, every step: the VehicleStatus.LIGHT_* indicator bits of every
  scenario vehicle in scenario order, for the simulated vehicle status).
  in, per vehicle ``<v>`` with ``follow_advice``: ``/<v>/v2x/speed_advice`` (SpeedAdvice: the
  driver keeps to the lowest recommended speed of the last second); with ``by_wire``:
  ``/<v>/control/gated_command`` (the gate's ControlCommand drives the vehicle while the gate is
  engaged: autonomous, safe_stop, estop).
Parameters: ``scenario``, ``sets``, ``seed`` (see sim_nodes.scenarios.shared), ``publish_clock``.
"""

from __future__ import annotations

import numpy as np

from sim_nodes.scenarios.shared import declare_scenario_parameters
from sim_nodes.world.driver_inputs import DriverInputs
from sim_nodes.world.markers import actor_markers, map_markers
from sim_nodes.world.truth_msgs import ground_truth, intersection_state
from v2x_runtime import QOS_LATCHED, QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m

GROUND_TRUTH = '/sim/ground_truth'
VEHICLE_LIGHTS = '/sim/vehicle_lights'
SIGNALS = '/sim/signals'


class WorldComponent(Component):
    """Steps the world every ``step_s`` of the scenario and publishes ground truth."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.built = declare_scenario_parameters(ctx)
        self.publish_clock = ctx.declare_parameter(
            'publish_clock', False, 'Publish /clock each step (ROS 2 with use_sim_time)'
        )
        self.world = self.built.world()
        self.step_s = self.built.scenario.step_s
        self.connected = set(self.built.connected())
        self.truth_pub = ctx.create_publisher(
            GROUND_TRUTH, 'v2x_stack/msg/ParticipantArray', QOS_SENSOR
        )
        self.signal_pub = ctx.create_publisher(
            SIGNALS, 'v2x_stack/msg/IntersectionState', QOS_RELIABLE
        )
        self.marker_pub = ctx.create_publisher(
            '/sim/markers', 'visualization_msgs/msg/MarkerArray', QOS_SENSOR
        )
        self.map_pub = ctx.create_publisher(
            '/sim/map_markers', 'visualization_msgs/msg/MarkerArray', QOS_LATCHED
        )
        self.clock_pub = (
            ctx.create_publisher('/clock', 'rosgraph_msgs/msg/Clock', QOS_SENSOR)
            if self.publish_clock
            else None
        )
        rate = self.built.scenario.markers_rate_hz
        self.marker_every = max(1, round(1.0 / (rate * self.step_s))) if rate > 0 else 0
        self.steps = 0
        self.t0_ns: int | None = None
        self._heads = self._signal_heads()
        self.lights_pub = ctx.create_publisher(
            VEHICLE_LIGHTS, 'std_msgs/msg/UInt8MultiArray', QOS_SENSOR
        )
        self.inputs = DriverInputs(ctx, self.world.fleet)
        ctx.create_timer(self.step_s, self.on_step)

    def _signal_heads(self) -> list[tuple[np.ndarray, int]]:
        heads = []
        for lane in sorted(self.built.network.lanes.values(), key=lambda lane: lane.id):
            if lane.signal_group:
                key = self.world.signal_keys[(lane.intersection_id, lane.signal_group)]
                heads.append((lane.centreline[0], key))
        return heads

    def start(self) -> None:
        now = self.ctx.now_ns()
        self.t0_ns = now
        self.map_pub.publish(map_markers(self.built.network, now))
        self._publish(now)

    def on_step(self) -> None:
        self.inputs.apply(self.ctx.now_ns())
        self.world.step(self.step_s)
        self.steps += 1
        self._publish(self.ctx.now_ns())

    def _publish(self, now: int) -> None:
        if self.clock_pub is not None:
            self.clock_pub.publish(m.new('rosgraph_msgs/msg/Clock', clock=m.stamp(now)))
        snap = self.world.snapshot()
        self.truth_pub.publish(ground_truth(snap, now))
        fleet = self.world.fleet
        lights = fleet.manoeuvres.indicators(fleet, self.world.t_s)
        self.lights_pub.publish(m.new('std_msgs/msg/UInt8MultiArray', data=lights))
        for iid, states in self.world.signal_states().items():
            self.signal_pub.publish(intersection_state(iid, states, now))
        if self.marker_every and self.steps % self.marker_every == 0:
            lights = self.world.lights
            heads = [(xy, int(lights[key])) for xy, key in self._heads]
            self.marker_pub.publish(actor_markers(snap, self.connected, heads, now))
        self.ctx.diagnostics.set_value('active_actors', len(snap.names))
        self.ctx.diagnostics.set_value('collisions', self.world.count('collision'))
        self.ctx.diagnostics.set_value(
            'red_light_violations', self.world.count('red_light_violation')
        )

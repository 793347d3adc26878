"""DemoScene: a scripted drive through the example intersection, to look at the HMI by hand.

Not a simulator and not an application: it publishes what the localisation, the V2X receive
path, the signal controller and the applications would publish, so that the page and the
markers can be seen live without the rest of the stack (``v2x-stack hmi-demo``).

Script (period ``cycle_s`` = 40 s): the own vehicle drives east along the west arm
(y = -5.25 m) at 12 m/s and brakes for the stop line on red; a slower vehicle (id 7, sent as
a BSM) drives ahead of it; a pedestrian crosses the north arm; SPAT runs a fixed-time plan
(east-west straight green 0-15 s, yellow 15-18 s, red otherwise). Warnings: FCW from the time
to collision with the vehicle ahead, VRUCW while the pedestrian is on the crossing, GLOSA
advice towards the stop line.
"""

from __future__ import annotations

import math
from typing import Any

from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m

RED, GREEN, YELLOW = 3, 6, 7
LANE_Y_M = -5.25
STOP_X_M = -16.0
START_X_M = -150.0


def _light_of_ew(t_s: float) -> tuple[int, float]:
    """East-west straight light and seconds to its end, in a 40 s fixed-time cycle."""
    if t_s < 15.0:
        return GREEN, 15.0 - t_s
    if t_s < 18.0:
        return YELLOW, 18.0 - t_s
    return RED, 40.0 - t_s


class DemoScene(Component):
    """Scripted inputs for the HMI. Topics: out `localization/odometry`, `v2x/remote_vehicles`,
    `v2x/roadside_participants`, `v2x/spat`, `v2x/warnings`, `v2x/speed_advice`.
    Parameters: `cycle_s`, `period_s`."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.cycle_s = ctx.declare_parameter('cycle_s', 40.0, 'Script length', range=(20.0, 600.0))
        period_s = ctx.declare_parameter('period_s', 0.1, 'Publish period', range=(0.02, 1.0))
        pub = ctx.create_publisher
        self.odom = pub('localization/odometry', 'nav_msgs/msg/Odometry', QOS_SENSOR)
        self.bsm = pub('v2x/remote_vehicles', 'v2x_stack/msg/ParticipantArray', QOS_SENSOR)
        self.rsm = pub('v2x/roadside_participants', 'v2x_stack/msg/ParticipantArray', QOS_SENSOR)
        self.spat = pub('v2x/spat', 'v2x_stack/msg/IntersectionState', QOS_SENSOR)
        self.warn = pub('v2x/warnings', 'v2x_stack/msg/Warning', QOS_RELIABLE)
        self.advice = pub('v2x/speed_advice', 'v2x_stack/msg/SpeedAdvice', QOS_SENSOR)
        ctx.create_timer(period_s, self.tick)
        self.ego_x = START_X_M
        self.ego_v = 12.0
        self.lead_x = START_X_M + 45.0
        self.last_ns: int | None = None
        self.raised: set[str] = set()

    def tick(self) -> None:
        now = self.ctx.now_ns()
        dt = 0.0 if self.last_ns is None else (now - self.last_ns) / 1e9
        self.last_ns = now
        t = (now / 1e9) % self.cycle_s
        light, left_s = _light_of_ew(t)
        self._move(dt, light)
        header = m.header(now, 'map')
        self.odom.publish(_odometry(header, self.ego_x, LANE_Y_M, self.ego_v))
        lead_v = self._lead_speed(light)
        lead = _participant(
            7, self.lead_x, LANE_Y_M, 0.0, v=lead_v, cls=1, source_id='a1b2c3d4', source=1
        )
        self.bsm.publish(
            m.new('v2x_stack/msg/ParticipantArray', header=header, participants=[lead])
        )
        ped_y = 40.0 - 1.2 * t if t < 30.0 else 40.0 - 36.0
        walker = _participant(
            3, -7.0, ped_y, -math.pi / 2, v=1.2, cls=5, source_id='rsu1', source=6
        )
        self.rsm.publish(
            m.new('v2x_stack/msg/ParticipantArray', header=header, participants=[walker])
        )
        self.spat.publish(_spat(header, light, left_s))
        self._warnings(now, header, lead_v=lead_v, ped_y=ped_y, light=light, left_s=left_s)

    def _lead_speed(self, light: int) -> float:
        """6 m/s, but it stops at the stop line unless green (and never inside the junction)."""
        at_line = STOP_X_M - 8.0 <= self.lead_x <= STOP_X_M
        return 0.0 if at_line and light != GREEN else 6.0

    def _move(self, dt: float, light: int) -> None:
        gap_stop = STOP_X_M - 3.0 - self.ego_x
        target = 12.0
        if light != GREEN and 0 < gap_stop < 60.0:
            target = max(0.0, min(12.0, math.sqrt(2 * 2.0 * max(gap_stop, 0.0))))
        gap_lead = self.lead_x - self.ego_x - 5.0
        if gap_lead < 25.0:
            target = min(target, max(0.0, gap_lead / 3.0))
        self.ego_v += max(-4.0, min(1.5, (target - self.ego_v) * 2.0)) * dt
        self.ego_x += self.ego_v * dt
        self.lead_x += self._lead_speed(light) * dt
        if self.ego_x > 150.0 or self.lead_x > 200.0:  # start over
            self.ego_x, self.lead_x, self.ego_v = START_X_M, START_X_M + 45.0, 12.0

    def _warnings(
        self, now: int, header: Any, *, lead_v: float, ped_y: float, light: int, left_s: float
    ) -> None:
        gap = self.lead_x - self.ego_x - 4.6
        closing = self.ego_v - lead_v
        moving = self.ego_v > 2.0  # no collision warning while creeping in a queue
        ttc = gap / closing if moving and closing > 0.1 and gap > 0 else math.inf
        level = 4 if ttc < 2.0 else 3 if ttc < 3.5 else 2 if ttc < 5.0 else 0
        self._raise(
            'FCW', level, now, target='a1b2c3d4', ttc=ttc, dist=gap, text='Vehicle ahead: brake!'
        )
        on_crossing = 18.0 < ped_y < 30.0 and self.ego_x > -40.0
        self._raise(
            'VRUCW',
            3 if on_crossing else 0,
            now,
            target='rsu1:3',
            ttc=math.inf,
            dist=math.hypot(-7.0 - self.ego_x, ped_y - LANE_Y_M),
            text='Pedestrian on the crossing',
        )
        dist = STOP_X_M - self.ego_x
        if 0 < dist < 250.0:
            reach_s = left_s if light == GREEN else left_s + 1.0
            speed = min(13.9, dist / max(reach_s, 0.1))
            stop = light != GREEN and speed < 5.0
            self.advice.publish(
                m.new(
                    'v2x_stack/msg/SpeedAdvice',
                    header=header,
                    application='GLOSA',
                    min_speed_mps=5.0,
                    max_speed_mps=13.9,
                    recommended_speed_mps=math.nan if stop else speed,
                    stop=stop,
                    distance_m=dist,
                    phase_id=8,
                    valid_until=m.stamp(now + 1_000_000_000),
                    text='stop at the line' if stop else 'keep this speed for green',
                )
            )

    def _raise(
        self, app: str, level: int, now: int, *, target: str, ttc: float, dist: float, text: str
    ) -> None:
        if level == 0 and app not in self.raised:
            return
        if level == 0:
            self.raised.discard(app)
        else:
            self.raised.add(app)
        self.warn.publish(
            m.new(
                'v2x_stack/msg/Warning',
                header=m.header(now, 'map'),
                application=app,
                level=level,
                target_id=target,
                time_to_collision_s=ttc,
                distance_m=dist,
                text=text,
            )
        )


def _odometry(header: Any, x: float, y: float, v: float) -> Any:
    return m.new(
        'nav_msgs/msg/Odometry',
        header=header,
        child_frame_id='base_link',
        pose=m.new(
            'geometry_msgs/msg/PoseWithCovariance',
            pose=m.new(
                'geometry_msgs/msg/Pose',
                position=m.new('geometry_msgs/msg/Point', x=x, y=y),
                orientation=m.new('geometry_msgs/msg/Quaternion', w=1.0),
            ),
        ),
        twist=m.new(
            'geometry_msgs/msg/TwistWithCovariance',
            twist=m.new('geometry_msgs/msg/Twist', linear=m.new('geometry_msgs/msg/Vector3', x=v)),
        ),
    )


def _participant(
    pid: int, x: float, y: float, yaw: float, *, v: float, cls: int, source_id: str, source: int
) -> Any:
    return m.new(
        'v2x_stack/msg/Participant',
        id=pid,
        participant_class=cls,
        source=source,
        source_id=source_id,
        position=m.new('geometry_msgs/msg/Point', x=x, y=y),
        heading_rad=yaw,
        velocity=m.new('geometry_msgs/msg/Vector3', x=v * math.cos(yaw), y=v * math.sin(yaw)),
    )


def _spat(header: Any, light_ew: int, left_s: float) -> Any:
    """Signal groups of config/maps/intersection.osm: 1 + 3 * arm + movement (E, N, W, S)."""
    phases = []
    for arm in range(4):
        east_west = arm in (0, 2)
        for move in range(3):
            group = 1 + 3 * arm + move
            straight_or_right = move != 0
            if east_west and straight_or_right:
                light, end = light_ew, left_s
            else:
                light, end = RED, (left_s if light_ew == RED else left_s + 22.0)
            phases.append(
                m.new(
                    'v2x_stack/msg/SignalPhase',
                    phase_id=group,
                    light=light,
                    likely_end_s=end,
                    min_end_s=end,
                    max_end_s=end + 2.0,
                )
            )
    return m.new('v2x_stack/msg/IntersectionState', header=header, intersection_id=1, phases=phases)

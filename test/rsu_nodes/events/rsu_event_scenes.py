"""Scripted participant trajectories on the example junction (config/maps/intersection.osm).

East arm: ingress (westbound, yaw π) lanes at y = 1.75 (left), 5.25 (straight), 8.75
(right) from the stop line x = 16 to x = 160; the carriageway's north edge is y = 10.5.
Limit 50 km/h (13.9 m/s).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from v2x_runtime import messages as m

ARRAY = 'v2x_stack/msg/ParticipantArray'
CAR, PEDESTRIAN, OBSTACLE, UNKNOWN = 1, 5, 6, 0
# (id, class, x, y, vx, vy)
Obj = tuple[int, int, float, float, float, float]
Scene = Callable[[float], list[Obj]]
# box sizes (length, width, height) of particular ids; the others get their class's default
SIZES = {60: (5.36, 4.41, 1.51), 61: (5.36, 4.41, 0.5)}


def array(t_s: float, objs: list[Obj], frame: str = 'map') -> object:
    ns = round(t_s * 1e9)
    return m.new(
        ARRAY,
        header=m.header(ns, frame),
        participants=[
            m.new(
                'v2x_stack/msg/Participant',
                header=m.header(ns, frame),
                id=i,
                participant_class=c,
                position=m.new('geometry_msgs/msg/Point', x=x, y=y, z=0.0),
                velocity=m.new('geometry_msgs/msg/Vector3', x=vx, y=vy, z=0.0),
                heading_rad=math.atan2(vy, vx) if (vx or vy) else math.pi,
                size=m.new(
                    'geometry_msgs/msg/Vector3',
                    **dict(
                        zip('xyz', SIZES.get(i, (4.5 if c == CAR else 0.5, 1.8, 1.5)), strict=True)
                    ),
                ),
                latitude_deg=math.nan,
                longitude_deg=math.nan,
                altitude_m=math.nan,
            )
            for i, c, x, y, vx, vy in objs
        ],
    )


def stopped_car(t: float) -> list[Obj]:
    return [(1, CAR, 80.0, 5.25, 0.0, 0.0), (2, CAR, 150.0 - 10.0 * t, 8.75, -10.0, 0.0)]


def waiting_at_red(t: float) -> list[Obj]:  # stopped at the stop line, then queued behind
    return [(1, CAR, 18.5, 5.25, 0.0, 0.0), (3, CAR, 25.5, 5.25, 0.0, 0.0),
            (2, CAR, 150.0 - 10.0 * t, 8.75, -10.0, 0.0)]  # fmt: skip


def wrong_way(t: float) -> list[Obj]:
    return [(5, CAR, 30.0 + 10.0 * t, 5.25, 10.0, 0.0)]


def right_way(t: float) -> list[Obj]:
    return [(5, CAR, 150.0 - 10.0 * t, 5.25, -10.0, 0.0)]


def jam(t: float) -> list[Obj]:  # 12 cars queued over ~80 m of two lanes, creeping
    v = 0.4 * math.sin(t)
    return [(10 + k, CAR, 18.5 + 7.0 * (k // 2), 5.25 if k % 2 else 1.75, -abs(v), 0.0)
            for k in range(24)]  # fmt: skip


def free_flow(t: float) -> list[Obj]:  # the same number of cars at 12 m/s
    return [(10 + k, CAR, 160.0 - (t * 12.0 + 11.0 * k) % 140.0, 5.25 if k % 2 else 1.75,
             -12.0, 0.0) for k in range(24)]  # fmt: skip


def short_red_queue(t: float) -> list[Obj]:  # four cars waiting through a long red
    return [(10 + k, CAR, 18.5 + 7.0 * k, 5.25, 0.0, 0.0) for k in range(4)]


def pedestrian_on_road(t: float) -> list[Obj]:
    return [(20, PEDESTRIAN, 60.0, 4.0 + 0.3 * math.sin(t), 0.0, 0.3 * math.cos(t))]


def pedestrian_on_sidewalk(t: float) -> list[Obj]:
    return [(20, PEDESTRIAN, 60.0 - 1.2 * t, 13.0, -1.2, 0.0)]


def debris(t: float) -> list[Obj]:
    return [(30, OBSTACLE, 100.0, 1.75, 0.0, 0.0)]


def debris_off_road(t: float) -> list[Obj]:
    return [(30, OBSTACLE, 100.0, 15.0, 0.0, 0.0)]


def queued_partial_car(t: float) -> list[Obj]:  # the simulator's east-approach queue at ~42 s
    # two cars waiting at the stop line; the third is occluded by them, seen only in part
    # (its roof), and classed unknown: standing still in the lane, but a car in the queue
    return [(50, CAR, 18.5, 5.25, 0.0, 0.0), (51, CAR, 25.5, 5.25, 0.0, 0.0),
            (52, UNKNOWN, 32.0, 5.25, 0.05, 0.0)]  # fmt: skip


def merged_pair_at_the_line(t: float) -> list[Obj]:  # the simulator's default scene at ~42 s
    # two cars side by side at the east stop line, clustered into one 5.4 x 4.4 x 1.5 m box
    # across the lane boundary (y = 3.5), heading -pi/2 as there: unknown class
    return [(60, UNKNOWN, 16.7, 3.42, 0.0, -0.01), (51, CAR, 25.5, 5.25, 0.0, 0.0)]


def low_wide_debris_at_the_line(t: float) -> list[Obj]:  # a spilled load as wide, 0.5 m high
    return [(61, UNKNOWN, 16.7, 3.42, 0.0, -0.01), (51, CAR, 25.5, 5.25, 0.0, 0.0)]


def debris_ahead_of_queue(t: float) -> list[Obj]:  # unknown debris at the line, cars behind it
    return [(53, UNKNOWN, 18.0, 5.25, 0.0, 0.0), (50, CAR, 25.5, 5.25, 0.0, 0.0),
            (51, CAR, 32.5, 5.25, 0.0, 0.0)]  # fmt: skip


def unknown_debris(t: float) -> list[Obj]:  # debris the classifier cannot name, alone in a lane
    return [(54, UNKNOWN, 100.0, 1.75, 0.0, 0.0), (50, CAR, 18.5, 5.25, 0.0, 0.0)]


def speeding(t: float) -> list[Obj]:
    return [(40, CAR, 158.0 - 20.0 * t, 5.25, -20.0, 0.0)]


def at_the_limit(t: float) -> list[Obj]:
    return [(40, CAR, 158.0 - 13.5 * t, 5.25, -13.5, 0.0)]

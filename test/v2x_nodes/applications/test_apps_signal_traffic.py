"""False warnings of the default scenario (benign traffic at the signalised four-arm
junction, 60 s, seed 1: 226 warning messages, 199 of them false), each reproduced in the
scripted world on the simulator's junction, with the case that must still warn beside it:

- ICW and LTA while turning left past a car waiting at its red in the lane beside the exit
  lane (the standing car's jittering roadside heading, a yaw rate of 0.1 rad/s, turned it
  on the spot in the prediction, across the exit lane);
- ICW while waiting at the stop line as a right-turner accelerates out of its turn into the
  lane beside (CTRA swung it wide across our lanes);
- DNPW after a left turn, the indicator still on, with the red queue in the oncoming lane;
- EBW for a crawling car in a queue 70 m ahead whose roadside track jumped;
- TJW for the queue at a red light ahead.
"""

from __future__ import annotations

import math

from apps_cases import EAST_1, LEFT_LIGHT, tjw
from apps_scripted import junction_path, roadside, run_with
from apps_world import ROAD, Actor, Ego, Mover, World

from v2x_nodes.applications.apps import (
    DoNotPassWarning,
    EmergencyBrakeWarning,
    TrafficJamWarning,
)
from v2x_nodes.applications.node import ApplicationSuite

STOP_M = 136.0  # the four-arm junction's approach lanes end at their stop line (150 - 14 m)
EGO_HALF_M = 2.3


def _waiting_at_red(network, lane: str, places: int, jitter_radps: float = 0.0) -> list[Actor]:
    """Cars standing in ``lane`` at its stop line, 6.6 m apart, reported by the RSU; the
    roadside box heading of each jitters (a yaw rate of up to ``jitter_radps``)."""
    path = junction_path(network, [lane])
    return [Actor(40 + k, Mover(path, 0.0, start_m=STOP_M - 2.8 - 6.6 * k,
                                heading_offset=lambda t: jitter_radps / 5.5 * math.sin(5.5 * t)),
                  roadside=True) for k in range(places)]  # fmt: skip


def _left_turn(network, speed_mps: float, start_m: float, lights_until_s: float) -> Ego:
    path = junction_path(network, ['south_in_0', 'south_left_0', 'west_out_0'])
    return Ego(Mover(path, speed_mps, start_m=start_m),
               lights=lambda t: LEFT_LIGHT if t < lights_until_s else 0)  # fmt: skip


def test_no_icw_lta_turning_left_past_a_car_waiting_at_its_red(junction) -> None:
    """car_010 at 34.8-38.1 s: left turn at 6 m/s; car_003 waits at its red on west_in_0,
    the lane beside our exit lane west_out_0."""
    network, path = junction
    world = World(_left_turn(network, 6.0, 100.0, 20.0),
                  _waiting_at_red(network, 'west_in_0', 1, jitter_radps=0.11))  # fmt: skip
    result = run_with(world, ApplicationSuite, 14.0, path,
                      params={'applications': ['ICW', 'LTA']})  # fmt: skip
    assert not result.raised('ICW') and not result.raised('LTA'), _show(result)


def _right_turner(network, ego_speed_mps: float) -> World:
    """car_016 at 46.7-48.7 s: braking to its stop line on south_in_0 at ``ego_speed_mps``
    while veh_014 (roadside) speeds up through its right turn from west_in_1 into
    south_out_1, 7 m beside."""
    ego = Mover(junction_path(network, ['south_in_0']), ego_speed_mps, start_m=121.0,
                brake_at_s=0.0, brake_mps2=-ego_speed_mps**2 / 24.0)  # fmt: skip
    turn = junction_path(network, ['west_in_1', 'west_right_1', 'south_out_1'])
    turner = Actor(50, Mover(turn, 1.0, start_m=STOP_M + 1.0, accel_mps2=1.5), roadside=True)
    return World(Ego(ego, lights=lambda t: LEFT_LIGHT), [turner])


def test_no_icw_waiting_at_the_line_as_a_right_turner_leaves_beside(junction) -> None:
    network, path = junction
    result = run_with(_right_turner(network, 4.0), ApplicationSuite, 8.0, path,
                      params={'applications': ['ICW']})  # fmt: skip
    assert not result.raised('ICW'), _show(result)


def test_no_dnpw_for_the_indicator_still_on_after_a_left_turn(junction) -> None:
    """car_010 at 38.9-40.0 s: out of its left turn into west_out_0 with the indicator still
    on for 2 s, behind a car that turned before it, the red queue standing in the oncoming
    lane west_in_0 beside."""
    network, path = junction
    ego = _left_turn(network, 7.0, 120.0, 8.0)  # out of the turn at 5.8 s
    lead = Actor(60, Mover(ego.mover.path, 7.0, start_m=140.0))
    world = World(ego, [lead, *_waiting_at_red(network, 'west_in_0', 4)])
    result = run_with(world, DoNotPassWarning, 9.0, path)
    assert not result.raised('DNPW'), _show(result)
    # the same car and queue on a straight road, signalling to pass: warned
    straight = junction_path(network, ['east_in_0', 'east_straight_0', 'west_out_0'])
    ego = Ego(Mover(straight, 7.0, start_m=100.0), lights=lambda t: LEFT_LIGHT)
    world = World(ego, [Actor(60, Mover(straight, 7.0, start_m=120.0)),
                        *_waiting_at_red(network, 'west_in_0', 4)])  # fmt: skip
    assert run_with(world, DoNotPassWarning, 8.0, path).raised('DNPW')


def _crawler_track_jumps(ahead_m: float) -> list:
    """car_019 at 45.4 s: the RSU's track of a car crawling at 1 m/s in a queue ``ahead_m``
    ahead coasts, then snaps back 0.8 m and says 0.2 m/s (a "-7 m/s²" step)."""
    ego = Mover(EAST_1, 10.7, start_m=100)
    out = []
    x0 = ego.state(0.0)[0] + ahead_m
    for k in range(40):
        t = 0.1 * k
        v, x = (1.0, x0 + t) if t < 1.5 else (0.2, x0 + 1.5 - 0.8)
        out.append((t, [roadside(t, 33, x, -1.75, v, 0.0, 0.25)]))
    return out


def test_no_ebw_for_a_roadside_track_jump_far_ahead() -> None:
    world = World(Ego(Mover(EAST_1, 10.7, start_m=100)))
    result = run_with(world, EmergencyBrakeWarning, 4.0, ROAD, _crawler_track_jumps(75.0))
    assert not result.raised('EBW'), _show(result)


def test_ebw_when_following_closely() -> None:
    """The reference case (a lead 65 m ahead at our 20 m/s brakes at 6 m/s²): to stop
    behind it needs 2.7 m/s² after a second; the same lead 200 m ahead needs 0.8."""
    from apps_cases import ebw

    assert run_with(ebw(benign=False), EmergencyBrakeWarning, 5.0, ROAD).raised('EBW')
    far = ebw(benign=False)
    far.actors[0].mover.start_m += 135.0
    assert not run_with(far, EmergencyBrakeWarning, 5.0, ROAD).raised('EBW')


def _queue(network, lanes: tuple[str, ...], places: int, back_m: float) -> list[Actor]:
    """Cars standing ``places`` deep in each of ``lanes``, the first ``back_m`` before its
    stop line, 7 m apart (BSM senders)."""
    return [Actor(70 + 10 * j + k, Mover(junction_path(network, [lane]), 0.0,
                                          start_m=STOP_M - 2.8 - back_m - 7.0 * k))
            for j, lane in enumerate(lanes) for k in range(places)]  # fmt: skip


def test_no_tjw_for_the_queue_at_a_red_light(junction) -> None:
    """car_019 at 45.1-48.8 s: approaching at 10 m/s the queue waiting at its red."""
    network, path = junction
    ego = Ego(Mover(junction_path(network, ['south_in_1']), 10.0, start_m=0.0))
    queue = _queue(network, ('south_in_0', 'south_in_1'), 2, 0.0)
    assert not run_with(World(ego, queue), TrafficJamWarning, 6.0, path).raised('TJW')
    # the same cars standing 60 m before the stop line: a jam, not a signal's queue
    queue = _queue(network, ('south_in_0', 'south_in_1'), 2, 60.0)
    assert run_with(World(ego, queue), TrafficJamWarning, 6.0, path).raised('TJW')
    assert run_with(tjw(benign=False), TrafficJamWarning, 8.0, ROAD).raised('TJW')


def _show(result) -> list:
    """The warnings of a run, readable in an assertion message: (app, target, s, level, TTC)."""
    return [
        (
            w.application,
            w.target_id,
            round(w.header.stamp.sec + w.header.stamp.nanosec * 1e-9 - 100, 1),
            w.level,
            round(w.time_to_collision_s, 2),
        )
        for w in result.warnings
    ]

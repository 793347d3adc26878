"""Issue #9, bad input, the cases test_apps_filters.py does not cover: vehicles off the map,
RSI events whose RSU went quiet and stale SPAT are ignored for triggering and counted, while
the same data heard in time triggers."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from apps_cases import ICW_EGO, RED, ivs
from apps_world import (
    INTERSECTION,
    NS,
    ROAD,
    START_NS,
    Actor,
    Ego,
    Mover,
    World,
    line,
    odometry,
    run,
    schedule,
    signal,
)

from v2x_nodes.applications.apps import (
    ForwardCollisionWarning,
    GreenLightOptimalSpeedAdvisory,
    InVehicleSignage,
)
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.hdmap.node import MapMatcher

BEYOND_THE_ROAD_END = line(0, -1.75, 1200, -1.75)  # the map's lanes end at x = 1000 m


def _stopped_ahead(start_m: float) -> World:
    """The ego at 20 m/s, a car standing 100 m ahead in the same line."""
    path = BEYOND_THE_ROAD_END
    return World(Ego(Mover(path, 20.0, start_m=start_m)),
                 [Actor(9, Mover(path, 0.0, start_m=start_m + 100.0))])  # fmt: skip


def test_a_vehicle_off_the_map_is_ignored_and_counted() -> None:
    """The same scene on the lanes (control: FCW) and 40 m past the end of the mapped road
    (the car's path runs straight on; the standing car is on no lane: ignored, counted)."""
    on_map = run(_stopped_ahead(700.0), [(ForwardCollisionWarning, {})], 4.0, map_path=ROAD)
    assert on_map.raised('FCW') and not on_map.counter('app0', 'off_map_targets')
    off_map = run(_stopped_ahead(940.0), [(ForwardCollisionWarning, {})], 2.9, map_path=ROAD)
    assert not off_map.raised('FCW')
    assert off_map.counter('app0', 'off_map_targets') >= 20


def _ivs_with_rsi_at(times_s: list[float], duration_s: float, **params):
    """The IVS scenario (sign zone from x = 580 m; at 20 m/s the 200 m warning point is passed
    at 4 s), its RSI heard only at ``times_s``."""
    world = ivs(benign=False)
    events, world = world.events, replace(world, events=[])
    rt = EmbeddedRuntime(start_ns=START_NS)
    rt.add_component(MapMatcher, name='map_matcher', namespace=NS,
                     parameters={'map_file': str(ROAD)})  # fmt: skip
    app = rt.add_component(InVehicleSignage, name='ivs', namespace=NS,
                           parameters={'map_file': str(ROAD), **params})  # fmt: skip
    warnings: list = []
    rt.subscribe(f'{NS}/v2x/warnings', 'v2x_stack/msg/Warning', warnings.append)
    schedule(rt, world, duration_s)
    for t in times_s:
        t_ns = START_NS + round(t * 1e9)
        rt.publish(f'{NS}/v2x/events', m.new('v2x_stack/msg/RoadEventArray',
                   header=m.header(t_ns, 'map'), source_id='rsu1', events=events),
                   at_ns=t_ns)  # fmt: skip
    rt.run(duration_s=duration_s)
    assert rt.handler_errors == 0
    raised = [(m.to_ns(w.header.stamp) - START_NS) / 1e9 for w in warnings if w.level > 0]
    cleared = [(m.to_ns(w.header.stamp) - START_NS) / 1e9 for w in warnings if w.level == 0]
    return raised, cleared, app.ctx.diagnostics.counters


def test_rsi_of_a_quiet_rsu_is_stale_ignored_and_counted() -> None:
    every_second = [float(t) for t in range(9)]
    raised, _, diag = _ivs_with_rsi_at(every_second, 8.0, ivs_event_max_age_s=2.0)
    assert raised and raised[0] <= 4.1 and not diag.get('stale_events')  # control
    raised, _, diag = _ivs_with_rsi_at([0.0], 8.0, ivs_event_max_age_s=2.0)
    assert raised == []  # heard once, 4 s before the warning point: stale by then
    assert diag['stale_events'] >= 30  # each cycle from 2 s on


def test_a_raised_sign_clears_when_its_rsu_goes_quiet() -> None:
    raised, cleared, diag = _ivs_with_rsi_at([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], 13.5)
    assert raised and raised[0] <= 4.1
    assert cleared and 12.0 <= cleared[0] <= 12.3  # last heard at 5 s, stale 5 s on, hold 2 s
    assert diag['stale_events'] > 0


def _glosa_with_spat_until(last_spat_s: float, duration_s: float = 4.0):
    """GLOSA approaching the junction at 13 m/s, red for 10 s; SPAT heard until
    ``last_spat_s``."""
    rt = EmbeddedRuntime(start_ns=START_NS)
    rt.add_component(MapMatcher, name='map_matcher', namespace=NS,
                     parameters={'map_file': str(INTERSECTION)})  # fmt: skip
    app = rt.add_component(GreenLightOptimalSpeedAdvisory, name='glosa', namespace=NS,
                           parameters={'map_file': str(INTERSECTION)})  # fmt: skip
    advice: list = []
    rt.subscribe(f'{NS}/v2x/speed_advice', 'v2x_stack/msg/SpeedAdvice', advice.append)
    ego = Mover(ICW_EGO, 13.0, start_m=60.0)
    for k in range(round(duration_s / 0.1)):
        t = k * 0.1
        t_ns = START_NS + round(t * 1e9)
        x, y, course, v, _ = ego.state(t)
        rt.publish(f'{NS}/localization/odometry', odometry(t_ns, x, y, course, v), at_ns=t_ns)
        if t <= last_spat_s:
            rt.publish(f'{NS}/v2x/spat', signal(t, phase_id=8, light=RED, end_s=10.0,
                       next_light=6), at_ns=t_ns)  # fmt: skip
    rt.run(duration_s=duration_s)
    assert rt.handler_errors == 0
    times = [(m.to_ns(a.header.stamp) - START_NS) / 1e9 for a in advice]
    return times, app.ctx.diagnostics.counters


def test_stale_spat_gives_no_advice_and_is_counted() -> None:
    times, diag = _glosa_with_spat_until(math.inf)
    assert times and max(times) >= 3.8 and not diag.get('stale_spat')  # control
    times, diag = _glosa_with_spat_until(1.0)
    assert times and max(times) <= 2.1  # SPAT max age 1 s
    assert diag['stale_spat'] >= 15


def _participant(t_ns: int, stamp: bool = True, **change: float) -> object:
    """A car standing 30 m ahead of the ego's start; ``change`` alters x, y, vx or vy."""
    v = {'x': 30.0, 'y': 0.0, 'vx': 0.0, 'vy': 0.0, **change}
    return m.new('v2x_stack/msg/Participant', header=m.header(t_ns if stamp else 0, 'map'),
                 id=5, source_id='00000005', participant_class=1, trust=1,
                 position=m.new('geometry_msgs/msg/Point', x=v['x'], y=v['y']),
                 velocity=m.new('geometry_msgs/msg/Vector3', x=v['vx'], y=v['vy']),
                 size=m.new('geometry_msgs/msg/Vector3', x=4.5, y=1.8, z=1.5))  # fmt: skip


@pytest.mark.parametrize(
    ('change', 'reason'),
    [
        ({'vx': math.nan}, 'missing_fields'),
        ({'y': math.inf}, 'missing_fields'),
        ({'stamp': False}, 'missing_fields'),
        ({'x': 2e6}, 'implausible'),
        ({'vx': 200.0}, 'implausible'),
        ({}, None),
    ],
    ids=['nan_velocity', 'inf_position', 'no_stamp', 'far_away', 'too_fast', 'valid'],
)
def test_each_kind_of_bad_report_is_ignored_and_counted(change, reason) -> None:
    """One defect per run, in every report of a car standing in our way (FCW at once when
    valid): never a warning, each report counted under its reason."""
    rt = EmbeddedRuntime(start_ns=START_NS)
    app = rt.add_component(ForwardCollisionWarning, name='fcw', namespace=NS)
    warnings: list = []
    rt.subscribe(f'{NS}/v2x/warnings', 'v2x_stack/msg/Warning', warnings.append)
    for k in range(15):
        t_ns = START_NS + k * 100_000_000
        rt.publish(f'{NS}/localization/odometry', odometry(t_ns, 1.0 * k, 0.0, 0.0, 10.0),
                   at_ns=t_ns)  # fmt: skip
        stamp = change.get('stamp', True)
        p = _participant(t_ns, stamp, **{k: v for k, v in change.items() if k != 'stamp'})
        arr = m.new('v2x_stack/msg/ParticipantArray',
                    header=m.header(t_ns if stamp else 0, 'map'), participants=[p])  # fmt: skip
        rt.publish(f'{NS}/v2x/remote_vehicles', arr, at_ns=t_ns)
    rt.run(duration_s=1.5)
    assert rt.handler_errors == 0
    counters = app.ctx.diagnostics.counters
    raised = [w for w in warnings if w.level > 0]
    if reason is None:
        assert raised and not any(k.startswith('rejected.') for k in counters)
    else:
        assert raised == []
        assert counters[f'rejected.{reason}'] == 15

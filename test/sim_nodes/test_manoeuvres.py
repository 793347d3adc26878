"""Scripted manoeuvres and driver inputs of the world: indicators before turns, lane changes
and overtakes, overtaking into the oncoming lane, loss of control, speed advice and gated
commands followed, the scenario's RSI events handed to the RSUs, stop counts; and the warning
outcome (zone entry, detection and false-alarm rates)."""

import math

import numpy as np
import pytest

from sim_nodes.report.outcome import detection, zone_entry_time
from sim_nodes.report.warning_rates import rates, write_summary
from sim_nodes.scenarios import load_scenario
from sim_nodes.scenarios.build import build_scenario
from sim_nodes.scenarios.schema import Expectation, RoadEventConfig, WarningExpectation
from sim_nodes.world.component import WorldComponent
from sim_nodes.world.manoeuvres import LIGHT_LEFT, LIGHT_RIGHT
from sim_nodes.world.road_events import RoadEvents
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime


def world_of(name, sets=None):
    built = build_scenario(load_scenario(f'applications/{name}', sets=sets or {}))
    w = built.world()
    return w, {s.name: i for i, s in enumerate(w.fleet.specs)}


def trace(w, until_s, step_s=0.1):
    f = w.fleet
    rows = []
    while w.t_s < until_s - 1e-9:
        w.step(step_s)
        lights = f.manoeuvres.indicators(f, w.t_s)
        rows.append((w.t_s, f.x.copy(), f.y.copy(), f.yaw.copy(), f.v.copy(), lights))
    return rows


def test_left_turn_indicator_from_40_m_before_the_turn_until_it_is_done():
    w, ix = world_of('lta_oncoming_through_benign')
    rows = trace(w, 14.0)
    t = ix['turner']
    on = [r[0] for r in rows if r[5][t] & LIGHT_LEFT]
    assert on and not any(r[5][ix['oncoming']] for r in rows)
    first = next(r for r in rows if r[5][t] & LIGHT_LEFT)
    assert -60.0 < first[2][t] < -45.0  # 40 m before the stop line (about y = -12 m)
    done = next(r for r in rows if r[0] > on[-1])
    assert done[1][t] < -10.0  # switched off once the turn is done (heading west)


def test_lane_change_indicator_points_to_the_target_lane_before_the_change():
    w, ix = world_of('lcw_lane_change_into_closing_vehicle_benign')
    rows = trace(w, 10.0)
    h = ix['host']
    lights = {round(r[0], 1): int(r[5][h]) for r in rows}
    assert lights[2.5] == 0 and lights[3.5] == LIGHT_LEFT and lights[8.0] == LIGHT_LEFT
    assert lights[9.9] == 0
    assert rows[-1][2][h] == pytest.approx(-1.75, abs=0.2)  # now in east_out_0


def test_overtake_moves_into_the_oncoming_lane_and_back_with_indicators():
    w, ix = world_of('dnpw_oncoming_while_overtaking_benign')
    rows = trace(w, 16.0)
    p = ix['passer']
    ys = {round(r[0], 1): r[2][p] for r in rows}
    assert ys[4.0] == pytest.approx(-1.75, abs=0.1)
    assert ys[10.0] > 1.0  # out in the westbound lane
    assert ys[16.0] == pytest.approx(-1.75, abs=0.3)  # back
    lights = {round(r[0], 1): int(r[5][p]) for r in rows}
    assert lights[2.5] == LIGHT_LEFT and lights[13.0] == LIGHT_RIGHT and lights[16.0] == 0
    assert rows[-1][1][p] > rows[-1][1][ix['truck']] + 10.0  # passed the truck
    assert not w.events


def test_loss_of_control_spins_the_body_while_it_slides_on_its_course():
    w, ix = world_of('clw_vehicle_spins_ahead', {'vehicles[1].attentive': True})
    rows = trace(w, 6.0)
    s = ix['skidder']
    by_t = {round(r[0], 1): r for r in rows}
    a, b = by_t[4.5], by_t[5.5]
    dyaw = (b[3][s] - a[3][s] + math.pi) % (2 * math.pi) - math.pi
    assert dyaw == pytest.approx(1.2, abs=0.05)  # 1.2 rad/s for 1 s
    assert b[2][s] == pytest.approx(a[2][s], abs=0.01)  # still sliding straight east
    assert b[4][s] == pytest.approx(a[4][s] - 3.0, abs=0.05)  # -3 m/s²
    vx, vy = w.fleet.velocity()
    assert vy[s] == pytest.approx(0.0, abs=1e-9) and vx[s] > 0


def test_stops_are_counted_once_per_halt():
    w, _ = world_of('glosa_arrive_on_green_benign')
    trace(w, 18.0)
    assert [name for _, name in w.stops] == ['host']  # waits at the red line once


def run_world(name, inject, until_s):
    rt = EmbeddedRuntime(seed=1, diagnostics_period_s=0)
    world = rt.add_component(
        WorldComponent,
        name='world',
        namespace='/sim',
        parameters={'scenario': f'applications/{name}'},
    )
    lights = []
    rt.subscribe('/sim/vehicle_lights', 'std_msgs/msg/UInt8MultiArray', lights.append)
    for topic, msg, at_s in inject:
        rt.publish(topic, msg, at_ns=round(at_s * 1e9))
    rt.run(duration_s=until_s)
    rt.close()
    return world, lights


def advice(speed, app='GLOSA'):
    return m.new('v2x_stack/msg/SpeedAdvice', application=app, recommended_speed_mps=speed,
                 max_speed_mps=speed, min_speed_mps=0.0)  # fmt: skip


def test_advice_follower_keeps_to_the_advised_speed_and_bad_advice_is_counted():
    inject = [('/host/v2x/speed_advice', advice(8.0), 0.1 * k) for k in range(1, 60)]
    inject.append(('/host/v2x/speed_advice', advice(-3.0, 'SLW'), 1.0))
    world, lights = run_world('glosa_arrive_on_green', inject, 6.0)
    f = world.world.fleet
    assert f.v[0] == pytest.approx(8.0, abs=0.3)
    assert world.ctx.diagnostics.counters.get('rejected.bad_advice', 0) == 1
    assert len(lights) == 61 and all(len(x.data) == 1 for x in lights)


def test_advice_expires_and_only_followers_listen():
    inject = [('/host/v2x/speed_advice', advice(6.0), 0.1 * k) for k in range(1, 10)]
    world, _ = run_world('glosa_arrive_on_green', inject, 6.0)
    assert world.world.fleet.v[0] > 11.0  # advice older than 1 s: back to its own speed
    world, _ = run_world('glosa_arrive_on_green_benign', inject, 3.0)
    assert world.world.fleet.v[0] > 12.0  # not a follower


def test_gated_command_drives_a_by_wire_vehicle_only_while_engaged():
    def cmd(state, a):
        return m.new('v2x_stack/msg/ControlCommand', source=state, acceleration_mps2=a)

    inject = [('/host/control/gated_command', cmd('autonomous:v2x', -4.0), 0.05 * k)
              for k in range(1, 40)]  # fmt: skip
    inject += [('/host/control/gated_command', cmd('standby', -9.0), 0.05 * k)
               for k in range(40, 80)]  # fmt: skip
    sets = {'vehicles[0].by_wire': 'true'}
    world = run_world_with('glosa_arrive_on_green', sets, inject, 2.0)
    assert world.world.fleet.v[0] == pytest.approx(13.0 - 4.0 * 2.0, abs=0.05)  # 20 steps of 0.1 s
    assert world.ctx.diagnostics.counters.get('commands', 0) == 39
    world = run_world_with('glosa_arrive_on_green', sets, inject, 4.0)
    assert world.world.fleet.v[0] > 6.0  # standby: the driver again
    world = run_world_with('glosa_arrive_on_green', {}, inject, 2.0)  # not by_wire: ignored
    assert world.world.fleet.v[0] > 11.0


def run_world_with(name, sets, inject, until_s):
    rt = EmbeddedRuntime(seed=1, diagnostics_period_s=0)
    world = rt.add_component(
        WorldComponent, name='world', namespace='/sim',
        parameters={'scenario': f'applications/{name}',
                    'sets': [f'{k}={v}' for k, v in sets.items()] or ['']},
    )  # fmt: skip
    for topic, msg, at_s in inject:
        rt.publish(topic, msg, at_ns=round(at_s * 1e9))
    rt.run(duration_s=until_s)
    rt.close()
    return world


def test_road_events_reach_their_rsu_every_second():
    rt = EmbeddedRuntime(seed=1, diagnostics_period_s=0)
    rt.add_component(RoadEvents, name='road_events', namespace='/sim',
                     parameters={'scenario': 'applications/ivs_sign_ahead'})  # fmt: skip
    got = []
    rt.subscribe('/rsu_1/rsu/events', 'v2x_stack/msg/RoadEventArray', got.append)
    rt.run(duration_s=3.5)
    rt.close()
    assert len(got) == 3
    ev = got[-1].events[0]
    assert (ev.id, ev.sign_type, ev.event_type, ev.description) == (2, 2, 0, 'sharp bend ahead')
    assert [(p.x, p.y) for p in ev.path] == [(230.0, -3.5), (290.0, -3.5)]
    assert ev.path_radius_m == 3.5 and math.isnan(ev.latitude_deg)


def test_zone_entry_uses_the_path_corridor_of_signs_and_the_radius_of_events():
    sign = RoadEventConfig(id=1, rsu='r', position_m=(100.0, 0.0), sign_type=38,
                           path_m=((100.0, 0.0), (200.0, 0.0)), path_radius_m=2.0)  # fmt: skip
    event = RoadEventConfig(id=2, rsu='r', position_m=(300.0, 0.0), radius_m=20.0, event_type=1)
    xy = [(t, {'car': (10.0 * t, 1.0)}) for t in np.arange(0.0, 40.0, 0.5)]
    assert zone_entry_time('car', 'SLW', xy, [sign, event]) == 10.0
    assert (
        zone_entry_time('car', 'HLW', xy, [sign, event]) == 28.5
    )  # (280, 1) is 20.02 m from the centre
    far = [(t, {'car': (10.0 * t, 5.0)}) for t in np.arange(0.0, 40.0, 0.5)]
    assert zone_entry_time('car', 'IVS', far, [sign]) is None


def test_detection_and_false_alarm_rates():
    hazard = Expectation(warnings=(WarningExpectation('FCW', 2.7, 'b'),))
    first_ok = [{'vehicle': 'b', 'application': 'FCW', 'lead_time_s': 3.0}]
    first_late = [{'vehicle': 'b', 'application': 'FCW', 'lead_time_s': 1.0}]
    benign = Expectation(no_warnings=True)
    runs = [
        {'seed': 1, 'warnings': {'by_application': {}, 'first': [],
                                 'detection': detection(hazard, first_ok, True)}},
        {'seed': 2, 'warnings': {'by_application': {}, 'first': [],
                                 'detection': detection(hazard, first_late, True)}},
        {'seed': 1, 'warnings': {'by_application': {}, 'first': [],
                                 'detection': detection(benign, first_ok, True)}},
        {'seed': 2, 'warnings': {'by_application': {}, 'first': [],
                                 'detection': detection(benign, [], True)}},
        {'seed': 3, 'warnings': {'by_application': {}, 'first': [],
                                 'detection': detection(benign, [], False)}},  # no apps
    ]  # fmt: skip
    r = rates(runs)
    assert (r['detected'], r['expected'], r['detection_rate']) == (1, 2, 0.5)
    assert (r['false_alarms'], r['benign_runs'], r['false_alarm_rate']) == (1, 2, 0.5)


def test_summary_files(tmp_path):
    d = detection(Expectation(no_warnings=True), [], True)
    runs = [('x', {'seed': 1, 'warnings': {'by_application': {}, 'first': [], 'detection': d}})]
    s = write_summary(runs, tmp_path, title='t', conditions={'channel.extra_loss': 0.2})
    assert s['false_alarm_rate'] == 0.0
    assert 'false-alarm rate</b> 0.0 %' in (tmp_path / 'summary.html').read_text()
    assert (tmp_path / 'summary.json').exists()


BAD = [
    ({'road_events': [{'id': 1, 'rsu': 'nobody', 'position_m': [0, 0], 'event_type': 5}]},
     r'road_events\[0\]\.rsu: expected an RSU with a stack'),
    ({'road_events': [{'id': 1, 'rsu': 'r', 'position_m': [0, 0]}]},
     r'road_events\[0\]\.event_type: expected an event_type or a sign_type other than 0'),
    ({'road_events': [{'id': 1, 'rsu': 'r', 'position_m': [0, 0], 'sign_type': 38,
                       'path_m': [[0, 0], [1]]}]},
     r'road_events\[0\]\.path_m\[1\]: expected a point'),
    ({'expect': {'max_stops': {'ghost': 0}}}, r'expect\.max_stops\.ghost: expected a vehicle name'),
    ({'vehicles': [{'name': 'a', 'route': ['east_out_0'], 'overtakes': [{'at_s': 1,
                                                                          'duration_s': 1}]}]},
     r'vehicles\[0\]\.overtakes\[0\]\.duration_s: expected'),
]  # fmt: skip


@pytest.mark.parametrize(('extra', 'message'), BAD)
def test_invalid_manoeuvres_and_events_name_the_field(tmp_path, extra, message):
    from sim_nodes.errors import ScenarioError

    data = {'duration_s': 5, 'rsus': [{'name': 'r', 'position_m': [0, 0, 5]}],
            'vehicles': [{'name': 'a', 'route': ['east_out_0']}], **extra}  # fmt: skip
    path = tmp_path / 's.yaml'
    import yaml

    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match=message):
        load_scenario(str(path))


def test_a_twin_may_allow_other_applications_to_inform():
    twin = Expectation(no_warnings_of=('SLW',))
    ivs = [{'vehicle': 'host', 'application': 'IVS', 'lead_time_s': 3.0}]
    slw = [{'vehicle': 'host', 'application': 'SLW', 'lead_time_s': 0.0}]
    assert detection(twin, ivs, True)['false_alarm'] is False
    assert detection(twin, ivs + slw, True)['false_alarm'] is True

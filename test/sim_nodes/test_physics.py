"""World physics: IDM traffic never collides, stop lines hold, the red-light runner runs,
pedestrians wait for their green and vehicles yield to them."""

import numpy as np
import pytest

from rsu_nodes.signals import Light
from rsu_nodes.signals.plan import plan_from_dict
from sim_nodes.scenarios import build_scenario, load_scenario
from sim_nodes.world.four_arm import build_four_arm, default_plan
from sim_nodes.world.vehicles import VehicleSpec
from sim_nodes.world.world import World, boxes_overlap


def random_traffic(seed: int, n: int) -> World:
    net = build_four_arm()
    rng = np.random.default_rng(seed)
    entries = net.entry_lanes()
    specs = []
    for i in range(n):
        chains = net.exit_chains(entries[rng.integers(len(entries))])
        specs.append(
            VehicleSpec(
                f'v{i}',
                tuple(chains[rng.integers(len(chains))]),
                speed_mps=float(rng.uniform(6, 16)),
                spawn_s=float(i * rng.uniform(0.3, 1.5)),
            )
        )
    return World(net, {1: plan_from_dict(default_plan())}, specs, [])


@pytest.mark.parametrize('seed', [0, 1])
def test_idm_traffic_never_collides_and_never_runs_a_red(seed):
    world = random_traffic(seed, 60)
    min_gap = np.inf
    for _ in range(900):  # 90 s
        world.step(0.1)
        snap = world.snapshot()
        if len(snap.names) > 1:
            d = np.linalg.norm(snap.xyz[:, None, :2] - snap.xyz[None, :, :2], axis=-1)
            np.fill_diagonal(d, np.inf)
            min_gap = min(min_gap, d.min())
    assert world.events == []
    assert world.fleet.done.sum() >= 15  # traffic actually flowed through the junction
    assert min_gap > 2.0


def test_vehicles_stop_before_the_line_on_red():
    net = build_four_arm()
    plan = plan_from_dict(default_plan())
    # south through (group 7) is red from 25 s; this car arrives at about 32 s
    spec = VehicleSpec(
        'car', tuple(net.expand_route(['south_in_1', 'north_out_1'])), speed_mps=13.0, spawn_s=22.0
    )
    world = World(net, {1: plan}, [spec], [])
    stop_s = world.fleet.route_start[0, 1]  # start of the movement lane = stop line
    front = []
    while world.t_s < 100.0:  # red until the next cycle's green at 84 s
        world.step(0.1)
        if world.fleet.active[0]:
            front.append(
                (world.t_s, world.fleet.s[0] + world.fleet.length[0] / 2, world.fleet.v[0])
            )
    red_front = [f for t, f, _ in front if plan.light(t, 7) is not Light.PROTECTED_GREEN and t > 26]
    assert red_front
    assert max(red_front) <= stop_s + 0.05
    assert max(red_front) > stop_s - 3.0  # it queued right at the line
    assert world.events == []
    assert front[-1][1] > stop_s + 10  # it went on at green


def test_red_light_runner_runs_the_red():
    built = build_scenario(load_scenario('physics/red_light_runner'))
    world = built.world()
    while world.t_s < 40.0:
        world.step(0.1)
    runs = [e for e in world.events if e.kind == 'red_light_violation']
    assert [e.actors for e in runs] == [('runner',)]
    assert 25.0 < runs[0].t_s < 40.0
    # the compliant twin in the next lane waited at the same red
    i = built.vehicles.index(next(v for v in built.vehicles if v.name == 'compliant'))
    assert world.fleet.lane_index[i] == 0


def test_pedestrians_wait_for_their_green():
    built = build_scenario(load_scenario('physics/pedestrian_crossing'))
    world = built.world()
    plan = built.plans[1]
    crowd = world.crowd
    k = [p.name for p in built.pedestrians].index('ped_green_1')
    started = None
    while world.t_s < 40.0:
        world.step(0.1)
        if started is None and crowd.s[k] > crowd.wait_at[k] + 0.01:
            started = world.t_s
    assert started is not None
    assert plan.light(started - 0.1, 11) is Light.PROTECTED_GREEN


@pytest.mark.parametrize(('yields', 'collisions'), [(True, 0), (False, 1)])
def test_turning_vehicles_yield_to_pedestrians(yields, collisions):
    sets = {'vehicles[0].yield_to_pedestrians': yields, 'vehicles[1].yield_to_pedestrians': yields}
    world = build_scenario(load_scenario('physics/pedestrian_crossing', sets=sets)).world()
    while world.t_s < 40.0:
        world.step(0.1)
    assert world.count('collision') == collisions


def test_box_overlap():
    one = np.array([4.0, 2.0])
    assert boxes_overlap(np.zeros(2), 0.0, one, np.array([3.9, 0.0]), 0.0, one)
    assert not boxes_overlap(np.zeros(2), 0.0, one, np.array([4.1, 0.0]), 0.0, one)
    # rotated 90 degrees: its length now lies along y
    assert not boxes_overlap(np.zeros(2), 0.0, one, np.array([3.2, 0.0]), np.pi / 2, one)
    assert boxes_overlap(np.zeros(2), 0.0, one, np.array([2.9, 0.0]), np.pi / 2, one)


def test_scripted_lane_change_is_smooth_and_ends_in_the_target_lane():
    built = build_scenario(load_scenario('physics/lane_change'))
    world = built.world()
    fleet = world.fleet
    xs, yaws = [], []
    while world.t_s < 12.0:
        world.step(0.1)
        xs.append(fleet.x[0])
        yaws.append(fleet.yaw[0])
    xs, yaws = np.array(xs), np.array(yaws)
    assert xs[20] == pytest.approx(1.75, abs=0.1)  # inner lane before the change at 3 s
    assert xs[-1] == pytest.approx(5.25, abs=0.15)  # outer lane after it
    assert np.all(np.diff(xs[25:]) > -0.02)  # one steady move across, no swerving back
    assert np.max(np.abs(yaws - np.pi / 2)) < np.radians(12)  # a lane change, not a turn
    assert fleet.route_paths[0].lane_ids[0] == 'south_in_1'
    assert world.events == []


HAZARDS = {  # the world events each application scenario is built around
    'applications/fcw_stopped_vehicle': [('collision', ('lead', 'follower'))],
    'applications/icw_red_light_runner': [
        ('red_light_violation', ('runner',)),
        ('collision', ('runner', 'crossing')),
    ],
    'applications/vrucw_turning_into_pedestrian': [('collision', ('turner_2', 'ped_green_2'))],
    'applications/ebw_hard_braking': [],
}


@pytest.mark.parametrize('name', sorted(HAZARDS))
def test_application_scenarios_make_their_hazard_and_the_twin_stays_clean(name):
    for scenario, expected in ((name, HAZARDS[name]), (f'{name}_benign', [])):
        built = build_scenario(load_scenario(scenario))
        world = built.world()
        while world.t_s < built.scenario.duration_s:
            world.step(built.scenario.step_s)
        assert [(e.kind, e.actors) for e in world.events] == expected, scenario


def test_drivers_yield_at_the_crosswalk_before_its_edge_and_go_once_the_walker_passed():
    """The VRUCW twin: turner_1 turns right across the east crosswalk while ped_green_2 walks
    over it towards its lane. An attentive driver brakes comfortably from afar, stops before
    the crosswalk's near edge, waits and drives on once the walker has cleared its path (as
    VRUCW expects: stopping needs <= 2 m/s2 after 1 s, so no warning)."""
    built = build_scenario(load_scenario('applications/vrucw_turning_into_pedestrian_benign'))
    world = built.world()
    fleet, crowd = world.fleet, world.crowd
    i = [v.name for v in built.vehicles].index('turner_1')
    k = [p.name for p in built.pedestrians].index('ped_green_2')
    cw = built.network.crosswalks['east']
    near_edge_x = float(cw.path[0, 0]) - 0.5 * cw.width_m  # the crosswalk runs north-south
    decel, stopped_at, entered = [], None, None
    while world.t_s < 32.0:
        world.step(0.1)
        if not fleet.active[i]:
            continue
        front_x = fleet.x[i] + np.cos(fleet.yaw[i]) * fleet.length[i] / 2
        decel.append(-fleet.accel[i])
        if stopped_at is None and fleet.v[i] < 0.3 and fleet.y[i] > -12.0:
            stopped_at = (world.t_s, front_x)
        if entered is None and front_x > near_edge_x:
            entered = (world.t_s, crowd.y[k])
    assert world.events == []
    assert stopped_at is not None and stopped_at[1] < near_edge_x  # waited before the edge
    assert entered is not None and entered[0] > stopped_at[0]
    # the walker (southbound) had left the turner's lane (y -3.5 .. -7) when it went on
    assert entered[1] < -7.0
    assert max(decel) <= 2.5  # comfortable: the driver saw the walker in time

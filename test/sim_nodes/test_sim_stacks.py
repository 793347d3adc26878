"""The car and RSU stacks inside the simulator: strict building of the shipped topologies,
topic wiring end to end, one map for world and stacks, and the stacks' metrics."""

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import LocalFrame
from sim_nodes.errors import StackError
from sim_nodes.runner import SIM_COMPONENTS, add_stacks, run_scenario
from sim_nodes.scenarios import load_scenario
from sim_nodes.scenarios.build import build_scenario
from sim_nodes.stacks import StackReport, build_stacks, is_shipped, read_topology, stack_map
from sim_nodes.world.four_arm import build_four_arm
from sim_nodes.world.hdmap_adapter import network_from_lanelet2
from sim_nodes.world.lanelet2_export import write_lanelet2
from v2x_runtime.embedded import EmbeddedRuntime
from v2x_runtime.topology import load_plugin
from vehicle_nodes.hdmap import load_map

HARDWARE_DRIVERS = ('GnssDriver', 'NtripClient', 'CanBridge', 'RadioBridge', 'NtcipSignalSource',
                    'MqttUplink')  # fmt: skip
# Inputs of the car stack that nothing in the simulator drives (yet): the by-wire gate's
# command sources (a planner, the V2X emergency brake, a joystick) and its e-stop; the
# onboard lidar's cloud of a vehicle without `lidar:` in the scenario (the default has none).
EXTERNAL_INPUTS = {'control/command', 'control/estop', 'control/estop_reset', 'lidar/points'}
# Inputs of the RSU stack nothing drives: an RSU has no odometry and sends no own BSM (its
# participants, events and MAP come from its own georeferencer, event detector, MAP source).
RSU_PENDING_INPUTS = {'v2x/own_bsm', 'localization/odometry'}


def assemble(tmp_path, name='default', kinds=frozenset({'car', 'rsu'})):
    """World + sensors + channel + the shipped stacks, strictly, as the runner builds them."""
    built = build_scenario(load_scenario(name))
    runtime = EmbeddedRuntime(seed=built.scenario.seed)
    params = {'scenario': str(built.scenario.file), 'sets': [''], 'seed': built.scenario.seed}
    for cls, cname in SIM_COMPONENTS:
        runtime.add_component(cls, name=cname, namespace='/sim', parameters=params)
    report = StackReport()
    lane_map = stack_map(built, tmp_path)
    add_stacks(runtime, built, lane_map, report, tmp_path, kinds=kinds)
    return built, runtime, report, lane_map


def test_shipped_sim_topologies_leave_out_the_hardware_drivers():
    for name in ('sim_car', 'sim_rsu'):
        topology = read_topology(name, StackReport())
        plugins = [c.plugin for _, c in topology.components()] if topology else []
        assert not any(p.endswith(d) for p in plugins for d in HARDWARE_DRIVERS)
        for plugin in plugins:
            load_plugin(plugin)  # every plugin imports


def test_default_scenario_builds_every_stack_component_strictly(tmp_path):
    built, runtime, report, _ = assemble(tmp_path)
    car = read_topology('sim_car', StackReport())
    names = [c.name for _, c in car.components()]
    assert {'localization', 'map_matcher', 'command_gate'} <= set(names)
    rsu = [c.name for _, c in read_topology('sim_rsu', StackReport()).components()]
    expected = {f'/{v}/{n}' for v in built.connected() for n in names}
    expected |= {f'/{r.name}/{n}' for r in built.scenario.rsus if r.stack for n in rsu}
    assert set(report.built) == expected and len(built.connected()) == 8
    assert report.skipped == []
    # the scenario's map and origin reached the stacks
    matcher = runtime.components[f'/{built.connected()[0]}/map_matcher']
    assert len(matcher.map.lanelets) == len(built.network.lanes) + len(built.network.crosswalks)


@pytest.mark.parametrize('kind', ['car', 'rsu'])
def test_one_kind_of_stack_alone(tmp_path, kind):
    """The benchmark's ceiling cases run one kind of stack: only its namespaces are built."""
    built, _, report, _ = assemble(tmp_path, kinds=frozenset({kind}))
    cars = {f'/{v}' for v in built.connected()}
    rsus = {f'/{r.name}' for r in built.scenario.rsus if r.stack}
    namespaces = {name.rsplit('/', 1)[0] for name in report.built}
    assert namespaces == (cars if kind == 'car' else rsus)


def test_every_stack_input_is_fed_with_its_type(tmp_path):
    """What `v2x-stack check` does for one topology, across sim and stacks: every topic a
    stack component subscribes to has a publisher (sim or stack) of the same type."""
    built, runtime, _, _ = assemble(tmp_path)
    cars = {f'/{v}' for v in built.connected()}
    rsus = {f'/{r.name}' for r in built.scenario.rsus if r.stack}
    unfed = []
    for topic, info in runtime.topics.items():
        owners = {s.owner.namespace for s in info.subscriptions if s.owner is not None}
        if not owners & (cars | rsus) or info.publishers:
            continue
        relative = topic.split('/', 2)[2]
        allowed = EXTERNAL_INPUTS | (RSU_PENDING_INPUTS if owners & rsus else set())
        if relative not in allowed:
            unfed.append(f'{topic} [{info.msgtype}]')
    assert unfed == []
    assert runtime.topics['/sim/signals'].subscriptions  # the RSU's SPAT source is the world
    car = built.connected()[0]
    for relative, msgtype in {
        'localization/gnss/fix': 'sensor_msgs/msg/NavSatFix',
        'localization/gnss/velocity': 'geometry_msgs/msg/TwistWithCovarianceStamped',
        'imu/data': 'sensor_msgs/msg/Imu',
        'vehicle/status': 'v2x_stack/msg/VehicleStatus',
        'localization/odometry': 'nav_msgs/msg/Odometry',
        'localization/lane': 'v2x_stack/msg/LanePosition',
    }.items():
        info = runtime.topics[f'/{car}/{relative}']
        assert info.msgtype == msgtype and info.publishers, relative


def test_a_broken_component_fails_a_shipped_topology_and_is_skipped_in_an_experiment(tmp_path):
    data = yaml.safe_load(read_topology('sim_car', StackReport()).path.read_text())
    data['processes']['positioning']['components']['map_matcher']['parameters'] = {
        'map_file': str(tmp_path / 'nowhere.osm')
    }
    path = tmp_path / 'experiment.yaml'
    path.write_text(yaml.safe_dump(data))
    assert is_shipped(read_topology('sim_car', StackReport()).path)
    assert not is_shipped(path)
    lenient = StackReport()
    build_stacks(EmbeddedRuntime(), read_topology(str(path), lenient), ['car_x'], lenient)
    assert '/car_x/localization' in lenient.built
    assert any('map_matcher in /car_x' in s and 'nowhere.osm' in s for s in lenient.skipped)
    with pytest.raises(StackError, match=r'experiment.yaml: processes.positioning.components.'
                       r'map_matcher in /car_x: .*nowhere.osm'):  # fmt: skip
        build_stacks(
            EmbeddedRuntime(), read_topology(str(path), StackReport()), ['car_x'], StackReport(),
            strict=True,
        )  # fmt: skip
    with pytest.raises(StackError, match='not present'):
        read_topology(str(tmp_path / 'absent.yaml'), StackReport(), strict=True)


@settings(max_examples=8, deadline=None)
@given(
    lanes=st.integers(1, 3),
    width=st.floats(3.0, 4.0),
    arm=st.floats(60.0, 200.0),
)
def test_the_world_written_as_lanelet2_reads_back_as_the_same_lanes(tmp_path_factory, lanes,
                                                                     width, arm):  # fmt: skip
    net = build_four_arm(lanes=lanes, lane_width_m=width, arm_length_m=arm)
    path = tmp_path_factory.mktemp('map') / 'map.osm'
    ids = write_lanelet2(net, path, LocalFrame(31.2304, 121.4737, 10.0))
    back = network_from_lanelet2(path)
    name = {str(v): k for k, v in ids.items()}
    assert sorted(name[lid] for lid in back.lanes) == sorted(net.lanes)
    for lid, lane in back.lanes.items():
        orig = net.lanes[name[lid]]
        assert sorted(name[s] for s in lane.successors) == sorted(orig.successors)
        assert (lane.signal_group, lane.intersection_id) == (
            orig.signal_group,
            orig.intersection_id if orig.signal_group else -1,
        )
        assert lane.length_m == pytest.approx(orig.length_m, abs=0.1)
        assert lane.width_m == pytest.approx(orig.width_m, abs=0.05)
    hd = load_map(path)  # parallel lanes share their boundary: lane changes are allowed
    if lanes > 1:
        assert hd.routing.left.get(ids['south_in_1']) == ids['south_in_0']


def test_lanelet2_scenarios_give_the_stacks_their_own_map(tmp_path):
    built = build_scenario(load_scenario('physics/hdmap_intersection'))
    lane_map = stack_map(built, tmp_path)
    assert lane_map.path.name == 'intersection.osm' and not (tmp_path / 'map.osm').exists()
    assert set(lane_map.lanelet_ids.values()) <= set(load_map(lane_map.path).lanelets)


def test_default_scenario_with_real_car_stacks_positions_and_matches_lanes(tmp_path):
    """The shipped car stack (LocalizationFilter + MapMatcher) in every connected vehicle of
    the default scenario, at its CI duration: fused error p95 ≤ 0.15 m with RTK-fixed GNSS
    (σ 1.5 cm; multipath jumps are gated), and ≥ 95 % of matched epochs on the true lane."""
    scenario = load_scenario('default')
    result = run_scenario(
        'default', out_dir=tmp_path / 'd', progress=False, duration_s=scenario.ci_duration_s
    )
    metrics = result.metrics
    assert metrics['failures'] == [] and result.passed
    car = len(read_topology('sim_car', StackReport()).components())
    rsu = len(read_topology('sim_rsu', StackReport()).components())
    assert metrics['stacks']['built'] == car * metrics['actors']['connected'] + rsu
    assert metrics['stacks']['skipped'] == []
    fused = metrics['positioning']['fused_error_m']
    assert fused['n'] > 500 and fused['p95'] <= 0.15
    lanes = metrics['map_matching']
    assert lanes['epochs'] > 500 and lanes['on_true_lane_ratio'] >= 0.95
    assert (tmp_path / 'd' / 'map.osm').exists()


def test_rsu_to_car_latency_is_measured_from_frame_stamps(tmp_path):
    rsu = tmp_path / 'rsu_test.yaml'
    spat = {'plugin': 'sim_test_components:Beacon', 'parameters': {'message_type': 3}}
    rsu.write_text(yaml.safe_dump({'processes': {'v2x': {'components': {'spat': spat}}}}))
    result = run_scenario(
        'default',
        out_dir=tmp_path / 'l',
        progress=False,
        duration_s=4.0,
        sets={'rsu_topology': str(rsu), 'channel.latency_ms': 40},
    )
    latency = result.metrics['v2x']['rsu_to_car_latency_ms']
    assert set(latency) == {'SPAT'}
    assert latency['SPAT']['n'] > 30
    assert 30 < latency['SPAT']['p50'] < 50  # the channel's lognormal median, 5 ms ticks


def test_each_vehicle_stack_announces_its_own_class_and_size(tmp_path):
    """An ambulance's BSM says ambulance (BasicVehicleClass 60-69), a car's says car: the
    runner imposes each vehicle's class and size on its own stack (EVW needs it)."""
    built, runtime, _, _ = assemble(tmp_path, 'applications/evw_ambulance_from_behind')
    ambulance = runtime.components['/ambulance/bsm']
    car = runtime.components['/car/bsm']
    assert 60 <= ambulance.vehicle_class <= 69
    assert 10 <= car.vehicle_class <= 24
    spec = {v.name: v for v in built.vehicles}
    assert ambulance.size[:2] == (spec['ambulance'].length_m, spec['ambulance'].width_m)

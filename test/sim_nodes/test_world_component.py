"""The world component: ground truth, signals and /clock every step; config/sim.yaml loads."""

from pathlib import Path

from sim_nodes.world.component import WorldComponent
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from v2x_runtime.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]


def test_truth_signals_and_clock_every_step():
    rt = EmbeddedRuntime(seed=1, diagnostics_period_s=0)
    rt.add_component(
        WorldComponent,
        name='world',
        namespace='/sim',
        parameters={'scenario': 'default', 'publish_clock': True},
    )
    got = {'clock': [], 'truth': [], 'signals': []}
    rt.subscribe('/clock', 'rosgraph_msgs/msg/Clock', got['clock'].append)
    rt.subscribe('/sim/ground_truth', 'v2x_stack/msg/ParticipantArray', got['truth'].append)
    rt.subscribe('/sim/signals', 'v2x_stack/msg/IntersectionState', got['signals'].append)
    rt.run(duration_s=3.0)
    rt.close()
    clock = [m.to_ns(c.clock) for c in got['clock']]
    assert clock == [round(k * 0.1e9) for k in range(31)]
    assert [m.to_ns(t.header.stamp) for t in got['truth']] == clock
    last = got['truth'][-1]
    assert last.header.frame_id == 'map'
    names = {p.source_id for p in last.participants}
    assert {'car_a', 'car_b', 'ped_1'} <= names
    car = next(p for p in last.participants if p.source_id == 'car_a')
    assert car.participant_class == 1 and car.size.x == 4.6 and car.velocity.y > 5.0
    phases = {p.phase_id: p for p in got['signals'][-1].phases}
    assert set(phases) == {1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14}
    assert phases[7].light == 6 and phases[7].likely_end_s == 19.0  # south through green to 22 s


def test_sim_topology_validates():
    topology = load_topology(ROOT / 'config' / 'sim.yaml')
    assert [c.name for _, c in topology.components()] == [
        'world',
        'vehicle_sensors',
        'roadside_lidars',
        'vehicle_lidars',
        'radio_channel',
        'road_events',
    ]

"""The by-wire loop closed in the simulator (slow): the FCW scenario's distracted follower,
made `by_wire`, with the applications allowed to send emergency-brake commands
(`send_brake_commands: true`, off in the shipped topology): the suite's ControlCommand goes
through the follower's CommandGate to `control/gated_command`, the world brakes the car, and
the collision of the scenario does not happen. Without `by_wire` it still does."""

from pathlib import Path

import pytest

from sim_nodes.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]


def braking_topology(tmp_path):
    text = (ROOT / 'config' / 'sim_car.yaml').read_text()
    assert 'send_brake_commands: false' in text
    path = tmp_path / 'sim_car_brakes.yaml'
    path.write_text(text.replace('send_brake_commands: false', 'send_brake_commands: true'))
    return path


@pytest.mark.slow
@pytest.mark.parametrize('by_wire', [True, False])
def test_emergency_brake_command_moves_the_simulated_car(tmp_path, by_wire):
    sets = {'car_topology': str(braking_topology(tmp_path)), 'vehicles[1].by_wire': by_wire}
    result = run_scenario('applications/fcw_stopped_vehicle', sets=sets, out_dir=tmp_path / 'run',
                          progress=False, duration_s=12.0)  # fmt: skip
    collisions = result.metrics['collisions']['count']
    assert not result.metrics['failures']
    assert collisions == (0 if by_wire else 1)

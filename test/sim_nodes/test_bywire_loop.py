"""The by-wire loop closed in the simulator (slow): the FCW scenario's distracted follower,
made `by_wire`, with the applications allowed to send emergency-brake commands
(`send_brake_commands: true`, off in the shipped topology): the suite's ControlCommand goes
through the follower's CommandGate to `control/gated_command`, the world brakes the car, and
the car brakes hard (FCW's critical TTC of 1.5 s leaves too little room, with the gate's jerk
limit, to stop fully: it touches the stopped car at walking pace ~0.8 s later than unbraked)."""

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


def first_collision(tmp_path, by_wire):
    sets = {'car_topology': str(braking_topology(tmp_path)), 'vehicles[1].by_wire': by_wire}
    result = run_scenario('applications/fcw_stopped_vehicle', sets=sets, progress=False,
                          out_dir=tmp_path / f'run_{by_wire}', duration_s=12.0)  # fmt: skip
    assert not result.metrics['failures']
    events = result.metrics['collisions']['events']
    return events[0]['t_s'] if events else None


@pytest.mark.slow
def test_emergency_brake_command_moves_the_simulated_car(tmp_path):
    unbraked = first_collision(tmp_path, False)
    braked = first_collision(tmp_path, True)
    assert unbraked is not None and unbraked < 10.5
    # FCW's critical brake advice (TTC 1.5 s) through the gate's jerk limit: avoided, or
    # reached at walking pace well after the unbraked impact (measured: 10.8 s vs 10.0 s)
    assert braked is None or braked >= unbraked + 0.5

"""The shipped by-wire topology loads, validates and drives the simulated kit."""

from __future__ import annotations

from pathlib import Path

import pytest

from v2x_runtime import TopologyError
from v2x_runtime.embedded import EmbeddedRuntime
from v2x_runtime.topology import build, load_topology
from vehicle_nodes.bywire.convert import command_to_msg
from vehicle_nodes.bywire.values import MODE_AUTONOMOUS, Command

TOPOLOGY = Path(__file__).resolve().parents[3] / 'config' / 'bywire' / 'bywire_sim.yaml'


def test_topology_runs_the_chain(channel: str) -> None:
    topology = load_topology(
        TOPOLOGY, {'can_bridge': {'channel': channel}, 'kit_simulator': {'channel': channel}}
    )
    rt = EmbeddedRuntime(seed=2, fail_fast=True)
    build(topology, rt)
    rt.add_timer(
        20_000_000,
        lambda: rt.publish(
            '/car/control/command', command_to_msg(Command('v2x', rt.now_ns(), 0.8, 0.0))
        ),
        None,
    )
    rt.run(duration_s=2.0)
    kit = rt.components['/car/kit_simulator']
    assert kit.mode == MODE_AUTONOMOUS and kit.speed_mps > 0.5  # type: ignore[attr-defined]
    rt.close()


def test_bad_parameters_name_file_and_component(tmp_path: Path) -> None:
    bad = tmp_path / 'bad.yaml'
    bad.write_text(
        TOPOLOGY.read_text().replace('priorities: [10, 20, 30, 40]', 'priorities: [1, 1, 2, 3]')
    )
    with pytest.raises(TopologyError, match=r'bad\.yaml: .*command_gate.*distinct'):
        load_topology(bad)
    with pytest.raises(TopologyError, match=r'can_bridge.*dbc_path.*nope\.dbc'):
        load_topology(TOPOLOGY, {'can_bridge': {'dbc_path': str(tmp_path / 'nope.dbc')}})

"""The HD map adapter: Lanelet2 lanelets become lanes, traffic lights signalise movements."""

from pathlib import Path

import numpy as np
import pytest

from sim_nodes.errors import MapError
from sim_nodes.world.hdmap_adapter import network_from_lanelet2
from sim_nodes.world.lanes import route_path

MAPS = Path(__file__).resolve().parents[2] / 'config' / 'maps'


def test_example_junction_becomes_a_lane_network():
    net = network_from_lanelet2(MAPS / 'intersection.osm')
    signalised = {lid: lane for lid, lane in net.lanes.items() if lane.signal_group}
    assert sorted(lane.signal_group for lane in signalised.values()) == list(range(1, 13))
    assert {lane.intersection_id for lane in signalised.values()} == {1}
    assert len(net.entry_lanes()) == 12
    for entry in net.entry_lanes():
        for chain in net.exit_chains(entry):
            path = route_path(net, chain)
            # consecutive lanelets join without gaps and every chain crosses one stop line
            assert np.all(np.linalg.norm(np.diff(path.points, axis=0), axis=1) < 2.5)
            assert sum(net.lanes[lid].signal_group > 0 for lid in chain) == 1
    assert np.allclose(net.intersections[1], [0.0, 0.0], atol=1.0)


def test_a_missing_map_is_a_map_error(tmp_path):
    with pytest.raises(MapError, match='nothing.osm'):
        network_from_lanelet2(tmp_path / 'nothing.osm')

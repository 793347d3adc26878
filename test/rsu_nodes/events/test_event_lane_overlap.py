"""Speed limits where lanelets overlap: a junction's straight and turning connectors share their
first metres, and a vehicle there may be on any of them. The limit that applies is the highest
of the aligned lanelets; the lowest made every straight-through vehicle above the turn's limit a
speeder (found by the simulator's speeding twin: 13 m/s straight through, "limit 5.6")."""

import math

import numpy as np
import pytest

from geo import LocalFrame
from rsu_nodes.events.lanes import LaneIndex
from sim_nodes.world.four_arm import build_four_arm
from sim_nodes.world.lanelet2_export import write_lanelet2
from vehicle_nodes.hdmap.loader import load_map


@pytest.fixture(scope='module')
def index(tmp_path_factory):
    net = build_four_arm()  # straight 13.9 m/s, right turn 5.6 m/s, from the same stop line
    path = tmp_path_factory.mktemp('map') / 'map.osm'
    write_lanelet2(net, path, LocalFrame(31.2304, 121.4737, 10.0))
    return LaneIndex(load_map(path), 1)


def test_straight_through_where_the_right_turn_overlaps_has_the_straight_limit(index):
    north = math.pi / 2
    points = np.array([[5.25, -12.0], [5.25, -40.0]])  # connector start (overlap), approach
    fixes = index.locate_many(points, np.array([north, north]))
    assert all(f.on_road and f.aligned for f in fixes)
    assert [round(f.speed_limit_mps, 1) for f in fixes] == [13.9, 13.9]


def test_inside_the_turn_alone_its_own_limit_applies(index):
    # the right turn south_right_1 bends from (5.25, -14) to (14, -5.25); its middle, heading
    # north-east, lies outside the straight connector
    fix = index.locate_many(np.array([[7.45, -7.45]]), np.array([math.pi / 4]))[0]
    assert fix.on_road and round(fix.speed_limit_mps, 1) == 5.6

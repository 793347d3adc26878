"""Lane network, the four-arm generator and batched polyline evaluation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim_nodes.errors import MapError
from sim_nodes.world.batch import PolylineBatch
from sim_nodes.world.four_arm import build_four_arm
from sim_nodes.world.lanes import polyline_lengths, route_path


def test_four_arm_has_every_movement_with_its_group():
    net = build_four_arm(lanes=2)
    assert len(net.entry_lanes()) == 8
    assert net.lanes['south_left_0'].signal_group == 8  # left of arm 3
    assert net.lanes['south_straight_1'].signal_group == 7
    assert net.lanes['south_right_1'].signal_group == 7
    assert net.lanes['south_left_0'].successors == ('west_out_0',)
    assert set(net.crosswalks) == {'east', 'north', 'west', 'south'}
    assert len(net.buildings) == 4


def test_route_expansion_finds_the_movement_and_concatenates():
    net = build_four_arm()
    lanes = net.expand_route(['south_in_0', 'west_out_0'])
    assert lanes == ['south_in_0', 'south_left_0', 'west_out_0']
    path = route_path(net, lanes)
    total = sum(net.lanes[lid].length_m for lid in lanes)
    assert path.length_m == pytest.approx(total, abs=1e-6)
    assert path.lane_start_s[1] == pytest.approx(net.lanes['south_in_0'].length_m)
    # right-hand traffic: northbound lanes are east of the centre line
    assert np.all(path.points[:2, 0] > 0)


def test_unreachable_route_and_unknown_lane_are_errors():
    net = build_four_arm()
    with pytest.raises(MapError, match="no lane path from 'south_in_0' to 'east_out_0'"):
        net.expand_route(['south_in_0', 'east_out_0'])  # right turn only from the outer lane
    with pytest.raises(MapError, match='no lane'):
        net.expand_route(['nowhere'])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.floats(-100, 100), st.floats(-100, 100)), min_size=2, max_size=8),
        min_size=1,
        max_size=5,
    ),
    st.data(),
)
def test_batch_interpolation_matches_per_line_interp(lines, data):
    arrays = []
    for line in lines:
        a = np.array(line, dtype=float)
        keep = np.concatenate([[True], np.linalg.norm(np.diff(a, axis=0), axis=1) > 1e-3])
        a = a[keep]
        if len(a) < 2:
            a = np.array([a[0], a[0] + 1.0])
        arrays.append(a)
    lengths = [polyline_lengths(a) for a in arrays]
    batch = PolylineBatch(arrays, lengths)
    rows = np.array([data.draw(st.integers(0, len(arrays) - 1)) for _ in range(6)])
    s = np.array([data.draw(st.floats(-10, 1000)) for _ in range(6)])
    pts, _ = batch.at(rows, s)
    for i, r in enumerate(rows):
        q = np.clip(s[i], 0, lengths[r][-1])
        expected = [
            np.interp(q, lengths[r], arrays[r][:, 0]),
            np.interp(q, lengths[r], arrays[r][:, 1]),
        ]
        np.testing.assert_allclose(pts[i], expected, atol=1e-6)


def test_projection_gives_arc_length_and_distance():
    line = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]])
    batch = PolylineBatch([line], [polyline_lengths(line)])
    s, d = batch.project(np.array([[5.0, 2.0], [12.0, 5.0]]))
    np.testing.assert_allclose(s[0], [5.0, 15.0])
    np.testing.assert_allclose(d[0], [2.0, 2.0])

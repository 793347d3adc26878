import math

import numpy as np
import pytest

from geo import LocalFrame
from vehicle_nodes.hdmap import RoutingError, load_map
from vehicle_nodes.hdmap.generate import (
    INTERSECTION_ORIGIN,
    main,
    signal_group,
    write_grid,
)


def test_committed_maps_are_what_the_generator_writes(tmp_path, maps_dir):
    main(['--out', str(tmp_path)])
    for name in ('intersection.osm', 'road_segment.osm', 'intersection.json'):
        assert (tmp_path / name).read_bytes() == (maps_dir / name).read_bytes(), name


def test_intersection_structure(intersection):
    lls = intersection.lanelets.values()
    assert len(intersection.lanelets) == 4 * (3 * 2 + 2 * 2) + 12
    turns = [ll.turn_direction for ll in lls if ll.turn_direction]
    assert sorted(turns) == ['left'] * 4 + ['right'] * 4 + ['straight'] * 4
    groups = sorted(tl.signal_group for tl in intersection.traffic_lights.values())
    assert groups == list(range(1, 13))
    assert {tl.intersection_id for tl in intersection.traffic_lights.values()} == {1}
    for ll in lls:
        if ll.traffic_light is not None:
            # Each approach lane's stop line is at its end, 16 m from the centre.
            assert ll.stop_line_s_m == pytest.approx(ll.length_m, abs=1e-6)
            x, y = ll.point_at(ll.stop_line_s_m)
            assert max(abs(x), abs(y)) == pytest.approx(16.0, abs=1e-3)
            (connector,) = intersection.routing.following(ll.key)
            assert intersection.lanelets[connector].turn_direction in ('left', 'straight', 'right')


def test_signal_groups_follow_the_documented_numbering(intersection):
    for ll in intersection.lanelets.values():
        if ll.traffic_light is None:
            continue
        (connector,) = intersection.routing.following(ll.key)
        turn = intersection.lanelets[connector].turn_direction
        heading = ll.heading_at(ll.length_m)
        arm = round(((heading + math.pi) % (2 * math.pi)) / (math.pi / 2)) % 4
        assert ll.traffic_light.signal_group == signal_group(arm, turn)


def test_lane_changes_only_across_dashed_lines(intersection):
    g = intersection.routing
    changes = g.change_left | g.change_right
    # Per arm: the 3 inbound lanes of the far section, the 2 outbound lanes of both sections.
    assert len(changes) == 4 * (3 + 2 * 2)
    for key in changes:
        ll = intersection.lanelets[key]
        marking = ll.left if key in g.change_left else ll.right
        assert (marking.type, marking.subtype) == ('line_thin', 'dashed')
    # Solid dividers before the stop line: neighbours, but no lane change.
    near = [ll for ll in intersection.lanelets.values() if ll.traffic_light is not None]
    assert all(ll.key not in changes for ll in near)
    assert all(g.left.get(ll.key) or g.right.get(ll.key) for ll in near)


def test_lat_lon_and_local_xy_agree(maps_dir):
    by_tags = load_map(maps_dir / 'intersection.osm')
    by_frame = load_map(maps_dir / 'intersection.osm', LocalFrame(*INTERSECTION_ORIGIN))
    for key, ll in by_tags.lanelets.items():
        other = by_frame.lanelets[key]
        np.testing.assert_allclose(ll.centre_xy[[0, -1]], other.centre_xy[[0, -1]], atol=2e-3)


def test_road_segment(road):
    assert len(road.lanelets) == 6 * 4
    assert {round(ll.speed_limit_mps * 3.6) for ll in road.lanelets.values()} == {80}
    start = road.nearest_lanelet(1.0, -8.75)
    goal = road.nearest_lanelet(999.0, -1.75)
    route = road.route(start, goal)
    # 4 sections and two lane changes from the outer to the inner eastbound lane.
    assert len(route) == 6
    assert road.lanelets[route[-1]].centre_xy[-1, 0] == pytest.approx(1000.0)
    with pytest.raises(RoutingError, match='no route'):
        road.route(goal, start)
    with pytest.raises(RoutingError, match='not a drivable'):
        road.route(start, 123456789)


def test_generated_maps_load_in_lanelet2_with_the_same_graph(intersection, maps_dir):
    lanelet2 = pytest.importorskip('lanelet2')
    from lanelet2.io import Origin
    from lanelet2.projection import LocalCartesianProjector

    lmap = lanelet2.io.load(
        str(maps_dir / 'intersection.osm'), LocalCartesianProjector(Origin(*INTERSECTION_ORIGIN))
    )
    tr = lanelet2.traffic_rules
    rules = tr.create(tr.Locations.Germany, tr.Participants.Vehicle)
    graph = lanelet2.routing.RoutingGraph(lmap, rules)
    assert len(graph.checkValidity()) == 0
    lanelets = list(lmap.laneletLayer)
    assert len(lanelets) == len(intersection.lanelets)
    for ll in lanelets:
        following = list(graph.following(ll, False))
        assert sorted(x.id for x in following) == sorted(intersection.routing.following(ll.id))


def test_grid_map(tmp_path):
    path = tmp_path / 'grid.osm'
    write_grid(path, size_m=200.0, spacing_m=100.0)
    hd = load_map(path)
    # 9 junctions × (4 arms × 2 lanelets + 4 × 3 connectors)
    assert len(hd.lanelets) == 9 * (8 + 12)
    lo, hi = hd.bounds()
    assert lo[0] < 0.0 and hi[0] > 200.0
    # Arms of neighbouring junctions meet: the route crosses the grid.
    start = hd.nearest_lanelet(-40.0, -1.75)
    goal = hd.nearest_lanelet(240.0, -1.75)
    assert len(hd.route(start, goal)) > 5

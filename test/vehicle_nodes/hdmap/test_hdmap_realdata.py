"""The Lanelet2 project's Karlsruhe example map: a map nobody here drew."""

import math

import numpy as np
import pytest

from vehicle_nodes.hdmap.matching import LaneMatcher
from vehicle_nodes.hdmap.trajectory import drive


def test_counts_match_sources_md(karlsruhe):
    ids = {ll.id for ll in karlsruhe.lanelets.values()}
    assert len(ids) == 371
    assert len(karlsruhe.traffic_lights) == 6
    assert (
        sum(1 for ll in karlsruhe.lanelets.values() if ll.traffic_light and not ll.inverted) == 10
    )
    # Traffic-light stop lines lie on the lanelets that refer to them.
    for ll in karlsruhe.lanelets.values():
        if ll.traffic_light is not None:
            assert 0.0 <= ll.stop_line_s_m <= ll.length_m


def test_agrees_with_the_lanelet2_library(karlsruhe, karlsruhe_path, karlsruhe_origin):
    """Bound orientation, successors and allowed lane changes equal lanelet2's own."""
    lanelet2 = pytest.importorskip('lanelet2')
    from lanelet2.io import Origin
    from lanelet2.projection import LocalCartesianProjector

    lmap = lanelet2.io.load(str(karlsruhe_path), LocalCartesianProjector(Origin(*karlsruhe_origin)))
    tr = lanelet2.traffic_rules
    rules = tr.create(tr.Locations.Germany, tr.Participants.Vehicle)
    graph = lanelet2.routing.RoutingGraph(lmap, rules)

    def key(ll):
        return -ll.id if ll.inverted() else ll.id

    keep = []  # lanelet2's Python objects must outlive the ids read from them
    checked = 0
    for base in list(lmap.laneletLayer):
        for ll in (base, base.invert()):
            keep.append(ll)
            if not rules.canPass(ll):
                continue
            ours = karlsruhe.lanelets[key(ll)]
            centre = np.array([[p.x, p.y] for p in ll.centerline])
            np.testing.assert_allclose(ours.centre_xy[[0, -1]], centre[[0, -1]], atol=0.02)
            following = list(graph.following(ll, False))
            changes = [x for x in (graph.left(ll), graph.right(ll)) if x]
            keep.extend(following + changes)
            assert sorted(karlsruhe.routing.following(key(ll))) == sorted(map(key, following))
            assert sorted(karlsruhe.routing.lane_changes(key(ll))) == sorted(map(key, changes))
            checked += 1
    assert checked > 300


def _random_route(hd, rng, min_length_m=150.0):
    g = hd.routing
    keys = sorted(k for k in g.successors if g.following(k))
    route = [int(rng.choice(keys))]
    total = hd.lanelets[route[0]].length_m
    while total < min_length_m:
        nxt = [k for k in g.following(route[-1]) if k not in route]
        if not nxt:
            break
        route.append(int(rng.choice(nxt)))
        total += hd.lanelets[route[-1]].length_m
    return route, total


def test_routes_and_map_matches(karlsruhe):
    rng = np.random.default_rng(7)
    ok = total = 0
    routes = 0
    while routes < 15:
        route, length = _random_route(karlsruhe, rng)
        if length < 100.0:
            continue
        # The router finds a path between the ends at most as long as the drive.
        path = karlsruhe.route(route[0], route[-1])
        assert path[0] == route[0] and path[-1] == route[-1]
        assert sum(karlsruhe.lanelets[k].length_m for k in path) <= length + 1e-6
        routes += 1
        d = drive(karlsruhe, route, speed_mps=8.0, dt_s=0.1)
        matcher = LaneMatcher(karlsruhe)
        noise = rng.normal(0.0, 0.02, d.xy_m.shape)
        for i in range(len(d.t_s)):
            m = matcher.update(
                d.t_s[i],
                *(d.xy_m[i] + noise[i]),
                yaw_rad=d.yaw_rad[i],
                speed_mps=8.0,
                sigma_m=0.02,
                yaw_sigma_rad=0.05,
            )
            # Twins share geometry with their lanelet; the direction of travel decides.
            ok += m.lanelet_key == d.key[i]
            total += 1
            assert math.isfinite(m.arc_length_m)
    assert ok / total >= 0.97, ok / total

import math

import numpy as np
import pytest

from vehicle_nodes.hdmap.matching import LaneMatcher, MatcherConfig
from vehicle_nodes.hdmap.trajectory import drive


def all_routes(hd):
    """Every drive from an arm's far end through the junction to another arm's far end."""
    g = hd.routing
    starts = sorted(k for k in g.successors if not g.predecessors.get(k))

    def paths(k):
        nxt = g.following(k)
        return [[k]] if not nxt else [[k, *p] for n in nxt for p in paths(n)]

    return [p for k in starts for p in paths(k) if len(p) > 2]


def run(hd, routes, sigma_m, seed):
    rng = np.random.default_rng(seed)
    ok = total = 0
    per_turn = {}
    for route in routes:
        d = drive(hd, route, speed_mps=10.0, dt_s=0.1)
        matcher = LaneMatcher(hd)
        noise = rng.normal(0.0, sigma_m, d.xy_m.shape)
        yaw_noise = rng.normal(0.0, 0.05, len(d.t_s))
        for i in range(len(d.t_s)):
            x, y = d.xy_m[i] + noise[i]
            m = matcher.update(
                d.t_s[i],
                x,
                y,
                yaw_rad=d.yaw_rad[i] + yaw_noise[i],
                speed_mps=10.0,
                sigma_m=sigma_m,
                yaw_sigma_rad=0.05,
            )
            hit = m.lanelet_key == d.key[i]
            ok += hit
            total += 1
            turn = hd.lanelets[int(d.key[i])].turn_direction
            if turn:
                per_turn.setdefault(turn, []).append(hit)
    return ok / total, {k: float(np.mean(v)) for k, v in per_turn.items()}


def test_routes_cover_every_movement(intersection):
    routes = all_routes(intersection)
    assert len(routes) == 12
    turns = {intersection.lanelets[r[2]].turn_direction for r in routes}
    assert turns == {'left', 'straight', 'right'}


def test_rtk_positions_match_at_least_99_percent(intersection):
    rate, per_turn = run(intersection, all_routes(intersection), 0.02, seed=11)
    assert rate >= 0.99, rate
    assert min(per_turn.values()) >= 0.95, per_turn


def test_half_metre_noise_matches_at_least_95_percent(intersection):
    rate, per_turn = run(intersection, all_routes(intersection), 0.5, seed=12)
    assert rate >= 0.95, rate
    assert min(per_turn.values()) >= 0.90, per_turn


def test_lane_position_fields_on_the_approach(intersection):
    """Approaching on the east arm's straight lane: stop line, signal group 2, limit 50."""
    hd = intersection
    matcher = LaneMatcher(hd)
    # East arm, inbound (travelling west) straight lane centre is y = +5.25.
    m = None
    for i, x in enumerate(np.arange(120.0, 40.0, -1.0)):
        m = matcher.update(
            i * 0.1, float(x), 5.25 + 0.4, yaw_rad=math.pi, speed_mps=10.0, sigma_m=0.05
        )
    assert m.lanelet_id > 0
    assert m.stop_line_distance_m == pytest.approx(41.0 - 16.0, abs=0.05)
    assert m.signal_group == 2
    assert m.intersection_id == 1
    assert m.speed_limit_mps == pytest.approx(50 / 3.6)
    assert m.lane_width_m == pytest.approx(3.5)
    assert m.lateral_offset_m == pytest.approx(-0.4, abs=1e-6)  # north of centre = right
    assert m.lane_heading_rad == pytest.approx(math.pi)
    assert 0.9 <= m.confidence <= 1.0


def test_off_map_and_recovery(intersection):
    matcher = LaneMatcher(intersection)
    far = matcher.update(0.0, 5000.0, 5000.0)
    assert far.lanelet_id == -1 and far.stop_line_distance_m == math.inf
    back = matcher.update(0.1, 100.0, 5.25, yaw_rad=math.pi, speed_mps=10.0)
    assert back.lanelet_id > 0


def test_recovers_from_a_wrong_lock(road):
    """Held on the wrong lane by a bad start, the matcher moves over within a few epochs."""
    matcher = LaneMatcher(road)
    # Eastbound lanes: y = -1.75 (inner), -5.25, -8.75. Start on the outer one...
    for i in range(5):
        matcher.update(i * 0.1, 10.0 + i, -8.75, yaw_rad=0.0, speed_mps=10.0, sigma_m=0.1)
    # ...then the fixes sit on the inner lane.
    keys = []
    for i in range(5, 40):
        keys.append(
            matcher.update(i * 0.1, 10.0 + i, -1.75, yaw_rad=0.0, speed_mps=10.0, sigma_m=0.1)
        )
    inner = road.nearest_lanelet(30.0, -1.75)
    assert keys[-1].lanelet_key == inner
    assert sum(m.lanelet_key == inner for m in keys) >= 25


def test_direction_of_travel_picks_the_carriageway(road):
    matcher = LaneMatcher(road)
    m = matcher.update(0.0, 500.0, 0.2, yaw_rad=math.pi, speed_mps=20.0, sigma_m=1.0)
    assert math.cos(m.lane_heading_rad - math.pi) > 0.99


def test_smoothed_key_follows_back_pointers(intersection):
    matcher = LaneMatcher(intersection, MatcherConfig(window=10))
    assert matcher.smoothed_key(0) is None
    route = all_routes(intersection)[0]
    d = drive(intersection, route, speed_mps=10.0, dt_s=0.1)
    for i in range(30):
        last = matcher.update(d.t_s[i], *d.xy_m[i], yaw_rad=d.yaw_rad[i], speed_mps=10.0)
    assert matcher.smoothed_key(0) == last.lanelet_key
    assert matcher.smoothed_key(5) == d.key[24]
    assert matcher.smoothed_key(10) is None


def test_stop_line_along_a_given_route(intersection):
    route = all_routes(intersection)[0]
    first = intersection.lanelets[route[0]]
    ahead = intersection.next_stop_line(route[0], 0.0, route=route)
    assert ahead.distance_m == pytest.approx(
        first.length_m + intersection.lanelets[route[1]].stop_line_s_m
    )
    # Past the junction on this route: nothing ahead.
    assert intersection.next_stop_line(route[-1], 0.0, route=route).distance_m == math.inf


def reference_stop_line(hd, key, s_m, horizon_m=500.0):
    """Exhaustive search over successor paths (the precomputed table must agree)."""
    ll = hd.lanelets[key]
    if ll.has_stop_line and ll.stop_line_s_m >= s_m:
        return ll.stop_line_s_m - s_m
    best = math.inf
    stack = [(k, ll.length_m - s_m) for k in hd.routing.following(key)]
    while stack:
        k, before = stack.pop()
        if before > horizon_m:
            continue
        nxt = hd.lanelets[k]
        if nxt.has_stop_line:
            d = before + nxt.stop_line_s_m
            best = min(best, d) if d <= horizon_m else best
            continue
        stack.extend((n, before + nxt.length_m) for n in hd.routing.following(k))
    return best


@pytest.mark.parametrize('which', ['intersection', 'karlsruhe'])
def test_precomputed_stop_lines_match_a_path_search(which, request):
    hd = request.getfixturevalue(which)
    for key in hd.drivable_keys:
        for s in (0.0, 0.5 * hd.lanelets[key].length_m):
            got = hd.next_stop_line(key, s).distance_m
            assert got == pytest.approx(reference_stop_line(hd, key, s)), key

"""Properties of the MapData lane matching (hypothesis): distances along bent lanes, the lane
chosen between neighbours, the ends of a lane, and the phase chosen for the ego's turn."""

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from v2x_runtime import messages as m
from vehicle_nodes.hdmap.mapdata_lanes import (
    MANEUVER_LEFT,
    MANEUVER_RIGHT,
    MANEUVER_STRAIGHT,
    choose_phase,
    node_lanes,
)
from vehicle_nodes.hdmap.mapdata_matching import MapDataMatcher
from vehicle_nodes.hdmap.mapdata_store import segments_of

MAX_TURN = math.radians(30.0)


def polyline(start, heading, steps) -> np.ndarray:
    """Points from ``start``: each step (length, turn) turns then goes straight."""
    pts = [np.asarray(start, float)]
    h = heading
    for length, turn in steps:
        h += turn
        pts.append(pts[-1] + length * np.array([math.cos(h), math.sin(h)]))
    return np.array(pts)


def map_lane(lane_id, xy, *, width=3.5, phases=((2, 9, 7),), maneuvers=0):
    """A MapLane with connections (node, lane, phase)."""
    pt = lambda x, y: m.new('geometry_msgs/msg/Point', x=float(x), y=float(y), z=0.0)  # noqa: E731
    return m.new(
        'v2x_stack/msg/MapLane',
        lane_id=lane_id,
        width_m=width,
        lane_type=0,
        maneuvers=maneuvers,
        maneuvers_known=maneuvers != 0,
        speed_limit_mps=math.nan,
        points=[pt(x, y) for x, y in xy],
        connection_region=np.zeros(len(phases), np.uint16),
        connection_node_id=np.array([p[0] for p in phases], np.uint16),
        connection_lane_id=np.array([p[1] for p in phases], np.uint8),
        connection_phase_id=np.array([p[2] for p in phases], np.uint8),
    )


def node(node_id, lanes):
    return m.new('v2x_stack/msg/IntersectionMap', node_id=node_id, lanes=lanes)


def at(xy: np.ndarray, s: float, lateral: float) -> tuple[float, float, float]:
    """(x, y, heading) at arc length ``s`` (extended straight past either end), ``lateral``
    to the left."""
    seg = np.diff(xy, axis=0)
    cum = np.concatenate(([0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))))
    i = min(max(int(np.searchsorted(cum, s, side='right')) - 1, 0), len(seg) - 1)
    h = math.atan2(seg[i][1], seg[i][0])
    p = xy[i] + (s - cum[i]) / (cum[i + 1] - cum[i]) * seg[i]
    return float(p[0] - lateral * math.sin(h)), float(p[1] + lateral * math.cos(h)), h


steps = st.lists(
    st.tuples(st.floats(5.0, 40.0), st.floats(-MAX_TURN, MAX_TURN)), min_size=1, max_size=8
)


@settings(max_examples=150, deadline=None)
@given(
    steps=steps,
    heading=st.floats(-math.pi, math.pi),
    frac=st.floats(0.0, 1.0),
    lateral=st.floats(-1.0, 1.0),
)
def test_distance_to_the_stop_line_along_a_bent_lane(steps, heading, frac, lateral):
    xy = polyline((100.0, -50.0), heading, steps)
    total = sum(length for length, _ in steps)
    s = frac * total
    x, y, h = at(xy, s, lateral)
    seg = segments_of(node_lanes(node(1, [map_lane(1, xy)])).ingress)
    found = MapDataMatcher().match(seg, x, y, yaw_rad=h, speed_mps=10.0, sigma_m=0.1)
    if total - s <= 1e-6 and lateral != 0.0:
        # on the stop line (to within the rounding of the lane's points through lat/lon), the
        # side decides whether the foot point is just before or just past it
        assume(found is not None)
    assert found is not None
    # near a vertex on the inside of a bend the foot point may be on the other segment: it
    # moves along the lane by at most |lateral| tan(turn / 2) on each side
    tol = 2.0 * abs(lateral) * math.tan(MAX_TURN / 2) + 1e-6
    assert abs(found.stop_line_distance_m - (total - s)) <= tol
    assert abs(abs(found.lateral_offset_m) - abs(lateral)) <= tol
    assert (found.signal_group, found.intersection_id) == (7, 1)


@settings(max_examples=100, deadline=None)
@given(
    heading=st.floats(-math.pi, math.pi),
    width=st.floats(2.5, 4.5),
    lanes=st.integers(2, 4),
    pick=st.integers(0, 3),
    where=st.floats(0.05, 0.95),
    lateral=st.floats(-1.0, 1.0),
)
def test_the_lane_the_car_is_in_is_chosen_among_its_neighbours(
    heading, width, lanes, pick, where, lateral
):
    pick %= lanes
    normal = np.array([-math.sin(heading), math.cos(heading)])
    lines = [polyline(k * width * normal, heading, [(80.0, 0.0)]) for k in range(lanes)]
    msg = node(1, [map_lane(k + 1, xy, width=width, phases=((2, 9, k + 1),))
                   for k, xy in enumerate(lines)])  # fmt: skip
    seg = segments_of(node_lanes(msg).ingress)
    off = lateral * (0.5 * width - 0.3)  # inside the lane, 0.3 m from its edges (σ 0.05 m)
    x, y, h = at(lines[pick], where * 80.0, off)
    found = MapDataMatcher().match(seg, x, y, yaw_rad=h, speed_mps=5.0, sigma_m=0.05)
    assert found is not None
    assert found.signal_group == pick + 1
    assert abs(found.stop_line_distance_m - (1.0 - where) * 80.0) < 1e-6
    assert found.confidence > 0.9


@settings(max_examples=100, deadline=None)
@given(
    heading=st.floats(-math.pi, math.pi),
    beyond=st.floats(0.01, 30.0),
    before=st.floats(1.01, 30.0),
    turned=st.floats(math.radians(50.0), math.pi),
)
def test_no_stop_line_past_the_line_upstream_of_the_lane_or_against_it(
    heading, beyond, before, turned
):
    xy = polyline((0.0, 0.0), heading, [(60.0, 0.0)])
    seg = segments_of(node_lanes(node(1, [map_lane(1, xy)])).ingress)
    matcher = MapDataMatcher()
    x, y, h = at(xy, 60.0 + beyond, 0.0)  # past the stop line (at() extrapolates the end)
    assert matcher.match(seg, x, y, yaw_rad=h, speed_mps=10.0) is None
    x, y, h = at(xy, -before, 0.0)  # more than 1 m upstream of the first point
    assert matcher.match(seg, x, y, yaw_rad=h, speed_mps=10.0) is None
    x, y, h = at(xy, 30.0, 0.0)
    assert matcher.match(seg, x, y, yaw_rad=h + turned, speed_mps=10.0) is None
    assert matcher.match(seg, x, y, yaw_rad=h + turned, speed_mps=0.0) is not None  # standing


@settings(max_examples=100, deadline=None)
@given(heading=st.floats(-math.pi, math.pi), turn=st.sampled_from([0, 1, 2, 4]))
def test_the_phase_of_the_ego_turn_from_the_connected_lanes_geometry(heading, turn):
    """A lane shared by three movements (straight phase 5, left 6, right 7): each connection's
    maneuver comes from the heading of the egress lane it leads to; without a turn the
    straight one's phase."""
    approach = polyline((0.0, 0.0), heading, [(50.0, 0.0)])
    end = approach[-1]

    def egress(turn_rad, lane_id):
        h = heading + turn_rad
        start = end + 15.0 * np.array([math.cos(h), math.sin(h)])
        return map_lane(lane_id, polyline(start, h, [(40.0, 0.0)]), phases=())

    ingress = map_lane(1, approach, phases=((2, 11, 5), (3, 12, 6), (4, 13, 7)),
                       maneuvers=MANEUVER_STRAIGHT | MANEUVER_LEFT | MANEUVER_RIGHT)  # fmt: skip
    arms = {2: egress(0.0, 11), 3: egress(math.pi / 2, 12), 4: egress(-math.pi / 2, 13)}
    lanes = node_lanes(node(1, [ingress])).ingress[0]
    headings = {(0, k): node_lanes(node(k, [ln])).start_heading_rad for k, ln in arms.items()}
    want = {0: 5, MANEUVER_STRAIGHT: 5, MANEUVER_LEFT: 6, MANEUVER_RIGHT: 7}[turn]
    assert choose_phase(lanes, turn, headings) == want
    # without the egress lanes' MAP the movements are unknown: no phase but a shared one
    assert choose_phase(lanes, turn, {}) == 0


def test_a_repeated_map_is_refreshed_and_a_changed_one_parsed_again():
    from vehicle_nodes.hdmap.mapdata_store import MapDataStore

    xy = polyline((0.0, 0.0), 0.3, [(60.0, 0.0)])
    store = MapDataStore(timeout_s=5.0)
    first = node(1, [map_lane(1, xy, width=math.nan)])  # NaN: laneWidth absent
    assert store.refresh(first, 0) is None
    store.put(node_lanes(first), 0, first)
    assert store.refresh(first, 1_000_000_000) is not None  # the same object again
    again = node(1, [map_lane(1, xy.copy(), width=math.nan)])  # decoded anew, same values
    kept = store.refresh(again, ns := 4_000_000_000)
    assert kept is not None and kept.ingress[0].lane_id == 1
    assert store.prune(ns + 2_000_000_000) == []  # its time was renewed at 4 s
    moved = node(1, [map_lane(1, xy + 0.5, width=math.nan)])
    assert store.refresh(moved, ns) is None
    assert store.prune(ns + 6_000_000_000) == [(0, 1)]
    assert store.refresh(again, ns) is None  # dropped: parsed again when heard

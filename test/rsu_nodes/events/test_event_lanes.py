"""The vectorised lane lookup agrees with a plain per-lanelet projection; the event book's
hysteresis holds for arbitrary on/off patterns."""

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from geo import LocalFrame
from rsu_nodes.events.codes import EventKind
from rsu_nodes.events.hysteresis import EventBook
from rsu_nodes.events.lanes import ALIGNED_RAD, OPPOSED_RAD, LaneIndex
from rsu_nodes.events.rules import Candidate
from sim_nodes.world.four_arm import build_four_arm
from sim_nodes.world.lanelet2_export import write_lanelet2
from vehicle_nodes.hdmap.geometry import project, wrap_angle
from vehicle_nodes.hdmap.loader import load_map

MAP = Path(__file__).resolve().parents[3] / 'config' / 'maps' / 'intersection.osm'
HD = load_map(MAP)
INDEX = LaneIndex(HD)
DRIVABLE = [ll for ll in HD.lanelets.values() if ll.drivable]


def naive(x: float, y: float, yaw: float, margin_m: float):
    """Angles to the lanes containing (x, y), with the lane edge moved in by ``margin_m``."""
    inside = []
    for ll in DRIVABLE:
        pr = project(ll.centre_xy, ll.s_m, x, y)
        if pr.distance_m <= ll.width_at(pr.s_m) / 2.0 - margin_m:
            inside.append(abs(float(wrap_angle(yaw - pr.heading_rad))))
    return inside


@settings(max_examples=200, deadline=None)
@given(st.floats(-170, 170), st.floats(-170, 170), st.floats(-math.pi, math.pi))
@example(-11.0, 1.0, 1.25)  # inside the junction, near a connector's edge
def test_locate_matches_the_naive_projection(x, y, yaw):
    """Away from lane edges (5 cm) and angle thresholds (0.01 rad) both must agree."""
    fix = INDEX.locate(x, y, yaw)
    surely_in = naive(x, y, yaw, 0.05)  # lanes the point is well inside
    maybe_in = naive(x, y, yaw, -0.05)  # lanes it is inside or near the edge of
    if surely_in:
        assert fix.on_road
    if not maybe_in:
        assert not fix.on_road
    if any(d < ALIGNED_RAD - 0.01 for d in surely_in):
        assert fix.aligned
    if not any(d < ALIGNED_RAD + 0.01 for d in maybe_in):
        assert not fix.aligned
    if surely_in and all(d > OPPOSED_RAD + 0.01 for d in maybe_in):
        assert fix.opposed
    if any(d < OPPOSED_RAD - 0.01 for d in surely_in):
        assert not fix.opposed
    if fix.approach >= 0:
        assert fix.stop_dist_m >= 0.0


@pytest.fixture(scope='module')
def sim_index(tmp_path_factory):
    """The simulator's four-arm junction: it has crosswalks (the example map has none)."""
    path = tmp_path_factory.mktemp('map') / 'map.osm'
    write_lanelet2(build_four_arm(), path, LocalFrame(31.2304, 121.4737, 10.0))
    return LaneIndex(load_map(path), 1)


def naive_in_crosswalk(index: LaneIndex, x: float, y: float) -> bool:
    """The per-point rule the vectorised one replaced: one projection per crosswalk."""
    return any(
        project(cw.centre_xy, cw.s_m, x, y).distance_m <= float(np.max(cw.width_m)) / 2
        for cw in index.crosswalks
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-40, 40), st.floats(-40, 40), st.floats(-math.pi, math.pi)),
        min_size=1,
        max_size=40,
    )
)
def test_crosswalk_flags_equal_the_per_point_projection(sim_index, rows):
    """Bit for bit, including a point exactly on a crosswalk's edge."""
    cw = sim_index.crosswalks[0]
    half = float(np.max(cw.width_m)) / 2
    edge = [(float(cw.centre_xy[1, 0]), float(cw.centre_xy[1, 1]), 0.0)]
    d = cw.centre_xy[2] - cw.centre_xy[1]
    normal = np.array([-d[1], d[0]]) / np.hypot(d[0], d[1])
    edge.append((*(cw.centre_xy[1] + half * normal).tolist(), 0.0))
    xy = np.array([(x, y) for x, y, _ in rows + edge])
    yaw = np.array([a for _, _, a in rows + edge])
    flags = [f.in_crosswalk for f in sim_index.locate_many(xy, yaw)]
    assert flags == [naive_in_crosswalk(sim_index, x, y) for x, y in xy.tolist()]
    assert flags[-2]  # the centre line is on it


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-80, 80), st.floats(-80, 80), st.floats(-math.pi, math.pi)),
        min_size=1,
        max_size=40,
    )
)
def test_stop_distances_equal_the_projection_on_the_own_lane(sim_index, rows):
    """Every object on an approach lane: the arc length ``project`` gives on that lane, bit for
    bit (all objects and lanes now go through one masked pass)."""
    xy = np.array([(x, y) for x, y, _ in rows])
    fixes = sim_index.locate_many(xy, np.array([a for _, _, a in rows]))
    for (x, y), fix in zip(xy.tolist(), fixes, strict=True):
        if fix.approach < 0:
            assert math.isnan(fix.stop_dist_m)
            continue
        pts, s_table = sim_index.approaches_lane(fix.approach, fix.lane_id)
        assert fix.stop_dist_m == project(pts, s_table, x, y).s_m


def test_approach_lanes_are_found(sim_index):
    """The property above holds for something: a car 20 m up each approach's first lane."""
    for ap in sim_index.approaches:
        pts, _ = next(iter(ap.lanes.values()))
        d = (pts[1] - pts[0]) / np.hypot(*(pts[1] - pts[0]))
        xy = (pts[0] + 20.0 * d)[None]
        fix = sim_index.locate_many(xy, np.array([np.arctan2(-d[1], -d[0])]))[0]
        assert fix.approach == ap.arm and fix.lane_id in ap.lanes
        assert abs(fix.stop_dist_m - 20.0) < 0.5


@settings(max_examples=150, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=80))
def test_book_follows_the_hysteresis_model(pattern):
    """Reference model: pending from the first sighting, raised once it has lasted the raise
    delay, dropped (pending or raised) after the clear delay without a sighting."""
    raise_ns, clear_ns, dt_ns = 500_000_000, 300_000_000, 100_000_000
    book = EventBook({EventKind.PEDESTRIAN: raise_ns / 1e9}, clear_ns / 1e9, 5.0)
    state, first, last, ident = 'none', 0, 0, None
    cand = [Candidate(EventKind.PEDESTRIAN, 1, (0.0, 0.0, 0.0), (0, 0, 0), 'p')]
    for k, present in enumerate(pattern):
        now = k * dt_ns
        if present:
            if state == 'none':
                state, first = 'pending', now
            last = now
            if state == 'pending' and now - first >= raise_ns:
                state = 'raised'
        elif state != 'none' and now - last >= clear_ns:
            state, ident = 'none', None
        book.update(now, cand if present else [])
        active = book.active()
        assert bool(active) == (state == 'raised'), (k, state)
        if active:
            ident = ident or active[0].event_id
            assert active[0].event_id == ident  # stable while it lasts


def test_no_intersection_means_no_approaches():
    road = LaneIndex(load_map(MAP.parent / 'road_segment.osm'))
    assert road.approaches == []
    fix = road.locate(500.0, -1.75, 0.0)
    assert fix.on_road and fix.approach == -1 and np.isnan(fix.stop_dist_m)


finite_or_not = st.one_of(
    st.floats(-300, 300), st.sampled_from([math.nan, math.inf, -math.inf, 1e308])
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2**32 - 1),
            st.integers(0, 255),
            finite_or_not,
            finite_or_not,
            finite_or_not,
            finite_or_not,
        ),
        max_size=30,
    )
)
def test_detector_survives_arbitrary_participants(rows):
    """Any ids, classes, NaN/inf/huge values: no exception, non-finite objects counted."""
    from rsu_event_scenes import array

    from rsu_nodes.events.node import EventDetector
    from v2x_runtime.embedded import EmbeddedRuntime

    rt = EmbeddedRuntime(seed=1, fail_fast=True)
    node = rt.add_component(EventDetector, name='events', parameters={'pedestrian_after_s': 0.0})
    for k in range(3):
        rt.publish('/rsu/participants', array(k / 10, rows), at_ns=k * 100_000_000)
    rt.run(duration_s=1.0)
    rt.close()
    nan = sum(1 for r in rows if not all(math.isfinite(v) for v in r[2:]))
    huge = sum(
        1 for r in rows if all(math.isfinite(v) for v in r[2:]) and max(map(abs, r[2:])) > 1e6
    )
    c = node.ctx.diagnostics.counters
    assert (c['rejected.nan_position'], c['rejected.out_of_range']) == (3 * nan, 3 * huge)
    assert node.ctx.diagnostics.counters['received'] == 3


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-60, 60), st.floats(-60, 60), st.floats(-math.pi, math.pi)),
        min_size=1,
        max_size=30,
    )
)
def test_a_fix_depends_on_its_own_object_only(sim_index, rows):
    """The detector locates its standing ambiguous objects under every trial heading in one
    batch with the rest: an object's fix in a batch is the one it gets alone, bit for bit."""
    xy = np.array([(x, y) for x, y, _ in rows])
    yaw = np.array([a for _, _, a in rows])
    # the same positions again, turned: the batch the detector builds
    xy2 = np.concatenate([xy, xy, xy])
    yaw2 = np.concatenate([yaw, yaw + math.pi, yaw - math.pi / 2])
    batch = sim_index.locate_many(xy2, yaw2)
    alone = [sim_index.locate_many(xy2[i : i + 1], yaw2[i : i + 1])[0] for i in range(len(xy2))]
    assert [repr(f) for f in batch] == [repr(f) for f in alone]

import itertools
import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vehicle_nodes.hdmap import geometry as geo

coord = st.floats(-500.0, 500.0, allow_nan=False)


@st.composite
def polylines(draw, min_points=2, max_points=12):
    """Polylines with segments of 0.5..50 m and turns below 120 degrees."""
    n = draw(st.integers(min_points, max_points))
    x, y = draw(coord), draw(coord)
    yaw = draw(st.floats(-math.pi, math.pi))
    pts = [(x, y)]
    for _ in range(n - 1):
        yaw += draw(st.floats(-2.0, 2.0))
        step = draw(st.floats(0.5, 50.0))
        x, y = x + step * math.cos(yaw), y + step * math.sin(yaw)
        pts.append((x, y))
    return np.array(pts)


@given(polylines())
def test_arc_length_is_sum_of_segments_and_monotonic(pts):
    s = geo.arc_length(pts)
    assert s[0] == 0.0
    assert np.all(np.diff(s) > 0.0)
    expected = sum(math.dist(a, b) for a, b in itertools.pairwise(pts))
    assert math.isclose(s[-1], expected, rel_tol=1e-9)


@given(polylines(), st.floats(0.2, 5.0))
def test_resample_keeps_ends_spacing_and_shape(pts, step):
    out = geo.resample(pts, step)
    np.testing.assert_allclose(out[[0, -1]], pts[[0, -1]], atol=1e-9)
    gaps = np.hypot(*np.diff(out, axis=0).T)
    assert gaps.max() <= step + 1e-9
    # Every resampled point lies on the original polyline.
    for x, y in out:
        assert geo.polyline_distance(pts, x, y) < 1e-6


@given(polylines(), st.floats(0.05, 0.95), st.floats(-0.3, 0.3))
def test_projection_recovers_foot_point_and_signed_offset(pts, frac, offset_frac):
    s = geo.arc_length(pts)
    seg_len = np.diff(s)
    i = int(np.argmax(seg_len))
    a, b = pts[i], pts[i + 1]
    d = (b - a) / seg_len[i]
    normal = np.array([-d[1], d[0]])
    foot = a + frac * (b - a)
    lateral = offset_frac * seg_len[i]
    # Only where the segment is the unique nearest piece of the polyline.
    others = np.delete(np.arange(len(pts) - 1), i)
    q = foot + lateral * normal
    for j in others:
        assume(geo.polyline_distance(pts[j : j + 2], *q) > abs(lateral) + 1e-3)
    p = geo.project(pts, s, float(q[0]), float(q[1]))
    assert p.segment == i
    assert math.isclose(p.s_m, s[i] + frac * seg_len[i], abs_tol=1e-6)
    assert math.isclose(p.lateral_m, lateral, abs_tol=1e-6)
    assert math.isclose(p.heading_rad, math.atan2(d[1], d[0]), abs_tol=1e-9)


@given(polylines(), coord, coord)
def test_projection_distance_is_the_polyline_distance(pts, x, y):
    s = geo.arc_length(pts)
    p = geo.project(pts, s, x, y)
    assert math.isclose(p.distance_m, geo.polyline_distance(pts, x, y), rel_tol=1e-9, abs_tol=1e-9)
    assert 0.0 <= p.s_m <= s[-1] + 1e-9
    fx, fy = geo.interpolate(pts, s, np.array([p.s_m]))[0]
    assert math.isclose(math.hypot(x - fx, y - fy), p.distance_m, rel_tol=1e-6, abs_tol=1e-6)


@given(polylines(min_points=3, max_points=30), st.floats(0.01, 2.0))
def test_simplify_stays_within_tolerance(pts, tol):
    out = geo.simplify(pts, tol)
    np.testing.assert_array_equal(out[[0, -1]], pts[[0, -1]])
    for x, y in pts:
        assert geo.polyline_distance(out, x, y) <= tol + 1e-9


@settings(max_examples=50)
@given(st.floats(-3.0, 3.0), st.floats(0.5, 10.0))
def test_offset_polyline_of_a_straight_line(heading, offset):
    d = np.array([math.cos(heading), math.sin(heading)])
    pts = np.array([[0.0, 0.0], 10 * d, 20 * d, 30 * d])
    out = geo.offset_polyline(pts, offset)
    for x, y in out:
        assert math.isclose(geo.polyline_distance(pts, x, y), offset, rel_tol=1e-9)


def test_wrap_angle():
    assert geo.wrap_angle(3 * math.pi / 2) == -math.pi / 2
    np.testing.assert_allclose(geo.wrap_angle(np.array([0.1, -7.0])), [0.1, -7.0 + 2 * math.pi])


@given(polylines(), st.lists(st.tuples(coord, coord), min_size=1, max_size=8))
def test_project_many_matches_project_point_by_point(pts, xy):
    s_table = geo.arc_length(pts)
    s, dist = geo.project_many(pts, s_table, np.array(xy))
    for k, (x, y) in enumerate(xy):
        one = geo.project(pts, s_table, x, y)
        assert dist[k] == one.distance_m
        assert s[k] == one.s_m

"""Box corners, point-in-polygon, convex clipping and BEV IoU: properties and known values."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perception_nodes.lidar.geometry import (
    bev_iou,
    bev_iou_matrix,
    box_corners,
    clip_convex,
    points_in_polygon,
    polygon_area,
    polygon_raster,
    wrap_angle,
)

coord = st.floats(-100, 100)
dim = st.floats(0.2, 15)
yaw = st.floats(-4, 4)
boxes = st.tuples(coord, coord, dim, dim, yaw).map(np.array)


@given(boxes)
def test_corner_area_is_length_times_width(b):
    corners = box_corners(*[np.array([v]) for v in b])[0]
    assert polygon_area(corners) == pytest.approx(b[2] * b[3], rel=1e-9)


@given(boxes)
def test_self_iou_is_one(b):
    assert bev_iou(b, b) == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=200)
@given(boxes, boxes)
def test_iou_symmetric_and_bounded(a, b):
    ab, ba = bev_iou(a, b), bev_iou(b, a)
    assert 0.0 <= ab <= 1.0 + 1e-12
    assert ab == pytest.approx(ba, abs=1e-9)


@given(boxes, st.floats(0, 2 * np.pi))
def test_far_apart_boxes_do_not_overlap(b, direction):
    shift = np.hypot(b[2], b[3]) + 0.01
    other = b.copy()
    other[0] += shift * np.cos(direction)
    other[1] += shift * np.sin(direction)
    assert bev_iou(b, other) == 0.0


def test_known_iou_values():
    a = np.array([0, 0, 4, 2, 0])
    assert bev_iou(a, np.array([2, 0, 4, 2, 0])) == pytest.approx(4 / 12)
    assert bev_iou(a, np.array([0, 0, 4, 2, np.pi])) == pytest.approx(1.0)
    # a 2x2 square and the same square turned 45 degrees: intersection is a regular octagon
    sq = np.array([0, 0, 2, 2, 0])
    octagon = 8 * (np.sqrt(2) - 1)
    assert bev_iou(sq, np.array([0, 0, 2, 2, np.pi / 4])) == pytest.approx(octagon / (8 - octagon))


def test_iou_matrix_matches_pairwise():
    rng = np.random.default_rng(3)
    a = np.column_stack(
        [rng.uniform(-5, 5, (6, 2)), rng.uniform(1, 4, (6, 2)), rng.uniform(-3, 3, 6)]
    )
    b = np.column_stack(
        [rng.uniform(-5, 5, (5, 2)), rng.uniform(1, 4, (5, 2)), rng.uniform(-3, 3, 5)]
    )
    mat = bev_iou_matrix(a, b)
    for i in range(6):
        for j in range(5):
            assert mat[i, j] == pytest.approx(bev_iou(a[i], b[j]))


@settings(max_examples=100)
@given(boxes, st.lists(st.tuples(coord, coord), min_size=1, max_size=30))
def test_points_in_box_polygon_matches_box_frame_test(b, pts):
    xy = np.array(pts)
    corners = box_corners(*[np.array([v]) for v in b])[0]
    c, s = np.cos(b[4]), np.sin(b[4])
    u = (xy[:, 0] - b[0]) * c + (xy[:, 1] - b[1]) * s
    v = -(xy[:, 0] - b[0]) * s + (xy[:, 1] - b[1]) * c
    margin = 1e-6
    inside = (np.abs(u) < b[2] / 2 - margin) & (np.abs(v) < b[3] / 2 - margin)
    outside = (np.abs(u) > b[2] / 2 + margin) | (np.abs(v) > b[3] / 2 + margin)
    got = points_in_polygon(xy, corners)
    assert (got[inside]).all()
    assert not (got[outside]).any()


def test_points_in_concave_polygon():
    cross = np.array(
        [
            [1, -3],
            [1, -1],
            [3, -1],
            [3, 1],
            [1, 1],
            [1, 3],
            [-1, 3],
            [-1, 1],
            [-3, 1],
            [-3, -1],
            [-1, -1],
            [-1, -3],
        ],
        float,
    )
    pts = np.array([[0, 0], [2, 0], [0, 2.5], [2, 2], [-2.5, -2.5], [0, -2]])
    assert points_in_polygon(pts, cross).tolist() == [True, True, True, False, False, True]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(coord, coord), min_size=3, max_size=12), st.floats(0.4, 7.0))
def test_raster_of_a_polygon_is_the_point_test_of_its_grid(vertices, cell):
    poly = np.array(vertices, float)  # any polygon: concave, self-crossing, degenerate
    xs = -100.0 + (np.arange(int(200 / cell)) + 0.5) * cell
    ys = -90.0 + (np.arange(int(180 / cell) // 2) + 0.5) * cell * 2
    gx, gy = np.meshgrid(xs, ys, indexing='ij')
    exact = points_in_polygon(np.stack([gx.ravel(), gy.ravel()], axis=1), poly)
    assert np.array_equal(polygon_raster(poly, xs, ys).ravel(), exact)


@given(boxes, boxes)
def test_clip_area_not_larger_than_either(a, b):
    ca = box_corners(*[np.array([v]) for v in a])[0]
    cb = box_corners(*[np.array([v]) for v in b])[0]
    inter = abs(polygon_area(clip_convex(ca, cb)))
    assert inter <= min(a[2] * a[3], b[2] * b[3]) * (1 + 1e-9) + 1e-9


@given(st.floats(-100, 100))
def test_wrap_angle_range(angle):
    w = float(wrap_angle(angle))
    assert -np.pi <= w < np.pi
    assert np.cos(w) == pytest.approx(np.cos(angle), abs=1e-9)

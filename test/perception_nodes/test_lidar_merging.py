"""Merging split vehicle pieces: ring lines of one far car join, a queue and people do not."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from perception_nodes.lidar.clustering import join_pairs
from perception_nodes.lidar.merging import MergeConfig, merge_vehicle_pieces


def _line(x0, x1, y0, y1, n=30, z=1.2):
    t = np.linspace(0, 1, n)
    return np.column_stack([x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, np.full(n, z)])


def _run(pieces):
    xyz = np.vstack(pieces)
    labels = np.concatenate([np.full(len(p), k) for k, p in enumerate(pieces)])
    ground = np.zeros(len(xyz))
    return merge_vehicle_pieces(xyz, labels, len(pieces), ground, MergeConfig())


def test_face_and_roof_line_of_an_end_on_car_join():
    """A car 55 m out along +x, seen end-on: its rear face and one roof line 2.5 m behind."""
    face = _line(55.0, 55.0, -0.9, 0.9)
    roof = _line(57.5, 57.5, -0.8, 0.8, z=1.5)
    labels, n = _run([face, roof])
    assert n == 1 and (labels == 0).all()


def test_two_cars_in_a_queue_stay_apart():
    first = np.vstack([_line(50.0, 50.0, -0.9, 0.9), _line(50.0, 54.5, 0.9, 0.9)])
    second = np.vstack([_line(57.0, 57.0, -0.9, 0.9), _line(57.0, 61.5, 0.9, 0.9)])
    _, n = _run([first, second])
    assert n == 2


def test_side_by_side_pieces_and_people_stay_apart():
    # two pedestrians one behind the other: the union is too narrow for a vehicle
    a = _line(30.0, 30.0, -0.25, 0.25, n=10, z=1.7)
    b = _line(31.5, 31.5, -0.25, 0.25, n=10, z=1.7)
    # two pieces at the same range but different bearings: no azimuth overlap
    c = _line(20.0, 20.0, 5.0, 6.8)
    d = _line(20.0, 20.0, 8.5, 10.3)
    _, n = _run([a, b, c, d])
    assert n == 4


def test_noise_labels_stay_noise():
    face = _line(55.0, 55.0, -0.9, 0.9)
    noise = np.array([[10.0, 10.0, 1.0]])
    xyz = np.vstack([face, noise])
    labels = np.concatenate([np.zeros(len(face), dtype=np.int64), [-1]])
    out, n = merge_vehicle_pieces(xyz, labels, 1, np.zeros(len(xyz)), MergeConfig())
    assert n == 1 and out[-1] == -1


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 30), st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), max_size=40))
def test_join_pairs_numbers_components_as_scipy_does(n, pairs):
    """The union-find that replaced the sparse graph gives scipy's labels, value for value."""
    pairs = [(i % n, j % n) for i, j in pairs]
    a = np.array([i for i, _ in pairs], dtype=np.int64)
    b = np.array([j for _, j in pairs], dtype=np.int64)
    graph = coo_matrix((np.ones(len(pairs)), (a, b)), shape=(n, n))
    n_ref, ref = connected_components(graph, directed=False)
    comp = join_pairs(n, a + 1, b + 1)
    assert comp.tolist() == ref.tolist()
    assert int(comp.max()) + 1 == n_ref

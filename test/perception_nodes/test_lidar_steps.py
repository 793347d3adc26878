"""ROI, background, ground and clustering steps on synthetic scans with known truth."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from perception_nodes.lidar.background import BackgroundConfig, BackgroundModel
from perception_nodes.lidar.clustering import ClusterConfig, _dilate, cluster_points
from perception_nodes.lidar.errors import LidarConfigError
from perception_nodes.lidar.geometry import points_in_polygon
from perception_nodes.lidar.grid import BevGrid
from perception_nodes.lidar.ground import GroundConfig, GroundModel
from perception_nodes.lidar.roi import RegionOfInterest
from perception_nodes.lidar.rows import select_rows, take_rows
from perception_nodes.lidar.synthetic import GROUND_ID, STATIC_ID, LidarModel, Scene, Terrain

SMALL_LIDAR = LidarModel(n_beams=64, n_azimuth=1200)


@pytest.fixture(scope='module')
def steep_scene():
    """6 % grade, strong curve and 3 % camber: a road no single plane fits."""
    terrain = Terrain(grade_x=0.06, grade_y=-0.03, curve_per_m=2e-4, camber=0.03)
    scene = Scene(terrain=terrain, lidar=SMALL_LIDAR)
    rng = np.random.default_rng(11)
    return scene, rng


def test_roi_polygon_and_height_band():
    roi = RegionOfInterest(np.array([[0, 0], [10, 0], [10, 10], [0, 10]]), z_min_m=-1, z_max_m=1)
    pts = np.array([[5, 5, 0], [5, 5, 2], [-1, 5, 0], [9.95, 9.95, 0.5], [10.2, 5, 0]], float)
    assert roi.mask(pts).tolist() == [True, False, False, True, False]


@pytest.mark.parametrize(
    'poly', [[[0, 0], [1, 1]], [[0, 0], [1, 1], [2, 2]], [[0, 0], [1, 0], [np.nan, 1]]]
)
def test_roi_rejects_degenerate_polygons(poly):
    with pytest.raises(LidarConfigError, match='roi polygon'):
        RegionOfInterest(np.array(poly, float), z_min_m=-1, z_max_m=1)


def test_ground_holds_on_slope_and_camber(steep_scene):
    scene, rng = steep_scene
    objs = scene.random_objects(rng, 30)
    frame = scene.scan(rng, objs, alone=False)
    grid = BevGrid.covering(-60, -60, 60, 60, 1.0)
    ground = GroundModel(grid, GroundConfig())
    ground.estimate(frame.xyz_m)
    is_ground = frame.hit_id == GROUND_ID
    xyz = frame.xyz_m[is_ground]
    truth = scene.terrain.height(xyz[:, 0], xyz[:, 1])
    est = xyz[:, 2] - ground.height_above(xyz)
    err = np.abs(est - truth)
    on_grid = (np.abs(xyz[:, 0]) < 59) & (np.abs(xyz[:, 1]) < 59)
    assert np.median(err[on_grid]) < 0.03
    assert np.percentile(err[on_grid], 95) < 0.08
    # ground points stay below the object band, object points above its floor stay in it
    kept_ground = ground.object_mask(ground.height_above(xyz[on_grid])).mean()
    assert kept_ground < 0.01
    obj = frame.xyz_m[frame.hit_id >= 0]
    h_truth = obj[:, 2] - scene.terrain.height(obj[:, 0], obj[:, 1])
    high = h_truth > 0.45
    assert ground.object_mask(ground.height_above(obj[high])).mean() > 0.97


def test_ground_learned_over_frames_equals_single_frame_estimate(steep_scene):
    scene, rng = steep_scene
    grid = BevGrid.covering(-60, -60, 60, 60, 1.0)
    learned = GroundModel(grid, GroundConfig())
    for _ in range(3):
        learned.accumulate(scene.scan(rng, [], alone=False).xyz_m)
    learned.finish()
    xy = rng.uniform(-40, 40, (500, 2))
    truth = scene.terrain.height(xy[:, 0], xy[:, 1])
    pts = np.column_stack([xy, truth])
    assert np.percentile(np.abs(learned.height_above(pts)), 95) < 0.12


def test_background_removes_static_keeps_new(steep_scene):
    scene, rng = steep_scene
    scene = Scene.crossroads(rng, lidar=SMALL_LIDAR)
    model = BackgroundModel((-80, -80, -12, 80, 80, 4), BackgroundConfig(learn_frames=8))
    for _ in range(8):
        assert not model.ready
        model.observe(scene.scan(rng, [], alone=False).xyz_m)
    assert model.ready
    objs = scene.random_objects(rng, 25)
    frame = scene.scan(rng, objs, alone=False)
    inside = (np.abs(frame.xyz_m[:, :2]) < 79).all(axis=1)
    frame.xyz_m, frame.hit_id = frame.xyz_m[inside], frame.hit_id[inside]
    fg = model.foreground_mask(frame.xyz_m)
    static = (frame.hit_id == STATIC_ID) | (frame.hit_id == GROUND_ID)
    assert fg[static].mean() < 0.01
    h = frame.xyz_m[:, 2] - scene.terrain.height(frame.xyz_m[:, 0], frame.xyz_m[:, 1])
    obj = (frame.hit_id >= 0) & (h > 0.5)
    assert fg[obj].mean() > 0.97


def test_background_absorbs_a_parked_object_slowly():
    config = BackgroundConfig(
        learn_frames=2, update_every=1, window_updates=20, occupied_fraction=0.5
    )
    model = BackgroundModel((-10, -10, -2, 10, 10, 2), config)
    floor = np.column_stack(
        [np.random.default_rng(0).uniform(-9, 9, (2000, 2)), np.full(2000, -1.5)]
    )
    parked = np.array([[2.0, 2.0, 0.0], [2.1, 2.0, 0.5]])
    for _ in range(2):
        model.observe(floor)
    frames_until_background = None
    for k in range(1, 60):
        both = np.vstack([floor, parked])
        model.observe(both)
        if not model.foreground_mask(parked).any():
            frames_until_background = k
            break
    assert frames_until_background is not None and frames_until_background >= 2
    assert model.updates < 2 * config.window_updates  # halving keeps the counts bounded


def test_young_background_keeps_a_car_that_stops_after_learning():
    """A car that stops at the first red after start-up stays an object: the 20 learning frames
    weigh like a full window, so it is not absorbed after 5 updates (5 s) as it used to be;
    a voxel that traffic occupied briefly during learning is not learned as background."""
    config = BackgroundConfig()  # shipped schedule: 20 learned, then every 10th of 600
    model = BackgroundModel((-10, -10, -2, 10, 10, 2), config)
    floor = np.column_stack(
        [np.random.default_rng(0).uniform(-9, 9, (2000, 2)), np.full(2000, -1.5)]
    )
    passing = np.array([[-3.0, 4.0, 0.3], [-3.0, 4.0, 0.7]])  # in 3 of the 20 frames
    for k in range(config.learn_frames):
        model.observe(np.vstack([floor, passing]) if k < 3 else floor)
    assert model.ready
    assert not model.foreground_mask(floor).any()
    assert model.foreground_mask(passing).all()
    stopped = np.array([[2.0, 2.0, 0.0], [2.1, 2.0, 0.5]])
    for _ in range(600):  # 60 s at 10 Hz standing still
        model.observe(np.vstack([floor, stopped]))
    assert model.foreground_mask(stopped).all()
    assert not model.foreground_mask(floor).any()


def test_background_config_errors():
    with pytest.raises(LidarConfigError, match='occupied_fraction'):
        BackgroundConfig(occupied_fraction=0.0)
    with pytest.raises(LidarConfigError, match='learn_frames'):
        BackgroundConfig(learn_frames=0)


def _blob(rng, cx, cy, n=50, r=0.5):
    """Points over a square of side 2r, as dense as a scan of a nearby object."""
    return np.column_stack([rng.uniform(cx - r, cx + r, n), rng.uniform(cy - r, cy + r, n)])


def test_clusters_separate_blobs_and_drop_small_ones():
    rng = np.random.default_rng(4)
    pts = np.vstack(
        [_blob(rng, 10, 0), _blob(rng, 10, 4), _blob(rng, -20, 15), _blob(rng, 30, -30, n=3)]
    )
    labels, n = cluster_points(pts, ClusterConfig(min_points=5))
    assert n == 3
    groups = [set(labels[i * 50 : (i + 1) * 50]) for i in range(3)]
    assert all(len(g) == 1 for g in groups)
    assert len(set.union(*groups)) == 3
    assert (labels[150:] == -1).all()


def test_cluster_across_the_minus_pi_seam():
    """A car straddling the -x axis (azimuth +-pi) is one cluster, not two."""
    rng = np.random.default_rng(5)
    pts = np.column_stack([rng.uniform(-32, -28, 200), rng.uniform(-0.9, 0.9, 200)])
    labels, n = cluster_points(pts, ClusterConfig())
    assert n == 1 and (labels == 0).all()


def test_cluster_config_errors():
    with pytest.raises(LidarConfigError, match='min_points'):
        ClusterConfig(min_points=0)
    with pytest.raises(LidarConfigError, match='at most one'):
        ClusterConfig(range_growth=0.01, range_growth_sq=0.001)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), n_blobs=st.integers(1, 8))
def test_cluster_partition_does_not_depend_on_point_order(seed, n_blobs):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-60, 60, (n_blobs, 2))
    pts = np.vstack([_blob(rng, cx, cy, n=int(rng.integers(3, 40))) for cx, cy in centres])
    labels, n = cluster_points(pts, ClusterConfig())
    perm = rng.permutation(len(pts))
    labels_p, n_p = cluster_points(pts[perm], ClusterConfig())
    assert n == n_p
    # the same pairs of points share a cluster
    same = labels[:, None] == labels[None, :]
    same_p = np.empty_like(same)
    same_p[np.ix_(perm, perm)] = labels_p[:, None] == labels_p[None, :]
    keep = labels >= 0
    assert (same[np.ix_(keep, keep)] == same_p[np.ix_(keep, keep)]).all()
    assert ((labels >= 0) == (labels_p[np.argsort(perm)] >= 0)).all()


def _whole_grid_clusters(xy, config):
    """The labelling the column-compacted grid replaced: every one of the 720 columns labelled,
    the seam joined through a sparse graph."""
    n_az = int(np.ceil(360.0 / config.azimuth_step_deg))
    ia = np.floor((np.arctan2(xy[:, 1], xy[:, 0]) + np.pi) * (n_az / (2 * np.pi))).astype(int)
    ia = np.clip(ia, 0, n_az - 1)
    ir = config.range_index(np.hypot(xy[:, 0], xy[:, 1]))
    pad = config.dilation_steps
    ir = ir - (int(ir.min()) - pad)
    grid = np.zeros((int(ir.max()) + pad + 1, n_az), dtype=bool)
    grid[ir, ia] = True
    for _ in range(config.dilation_steps):
        g = grid.copy()
        g[1:] |= grid[:-1]
        g[:-1] |= grid[1:]
        grid = g | np.roll(g, 1, axis=1) | np.roll(g, -1, axis=1)
    cells, n = ndimage.label(grid, structure=np.ones((3, 3), bool))
    wrap = (cells[:, 0] > 0) & (cells[:, -1] > 0)
    a = np.concatenate([cells[wrap, 0], np.arange(n + 1)])
    b = np.concatenate([cells[wrap, -1], np.arange(n + 1)])
    _, comp = connected_components(coo_matrix((np.ones(a.size), (a, b))), directed=False)
    _, comp = np.unique(comp[1:], return_inverse=True)
    labels = np.concatenate([[-1], comp])[cells[ir, ia]]
    counts = np.bincount(labels, minlength=int(comp.max()) + 1)
    keep = counts >= config.min_points
    remap = np.full(counts.size, -1)
    remap[keep] = np.arange(int(keep.sum()))
    return remap[labels], int(keep.sum())


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_blobs=st.integers(1, 8),
    at_seam=st.booleans(),
    dilation=st.integers(0, 2),
    min_points=st.integers(1, 6),
)
def test_clusters_are_those_of_the_whole_grid(seed, n_blobs, at_seam, dilation, min_points):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-40, 40, (n_blobs, 2))
    if at_seam:  # around -x, where the azimuth wraps
        centres = np.column_stack([-rng.uniform(2, 40, n_blobs), rng.normal(0, 0.5, n_blobs)])
    pts = np.vstack(
        [c + rng.normal(0, rng.uniform(0.1, 1.5), (int(rng.integers(1, 40)), 2)) for c in centres]
    )
    config = ClusterConfig(dilation_steps=dilation, min_points=min_points)
    labels, n = cluster_points(pts, config)
    ref_labels, ref_n = _whole_grid_clusters(pts, config)
    assert n == ref_n
    assert labels.tolist() == ref_labels.tolist()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_rasterised_roi_agrees_with_the_exact_polygon_away_from_edges(seed):
    rng = np.random.default_rng(seed)
    angles = np.sort(rng.uniform(0, 2 * np.pi, 7))
    radii = rng.uniform(10, 40, 7)
    poly = np.column_stack([radii * np.cos(angles), radii * np.sin(angles)])
    roi = RegionOfInterest(poly, z_min_m=-5, z_max_m=5, cell_m=0.1)
    pts = np.column_stack([rng.uniform(-45, 45, (3000, 2)), np.zeros(3000)])
    exact = points_in_polygon(pts[:, :2], poly)
    # distance of each point to the nearest polygon edge
    a, b = poly, np.roll(poly, -1, axis=0)
    ab = b - a
    t = np.clip(np.einsum('pkd,kd->pk', pts[:, None, :2] - a[None], ab) / (ab**2).sum(1), 0, 1)
    nearest = a[None] + t[..., None] * ab[None]
    dist = np.sqrt(((pts[:, None, :2] - nearest) ** 2).sum(-1)).min(axis=1)
    far = dist > 0.15  # a cell diagonal
    assert (roi.mask(pts)[far] == exact[far]).all()


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 30),
    st.integers(1, 40),
    st.lists(st.tuples(st.integers(0, 29), st.integers(0, 39)), max_size=60),
    st.integers(0, 3),
)
def test_dilation_equals_the_rolled_definition(n_rows, n_az, cells, steps):
    """The 3x3 dilation with the azimuth wrap, as np.roll defines it, for any grid."""
    grid = np.zeros((n_rows, n_az), dtype=bool)
    for r, a in cells:
        grid[r % n_rows, a % n_az] = True
    ref = grid
    for _ in range(steps):
        g = ref.copy()
        g[1:] |= ref[:-1]
        g[:-1] |= ref[1:]
        ref = g | np.roll(g, 1, axis=1) | np.roll(g, -1, axis=1)
    np.testing.assert_array_equal(_dilate(grid, steps), ref)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    cell=st.sampled_from([0.1, 0.25, 0.3, 1.0]),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_rectangular_roi_mask_is_the_grid_cell_test(seed, cell, dtype):
    """A rectangle filling its grid is tested by comparing (x - x0) / cell with the grid size:
    the same mask as the floor-and-cast cell indices, points on and near every edge included."""
    rng = np.random.default_rng(seed)
    x0, y0 = rng.uniform(-80, 0, 2).round(1)
    x1, y1 = x0 + rng.integers(10, 1200) * cell, y0 + rng.integers(10, 1200) * cell
    roi = RegionOfInterest(
        np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]), z_min_m=-3, z_max_m=3, cell_m=cell
    )
    assume(roi._whole_grid)  # a side that is a whole number of cells, but for round-off
    g = roi.grid
    edges_x = np.array([g.x0_m, g.x0_m + g.nx * g.cell_m, x1])
    edges_y = np.array([g.y0_m, g.y0_m + g.ny * g.cell_m, y1])
    n = 4000
    xs = np.where(rng.random(n) < 0.5, rng.choice(edges_x, n), rng.uniform(x0 - 5, x1 + 5, n))
    ys = np.where(rng.random(n) < 0.5, rng.choice(edges_y, n), rng.uniform(y0 - 5, y1 + 5, n))
    xs = xs + rng.choice([0.0, 1e-6, -1e-6, 1e-3, -1e-3], n)
    ys = ys + rng.choice([0.0, 1e-6, -1e-6, 1e-3, -1e-3], n)
    zs = rng.choice([-3.0, 3.0, 0.0, 3.001, -3.001, np.inf, np.nan], n)
    pts = np.column_stack([xs, ys, zs]).astype(dtype)
    pts[rng.random(n) < 0.02, 0] = np.nan
    pts[rng.random(n) < 0.02, 1] = -np.inf
    pts[rng.random(n) < 0.02, 0] = 1e12
    with np.errstate(invalid='ignore'):
        _, _, expected = g.indices(pts[:, :2])
    expected &= pts[:, 2] >= roi.z_min_m
    expected &= pts[:, 2] <= roi.z_max_m
    with np.errstate(invalid='ignore'):
        assert roi.mask(pts).tolist() == expected.tolist()


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 300),
    cols=st.integers(1, 4),
    dtype=st.sampled_from([np.float32, np.float64, np.int32]),
    seed=st.integers(0, 2**16),
)
def test_row_selection_by_items_is_numpy_indexing(n, cols, dtype, seed):
    """``select_rows``/``take_rows`` return the arrays numpy's own indexing does, also for
    views that are not C-contiguous (their fallback)."""
    rng = np.random.default_rng(seed)
    pts = rng.normal(0, 50, (n, cols)).astype(dtype)
    mask = rng.random(n) < rng.random()
    idx = rng.integers(0, max(n, 1), rng.integers(0, 2 * n + 1)) if n else np.zeros(0, int)
    for a in (pts, np.asfortranarray(pts), pts[:, ::-1]):
        for got, want in ((select_rows(mask, a), a[mask]), (take_rows(a, idx), a[idx])):
            assert got.dtype == want.dtype and got.shape == want.shape
            assert got.tobytes() == np.ascontiguousarray(want).tobytes()

"""BevGrid holds the bird's-eye cell arithmetic that the ROI and the ground model wrote again.

Each test keeps the former inline formulation (as it stood in roi.py / ground.py) next to the
grid method that replaces it, bit for bit on generated grids and points: inside the grid,
outside on every side, on cell borders, float32 (as clouds are) and float64.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from perception_nodes.lidar.grid import BevGrid
from perception_nodes.lidar.ground import GroundConfig, GroundModel
from perception_nodes.lidar.roi import RegionOfInterest


def _in_grid_former(g, xyz_m):
    """roi.RegionOfInterest._in_grid as it was."""
    inv = np.float32(1.0 / g.cell_m)
    q = xyz_m[:, 0] - np.float32(g.x0_m)
    q *= inv
    inside = q >= 0.0
    inside &= q < g.nx
    q = np.subtract(xyz_m[:, 1], np.float32(g.y0_m), out=q)
    q *= inv
    inside &= q >= 0.0
    inside &= q < g.ny
    return inside


def _indices_former(g, xy):
    """BevGrid.indices as it was."""
    inv = np.float32(1.0 / g.cell_m)
    ix = np.floor((xy[:, 0] - np.float32(g.x0_m)) * inv).astype(np.int32)
    iy = np.floor((xy[:, 1] - np.float32(g.y0_m)) * inv).astype(np.int32)
    inside = (ix.view(np.uint32) < g.nx) & (iy.view(np.uint32) < g.ny)
    return ix, iy, inside


def _clamped_former(g, xyz_m):
    """The flat index of ground.GroundModel.height_above as it was."""
    inv = np.float32(1.0 / g.cell_m)
    fx = xyz_m[:, 0] - np.float32(g.x0_m)
    fx *= inv
    fy = xyz_m[:, 1] - np.float32(g.y0_m)
    fy *= inv
    ix = fx.astype(np.int32)
    iy = fy.astype(np.int32)
    np.clip(ix, 0, g.nx - 1, out=ix)
    np.clip(iy, 0, g.ny - 1, out=iy)
    ix *= np.int32(g.ny)
    ix += iy
    return ix


def _roi_mask_former(roi, xyz_m):
    """RegionOfInterest.mask's polygon path as it was."""
    z = xyz_m[:, 2]
    ix, iy, inside = roi.grid.indices(xyz_m[:, :2])
    inside &= z >= roi.z_min_m
    inside &= z <= roi.z_max_m
    idx = np.flatnonzero(inside)
    flat = ix[idx] * np.int32(roi.grid.ny) + iy[idx]
    keep = np.zeros(xyz_m.shape[0], dtype=bool)
    keep[idx[roi.mask_flat[flat]]] = True
    return keep


grids = st.builds(
    BevGrid,
    st.floats(-80.0, 80.0, allow_nan=False),
    st.floats(-80.0, 80.0, allow_nan=False),
    st.sampled_from([0.1, 0.25, 0.3, 1.0, 2.0]),
    st.integers(1, 200),
    st.integers(1, 200),
)


def _points(g, seed, n, dtype):
    """Points in and around the grid, some exactly on cell borders and on its edges."""
    rng = np.random.default_rng(seed)
    w, h = g.nx * g.cell_m, g.ny * g.cell_m
    x = rng.uniform(g.x0_m - 0.3 * w - 2, g.x0_m + 1.3 * w + 2, n)
    y = rng.uniform(g.y0_m - 0.3 * h - 2, g.y0_m + 1.3 * h + 2, n)
    border = rng.random(n) < 0.3
    x[border] = g.x0_m + rng.integers(-2, g.nx + 3, border.sum()) * g.cell_m
    y[border] = g.y0_m + rng.integers(-2, g.ny + 3, border.sum()) * g.cell_m
    z = rng.uniform(-3, 3, n)
    return np.stack([x, y, z], axis=1).astype(dtype)


@settings(max_examples=80, deadline=None)
@given(
    g=grids,
    seed=st.integers(0, 2**31),
    n=st.integers(0, 300),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_grid_methods_give_the_former_inline_arithmetic_bit_for_bit(g, seed, n, dtype):
    xyz = _points(g, seed, n, dtype)
    for got, want in zip(g.indices(xyz[:, :2]), _indices_former(g, xyz[:, :2]), strict=True):
        assert np.array_equal(got, want)
    inside = g.contains(xyz)
    assert np.array_equal(inside, _in_grid_former(g, xyz))
    assert np.array_equal(inside, g.indices(xyz)[2])  # the identity contains relies on
    assert np.array_equal(g.clamped_flat(xyz), _clamped_former(g, xyz))
    flat, inside = g.flat(xyz)
    ix, iy, _ = g.indices(xyz)
    assert np.array_equal(flat[inside], ix[inside] * g.ny + iy[inside])
    assert (flat[~inside] == -1).all()
    xs, ys = g.axes()
    assert np.array_equal(xs, g.x0_m + (np.arange(g.nx) + 0.5) * g.cell_m)
    assert np.array_equal(ys, g.y0_m + (np.arange(g.ny) + 0.5) * g.cell_m)
    cx, cy = g.centres()
    assert cx.shape == cy.shape == g.shape and np.array_equal(cx[:, 0], xs)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    cell=st.sampled_from([0.1, 0.2, 0.5]),
    rectangle=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_roi_and_ground_lookups_as_before(seed, cell, rectangle, dtype):
    rng = np.random.default_rng(seed)
    if rectangle:
        poly = np.array([[-10.0, -5.0], [12.0, -5.0], [12.0, 7.0], [-10.0, 7.0]])
    else:  # a triangle: the rasterised polygon path
        poly = np.array([[-10.0, -5.0], [12.0, -5.0], [1.0, 9.0]])
    roi = RegionOfInterest(poly + rng.uniform(-1, 1), z_min_m=-1.0, z_max_m=2.0, cell_m=cell)
    xyz = _points(roi.grid, seed, 400, dtype)
    want = _in_grid_former(roi.grid, xyz) if rectangle else _roi_mask_former(roi, xyz)
    if rectangle:
        want &= (xyz[:, 2] >= -1.0) & (xyz[:, 2] <= 2.0)
    assert np.array_equal(roi.mask(xyz), want)
    ground = GroundModel(BevGrid.covering(-8, -6, 9, 5, 1.0), GroundConfig())
    ground.height = rng.normal(0, 0.3, ground.grid.shape)
    idx = _clamped_former(ground.grid, xyz)
    assert np.array_equal(ground.height_above(xyz), xyz[:, 2] - ground.height.ravel()[idx])

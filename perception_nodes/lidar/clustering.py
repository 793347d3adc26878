"""Clustering on a polar BEV grid around the sensor: dilate, label connected cells, map back.

Lidar points thin out with range: beams fan apart in azimuth and a far car shows ring lines
metres apart along the range. Cells that widen with range keep the join distance matched to
the sampling: azimuth bins are a fixed angle and range bins grow as ``base + growth * r``
(equal steps of ``ln(base + growth * r) / growth``). Labelling the cell grid with
``scipy.ndimage.label`` costs a few hundred microseconds, far less than a point-wise DBSCAN.
The azimuth wraps: labels touching across -pi/+pi are merged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from perception_nodes.lidar.errors import LidarConfigError

_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class ClusterConfig:
    """Polar cells (azimuth step, range step base and growth), dilation and minimum points."""

    azimuth_step_deg: float = 0.5
    range_step_m: float = 0.25
    range_growth: float = 0.01
    range_growth_sq: float = 0.0
    dilation_steps: int = 1
    min_points: int = 5

    def __post_init__(self) -> None:
        if self.range_growth_sq < 0 or (self.range_growth_sq > 0 and self.range_growth > 0):
            raise LidarConfigError(
                'cluster range_growth and range_growth_sq: expected >= 0 and at most one of them '
                f'> 0, got {self.range_growth}, {self.range_growth_sq}'
            )
        if self.azimuth_step_deg <= 0 or self.range_step_m <= 0 or self.range_growth < 0:
            raise LidarConfigError(
                'cluster azimuth_step_deg > 0, range_step_m > 0, range_growth >= 0 expected, got '
                f'{self.azimuth_step_deg}, {self.range_step_m}, {self.range_growth}'
            )
        if self.dilation_steps < 0 or self.min_points < 1:
            raise LidarConfigError(
                'cluster dilation_steps >= 0, min_points >= 1 expected, got '
                f'{self.dilation_steps}, {self.min_points}'
            )

    def range_index(self, range_m: np.ndarray) -> np.ndarray:
        """Range bin of each distance; bins are ``base + growth * r + growth_sq * r**2`` wide."""
        if self.range_growth_sq > 0:  # integral of dr / (a + b r^2)
            a, b = self.range_step_m, self.range_growth_sq
            k = np.sqrt(b / a)
            return np.floor(np.arctan(range_m * k) / (a * k)).astype(np.int64)
        if self.range_growth == 0:
            return np.floor(range_m / self.range_step_m).astype(np.int64)
        g = self.range_growth
        base = np.log(self.range_step_m) / g
        return np.floor(np.log(self.range_step_m + g * range_m) / g - base).astype(np.int64)


def _dilate(grid: np.ndarray, steps: int) -> np.ndarray:
    """3x3 dilation by shifted ORs (cheaper than ndimage); azimuth (axis 1) wraps. The wrap is
    two column ORs, not ``np.roll`` (which copies the whole grid twice): 170 against 218 us on
    the 150 x 720 grid."""
    for _ in range(steps):
        g = grid.copy()
        g[1:] |= grid[:-1]
        g[:-1] |= grid[1:]
        h = g.copy()
        h[:, 1:] |= g[:, :-1]
        h[:, :-1] |= g[:, 1:]
        h[:, 0] |= g[:, -1]
        h[:, -1] |= g[:, 0]
        grid = h
    return grid


def join_pairs(n_labels: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Components 0..C-1 of labels 1..n_labels joined pairwise (label a[k] with b[k]),
    numbered by their smallest label: ``scipy.sparse.csgraph.connected_components``' numbering.
    The pairs are few (the azimuth seam: one per row at most; vehicle pieces: a handful a
    frame): a union-find over them costs microseconds, a sparse graph and
    ``connected_components`` a few hundred."""
    root = list(range(n_labels + 1))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for i, j in set(zip(a.tolist(), b.tolist(), strict=True)):
        ri, rj = find(i), find(j)
        if ri != rj:
            root[max(ri, rj)] = min(ri, rj)
    roots = np.array([find(i) for i in range(1, n_labels + 1)])
    _, comp = np.unique(roots, return_inverse=True)
    return comp


def cluster_points(xy_m: np.ndarray, config: ClusterConfig) -> tuple[np.ndarray, int]:
    """Label each point 0..K-1, or -1 when its cluster has fewer than ``min_points`` points."""
    n = xy_m.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    n_az = int(np.ceil(360.0 / config.azimuth_step_deg))
    az = np.arctan2(xy_m[:, 1], xy_m[:, 0])
    ia = np.floor((az + np.pi) * (n_az / (2.0 * np.pi))).astype(np.int64)
    np.clip(ia, 0, n_az - 1, out=ia)
    ir = config.range_index(np.hypot(xy_m[:, 0], xy_m[:, 1]))
    pad = config.dilation_steps
    r_lo = int(ir.min()) - pad
    ir -= r_lo
    occ = np.zeros((int(ir.max()) + pad + 1, n_az), dtype=bool)
    occ[ir, ia] = True
    grown = _dilate(occ, config.dilation_steps)
    # Only the columns holding grown cells are labelled, each run of them followed by one
    # empty column that keeps it apart from the next: no 8-path crosses an empty column, so
    # the components are those of the whole grid, and as the cells keep their order in each
    # row, so do the label numbers. A frame of a few objects fills tens of the 720 columns.
    used = grown.any(axis=0)
    kept = used.copy()
    kept[1:] |= used[:-1]
    cols = np.flatnonzero(kept)
    cell_labels, n_labels = ndimage.label(grown[:, cols], structure=_EIGHT)
    col_of = np.cumsum(kept) - 1
    point_labels = cell_labels[ir, col_of[ia]]
    if used[0] and used[-1]:  # both sides of the -pi/+pi seam: join what touches across it
        first, last = cell_labels[:, 0], cell_labels[:, -1]
        wrap = (first > 0) & (last > 0)
    else:
        wrap = np.zeros(1, dtype=bool)
    if wrap.any():
        comp = join_pairs(n_labels, first[wrap], last[wrap])
        cell_comp = np.concatenate([[-1], comp])
        labels = cell_comp[point_labels]
        n_labels = int(comp.max()) + 1
    else:
        labels = point_labels.astype(np.int64) - 1
    counts = np.bincount(labels, minlength=n_labels)
    keep = counts >= config.min_points
    remap = np.full(n_labels, -1, dtype=np.int64)
    remap[keep] = np.arange(int(keep.sum()))
    return remap[labels], int(keep.sum())

"""Oriented bounding boxes for many clusters at once: L-shape fitting by angle search.

For every cluster and every candidate angle the points are projected on the rotated axes and
the extents taken with ``np.minimum/maximum.reduceat`` over the points sorted by cluster, so all
clusters are fitted in a handful of array passes: a coarse sweep over [0, pi/2), then a fine
sweep around each cluster's best angle. The box's x axis (yaw) is its longer side; yaw is
ambiguous by pi, which the tracker resolves from the motion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception_nodes.lidar.rows import take_rows

COARSE_STEPS = 15
FINE_STEPS = 13
CLOSENESS_FLOOR_M = 0.05
TIE_FRACTION = 0.98
SEARCH_POINTS = 96
# the search angles and their cosines and sines: the same every frame, built once
_COARSE = np.arange(COARSE_STEPS) * (0.5 * np.pi / COARSE_STEPS)
_COARSE_COS, _COARSE_SIN = np.cos(_COARSE)[:, None], np.sin(_COARSE)[:, None]
_STEP = 0.5 * np.pi / COARSE_STEPS
_OFFSETS = np.linspace(-_STEP, _STEP, FINE_STEPS)
_OFFSETS_COS, _OFFSETS_SIN = np.cos(_OFFSETS)[:, None], np.sin(_OFFSETS)[:, None]


@dataclass(frozen=True)
class Boxes:
    """K boxes as arrays: centre (m), length/width/height (m), yaw (rad), points per box."""

    center_m: np.ndarray  # (K, 3); z is the middle of the box
    length_m: np.ndarray
    width_m: np.ndarray
    height_m: np.ndarray
    yaw_rad: np.ndarray
    n_points: np.ndarray
    centroid_m: np.ndarray  # (K, 2) mean of the points in x, y

    def __len__(self) -> int:
        return int(self.length_m.shape[0])

    def select(self, keep: np.ndarray) -> Boxes:
        """The boxes where ``keep`` (a mask or index array) selects."""
        return Boxes(
            self.center_m[keep],
            self.length_m[keep],
            self.width_m[keep],
            self.height_m[keep],
            self.yaw_rad[keep],
            self.n_points[keep],
            self.centroid_m[keep],
        )

    def sight_angle(self, sensor_xy_m: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
        """(K,) angle from the line of sight (sensor to centre) to each box's long axis, rad."""
        rel = self.center_m[:, :2] - np.asarray(sensor_xy_m)
        return self.yaw_rad - np.arctan2(rel[:, 1], rel[:, 0])

    def bev(self) -> np.ndarray:
        """(K, 5) rows of cx, cy, length, width, yaw."""
        return np.column_stack(
            [self.center_m[:, 0], self.center_m[:, 1], self.length_m, self.width_m, self.yaw_rad]
        )


def _extents(
    u: np.ndarray, v: np.ndarray, starts: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-cluster extents of points already rotated into (u, v) (rows = candidate angles;
    columns sorted by cluster, ``counts`` of each from ``starts``) and the closeness score of
    the rectangle.

    Closeness (Zhang et al., "Efficient L-shape fitting", 2017) sums 1 / max(d, d0) over the
    points, d being a point's distance to the nearest rectangle edge: it rewards the angle
    whose edges the points hug, which a sparse far L-shape needs more than the least area.
    """
    umin = np.minimum.reduceat(u, starts, axis=-1)
    umax = np.maximum.reduceat(u, starts, axis=-1)
    vmin = np.minimum.reduceat(v, starts, axis=-1)
    vmax = np.maximum.reduceat(v, starts, axis=-1)
    # the points are sorted by cluster: repeating each cluster's extent ``counts`` times gives
    # the same values as a gather by label (np.take) at a third of its cost
    du = np.minimum(u - np.repeat(umin, counts, axis=-1), np.repeat(umax, counts, axis=-1) - u)
    dv = np.minimum(v - np.repeat(vmin, counts, axis=-1), np.repeat(vmax, counts, axis=-1) - v)
    close = np.minimum(du, dv, out=du)
    np.maximum(close, CLOSENESS_FLOOR_M, out=close)
    np.reciprocal(close, out=close)
    score = np.add.reduceat(close, starts, axis=-1)
    return umin, umax, vmin, vmax, score


def _starts(counts: np.ndarray) -> np.ndarray:
    """Index of each cluster's first point in points sorted by cluster (``reduceat``'s
    indices): the exclusive cumulative sum, without concatenating a list to an array."""
    starts = np.zeros(counts.size, dtype=np.intp)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def _rotate(
    x: np.ndarray, y: np.ndarray, c: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) in axes turned by the angle of cosine ``c`` and sine ``s`` (broadcasting)."""
    return x * c + y * s, y * c - x * s


def _pick(score: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Per cluster (column), the angle of least area among those within 2 % of the best
    closeness: closeness saturates when every point hugs an edge, area then decides."""
    near_best = score >= TIE_FRACTION * score.max(axis=0, keepdims=True)
    return np.argmin(np.where(near_best, area, np.inf), axis=0)


def fit_boxes(
    xyz_m: np.ndarray, labels: np.ndarray, n_clusters: int, ground_z_m: np.ndarray
) -> Boxes:
    """Fit one box per label 0..n_clusters-1 (labels < 0 ignored).

    ``ground_z_m`` is the ground height under each point; the box spans from the cluster's
    mean ground height to its highest point.
    """
    if n_clusters == 0:
        z = np.zeros(0)
        return Boxes(np.zeros((0, 3)), z, z, z, z, np.zeros(0, dtype=np.int64), np.zeros((0, 2)))
    kept = np.flatnonzero(labels >= 0)
    rows = kept[np.argsort(labels[kept], kind='stable')]  # one gather per array, not two
    pts = take_rows(xyz_m, rows).astype(np.float64)
    lab = labels[rows]
    gz = ground_z_m[rows]
    counts = np.bincount(lab, minlength=n_clusters)
    starts = _starts(counts)
    # centre each cluster on its mean for numerical comfort; as the points are sorted by
    # cluster, a per-cluster value reaches its points by np.repeat (no gather by label)
    mean_xy = np.add.reduceat(pts[:, :2], starts, axis=0) / counts[:, None]
    x = pts[:, 0] - np.repeat(mean_xy[:, 0], counts)
    y = pts[:, 1] - np.repeat(mean_xy[:, 1], counts)

    # the angle search runs on at most SEARCH_POINTS points per cluster (an even stride);
    # the extents at the chosen angle use every point
    if counts.max() <= SEARCH_POINTS:  # every point searched: no subsample to build
        xs, ys, counts_s, starts_s = x, y, counts, starts
    else:
        rank = np.arange(lab.size) - starts[lab]
        stride = np.maximum(1, -(-counts // SEARCH_POINTS))
        sub = rank % stride[lab] == 0
        xs, ys = x[sub], y[sub]
        counts_s = np.bincount(lab[sub], minlength=n_clusters)
        starts_s = _starts(counts_s)
    u, v = _rotate(xs[None], ys[None], _COARSE_COS, _COARSE_SIN)
    umin, umax, vmin, vmax, score = _extents(u, v, starts_s, counts_s)
    best = _COARSE[_pick(score, (umax - umin) * (vmax - vmin))]
    # each fine angle is best + offset: rotate once by best (per point), then by the offset
    # (a scalar per row) — no trigonometry or gathers per point and angle
    u0, v0 = _rotate(xs, ys, np.repeat(np.cos(best), counts_s), np.repeat(np.sin(best), counts_s))
    u, v = _rotate(u0[None], v0[None], _OFFSETS_COS, _OFFSETS_SIN)
    umin, umax, vmin, vmax, score = _extents(u, v, starts_s, counts_s)
    theta = best[None, :] + _OFFSETS[:, None]  # (fine, K)
    th = theta[_pick(score, (umax - umin) * (vmax - vmin)), np.arange(n_clusters)]
    c, s = np.cos(th), np.sin(th)
    u, v = _rotate(x, y, np.repeat(c, counts), np.repeat(s, counts))
    umin, umax, vmin, vmax, _ = _extents(u, v, starts, counts)
    du, dv = umax - umin, vmax - vmin
    cu, cv = 0.5 * (umax + umin), 0.5 * (vmax + vmin)
    cx = mean_xy[:, 0] + cu * c - cv * s
    cy = mean_xy[:, 1] + cu * s + cv * c
    long_u = du >= dv
    length = np.where(long_u, du, dv)
    width = np.where(long_u, dv, du)
    yaw = np.where(long_u, th, th + 0.5 * np.pi)
    yaw = (yaw + np.pi) % (2.0 * np.pi) - np.pi
    ztop = np.maximum.reduceat(pts[:, 2], starts)
    zbottom = np.add.reduceat(gz, starts) / counts
    height = np.maximum(ztop - zbottom, 0.0)
    center = np.column_stack([cx, cy, zbottom + 0.5 * height])
    return Boxes(center, length, width, height, yaw, counts.astype(np.int64), mean_xy)

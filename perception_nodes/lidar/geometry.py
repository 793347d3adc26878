"""Planar geometry for boxes and regions: corners, point-in-polygon, convex clipping, BEV IoU.

Everything in metres and radians, yaw 0 = +x, counter-clockwise (REP 103).
"""

from __future__ import annotations

import numpy as np


def wrap_angle(angle_rad: np.ndarray | float) -> np.ndarray | float:
    """Wrap to [-pi, pi)."""
    return (np.asarray(angle_rad) + np.pi) % (2.0 * np.pi) - np.pi


def box_corners(
    cx_m: np.ndarray,
    cy_m: np.ndarray,
    length_m: np.ndarray,
    width_m: np.ndarray,
    yaw_rad: np.ndarray,
) -> np.ndarray:
    """BEV corners of oriented boxes, (K, 4, 2), counter-clockwise from front-left... rear."""
    cx, cy = np.atleast_1d(cx_m), np.atleast_1d(cy_m)
    half_l, half_w = np.atleast_1d(length_m) / 2.0, np.atleast_1d(width_m) / 2.0
    c, s = np.cos(np.atleast_1d(yaw_rad)), np.sin(np.atleast_1d(yaw_rad))
    local = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])  # CCW
    lx = local[None, :, 0] * half_l[:, None]
    ly = local[None, :, 1] * half_w[:, None]
    x = cx[:, None] + c[:, None] * lx - s[:, None] * ly
    y = cy[:, None] + s[:, None] * lx + c[:, None] * ly
    return np.stack([x, y], axis=-1)


def points_in_polygon(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd rule for (N, 2) points against one simple polygon (M, 2); vectorised over points.

    Points exactly on an edge may fall either way; callers use it for regions, not for exact
    boundaries.
    """
    poly = np.asarray(polygon, dtype=np.float64)
    x, y = xy[:, 0], xy[:, 1]
    inside = np.zeros(xy.shape[0], dtype=bool)
    x0, y0 = poly[-1]
    for x1, y1 in poly:
        crosses = (y1 > y) != (y0 > y)
        if np.any(crosses):
            # x of the edge at the point's y; only evaluated where the edge straddles y
            t = (y[crosses] - y1) / (y0 - y1)
            x_edge = x1 + t * (x0 - x1)
            flip = np.zeros_like(inside)
            flip[crosses] = x[crosses] < x_edge
            inside ^= flip
        x0, y0 = x1, y1
    return inside


def polygon_raster(polygon: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``points_in_polygon`` of every grid point (xs[i], ys[j]), as an (len(xs), len(ys)) mask.

    ``xs`` must be increasing. Same even-odd rule and the same edge arithmetic, so the same
    answer as testing the grid point by point; but per grid row (one y) only the E edge
    crossings are computed, and the number of crossings right of each x is a cumulative
    count over the row: O(rows x edges + cells) instead of O(cells x edges).
    """
    poly = np.asarray(polygon, dtype=np.float64)
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    x1, y1 = poly[:, 0], poly[:, 1]
    x0, y0 = np.roll(x1, 1), np.roll(y1, 1)  # edge k runs from vertex k-1 to vertex k
    y = ys[:, None]
    rows, edges = np.nonzero((y1[None, :] > y) != (y0[None, :] > y))
    t = (ys[rows] - y1[edges]) / (y0[edges] - y1[edges])
    x_edge = x1[edges] + t * (x0[edges] - x1[edges])
    # a crossing flips the points strictly left of it: the first ``k`` of the row; the
    # parity of the flips right of each x is a reversed running XOR down the columns
    k = np.searchsorted(xs, x_edge, side='left')
    flips = np.zeros((len(xs) + 1, len(ys)), dtype=np.uint8)
    np.bitwise_xor.at(flips, (k, rows), 1)
    inside = np.bitwise_xor.accumulate(flips[::-1], axis=0)[::-1]  # flips at column >= i
    return inside[1:].view(bool)


def polygon_area(polygon: np.ndarray) -> float:
    """Signed area (shoelace); positive for counter-clockwise vertices."""
    if len(polygon) < 3:
        return 0.0
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def clip_convex(subject: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Sutherland–Hodgman: ``subject`` polygon clipped by the convex CCW polygon ``clip``."""
    output = [tuple(p) for p in subject]
    n = len(clip)
    for i in range(n):
        if not output:
            break
        ax, ay = clip[i]
        bx, by = clip[(i + 1) % n]
        ex, ey = bx - ax, by - ay
        inputs, output = output, []

        def side(p: tuple[float, float], ax=ax, ay=ay, ex=ex, ey=ey) -> float:
            return ex * (p[1] - ay) - ey * (p[0] - ax)

        prev = inputs[-1]
        prev_side = side(prev)
        for cur in inputs:
            cur_side = side(cur)
            if cur_side >= 0.0:
                if prev_side < 0.0:
                    output.append(_intersect(prev, cur, prev_side, cur_side))
                output.append(cur)
            elif prev_side >= 0.0:
                output.append(_intersect(prev, cur, prev_side, cur_side))
            prev, prev_side = cur, cur_side
    return np.array(output, dtype=np.float64).reshape(-1, 2)


def _intersect(
    p: tuple[float, float], q: tuple[float, float], sp: float, sq: float
) -> tuple[float, float]:
    t = sp / (sp - sq)
    return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))


def bev_iou(box_a: np.ndarray, box_b: np.ndarray) -> float:
    """IoU of two oriented BEV boxes given as (cx, cy, length, width, yaw)."""
    ca = box_corners(*[np.array([v]) for v in box_a])[0]
    cb = box_corners(*[np.array([v]) for v in box_b])[0]
    inter = abs(polygon_area(clip_convex(ca, cb)))
    union = box_a[2] * box_a[3] + box_b[2] * box_b[3] - inter
    return min(1.0, inter / union) if union > 0.0 else 0.0


def bev_iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Pairwise BEV IoU, (A, B); pairs whose circumcircles do not overlap are skipped as 0."""
    out = np.zeros((len(boxes_a), len(boxes_b)))
    if len(boxes_a) == 0 or len(boxes_b) == 0:
        return out
    ra = 0.5 * np.hypot(boxes_a[:, 2], boxes_a[:, 3])
    rb = 0.5 * np.hypot(boxes_b[:, 2], boxes_b[:, 3])
    d = np.hypot(
        boxes_a[:, None, 0] - boxes_b[None, :, 0], boxes_a[:, None, 1] - boxes_b[None, :, 1]
    )
    for i, j in zip(*np.nonzero(d < ra[:, None] + rb[None, :]), strict=True):
        out[i, j] = bev_iou(boxes_a[i], boxes_b[j])
    return out

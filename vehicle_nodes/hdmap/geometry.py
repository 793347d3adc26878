"""Polyline geometry in local ENU metres: arc length, resampling, projection of points.

Every function takes (N, 2) float arrays and is vectorised over segments, because map
matching projects a fix onto a few candidate centre lines per epoch and must stay well
under a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def arc_length(points: FloatArray) -> FloatArray:
    """Cumulative distance along ``points`` (N, 2), starting at 0; shape (N,)."""
    seg = np.hypot(*np.diff(points, axis=0).T)
    return np.concatenate(([0.0], np.cumsum(seg)))


def interpolate(points: FloatArray, s_table: FloatArray, s_m: FloatArray) -> FloatArray:
    """Points at arc lengths ``s_m`` along the polyline (clamped to its ends); shape (M, 2)."""
    x = np.interp(s_m, s_table, points[:, 0])
    y = np.interp(s_m, s_table, points[:, 1])
    return np.column_stack((x, y))


def resample(points: FloatArray, step_m: float) -> FloatArray:
    """Evenly spaced points at most ``step_m`` apart; keeps both ends exactly."""
    s = arc_length(points)
    total = float(s[-1])
    count = max(2, int(np.ceil(total / step_m)) + 1)
    return interpolate(points, s, np.linspace(0.0, total, count))


def resample_count(points: FloatArray, count: int) -> FloatArray:
    """``count`` points evenly spaced in arc length (both ends kept)."""
    s = arc_length(points)
    return interpolate(points, s, np.linspace(0.0, float(s[-1]), count))


def segment_headings(points: FloatArray) -> FloatArray:
    """ENU yaw of each segment (N-1,), rad in (-pi, pi]."""
    d = np.diff(points, axis=0)
    return np.arctan2(d[:, 1], d[:, 0])


def segment_crossings(
    p0: FloatArray, seg: FloatArray, a: FloatArray, d: FloatArray
) -> tuple[NDArray[np.bool_], FloatArray, FloatArray, FloatArray]:
    """Where segments ``p0 + t seg`` cross segments ``a + r d`` (arrays of any shapes that
    broadcast, x and y on the last axis): the crossing mask (both 0 <= t, r <= 1, not
    parallel), ``t``, |sin| of the crossing angle and the first segments' lengths."""
    den = seg[..., 0] * d[..., 1] - seg[..., 1] * d[..., 0]
    wx, wy = a[..., 0] - p0[..., 0], a[..., 1] - p0[..., 1]
    seg_len = np.hypot(seg[..., 0], seg[..., 1])
    with np.errstate(divide='ignore', invalid='ignore'):
        t = (wx * d[..., 1] - wy * d[..., 0]) / den  # along the first segment
        r = (wx * seg[..., 1] - wy * seg[..., 0]) / den  # along the second
        sin = np.abs(den) / np.maximum(seg_len * np.hypot(d[..., 0], d[..., 1]), 1e-12)
    hit = (np.abs(den) > 1e-9) & (t >= 0) & (t <= 1) & (r >= 0) & (r <= 1)
    return hit, t, sin, seg_len


def wrap_angle(angle_rad: FloatArray | float) -> FloatArray | float:
    """Angle(s) wrapped to [-pi, pi)."""
    return (np.asarray(angle_rad) + np.pi) % (2.0 * np.pi) - np.pi


@dataclass(frozen=True)
class Projection:
    """Where a point falls on a polyline."""

    s_m: float  # arc length of the foot point from the start
    lateral_m: float  # signed distance, left of the direction of travel positive
    distance_m: float  # unsigned distance to the foot point
    segment: int  # index of the segment holding the foot point
    heading_rad: float  # yaw of that segment


def _feet(
    points: FloatArray, x: float, y: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per segment: direction d, squared length (1 for a zero-length one), (x, y) relative to
    the segment start (px, py), and the clamped parameter t of the foot point (start + t d)."""
    a = points[:-1]
    d = points[1:] - a
    seg_len2 = np.einsum('ij,ij->i', d, d)
    seg_len2 = np.where(seg_len2 > 0.0, seg_len2, 1.0)
    px = x - a[:, 0]
    py = y - a[:, 1]
    t = np.clip((px * d[:, 0] + py * d[:, 1]) / seg_len2, 0.0, 1.0)
    return d, seg_len2, px, py, t


def project(points: FloatArray, s_table: FloatArray, x: float, y: float) -> Projection:
    """Project (x, y) onto the polyline: nearest foot point over all segments.

    Points beyond the ends project onto the end segments' extensions only up to the end
    point itself (arc length clamped), so ``distance_m`` grows off the ends.
    """
    d, seg_len2, px, py, t = _feet(points, x, y)
    fx = px - t * d[:, 0]
    fy = py - t * d[:, 1]
    dist2 = fx * fx + fy * fy
    i = int(np.argmin(dist2))
    seg_len = float(np.sqrt(seg_len2[i]))
    cross = d[i, 0] * py[i] - d[i, 1] * px[i]
    dist = float(np.sqrt(dist2[i]))
    lateral = float(np.copysign(dist, cross)) if dist > 0.0 else 0.0
    s = float(s_table[i] + t[i] * seg_len)
    heading = float(np.arctan2(d[i, 1], d[i, 0]))
    return Projection(s_m=s, lateral_m=lateral, distance_m=dist, segment=i, heading_rad=heading)


def project_many(
    points: FloatArray, s_table: FloatArray, xy: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Arc length and distance of the nearest foot point of each of ``xy`` (M, 2) on the
    polyline, as ``project`` gives them one by one; shapes (M,), (M,). One (M, N-1) pass."""
    a = points[:-1]
    d = points[1:] - a
    seg_len2 = np.einsum('ij,ij->i', d, d)
    seg_len2 = np.where(seg_len2 > 0.0, seg_len2, 1.0)
    px = xy[:, 0:1] - a[:, 0]
    py = xy[:, 1:2] - a[:, 1]
    t = np.clip((px * d[:, 0] + py * d[:, 1]) / seg_len2, 0.0, 1.0)
    fx = px - t * d[:, 0]
    fy = py - t * d[:, 1]
    dist2 = fx * fx + fy * fy
    i = np.argmin(dist2, axis=1)
    rows = np.arange(len(xy))
    s = s_table[i] + t[rows, i] * np.sqrt(seg_len2[i])
    return s, np.sqrt(dist2[rows, i])


def polyline_distance(points: FloatArray, x: float, y: float) -> float:
    """Shortest distance from (x, y) to the polyline."""
    d, _, px, py, t = _feet(points, x, y)
    return float(np.sqrt(np.min((px - t * d[:, 0]) ** 2 + (py - t * d[:, 1]) ** 2)))


def offset_polyline(points: FloatArray, offset_m: float) -> FloatArray:
    """The polyline shifted sideways by ``offset_m`` (left positive), using vertex normals.

    Used by the map generator to draw lane boundaries beside a reference line.
    """
    d = np.diff(points, axis=0)
    n = np.column_stack((-d[:, 1], d[:, 0]))
    n /= np.linalg.norm(n, axis=1)[:, None]
    vn = np.empty_like(points)
    vn[0] = n[0]
    vn[-1] = n[-1]
    if len(points) > 2:
        mid = n[:-1] + n[1:]
        mid /= np.linalg.norm(mid, axis=1)[:, None]
        # Keep the offset distance exact at corners: scale by 1/cos(half angle).
        cos_half = np.einsum('ij,ij->i', mid, n[1:])
        vn[1:-1] = mid / np.clip(cos_half, 0.2, None)[:, None]
    return points + offset_m * vn


def simplify(points: FloatArray, tolerance_m: float) -> FloatArray:
    """Douglas-Peucker: the fewest vertices keeping every point within ``tolerance_m``."""
    keep = np.zeros(len(points), dtype=bool)
    keep[[0, -1]] = True
    stack = [(0, len(points) - 1)]
    while stack:
        i, j = stack.pop()
        if j <= i + 1:
            continue
        a, b = points[i], points[j]
        d = b - a
        rel = points[i + 1 : j] - a
        t = np.clip(rel @ d / max(float(d @ d), 1e-18), 0.0, 1.0)
        dist = np.hypot(rel[:, 0] - t * d[0], rel[:, 1] - t * d[1])
        k = int(np.argmax(dist))
        if dist[k] > tolerance_m:
            keep[i + 1 + k] = True
            stack.extend(((i, i + 1 + k), (i + 1 + k, j)))
    return points[keep]

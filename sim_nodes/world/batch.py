"""Batched polyline helpers: many padded polylines evaluated at once, without Python loops."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_ROW_OFFSET = 1.0e6  # larger than any route length, so the flattened s stays sorted


class PolylineBatch:
    """N polylines padded to the same vertex count; interpolate each at its own arc length."""

    def __init__(self, lines: Sequence[np.ndarray], lengths: Sequence[np.ndarray]) -> None:
        n = len(lines)
        k = max((len(line) for line in lines), default=2)
        self.points = np.zeros((n, k, 2))
        self.s = np.zeros((n, k))
        for i, (line, s) in enumerate(zip(lines, lengths, strict=True)):
            m = len(line)
            self.points[i, :m] = line
            self.points[i, m:] = line[-1]
            self.s[i, :m] = s
            self.s[i, m:] = s[-1] + 1e-3 * np.arange(1, k - m + 1)
        self.count = n
        self.vertices = k
        self._flat_s = (self.s + _ROW_OFFSET * np.arange(n)[:, None]).ravel()
        self._flat_points = self.points.reshape(-1, 2)

    def at(self, rows: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points (M, 2) and tangent headings (M,) of ``rows`` at arc lengths ``s`` (clamped)."""
        rows = np.asarray(rows, dtype=np.int64)
        s = np.clip(s, self.s[rows, 0], self.s[rows, -1])
        q = s + _ROW_OFFSET * rows
        idx = np.searchsorted(self._flat_s, q, side='right')
        lo_bound = rows * self.vertices
        idx = np.clip(idx, lo_bound + 1, lo_bound + self.vertices - 1)
        s0, s1 = self._flat_s[idx - 1], self._flat_s[idx]
        p0, p1 = self._flat_points[idx - 1], self._flat_points[idx]
        t = np.where(s1 > s0, (q - s0) / np.maximum(s1 - s0, 1e-12), 0.0)
        pts = p0 + (p1 - p0) * t[:, None]
        d = p1 - p0
        return pts, np.arctan2(d[:, 1], d[:, 0])

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For every polyline and every point: arc length of the closest point and distance.

        Returns two (N, M) arrays. Cost O(N K M): use it for tens of points, not thousands.
        """
        a = self.points[:, :-1, None, :]  # (N, K-1, 1, 2)
        b = self.points[:, 1:, None, :]
        ab = b - a
        ap = points[None, None, :, :] - a  # (N, K-1, M, 2)
        denom = np.maximum((ab * ab).sum(-1), 1e-12)
        t = np.clip((ap * ab).sum(-1) / denom, 0.0, 1.0)
        closest = a + ab * t[..., None]
        dist = np.linalg.norm(points[None, None, :, :] - closest, axis=-1)
        seg_len = np.sqrt(denom)
        s = self.s[:, :-1, None] + t * seg_len
        best = np.argmin(dist, axis=1)  # (N, M)
        take = np.take_along_axis
        return take(s, best[:, None, :], 1)[:, 0], take(dist, best[:, None, :], 1)[:, 0]

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
        self._s_first, self._s_last = self.s[:, 0].copy(), self.s[:, -1].copy()
        self._segments: tuple[np.ndarray, ...] | None = None

    def at(self, rows: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points (M, 2) and tangent headings (M,) of ``rows`` at arc lengths ``s`` (clamped)."""
        rows = np.asarray(rows, dtype=np.int64)
        # np.minimum(np.maximum()) is np.clip without its wrappers (~4 us a call)
        s = np.minimum(np.maximum(s, self._s_first[rows]), self._s_last[rows])
        q = s + _ROW_OFFSET * rows
        idx = np.searchsorted(self._flat_s, q, side='right')
        lo_bound = rows * self.vertices
        idx = np.minimum(np.maximum(idx, lo_bound + 1), lo_bound + (self.vertices - 1))
        s0, s1 = self._flat_s[idx - 1], self._flat_s[idx]
        p0, p1 = self._flat_points[idx - 1], self._flat_points[idx]
        t = np.where(s1 > s0, (q - s0) / np.maximum(s1 - s0, 1e-12), 0.0)
        pts = p0 + (p1 - p0) * t[:, None]
        d = p1 - p0
        return pts, np.arctan2(d[:, 1], d[:, 0])

    def segments(self) -> tuple[np.ndarray, ...]:
        """Per polyline and segment (N, K-1, 1, ...): start a, direction ab = b - a, the squared
        length (floored at 1e-12), its square root, the arc length at a. The polylines do not
        change, so they are worked out once (``project`` and the crosswalk test use them every
        step)."""
        if self._segments is None:
            a = self.points[:, :-1, None, :]
            ab = self.points[:, 1:, None, :] - a
            denom = np.maximum((ab * ab).sum(-1), 1e-12)
            self._segments = (a, ab, denom, np.sqrt(denom), self.s[:, :-1, None])
        return self._segments

    def project(
        self, points: np.ndarray, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """For every polyline (of ``rows``, default all) and every point: arc length of the
        closest point and distance.

        Returns two (N, M) arrays. Cost O(N K M): use it for tens of points, not thousands.
        """
        a, ab, denom, seg_len, s0 = self.segments()
        if rows is not None:
            a, ab, denom, seg_len, s0 = a[rows], ab[rows], denom[rows], seg_len[rows], s0[rows]
        ap = points[None, None, :, :] - a  # (N, K-1, M, 2)
        t = np.minimum(np.maximum((ap * ab).sum(-1) / denom, 0.0), 1.0)
        delta = points[None, None, :, :] - (a + ab * t[..., None])
        dist = np.sqrt((delta * delta).sum(-1))  # np.linalg.norm(delta, axis=-1), as it does it
        s = s0 + t * seg_len
        best = np.argmin(dist, axis=1)  # (N, M)
        n_idx, m_idx = np.arange(len(a))[:, None], np.arange(points.shape[0])[None, :]
        return s[n_idx, best, m_idx], dist[n_idx, best, m_idx]

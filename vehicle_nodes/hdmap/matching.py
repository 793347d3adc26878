"""Lane-level map matching: an HMM over candidate lanelets, decoded online (Viterbi).

Each fix (x, y in the map frame, yaw, speed, position sigma) gives the candidates: every
drivable lanelet with a centre-line segment within the search radius, each projected onto
its centre line in one vectorised pass over the segments the k-d tree returns.

- Emission: the vehicle lies uniformly across the lane, seen through Gaussian position noise
  (``log Φ((w/2 - |d|)/σ) - log w``, d = distance to the centre line, which also grows past
  the lanelet's ends), times a von Mises term on the heading difference when yaw is known.
- Transition (Newson & Krumm): the distance along the lanes between the two matches, from
  the routing graph (same lanelet, successors up to two deep, predecessors, neighbours),
  against the distance travelled (speed × dt, or the displacement): Laplace with scale β;
  a lane change costs ``log p_lane_change`` (ten times less across a solid line); lanelets
  the graph does not connect get ``log p_jump`` so the filter recovers from a wrong lock.
- Viterbi gives the reported lanelet; the forward probabilities give its confidence. A short
  window of back-pointers is kept for ``smoothed_key``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy._core.umath import clip as _clip  # np.clip's own ufunc, without its wrappers
from scipy.spatial import cKDTree
from scipy.special import log_ndtr

from v2x_runtime.frozen import assemble
from vehicle_nodes.hdmap.lanemap import HdMap


@dataclass(frozen=True)
class MatcherConfig:
    min_radius_m: float = 6.0
    radius_sigmas: float = 4.0  # search radius = max(min_radius_m, half lane + k σ)
    max_half_lane_m: float = 5.0  # caps the half lane above: maps have odd 100 m "lanes"
    heading_sigma_floor_rad: float = 0.15
    min_speed_for_heading_mps: float = 0.5
    beta_m: float = 1.0  # Laplace scale of |lane distance - travelled|, plus 2 σ
    p_lane_change: float = 0.02
    p_jump: float = 1e-5
    window: int = 20
    max_candidates: int = 12  # the best by emission; bounds the work per fix on dense maps


@dataclass(frozen=True)
class LaneMatch:
    """One matched fix; mirrors ``v2x_stack/msg/LanePosition`` (key: the directed lanelet)."""

    lanelet_key: int
    lanelet_id: int
    arc_length_m: float
    lateral_offset_m: float
    lane_heading_rad: float
    lane_width_m: float
    speed_limit_mps: float
    stop_line_distance_m: float
    signal_group: int
    intersection_id: int
    confidence: float
    candidates: int


# How far beyond the search disc a vehicle's segment window reaches: at 10 Hz and 20 m/s a
# window serves 2 fixes before the k-d tree is asked again.
WINDOW_MARGIN_M = 4.0

OFF_MAP = LaneMatch(0, -1, math.nan, math.nan, math.nan, math.nan, math.nan, math.inf, 0, -1,
                    0.0, 0)  # fmt: skip


def _logsumexp(a: np.ndarray, axis: int | None = None) -> np.ndarray:
    """log(sum(exp(a))) without scipy's array-API overhead (this runs every fix); ``axis``
    None or 0, on ndarray methods (no numpy dispatch wrappers)."""
    if axis is None:
        m = float(a.max())
        if not math.isfinite(m):
            m = 0.0
        return np.asarray(math.log(float(np.exp(a - m).sum())) + m)
    m = a.max(axis=0)
    m[~np.isfinite(m)] = 0.0
    return np.log(np.exp(a - m).sum(axis=0)) + m


class _Segments:
    """All drivable centre-line segments as flat arrays, with a k-d tree on their midpoints."""

    def __init__(self, hd: HdMap) -> None:
        a, d, s0, w0, w1, owner, total = [], [], [], [], [], [], []
        for ll in hd.lanelets.values():
            if not ll.drivable:
                continue
            pts = ll.centre_xy
            a.append(pts[:-1])
            d.append(np.diff(pts, axis=0))
            s0.append(ll.s_m[:-1])
            w0.append(ll.width_m[:-1])
            w1.append(ll.width_m[1:])
            owner.append(np.full(len(pts) - 1, ll.key, dtype=np.int64))
            total.append(np.full(len(pts) - 1, ll.length_m))
        self.a = np.concatenate(a)
        self.d = np.concatenate(d)
        self.len2 = np.maximum(np.einsum('ij,ij->i', self.d, self.d), 1e-12)
        self.len = np.sqrt(self.len2)
        self.heading = np.arctan2(self.d[:, 1], self.d[:, 0])
        self.s0 = np.concatenate(s0)
        self.w0 = np.concatenate(w0)
        self.w1 = np.concatenate(w1)
        self.owner = np.concatenate(owner)
        self.total = np.concatenate(total)
        self.max_seg_m = float(self.len.max())
        self.tree = cKDTree(self.a + 0.5 * self.d)

    def window(self, x: float, y: float, reach_m: float) -> _Window:
        """The segments whose midpoint lies within ``reach_m`` of (x, y), gathered once."""
        idx = np.asarray(self.tree.query_ball_point((x, y), reach_m, return_sorted=True),
                         dtype=np.intp)  # fmt: skip
        return _Window(self, x, y, reach_m, idx)


class _Window:
    """A vehicle's neighbourhood of ``_Segments``: the segment arrays gathered for the midpoints
    within ``reach_m`` of (cx, cy). While the vehicle stays well inside, each fix projects
    onto these few segments without a k-d tree query or a gather (the map matcher keeps one
    per vehicle and refreshes it when the fix's search disc leaves it)."""

    def __init__(self, seg: _Segments, cx: float, cy: float, reach_m: float, idx: np.ndarray):
        self.cx, self.cy, self.reach_m = cx, cy, reach_m
        self.empty = idx.size == 0
        self.ax, self.ay = seg.a[idx, 0], seg.a[idx, 1]
        self.dx, self.dy = seg.d[idx, 0], seg.d[idx, 1]
        self.len2, self.len, self.heading = seg.len2[idx], seg.len[idx], seg.heading[idx]
        self.s0, self.w0, self.dw = seg.s0[idx], seg.w0[idx], seg.w1[idx] - seg.w0[idx]
        self.owner, self.end_s = seg.owner[idx], seg.total[idx] - 1e-6

    def covers(self, x: float, y: float, reach_m: float) -> bool:
        return math.hypot(x - self.cx, y - self.cy) + reach_m <= self.reach_m

    def project(self, x: float, y: float, radius_m: float):  # type: ignore[no-untyped-def]
        """Best foot point per lanelet within the radius: (keys, s, signed lateral, distance,
        heading, width, at_end), one entry per lanelet; ``at_end``: the foot point is the
        lanelet's last point. None when no lanelet is that near."""
        if self.empty:
            return None
        dx, dy = self.dx, self.dy
        px, py = x - self.ax, y - self.ay
        t = _clip((px * dx + py * dy) / self.len2, 0.0, 1.0)
        fx, fy = px - t * dx, py - t * dy
        dist2 = fx * fx + fy * fy
        owner = self.owner
        order = np.lexsort((dist2, owner))
        so = owner[order]
        first = order[np.concatenate(([True], so[1:] != so[:-1]))]
        keep = first[dist2[first] <= radius_m * radius_m]
        if keep.size == 0:
            return None
        tk = t[keep]
        cross = dx[keep] * py[keep] - dy[keep] * px[keep]
        dist = np.sqrt(dist2[keep])
        s = self.s0[keep] + tk * self.len[keep]
        return (
            owner[keep],
            s,
            np.copysign(dist, cross),
            dist,
            self.heading[keep],
            self.w0[keep] + tk * self.dw[keep],
            s >= self.end_s[keep],
        )


class LaneMatcher:
    """Online HMM map matcher over one ``HdMap``. Not thread-safe; one per vehicle."""

    def __init__(self, hd: HdMap, config: MatcherConfig | None = None) -> None:
        self.hd = hd
        self.cfg = config or MatcherConfig()
        self._seg = _Segments(hd)
        self._links = self._build_links()
        self._tables: dict[tuple[bytes, bytes], np.ndarray] = {}
        half = 0.5 * float(max(self._seg.w0.max(), self._seg.w1.max()))
        self._max_half_width = min(half, self.cfg.max_half_lane_m)
        self.reset()

    def reset(self) -> None:
        self._keys = np.zeros(0, dtype=np.int64)
        self._s = np.zeros(0)
        self._delta = np.zeros(0)
        self._alpha = np.zeros(0)
        self._last_xy: tuple[float, float] | None = None
        self._last_t: float | None = None
        self._history: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=self.cfg.window)
        self._window: _Window | None = None

    def _build_links(self) -> dict[int, dict[int, tuple[float, float]]]:
        """prev key → {next key: (offset of next's start along the lanes, log prior)}."""
        g = self.hd.routing
        length = {k: ll.length_m for k, ll in self.hd.lanelets.items() if ll.drivable}
        lc_ok = math.log(self.cfg.p_lane_change)
        lc_solid = math.log(self.cfg.p_lane_change * 0.1)
        links: dict[int, dict[int, tuple[float, float]]] = {}
        for p, _ in length.items():
            out: dict[int, tuple[float, float]] = {}

            def put(k: int, offset: float, prior: float, out=out) -> None:  # type: ignore[no-untyped-def]
                if k not in out or out[k][1] < prior:
                    out[k] = (offset, prior)

            for n in g.following(p):
                put(n, length[p], 0.0)
                for n2 in g.following(n):
                    put(n2, length[p] + length[n], 0.0)
            for q in g.predecessors.get(p, ()):
                put(q, -length[q], 0.0)
            for side, allowed in ((g.left, g.change_left), (g.right, g.change_right)):
                nb = side.get(p)
                if nb is None:
                    continue
                prior = lc_ok if p in allowed else lc_solid
                put(nb, 0.0, prior)
                for n in g.following(nb):
                    put(n, length[nb], prior)
                for n in g.following(p):
                    nn = side.get(n)
                    if nn is not None:
                        put(nn, length[p], prior)
            out[p] = (0.0, 0.0)
            links[p] = out
        return links

    def update(
        self,
        t_s: float,
        x_m: float,
        y_m: float,
        *,
        yaw_rad: float = math.nan,
        speed_mps: float = math.nan,
        sigma_m: float = 0.5,
        yaw_sigma_rad: float = 0.1,
        route: Sequence[int] | None = None,
    ) -> LaneMatch:
        """Match one fix. Returns ``OFF_MAP`` (lanelet_id -1) when no lanelet is near."""
        cfg = self.cfg
        sigma = max(float(sigma_m), 0.02) if math.isfinite(sigma_m) else 0.5
        radius = max(cfg.min_radius_m, self._max_half_width + cfg.radius_sigmas * sigma)
        reach = radius + 0.5 * self._seg.max_seg_m  # a segment within radius has its midpoint here
        win = self._window
        if win is None or not win.covers(x_m, y_m, reach):
            win = self._window = self._seg.window(x_m, y_m, reach + WINDOW_MARGIN_M)
        found = win.project(x_m, y_m, radius)
        if found is None:
            self.reset()
            return OFF_MAP
        keys, s, lateral, dist, heading, width, at_end = found
        width = np.maximum(width, 0.5)  # lanelets that taper to a point
        half = 0.5 * width
        # A point on a boundary belongs to the lanelet that starts there (half-open [0, L)).
        emit = log_ndtr((half - dist) / sigma) - np.log(width) - np.where(at_end, 0.7, 0.0)
        use_yaw = math.isfinite(yaw_rad) and not (
            math.isfinite(speed_mps) and abs(speed_mps) < cfg.min_speed_for_heading_mps
        )
        if use_yaw:
            sh = math.hypot(yaw_sigma_rad if math.isfinite(yaw_sigma_rad) else 0.3,
                            cfg.heading_sigma_floor_rad)  # fmt: skip
            emit = emit + (np.cos(yaw_rad - heading) - 1.0) / (sh * sh)

        if keys.size > cfg.max_candidates:
            top = np.argpartition(-emit, cfg.max_candidates)[: cfg.max_candidates]
            keys, s, lateral, heading, width, emit = (
                keys[top], s[top], lateral[top], heading[top], width[top], emit[top]
            )  # fmt: skip
        if self._keys.size == 0:
            delta = emit.copy()
            alpha = emit.copy()
            back = np.full(keys.size, -1)
        else:
            dt = t_s - self._last_t if self._last_t is not None else 0.0
            if math.isfinite(speed_mps) and dt > 0.0:
                travelled = abs(speed_mps) * dt
            else:
                lx, ly = self._last_xy or (x_m, y_m)
                travelled = math.hypot(x_m - lx, y_m - ly)
            beta = cfg.beta_m + 2.0 * sigma + 0.1 * travelled
            trans = self._transitions(keys, s, travelled, beta)
            scores = self._delta[:, None] + trans
            back = scores.argmax(axis=0)
            delta = scores.max(axis=0) + emit  # the column maxima: scores[back, column]
            alpha = _logsumexp(self._alpha[:, None] + trans, axis=0) + emit
        delta -= delta.max()
        alpha -= _logsumexp(alpha)
        self._keys, self._s, self._delta, self._alpha = keys, s, delta, alpha
        self._last_xy, self._last_t = (x_m, y_m), t_s
        self._history.append((keys, back))

        best = int(delta.argmax())
        key = int(keys[best])
        ll = self.hd.lanelets[key]
        stop = self.hd.next_stop_line(key, float(s[best]), route=route)
        light = stop.light
        return assemble(  # every fix: the frozen __init__'s setattr per field costs more
            LaneMatch,
            lanelet_key=key,
            lanelet_id=ll.id,
            arc_length_m=float(s[best]),
            lateral_offset_m=float(lateral[best]),
            lane_heading_rad=float(heading[best]),
            lane_width_m=float(width[best]),
            speed_limit_mps=ll.speed_limit_mps,
            stop_line_distance_m=stop.distance_m,
            signal_group=light.signal_group if light else 0,
            intersection_id=light.intersection_id if light else -1,
            confidence=float(np.exp(alpha[best])),
            candidates=int(keys.size),
        )

    def _transitions(self, keys: np.ndarray, s: np.ndarray, travelled: float, beta: float):  # type: ignore[no-untyped-def]
        """log P(cur | prev), shape (prev, cur)."""
        table = self._link_table(self._keys, keys)
        lane_d = table[:, :, 0] + s[None, :] - self._s[:, None]
        cost = np.abs(lane_d - travelled) / beta
        return table[:, :, 1] - np.where(np.isnan(lane_d), 0.0, cost)

    def _link_table(self, prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
        """(offset, log prior) of every prev → cur pair, shape (prev, cur, 2). Consecutive
        fixes mostly see the same candidates: the last few tables are kept."""
        key = (prev.tobytes(), cur.tobytes())
        table = self._tables.get(key)
        if table is None:
            miss = (math.nan, math.log(self.cfg.p_jump))
            cur_keys = cur.tolist()
            rows = map(self._links_of, prev.tolist())
            table = np.array([[links.get(c, miss) for c in cur_keys] for links in rows]).reshape(
                prev.size, cur.size, 2
            )
            if len(self._tables) >= 16:
                self._tables.pop(next(iter(self._tables)))
            self._tables[key] = table
        return table

    def _links_of(self, key: int) -> dict[int, tuple[float, float]]:
        return self._links.get(key, {})

    def smoothed_key(self, lag: int) -> int | None:
        """The lanelet key the Viterbi path held ``lag`` epochs ago (lag < window)."""
        if not self._history or lag >= len(self._history):
            return None
        j = int(np.argmax(self._delta))
        for back_lag in range(lag):
            _, back = self._history[-1 - back_lag]
            j = int(back[j])
            if j < 0:
                return None
        return int(self._history[-1 - lag][0][j])

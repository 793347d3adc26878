"""The applications' view of the HD map: lane lookup for many points, lane sets, ego path.

``LaneIndex.match`` finds, for N points at once, the drivable lanelet whose centre line is
near and runs in the point's direction of travel (a k-d tree over all centre-line samples).
``ego_path`` follows the lanes ahead of the ego vehicle (the turn its indicator announces
at a fork), which is where the ego prediction runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, TypeVar

import numpy as np
from scipy.spatial import cKDTree

from v2x_nodes.applications.kinematics import FloatArray, wrap
from vehicle_nodes.hdmap import HdMap

NEAREST_SAMPLES = 6
HEADING_WEIGHT_M = 4.0  # metres of distance one unit of (1 - cos dheading) is worth
OFF_MAP_TOLERANCE_M = 1.5  # beyond half the lane width + this, a point is off the lanes
# a distance this much below the k-th nearest sample's (sqrt of the squares' sum in the tree,
# np.hypot here: a few ulp apart) is below every sample the tree did not return
NEAR_MARGIN = 1.0 - 1e-9
_NO_SAMPLE = np.iinfo(np.int64).max
MEMO_MAX = 16_384  # answers per point kept (``LaneIndex.nearest_samples``): ~1.5 s of dense_100


K = TypeVar('K')
V = TypeVar('V')
SIDE_NONE, SIDE_SAME, SIDE_LEFT, SIDE_RIGHT = 0, 1, 2, 3


@dataclass(frozen=True)
class LaneSets:
    """Lanelet keys around the ego vehicle: its own lane (behind and ahead) and neighbours."""

    same: np.ndarray
    left: np.ndarray
    right: np.ndarray
    all_keys: np.ndarray  # every lanelet key of the map, sorted
    side: np.ndarray  # SIDE_* per entry of ``all_keys``: a lookup instead of set tests

    def side_of(self, keys: np.ndarray) -> np.ndarray:
        """SIDE_* of each lanelet key (SIDE_NONE for 0 and unknown keys)."""
        i = np.minimum(np.searchsorted(self.all_keys, keys), len(self.all_keys) - 1)
        return np.where(self.all_keys[i] == keys, self.side[i], SIDE_NONE)


def _bounded(memo: dict[K, V], adding: int) -> dict[K, V]:
    """``memo``, emptied first when ``adding`` more entries would pass ``MEMO_MAX``."""
    if len(memo) + adding > MEMO_MAX:
        memo.clear()
    return memo


def unit_step(a: FloatArray, b: FloatArray) -> FloatArray | None:
    """The unit direction from point ``a`` to ``b``; None for a step under 1e-6 m."""
    d = b - a
    norm = float(np.hypot(*d))
    return d / norm if norm > 1e-6 else None


class LaneIndex:
    """Vectorised point → lanelet lookup over a loaded ``HdMap``.

    ``LaneIndex.of(hd)`` gives one index per map in the process: in the simulator every
    connected car's application suite loads the same (shared, read-only) map, and the index's
    tables (k-d tree, stop lines, successors, lane sets, ego-path parts) are built once.
    """

    _shared: ClassVar[dict[HdMap, LaneIndex]] = {}  # an HdMap hashes by identity

    @classmethod
    def of(cls, hd: HdMap) -> LaneIndex:
        """The process's index of map ``hd`` (the map is read-only: so is its index)."""
        index = cls._shared.get(hd)
        if index is None:
            index = cls._shared[hd] = cls(hd)
        return index

    def __init__(self, hd: HdMap) -> None:
        self.map = hd
        pts, owner, heading, half = [], [], [], []
        for ll in hd.lanelets.values():
            if not ll.drivable:
                continue
            pts.append(ll.centre_xy)
            owner.append(np.full(len(ll.centre_xy), ll.key, dtype=np.int64))
            heading.append(np.append(ll.heading_rad, ll.heading_rad[-1]))
            half.append(0.5 * ll.width_m)
        self.points = np.concatenate(pts)
        self.owner = np.concatenate(owner)
        self.sample_s = np.concatenate([ll.s_m for ll in hd.lanelets.values() if ll.drivable])
        self.heading = np.concatenate(heading)
        self.half_width = np.concatenate(half)
        self.tree = cKDTree(self.points)
        self._sets: dict[tuple[int, ...], LaneSets] = {}
        self.all_keys = np.array(sorted(hd.lanelets), dtype=np.int64)
        self.by_id: dict[int, list[int]] = {}
        for k, ll in hd.lanelets.items():
            self.by_id.setdefault(ll.id, []).append(k)
        # each drivable lanelet's slice of ``points``, per entry of ``all_keys`` (count 0:
        # not drivable), for ``nearest_samples``
        count = {int(k): n for k, n in zip(*np.unique(self.owner, return_counts=True), strict=True)}
        self._count = np.array([count.get(int(k), 0) for k in self.all_keys], dtype=np.int64)
        first = {int(k): int(i) for k, i in zip(*np.unique(self.owner, return_index=True),
                                                 strict=True)}  # fmt: skip
        self._first = np.array([first.get(int(k), 0) for k in self.all_keys], dtype=np.int64)
        # per horizon: the next stop line from each sample (NaN: not asked yet) and its light
        self._stops: dict[float, tuple[FloatArray, np.ndarray]] = {}
        self._next: dict[tuple[int, str], int] = {}
        # each lanelet's length as a float (``Lanelet.length_m`` reads a numpy scalar per ask;
        # the ego path sums them every cycle)
        self.length = {k: ll.length_m for k, ll in hd.lanelets.items()}
        self._parts: dict[tuple[float, ...], tuple[FloatArray, FloatArray | None]] = {}
        # the answers of ``nearest_samples`` by their point's exact inputs: every car of a
        # simulation sees the same roadside report extrapolated to the same now, and a
        # standing target stays where it is (about 70 % of the points of the dense scenario
        # were asked before; a search costs ~8 µs a point, a look-up ~0.7)
        self._nearest: dict[tuple[int, float, float], int] = {}

    def match(
        self, x: FloatArray, y: FloatArray, course: FloatArray, use_heading: np.ndarray
    ) -> tuple[np.ndarray, FloatArray]:
        """Lanelet key per point (0 when off the lanes) and distance to its centre line."""
        return self.match_near(x, y, course, use_heading)[:2]

    def match_near(
        self, x: FloatArray, y: FloatArray, course: FloatArray, use_heading: np.ndarray
    ) -> tuple[np.ndarray, FloatArray, np.ndarray, FloatArray]:
        """``match``, and the map's ``NEAREST_SAMPLES`` nearest centre-line samples of each
        point that it chose from (N, k indices into ``points``, their distances ascending; inf:
        none within reach), for ``nearest_of_near``."""
        n = len(x)
        if n == 0:
            k = min(NEAREST_SAMPLES, len(self.points))
            return (np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, k), dtype=np.int64),
                    np.zeros((0, k)))  # fmt: skip
        k = min(NEAREST_SAMPLES, len(self.points))
        xy = np.column_stack((x, y))
        xy[~np.isfinite(xy)] = 1e9  # far from every lane: off the map
        dist, idx = self.tree.query(xy, k=k, distance_upper_bound=1e6)
        dist = dist.reshape(n, k)
        idx = np.minimum(idx.reshape(n, k), len(self.points) - 1)  # n = none within bound
        dh = 1.0 - np.cos(self.heading[idx] - course[:, None])
        cost = dist + HEADING_WEIGHT_M * dh * use_heading[:, None]
        j = np.argmin(cost, axis=1)
        rows = np.arange(n)
        best = idx[rows, j]
        d = dist[rows, j]
        on = d <= self.half_width[best] + OFF_MAP_TOLERANCE_M
        return np.where(on, self.owner[best], 0), d, idx, dist

    def key_of(self, lanelet_id: int, lane_heading_rad: float) -> int:
        """The directed key of a LanePosition's lanelet id (a two-way lanelet has two)."""
        keys = self.by_id.get(int(lanelet_id), [])
        if not keys:
            return 0
        if len(keys) == 1 or not math.isfinite(lane_heading_rad):
            return keys[0]
        return min(keys, key=lambda k: abs(float(wrap(
            self.map.lanelets[k].heading_at(0.5 * self.map.lanelets[k].length_m)
            - lane_heading_rad))))  # fmt: skip

    def project(self, key: int, x: float, y: float) -> float:
        """Arc length of (x, y) on lanelet ``key``'s centre line (nearest sample)."""
        ll = self.map.lanelets[key]
        i = int(np.argmin(np.hypot(ll.centre_xy[:, 0] - x, ll.centre_xy[:, 1] - y)))
        return float(ll.s_m[i])

    def nearest_samples(self, keys: np.ndarray, x: FloatArray, y: FloatArray) -> np.ndarray:
        """Per point: the index in ``points`` of the nearest centre-line sample of its lanelet
        ``keys`` (drivable), the first on ties: ``project`` for many points at once. Kept per
        exact (key, x, y): a point's answer depends on its own inputs only."""
        if not len(keys):
            return np.zeros(0, dtype=np.int64)
        asks = list(zip(keys.tolist(), x.tolist(), y.tolist(), strict=True))
        got = list(map(self._nearest.get, asks))
        miss = [i for i, g in enumerate(got) if g is None]
        if miss:
            rows = np.array(miss)
            found = self._nearest_samples(keys[rows], x[rows], y[rows]).tolist()
            memo = _bounded(self._nearest, len(miss))
            for i, g in zip(miss, found, strict=True):
                got[i] = memo[asks[i]] = g
        return np.array(got, dtype=np.int64)

    def nearest_of_near(
        self, keys: np.ndarray, x: FloatArray, y: FloatArray, near: np.ndarray,
        near_d: FloatArray,
    ) -> np.ndarray:  # fmt: skip
        """``nearest_samples`` from each point's nearest samples of the whole map (``near``,
        ``near_d``: ``match_near``'s rows of these points), where they decide it: a sample of
        its lanelet among them nearer (as ``nearest_samples`` measures, ``np.hypot``) than the
        farthest of them, with a margin for the tree's own rounding, is nearer than every
        sample of the lanelet the tree did not return; ties go to the first sample, as
        there. The other points (none of their lanelet near enough) are searched."""
        if not len(keys):
            return np.zeros(0, dtype=np.int64)
        own = (self.owner[near] == keys[:, None]) & (near_d < math.inf)
        d = np.hypot(self.points[near, 0] - x[:, None], self.points[near, 1] - y[:, None])
        d[~own] = math.inf
        best = d.min(axis=1)
        out = np.where(d == best[:, None], near, _NO_SAMPLE).min(axis=1)
        unsure = ~(best < near_d[:, -1] * NEAR_MARGIN)  # (NaN: unsure too)
        if unsure.any():
            rows = unsure.nonzero()[0]
            out[rows] = self.nearest_samples(keys[rows], x[rows], y[rows])
        return out

    def _nearest_samples(self, keys: np.ndarray, x: FloatArray, y: FloatArray) -> np.ndarray:
        """``nearest_samples`` searched: every point against its own lanelet's samples, in
        one flat array."""
        row = np.searchsorted(self.all_keys, keys)
        first, count = self._first[row], self._count[row]
        start = np.cumsum(count) - count  # each point's run in the flat array
        total = int(start[-1] + count[-1])
        g = np.repeat(first - start, count) + np.arange(total)  # sample of each flat entry
        who = np.repeat(np.arange(len(keys)), count)
        d = np.hypot(self.points[g, 0] - x[who], self.points[g, 1] - y[who])
        best = np.minimum.reduceat(d, start)
        hits = (d == np.repeat(best, count)).nonzero()[0]
        # the first hit at or after each run's start is in the run when its minimum is finite
        out = g[hits[np.minimum(np.searchsorted(hits, start), len(hits) - 1)]] if len(
            hits) else first.copy()  # fmt: skip
        bad = ~np.isfinite(best)  # NaN or inf in a run: argmin's answer, one by one
        for j in bad.nonzero()[0].tolist():
            out[j] = first[j] + int(np.argmin(d[start[j] : start[j] + count[j]]))
        return out

    def stop_lines(self, samples: np.ndarray, horizon_m: float) -> tuple[FloatArray, np.ndarray]:
        """The map's next stop line (distance, inf: none within ``horizon_m``; its traffic
        light or None) from each centre-line sample: ``HdMap.next_stop_line`` at the
        sample's lanelet and arc length, asked once per sample and kept."""
        table = self._stops.get(horizon_m)
        if table is None:
            n = len(self.points)
            table = self._stops[horizon_m] = (np.full(n, np.nan), np.full(n, None, dtype=object))
        dist, light = table
        for g in dict.fromkeys(samples[np.isnan(dist[samples])].tolist()):  # (each once)
            ahead = self.map.next_stop_line(int(self.owner[g]), float(self.sample_s[g]),
                                            horizon_m=horizon_m)  # fmt: skip
            dist[g], light[g] = ahead.distance_m, ahead.light
        return dist[samples], light[samples]

    def next_key(self, key: int, turn: str) -> int:
        """The successor to follow: the one turning as indicated, else straight, else first
        (kept per lanelet and turn: the map does not change)."""
        hit = self._next.get((key, turn))
        if hit is None:
            hit = self._next[key, turn] = self._follow(key, turn)
        return hit

    def _follow(self, key: int, turn: str) -> int:
        nxt = self.map.routing.following(key)
        if not nxt:
            return 0
        by_turn = {self.map.lanelets[k].turn_direction: k for k in nxt}
        for want in (turn, 'straight', ''):
            if want in by_turn:
                return by_turn[want]
        return nxt[0]

    def path_keys(self, key: int, s_m: float, length_m: float, turn: str) -> list[int]:
        """Lanelet keys from ``key`` on until ``length_m`` of path is covered."""
        keys = [key]
        length = self.length
        covered = length[key] - s_m
        while covered < length_m and len(keys) < 32:
            nxt = self.next_key(keys[-1], turn)
            if not nxt or nxt in keys:
                break
            keys.append(nxt)
            covered += length[nxt]
        return keys

    def path_xy(self, keys: list[int], s_m: float, x: float, y: float) -> FloatArray:
        """The centre line along ``keys`` from arc ``s_m`` of the first, starting at (x, y)."""
        return np.concatenate((np.array([[x, y]]), self.lane_part(keys, s_m)[0]))

    def lane_part(self, keys: list[int], s_m: float) -> tuple[FloatArray, FloatArray | None]:
        """``path_xy`` without its start: the centre-line samples along ``keys`` beyond arc
        ``s_m`` + 0.5 m of the first, and the unit direction of their last step (None: fewer
        than two samples or a zero step). Kept per (keys, s_m): the ego path asks every
        cycle, ``s_m`` is a centre-line sample's arc length (``project``), and the lanes only
        change a few times per lanelet."""
        ask = (*keys, s_m)
        hit = self._parts.get(ask)
        if hit is None:
            if len(self._parts) > 4096:
                self._parts.clear()
            first = self.map.lanelets[keys[0]]
            # the samples beyond s_m + 0.5: a slice (the arc lengths ascend), not a mask's copy
            i = int(np.searchsorted(first.s_m, s_m + 0.5, side='right'))
            parts = [first.centre_xy[i:]]
            parts += [self.map.lanelets[k].centre_xy[1:] for k in keys[1:]]
            xy = np.concatenate(parts)
            unit = unit_step(xy[-2], xy[-1]) if len(xy) > 1 else None
            hit = self._parts[ask] = (xy, unit)
        return hit

    def lane_sets(self, path: list[int], behind_m: float = 100.0) -> LaneSets:
        """Own lane = the path plus its predecessors up to ``behind_m``; and their neighbours.
        Cached per path (the path changes a few times per lanelet, not every cycle)."""
        cached = self._sets.get(tuple(path))
        if cached is not None:
            return cached
        if len(self._sets) > 256:
            self._sets.clear()
        routing = self.map.routing
        same = set(path)
        frontier = [(path[0], 0.0)]
        while frontier:
            k, d = frontier.pop()
            for p in routing.predecessors.get(k, ()):
                if p not in same and d < behind_m:
                    same.add(p)
                    frontier.append((p, d + self.map.lanelets[p].length_m))
        left = {routing.left[k] for k in same if k in routing.left}
        right = {routing.right[k] for k in same if k in routing.right}
        same_a = np.fromiter(same, np.int64)
        left_a = np.fromiter(left - same, np.int64)
        right_a = np.fromiter(right - same, np.int64)
        side = np.zeros(len(self.all_keys), dtype=np.int64)
        for keys, code in ((same_a, SIDE_SAME), (left_a, SIDE_LEFT), (right_a, SIDE_RIGHT)):
            side[np.isin(self.all_keys, keys)] = code  # left of one lane, right of another: right
        sets = LaneSets(same_a, left_a, right_a, self.all_keys, side)
        self._sets[tuple(path)] = sets
        return sets

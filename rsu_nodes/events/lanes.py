"""Where a participant is on the lane map: on the carriageway, with or against the lanes,
the speed limit, and (for approach lanes of the signalised intersection) the distance
upstream of the stop line.

Built once from a Lanelet2 map (``vehicle_nodes.hdmap``); the approaches come from the map's
intersection export, so congestion is measured per arm exactly as MAP describes the arms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import chain

import numpy as np
from scipy.spatial import cKDTree

from vehicle_nodes.hdmap.errors import ExportError
from vehicle_nodes.hdmap.export import export_intersection
from vehicle_nodes.hdmap.geometry import arc_length
from vehicle_nodes.hdmap.lanemap import HdMap

ALIGNED_RAD = math.radians(90.0)  # within this of a lane's direction: driving with it
OPPOSED_RAD = math.radians(135.0)  # beyond this from every lane here: against them


@dataclass(frozen=True)
class Approach:
    """One arm of the intersection: its ingress lanes as map-frame polylines from the stop
    line upstream (``lanes``: export lane id → (points, arc length table))."""

    arm: int
    lanes: dict[int, tuple[np.ndarray, np.ndarray]]
    stop_xy: tuple[float, float]
    width_m: float


@dataclass(frozen=True)
class LaneFix:
    on_road: bool  # inside a drivable lanelet
    aligned: bool  # some lanelet here runs within 90° of the motion
    opposed: bool  # every lanelet here runs more than 135° from the motion
    # of the aligned lanelets, the highest: where lanelets overlap (a junction's straight and
    # turning connectors share their first metres) the vehicle may be on any of them, and the
    # lowest made every straight-through vehicle a speeder at the turn's limit; NaN: unknown
    speed_limit_mps: float
    in_crosswalk: bool
    approach: int  # arm index, -1 when not on an approach lane
    lane_id: int  # export lane id of that approach lane, -1 otherwise
    stop_dist_m: float  # distance upstream of the stop line along it, NaN otherwise


OFF_ROAD = LaneFix(False, False, False, math.nan, False, -1, -1, math.nan)


class Polylines:
    """The segments of several polylines in one table (built once), so that the feet of many
    points on all of them take one pass; ``owner`` is each segment's polyline, ``starts`` the
    first segment of each. A zero-length segment's squared length becomes 1 (``floor_len2``
    None, as ``hdmap.geometry.project`` does) or at least ``floor_len2``."""

    def __init__(self, polylines: list[np.ndarray], *, floor_len2: float | None) -> None:
        empty = np.zeros((0, 2))
        self.a = np.concatenate([p[:-1] for p in polylines] or [empty])
        self.d = np.concatenate([np.diff(p, axis=0) for p in polylines] or [empty])
        len2 = np.einsum('ij,ij->i', self.d, self.d)
        if floor_len2 is None:
            self.len2 = np.where(len2 > 0.0, len2, 1.0)
        else:
            self.len2 = np.maximum(len2, floor_len2)
        self.length = np.sqrt(self.len2)
        counts = [len(p) - 1 for p in polylines]
        self.owner = np.repeat(np.arange(len(polylines)), counts)
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)

    def feet(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Squared distance from each point (k, 2) to the foot on each segment and the foot's
        parameter t in [0, 1] along it, both (k, segments)."""
        p = xy[:, None, :] - self.a[None, :, :]
        t = np.clip(np.einsum('ksj,sj->ks', p, self.d) / self.len2, 0.0, 1.0)
        foot = p - t[..., None] * self.d[None]
        return np.einsum('ksj,ksj->ks', foot, foot), t


class LaneIndex:
    def __init__(self, hd: HdMap, intersection_id: int = 1) -> None:
        self.hd = hd
        drivable = [ll for ll in hd.lanelets.values() if ll.drivable]
        self.search_m = max((float(np.max(ll.width_m)) / 2 for ll in drivable), default=2.0) + 1.5
        self.crosswalks = [ll for ll in hd.lanelets.values() if ll.subtype == 'crosswalk']
        # a point within half its widest width of a crosswalk's centre line is on it
        self._crossings = Polylines([cw.centre_xy for cw in self.crosswalks], floor_len2=None)
        self._crossing_half_m = np.array([float(np.max(cw.width_m)) / 2 for cw in self.crosswalks])
        self.approaches: list[Approach] = []
        self.approach_of: dict[int, tuple[int, int]] = {}  # lanelet id → (arm, lane id)
        try:
            export = export_intersection(hd, intersection_id)
        except ExportError:  # no signalised intersection: no congestion approaches
            self._build_segments()
            return
        ref = np.asarray(export.ref_xy_m)
        for arm in range(len(export.arms_heading_rad)):
            lanes = {}
            widths = []
            for ln in export.lanes:
                if ln.kind != 'ingress' or ln.arm != arm:
                    continue
                pts = np.asarray(ln.points_m, float) + ref
                lanes[ln.lane_id] = (pts, arc_length(pts))
                widths.append(ln.width_m)
                for lanelet_id in ln.lanelet_ids:
                    self.approach_of[lanelet_id] = (arm, ln.lane_id)
            if lanes:
                stops = np.array([p[0] for p, _ in lanes.values()])
                centre = stops.mean(axis=0)
                self.approaches.append(
                    Approach(arm, lanes, (float(centre[0]), float(centre[1])), float(sum(widths)))
                )
        self._build_segments()

    def _build_stop_lines(self) -> None:
        """Every approach lane's segments in one table, for one pass over all objects."""
        keys = [(ap.arm, lane_id) for ap in self.approaches for lane_id in ap.lanes]
        lanes = [self.approaches_lane(arm, lane_id) for arm, lane_id in keys]
        self._stop_lines = Polylines([pts for pts, _ in lanes], floor_len2=1e-12)
        self._stop_s = np.concatenate([s[:-1] for _, s in lanes] or [np.zeros(0)])
        self._stop_line_of = {key: k for k, key in enumerate(keys)}

    def _build_segments(self) -> None:
        """Every drivable centre-line segment, for one vectorised lookup of all objects."""
        drivable = [ll for ll in self.hd.lanelets.values() if ll.drivable]
        self.lanelets = drivable
        a, d, half, owner, limit = [], [], [], [], []
        for i, ll in enumerate(drivable):
            pts = ll.centre_xy
            a.append(pts[:-1])
            d.append(np.diff(pts, axis=0))
            half.append((ll.width_m[:-1] + ll.width_m[1:]) / 4.0)
            owner.append(np.full(len(pts) - 1, i))
            limit.append(np.full(len(pts) - 1, ll.speed_limit_mps))
        self.seg_a = np.concatenate(a)
        self.seg_d = np.concatenate(d)
        self.seg_len2 = np.maximum(np.einsum('ij,ij->i', self.seg_d, self.seg_d), 1e-12)
        self.seg_half = np.concatenate(half)
        self.seg_owner = np.concatenate(owner)
        self.seg_limit = np.concatenate(limit)
        self.seg_yaw = np.arctan2(self.seg_d[:, 1], self.seg_d[:, 0])
        self.tree = cKDTree(self.seg_a + self.seg_d / 2.0)
        hits = [self.approach_of.get(ll.id, (-1, -1)) for ll in drivable]
        self.owner_arm = np.array([h[0] for h in hits], int)
        self.owner_lane = np.array([h[1] for h in hits], int)
        self.reach_m = self.search_m + float(np.sqrt(self.seg_len2.max())) / 2.0
        self._build_stop_lines()

    def locate_many(self, xy: np.ndarray, yaw_rad: np.ndarray) -> list[LaneFix]:
        """The lane situation of each point (n, 2) moving (or facing) along ``yaw_rad``."""
        n = len(xy)
        if n == 0:
            return []
        lists = self.tree.query_ball_point(xy, self.reach_m)
        counts = np.fromiter((len(c) for c in lists), int, n)
        obj = np.repeat(np.arange(n), counts)
        seg = np.fromiter(chain.from_iterable(lists), int, int(counts.sum()))
        p = xy[obj] - self.seg_a[seg]
        dv = self.seg_d[seg]
        t = np.clip(np.einsum('ij,ij->i', p, dv) / self.seg_len2[seg], 0.0, 1.0)
        foot = p - t[:, None] * dv
        dist2 = np.einsum('ij,ij->i', foot, foot)
        # Per (object, lanelet) only the nearest segment counts, as a projection onto the
        # lanelet would choose (a neighbouring segment's end can lie in the band at a bend).
        owner = self.seg_owner[seg]
        order = np.lexsort((dist2, owner, obj))
        pair = obj[order] * (len(self.lanelets) + 1) + owner[order]
        first = np.ones(len(pair), bool)
        first[1:] = pair[1:] != pair[:-1]
        nearest = order[first]
        obj, seg, dist2 = obj[nearest], seg[nearest], dist2[nearest]
        inside = dist2 <= self.seg_half[seg] ** 2
        obj, seg = obj[inside], seg[inside]
        diff = np.abs(np.angle(np.exp(1j * (yaw_rad[obj] - self.seg_yaw[seg]))))
        on_road = np.bincount(obj, minlength=n) > 0
        aligned_hit = diff < ALIGNED_RAD
        aligned = np.bincount(obj[aligned_hit], minlength=n) > 0
        not_opposed = np.bincount(obj[diff <= OPPOSED_RAD], minlength=n) > 0
        limit = np.full(n, -np.inf)
        lim = self.seg_limit[seg]
        ok = aligned_hit & ~np.isnan(lim)
        np.maximum.at(limit, obj[ok], lim[ok])
        # The first aligned approach lanelet of each object, if any (vectorised).
        arm_of = self.owner_arm[self.seg_owner[seg]]
        hit = aligned_hit & (arm_of >= 0)
        # obj is sorted (by the lexsort above): the first of each run, as np.unique's index
        hit_obj = obj[hit]
        first = np.ones(hit_obj.size, bool)
        first[1:] = hit_obj[1:] != hit_obj[:-1]
        hit_obj, hit_seg = hit_obj[first], seg[hit][first]
        approach = {
            int(o): (
                int(self.owner_arm[self.seg_owner[sg]]),
                int(self.owner_lane[self.seg_owner[sg]]),
            )
            for o, sg in zip(hit_obj, hit_seg, strict=True)
        }
        stops = self._stop_distances(xy, approach)
        in_crosswalk = self._in_crosswalk(xy).tolist()
        # Python values per object in one conversion each: indexing numpy arrays element by
        # element in the loop below cost more than the lookup itself
        rows = zip(on_road.tolist(), aligned.tolist(), not_opposed.tolist(), limit.tolist(),
                   in_crosswalk, strict=True)  # fmt: skip
        out = []
        for i, (road, al, not_opp, lim_i, crosswalk) in enumerate(rows):
            if not road:
                out.append(LaneFix(False, False, False, math.nan, crosswalk, -1, -1, math.nan))
                continue
            arm, lane_id, stop = -1, -1, math.nan
            if i in approach:
                arm, lane_id = approach[i]
                stop = stops[i]
            out.append(
                LaneFix(
                    True,
                    al,
                    not not_opp,
                    lim_i if math.isfinite(lim_i) else math.nan,
                    crosswalk,
                    arm,
                    lane_id,
                    stop,
                )
            )
        return out

    def _in_crosswalk(self, xy: np.ndarray) -> np.ndarray:
        """Whether each point lies on a crosswalk: within half its widest width of its centre
        line (the distance ``project`` gives, bit for bit, for all points and crosswalks in one
        pass; one ``project`` per point and crosswalk was most of the detector's time)."""
        if not self.crosswalks:
            return np.zeros(len(xy), dtype=bool)
        dist2, _ = self._crossings.feet(xy)
        nearest = np.minimum.reduceat(dist2, self._crossings.starts, axis=1)
        return (np.sqrt(nearest) <= self._crossing_half_m).any(axis=1)

    def _stop_distances(
        self, xy: np.ndarray, approach: dict[int, tuple[int, int]]
    ) -> dict[int, float]:
        """Arc length from the stop line of each object's approach lane (its nearest foot point
        on that lane), all objects in one pass over the approach lanes' segments."""
        if not approach:
            return {}
        idx = list(approach)
        lines = self._stop_lines
        lane = np.array([self._stop_line_of[approach[i]] for i in idx])
        dist2, t = lines.feet(xy[idx])
        own = lines.owner[None, :] == lane[:, None]
        best = np.argmin(np.where(own, dist2, np.inf), axis=1)
        s = self._stop_s[best] + t[np.arange(len(idx)), best] * lines.length[best]
        return dict(zip(idx, s.tolist(), strict=True))

    def locate(self, x: float, y: float, motion_yaw_rad: float) -> LaneFix:
        return self.locate_many(np.array([[x, y]]), np.array([motion_yaw_rad]))[0]

    def approaches_lane(self, arm: int, lane_id: int) -> tuple[np.ndarray, np.ndarray]:
        for ap in self.approaches:
            if ap.arm == arm:
                return ap.lanes[lane_id]
        raise KeyError(arm)

"""Where a participant is on the lane map: on the carriageway, with or against the lanes,
the speed limit, and (for approach lanes of the signalised intersection) the distance
upstream of the stop line.

Built once from a Lanelet2 map (``vehicle_nodes.hdmap``); the approaches come from the map's
intersection export, so congestion is measured per arm exactly as MAP describes the arms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from vehicle_nodes.hdmap.errors import ExportError
from vehicle_nodes.hdmap.export import export_intersection
from vehicle_nodes.hdmap.geometry import arc_length, project_many
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


class LaneIndex:
    def __init__(self, hd: HdMap, intersection_id: int = 1) -> None:
        self.hd = hd
        drivable = [ll for ll in hd.lanelets.values() if ll.drivable]
        self.search_m = max((float(np.max(ll.width_m)) / 2 for ll in drivable), default=2.0) + 1.5
        self.crosswalks = [ll for ll in hd.lanelets.values() if ll.subtype == 'crosswalk']
        # (centre line, arc lengths, half of the widest width): a point this close is on it
        self._crossings = [
            (cw.centre_xy, cw.s_m, float(np.max(cw.width_m)) / 2) for cw in self.crosswalks
        ]
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

    def locate_many(self, xy: np.ndarray, yaw_rad: np.ndarray) -> list[LaneFix]:
        """The lane situation of each point (n, 2) moving (or facing) along ``yaw_rad``."""
        n = len(xy)
        if n == 0:
            return []
        lists = self.tree.query_ball_point(xy, self.reach_m)
        counts = np.fromiter((len(c) for c in lists), int, n)
        obj = np.repeat(np.arange(n), counts)
        seg = np.fromiter((j for c in lists for j in c), int, int(counts.sum()))
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
        hit_obj, first = np.unique(obj[hit], return_index=True)
        hit_seg = seg[hit][first]
        approach = {
            int(o): (
                int(self.owner_arm[self.seg_owner[sg]]),
                int(self.owner_lane[self.seg_owner[sg]]),
            )
            for o, sg in zip(hit_obj, hit_seg, strict=True)
        }
        stops = self._stop_distances(xy, approach)
        in_crosswalk = self._in_crosswalk(xy).tolist()
        out = []
        for i in range(n):
            crosswalk = in_crosswalk[i]
            if not on_road[i]:
                out.append(LaneFix(False, False, False, math.nan, crosswalk, -1, -1, math.nan))
                continue
            arm, lane_id, stop = -1, -1, math.nan
            if i in approach:
                arm, lane_id = approach[i]
                stop = stops[i]
            out.append(
                LaneFix(
                    True,
                    bool(aligned[i]),
                    not not_opposed[i],
                    float(limit[i]) if math.isfinite(limit[i]) else math.nan,
                    crosswalk,
                    arm,
                    lane_id,
                    stop,
                )
            )
        return out

    def _in_crosswalk(self, xy: np.ndarray) -> np.ndarray:
        """Whether each point lies on a crosswalk: within half its widest width of its centre
        line (``project_many``: the distances ``project`` gives, bit for bit, all points at
        once; one ``project`` per point and crosswalk was most of the detector's time)."""
        inside = np.zeros(len(xy), dtype=bool)
        for centre, s_table, half_m in self._crossings:
            inside |= project_many(centre, s_table, xy)[1] <= half_m
        return inside

    def _stop_distances(
        self, xy: np.ndarray, approach: dict[int, tuple[int, int]]
    ) -> dict[int, float]:
        """Arc length from the stop line of each object's approach lane, one pass per lane."""
        groups: dict[tuple[int, int], list[int]] = {}
        for i, key in approach.items():
            groups.setdefault(key, []).append(i)
        out: dict[int, float] = {}
        for (arm, lane_id), idx in groups.items():
            pts, s_table = self.approaches_lane(arm, lane_id)
            a, d = pts[:-1], np.diff(pts, axis=0)
            len2 = np.maximum(np.einsum('ij,ij->i', d, d), 1e-12)
            p = xy[idx][:, None, :] - a[None, :, :]  # (k, segments, 2)
            t = np.clip(np.einsum('ksj,sj->ks', p, d) / len2, 0.0, 1.0)
            foot = p - t[..., None] * d[None]
            best = np.argmin(np.einsum('ksj,ksj->ks', foot, foot), axis=1)
            rows = np.arange(len(idx))
            s = s_table[best] + t[rows, best] * np.sqrt(len2[best])
            out.update(zip(idx, s.tolist(), strict=True))
        return out

    def locate(self, x: float, y: float, motion_yaw_rad: float) -> LaneFix:
        return self.locate_many(np.array([[x, y]]), np.array([motion_yaw_rad]))[0]

    def approaches_lane(self, arm: int, lane_id: int) -> tuple[np.ndarray, np.ndarray]:
        for ap in self.approaches:
            if ap.arm == arm:
                return ap.lanes[lane_id]
        raise KeyError(arm)

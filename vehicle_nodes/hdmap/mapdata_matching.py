"""The ego pose on a received MAP's ingress lanes: stop line, signal group, intersection.

What a car without a usable HD map (or whose HD map does not carry the RSU's signal groups)
knows of the junction ahead comes from MapData. Each fix is projected onto every ingress
lane's centre line in one vectorised pass; a lane is a candidate when the foot point lies
between its first point and its stop line (a car past the stop line has left the lane; one
more than ``before_start_m`` upstream of the first point is where the MAP does not describe
the lane), the lateral
distance is within the half width plus ``gate_sigmas`` σ of the position, and, when the
heading is known, it agrees with the lane's within ``heading_tolerance_rad``.

Candidates are scored as the HD map matcher's emission: uniform across the lane seen through
Gaussian position noise, ``log Φ((w/2 − d)/σ) − log w``, plus a von Mises heading term; the
lane matched at the previous fix keeps a bonus of ``−log p_lane_change`` so that a car near
a lane divider does not flip between the two phases every fix. ``confidence`` is the best
candidate's share of the candidates' likelihood times the probability of being inside its
lane, Φ((w/2 − d)/σ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr, ndtr

from vehicle_nodes.hdmap.mapdata_lanes import IngressLane, choose_phase
from vehicle_nodes.hdmap.mapdata_store import LaneSegments

# A fix on the stop line counts as before it: the lane's points come through lat/lon, so a
# point exactly on the line may project a few nm past the lane's last point.
ON_LINE_M = 1e-6


@dataclass(frozen=True)
class MapDataMatchConfig:
    default_width_m: float = 3.5  # lanes whose MAP has no laneWidth
    gate_sigmas: float = 3.0
    heading_tolerance_rad: float = math.radians(45.0)
    heading_sigma_floor_rad: float = 0.15
    min_speed_for_heading_mps: float = 0.5
    p_lane_change: float = 0.05
    before_start_m: float = 1.0  # a fix this far upstream of a lane's first point still counts


@dataclass(frozen=True)
class MapDataMatch:
    """The ego on one ingress lane of a received MAP."""

    lane: IngressLane
    stop_line_distance_m: float  # along the lane to its last point
    arc_length_m: float  # from the lane's first point
    lateral_offset_m: float  # left positive
    lane_heading_rad: float
    lane_width_m: float
    signal_group: int  # 0 when no connection fits
    intersection_id: int  # the MAP node id
    confidence: float


class MapDataMatcher:
    """Matches fixes to ingress lanes; keeps only the last matched lane. One per vehicle."""

    def __init__(self, config: MapDataMatchConfig | None = None) -> None:
        self.cfg = config or MapDataMatchConfig()
        self._last: tuple[tuple[int, int], int] | None = None  # (node, lane id)
        self._width_of: tuple[LaneSegments, np.ndarray] | None = None

    def _widths(self, seg: LaneSegments) -> np.ndarray:
        """Each lane's width, the default where its MAP has none (kept per segment set)."""
        if self._width_of is None or self._width_of[0] is not seg:
            w = seg.width_m
            self._width_of = (seg, np.where(np.isfinite(w), w, self.cfg.default_width_m))
        return self._width_of[1]

    def match(
        self,
        seg: LaneSegments,
        x_m: float,
        y_m: float,
        *,
        yaw_rad: float = math.nan,
        speed_mps: float = math.nan,
        sigma_m: float = 0.5,
        yaw_sigma_rad: float = 0.1,
        turn: int = 0,
        start_heading: dict | None = None,
    ) -> MapDataMatch | None:
        """The best ingress lane for the fix, or None (none near, or past every stop line).
        ``turn``: the ego's intended maneuver (MANEUVER_* bit; 0 unknown) to pick the phase."""
        cfg = self.cfg
        sigma = max(float(sigma_m), 0.05) if math.isfinite(sigma_m) else 0.5
        widths = self._widths(seg)
        reach = 0.5 * float(widths.max()) + cfg.gate_sigmas * sigma
        if (
            x_m < seg.lo[0] - reach
            or y_m < seg.lo[1] - reach
            or x_m > seg.hi[0] + reach
            or y_m > seg.hi[1] + reach
        ):
            self._last = None
            return None
        px, py = x_m - seg.a[:, 0], y_m - seg.a[:, 1]
        dx, dy = seg.d[:, 0], seg.d[:, 1]
        raw = (px * dx + py * dy) / seg.len2
        t = np.clip(raw, 0.0, 1.0)
        fx, fy = px - t * dx, py - t * dy
        dist2 = fx * fx + fy * fy
        near = np.flatnonzero(dist2 <= reach * reach)  # a lane's nearest segment is among them
        if near.size == 0:
            self._last = None
            return None
        # the nearest segment of each lane
        order = near[np.lexsort((dist2[near], seg.lane[near]))]
        owner = seg.lane[order]
        best = order[np.concatenate(([True], owner[1:] != owner[:-1]))]
        lanes = seg.lane[best]
        dist = np.sqrt(dist2[best])
        width = widths[lanes]
        upstream = raw[best] * seg.length[best] < -cfg.before_start_m
        past = (raw[best] - 1.0) * seg.length[best] > ON_LINE_M
        outside = (seg.first[best] & upstream) | (seg.last[best] & past)
        ok = ~outside & (dist <= 0.5 * width + cfg.gate_sigmas * sigma)
        heading = seg.heading[best]
        score = log_ndtr((0.5 * width - dist) / sigma) - np.log(width)
        use_yaw = math.isfinite(yaw_rad) and not (
            math.isfinite(speed_mps) and abs(speed_mps) < cfg.min_speed_for_heading_mps
        )
        if use_yaw:
            diff = np.angle(np.exp(1j * (yaw_rad - heading)))
            ok &= np.abs(diff) <= cfg.heading_tolerance_rad
            sh = math.hypot(yaw_sigma_rad if math.isfinite(yaw_sigma_rad) else 0.3,
                            cfg.heading_sigma_floor_rad)  # fmt: skip
            score = score + (np.cos(diff) - 1.0) / (sh * sh)
        if not ok.any():
            self._last = None
            return None
        last = seg.index.get(self._last) if self._last is not None else None
        if last is not None:
            score = score + np.where(lanes == last, -math.log(cfg.p_lane_change), 0.0)
        score = np.where(ok, score, -np.inf)
        j = int(np.argmax(score))
        share = 1.0 / float(np.exp(score[ok] - score[j]).sum())
        k = int(best[j])
        lane = seg.lanes[int(lanes[j])]
        s = float(seg.s0[k] + t[k] * seg.length[k])
        cross = float(dx[k] * py[k] - dy[k] * px[k])
        inside = float(ndtr((0.5 * width[j] - dist[j]) / sigma))
        self._last = (lane.node, lane.lane_id)
        return MapDataMatch(
            lane=lane,
            stop_line_distance_m=max(float(seg.total[lanes[j]]) - s, 0.0),
            arc_length_m=s,
            lateral_offset_m=math.copysign(float(dist[j]), cross),
            lane_heading_rad=float(heading[j]),
            lane_width_m=float(width[j]),
            signal_group=choose_phase(lane, turn, start_heading or {}),
            intersection_id=lane.node[1],
            confidence=share * inside,
        )

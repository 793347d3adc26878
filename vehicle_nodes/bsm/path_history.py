"""Path history and path prediction of a BSM (SAE J2945/1 style, T/CSAE 53 PathHistory).

Path history: the vehicle's recent track as few "concise" points. Every raw position
(breadcrumb) between two consecutive concise points lies within ``allowable_error_m`` of the
chord joining them, and no chord is longer than ``max_chord_m``; the list covers at most
``max_distance_m`` of travel and ``max_points`` points (T/CSAE 53 PathHistoryPointList:
SIZE(1..23)). J2945/1 values: 1 m allowable error, 300 m covered, chords ≤ 310 m (2020).

Path prediction: radius of curvature = speed / yaw rate (ENU, left turn positive; straight
beyond ``straight_radius_m``), with a confidence that falls as the yaw rate changes.
All positions are metres in the local ENU ``map`` frame; times are ns.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Crumb:
    """One position of the own vehicle: ENU metres at ``stamp_ns``, with its speed."""

    stamp_ns: int
    x_m: float
    y_m: float
    z_m: float
    speed_mps: float


@dataclass(frozen=True)
class PathHistoryConfig:
    allowable_error_m: float = 1.0
    max_chord_m: float = 310.0
    max_distance_m: float = 300.0
    max_points: int = 23
    max_age_s: float = 655.0  # TimeOffset (10 ms, 1..65535) reaches 655.35 s


def chord_errors(xy: np.ndarray) -> np.ndarray:
    """Perpendicular distances of the inner points of ``xy`` (N x 2) from the chord joining
    its first and last points (distances to the first point when the chord is degenerate)."""
    start, end = xy[0], xy[-1]
    inner = xy[1:-1]
    chord = end - start
    length = math.hypot(chord[0], chord[1])
    rel = inner - start
    if length < 1e-9:
        return np.hypot(rel[:, 0], rel[:, 1])
    return np.abs(rel[:, 0] * chord[1] - rel[:, 1] * chord[0]) / length


class PathHistory:
    """Concise path history built incrementally from breadcrumbs (newest last)."""

    def __init__(self, config: PathHistoryConfig | None = None) -> None:
        self.config = config or PathHistoryConfig()
        self.concise: deque[Crumb] = deque()  # kept points, oldest first
        self.pending: list[Crumb] = []  # breadcrumbs since the last concise point
        # the pending crumbs' x, y less the anchor's (the last concise point), one row each,
        # kept as they come: a new crumb's chord test is then one vectorised pass over a view
        # (a straight drive keeps ~300 pending crumbs), not the offsets recomputed each time
        self._rel = np.empty((64, 2))

    def clear(self) -> None:
        """Forget the track (a pseudonym change must not link old and new ids)."""
        self.concise.clear()
        self.pending.clear()

    def _keep(self, row: int, crumb: Crumb, anchor: Crumb) -> None:
        """Row ``row`` of the offsets: ``crumb`` from ``anchor``."""
        if row >= len(self._rel):
            grown = np.empty((2 * len(self._rel), 2))
            grown[:row] = self._rel[:row]
            self._rel = grown
        self._rel[row] = crumb.x_m - anchor.x_m, crumb.y_m - anchor.y_m

    def _bent(self, anchor: Crumb, crumb: Crumb) -> bool:
        """Whether a pending crumb lies farther than ``allowable_error_m`` from the chord
        anchor -> ``crumb``: ``chord_errors`` over (anchor, *pending, crumb), with the offsets
        kept and the division by the chord length after the maximum (rounding is monotonic,
        so the maximum of the quotients is the quotient of the maximum): the same verdict."""
        rel = self._rel[: len(self.pending)]
        cx, cy = crumb.x_m - anchor.x_m, crumb.y_m - anchor.y_m
        length = math.hypot(cx, cy)
        if length < 1e-9:  # degenerate chord (standing still): distances to the anchor
            worst = float(np.hypot(rel[:, 0], rel[:, 1]).max())
        else:
            worst = float(np.abs(rel[:, 0] * cy - rel[:, 1] * cx).max()) / length
        return worst > self.config.allowable_error_m

    def add(self, crumb: Crumb) -> None:
        """Add the newest position; promotes the previous crumb to a concise point when the
        chord from the last concise point to ``crumb`` would break the error or length rule."""
        if not self.concise:
            self.concise.append(crumb)
            return
        anchor = self.concise[-1]
        if crumb.stamp_ns <= anchor.stamp_ns or (
            self.pending and crumb.stamp_ns <= self.pending[-1].stamp_ns
        ):
            return  # not newer: ignored (the caller counts it)
        chord = math.hypot(crumb.x_m - anchor.x_m, crumb.y_m - anchor.y_m)
        # a chord longer than the covered distance would leave no point to send once the
        # anchor falls out of it (a straight drive of 300-310 m): cap it at both limits
        too_far = chord > min(self.config.max_chord_m, self.config.max_distance_m)
        too_bent = bool(self.pending) and self._bent(anchor, crumb)
        if (too_far or too_bent) and self.pending:
            anchor = self.pending[-1]
            self.concise.append(anchor)
            self.pending = [crumb]
            self._keep(0, crumb, anchor)
        else:
            self._keep(len(self.pending), crumb, anchor)
            self.pending.append(crumb)

    def points(self, now: Crumb) -> list[Crumb]:
        """Concise points to send with the current position ``now``, newest first: at most
        ``max_points``, covering at most ``max_distance_m`` of track back from ``now``."""
        cfg = self.config
        out: list[Crumb] = []
        previous = now
        travelled = 0.0
        for crumb in reversed(self.concise):
            if crumb.stamp_ns >= now.stamp_ns:
                continue
            if (now.stamp_ns - crumb.stamp_ns) / 1e9 > cfg.max_age_s:
                break
            travelled += math.hypot(crumb.x_m - previous.x_m, crumb.y_m - previous.y_m)
            if travelled > cfg.max_distance_m or len(out) >= cfg.max_points:
                break
            out.append(crumb)
            previous = crumb
        # Older points are never sent again; the newest stays as the anchor of the next chord.
        while len(self.concise) > max(len(out), 1):
            self.concise.popleft()
        return out


@dataclass(frozen=True)
class Prediction:
    radius_m: float  # left turn positive; math.inf = straight
    confidence: float  # 0..1


def predict_path(
    speed_mps: float,
    yaw_rate_radps: float,
    yaw_rate_change_radps: float,
    *,
    straight_radius_m: float = 2500.0,
    min_speed_mps: float = 1.0,
) -> Prediction:
    """Radius of curvature from speed and yaw rate; confidence from how steady the yaw rate
    is (a change of 0.1 rad/s over the last second leaves none). Below ``min_speed_mps`` the
    radius says nothing: straight, confidence 0."""
    if not (math.isfinite(speed_mps) and math.isfinite(yaw_rate_radps)):
        return Prediction(math.inf, 0.0)
    if abs(speed_mps) < min_speed_mps:
        return Prediction(math.inf, 0.0)
    steadiness = 1.0 - min(1.0, abs(yaw_rate_change_radps) / 0.1)
    if abs(yaw_rate_radps) < 1e-6:
        return Prediction(math.inf, steadiness)
    radius = speed_mps / yaw_rate_radps
    if abs(radius) > straight_radius_m:
        return Prediction(math.inf, steadiness)
    return Prediction(radius, steadiness)

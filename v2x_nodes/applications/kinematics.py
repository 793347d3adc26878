"""Vectorised kinematics of the applications: prediction, time-to-collision, conflicts.

Every function works on numpy arrays over N targets (and K time samples), REP 103 units.
Targets move with constant turn rate and constant acceleration (CTRA, speed clamped at 0:
a braking vehicle stops and stays); the ego vehicle moves along a path polyline (its lanes
ahead) with constant acceleration. A collision is an overlap of the two footprints at a
sample time, with margins that grow with the prediction horizon (the uncertainty).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
MIN_CLOSING_MPS = 1e-6  # slower closing counts as none (a TTC of days is no TTC)


def wrap(angle_rad: FloatArray | float) -> FloatArray:
    """Angles wrapped to [-pi, pi)."""
    return (np.asarray(angle_rad, dtype=float) + np.pi) % (2.0 * np.pi) - np.pi


_CODES = 256  # member(): codes of one byte (classes, relations) have a cached table
# member()'s tables by the tuple asked (the code asks a few constant tuples: one dict look-up
# a call, a dozen calls a cycle)
_TABLES: dict[tuple[int, ...], BoolArray] = {}


def _member_table(allowed: tuple[int, ...]) -> BoolArray:
    table = np.zeros(_CODES + 1, dtype=bool)  # the last entry stands for every larger code
    table[list(allowed)] = True
    table.flags.writeable = False
    return table


def member(values: np.ndarray, allowed: tuple[int, ...]) -> BoolArray:
    """``np.isin`` for small non-negative codes (classes, relations) by table lookup: isin
    sorts, which costs more than the whole membership test for a few hundred targets."""
    table = _TABLES.get(allowed)
    if table is None and max(allowed, default=0) < _CODES:
        table = _TABLES[allowed] = _member_table(allowed)
    if table is not None:
        return table[np.minimum(values, _CODES)]
    table = np.zeros(max(*allowed, int(values.max(initial=0))) + 1, dtype=bool)
    table[list(allowed)] = True
    return table[values]


def travelled(speed_mps: FloatArray, accel_mps2: FloatArray, t_s: FloatArray) -> FloatArray:
    """Distance after ``t_s`` at constant acceleration, stopping (not reversing) at speed 0.

    Broadcasts: speed/accel (N, 1) with t (K,) gives (N, K).
    """
    v = np.maximum(np.asarray(speed_mps, float), 0.0)
    a = np.asarray(accel_mps2, float)
    t = np.asarray(t_s, float)
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        t_stop = np.where(a < 0.0, v / -np.where(a < 0.0, a, -1.0), np.inf)
    te = np.minimum(t, t_stop)
    return np.maximum(v * te + 0.5 * a * te * te, 0.0)


def travelled_along(speed_mps: float, accel_mps2: float, t_s: FloatArray) -> FloatArray:
    """``travelled`` of one vehicle (the own one along its path): the stop time in plain
    floats, the same numbers without the 0-d array operations."""
    v = max(speed_mps, 0.0)
    t_stop = v / -accel_mps2 if accel_mps2 < 0.0 else math.inf
    te = np.minimum(t_s, t_stop)
    return np.maximum(v * te + 0.5 * accel_mps2 * te * te, 0.0)


def predict_ctra(
    x_m: FloatArray,
    y_m: FloatArray,
    *,
    course_rad: FloatArray,
    speed_mps: FloatArray,
    accel_mps2: FloatArray,
    yaw_rate_radps: FloatArray,
    t_s: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Positions (N, K) and course (N, K) of N targets at K times (CTRA, speed >= 0).

    Integrated over the sample intervals (midpoint course), so the turn follows the
    distance really travelled; the times need not start at 0.
    """
    t = np.asarray(t_s, float)
    t_full = np.concatenate(([0.0], t))
    s = travelled(speed_mps[:, None], accel_mps2[:, None], t_full[None, :])  # (N, K + 1)
    ds = np.diff(s, axis=1)
    w = yaw_rate_radps[:, None]
    mid = course_rad[:, None] + w * (0.5 * (t_full[:-1] + t_full[1:]))[None, :]
    x = x_m[:, None] + np.cumsum(ds * np.cos(mid), axis=1)
    y = y_m[:, None] + np.cumsum(ds * np.sin(mid), axis=1)
    course = course_rad[:, None] + w * t[None, :]
    return x, y, course


@dataclass(frozen=True)
class EgoTrack:
    """The ego vehicle's predicted positions and headings at the sample times (K,)."""

    t_s: FloatArray
    x_m: FloatArray
    y_m: FloatArray
    heading_rad: FloatArray
    s_m: FloatArray  # distance travelled along the path


def ego_along_path(
    path_xy: FloatArray, speed_mps: float, accel_mps2: float, t_s: FloatArray,
    report_t_s: FloatArray | None = None,
) -> EgoTrack:  # fmt: skip
    """Ego prediction along ``path_xy`` (M, 2), starting at its first point, at times ``t_s``
    (the track's times are ``report_t_s`` when given: predicted from an older state).

    Beyond the path's end the last segment's direction is extended.
    """
    s = travelled_along(float(speed_mps), float(accel_mps2), t_s)
    start = path_xy[:-1]
    seg = path_xy[1:] - start
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    keep = seg_len > 1e-9
    if not keep.all():
        seg, seg_len, start = seg[keep], seg_len[keep], start[keep]
    if len(seg) == 0:
        raise ValueError('ego path needs two distinct points')
    table = np.concatenate(([0.0], np.cumsum(seg_len)))
    # s >= 0 = table[0]: the segment index is >= 0 (NaN sorts last: the last segment)
    i = np.minimum(np.searchsorted(table, s, side='right') - 1, len(seg) - 1)
    u = (s - table[i]) / seg_len[i]
    x = start[i, 0] + u * seg[i, 0]
    y = start[i, 1] + u * seg[i, 1]
    heading = np.arctan2(seg[i, 1], seg[i, 0])
    return EgoTrack(np.asarray(t_s if report_t_s is None else report_t_s, float), x, y, heading,
                    s)  # fmt: skip


def footprint_half_extents(
    length_m: FloatArray, width_m: FloatArray, rel_heading_rad: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Half extents of a box (length along its heading) seen along and across another axis."""
    c = np.abs(np.cos(rel_heading_rad))
    s = np.abs(np.sin(rel_heading_rad))
    return 0.5 * (length_m * c + width_m * s), 0.5 * (length_m * s + width_m * c)


@dataclass(frozen=True)
class CollisionParams:
    """Footprint margins: a base and a growth per second of horizon (the uncertainty)."""

    lon_margin_m: float = 0.5
    lat_margin_m: float = 0.3
    lon_growth_mps: float = 0.2
    lat_growth_mps: float = 0.1
    time_gap_s: float = 0.0  # the target also occupies where it was / will be this long


def first_collision(
    ego: EgoTrack,
    *,
    ego_length_m: float,
    ego_width_m: float,
    tx: FloatArray,
    ty: FloatArray,
    tcourse: FloatArray,
    tspeed: FloatArray,
    length_m: FloatArray,
    width_m: FloatArray,
    params: CollisionParams,
) -> tuple[FloatArray, FloatArray]:
    """Time of the first footprint overlap per target (inf: none) and the distance then.

    ``tx``/``ty``/``tcourse`` are (N, K) predictions at ``ego.t_s``, ``tspeed`` (N, K) or
    (N, 1). The target box is stretched along its course by ``time_gap_s`` × its speed on
    both sides, which turns the overlap test into "both reach the conflict zone within
    time_gap_s".
    """
    dx = tx - ego.x_m[None, :]
    dy = ty - ego.y_m[None, :]
    stretched = length_m[:, None] + 2.0 * params.time_gap_s * tspeed
    t = ego.t_s[None, :]
    # The boxes can only overlap where the centres are closer than the largest limits (a
    # half extent is at most half the diagonal, whatever the headings): the exact test
    # below runs only on the targets that come that close at some sample.
    diag = 0.5 * np.hypot(stretched, width_m[:, None])
    reach_lon = (0.5 * ego_length_m + params.lon_margin_m) + params.lon_growth_mps * t + diag
    reach_lat = (0.5 * ego_width_m + params.lat_margin_m) + params.lat_growth_mps * t + diag
    bound = (reach_lon * reach_lon + reach_lat * reach_lat) * (1.0 + 1e-9)  # + rounding
    near = (dx * dx + dy * dy <= bound).any(axis=1).nonzero()[0]
    ttc = np.full(len(dx), np.inf)
    dist = np.full(len(dx), np.nan)
    if not len(near):
        return ttc, dist
    if len(near) < len(dx):
        dx, dy, tcourse = dx[near], dy[near], tcourse[near]
        stretched, width_m = stretched[near], width_m[near]
    ch = np.cos(ego.heading_rad)[None, :]
    sh = np.sin(ego.heading_rad)[None, :]
    lon = dx * ch + dy * sh
    lat = -dx * sh + dy * ch
    hl, hw = footprint_half_extents(stretched, width_m[:, None], tcourse - ego.heading_rad)
    lon_lim = 0.5 * ego_length_m + hl + params.lon_margin_m + params.lon_growth_mps * t
    lat_lim = 0.5 * ego_width_m + hw + params.lat_margin_m + params.lat_growth_mps * t
    # separation > 0 while the boxes are apart; the first crossing of 0 is interpolated
    sep = np.maximum(np.abs(lon) - lon_lim, np.abs(lat) - lat_lim)
    hit = sep <= 0.0
    any_hit = hit.any(axis=1)
    k = np.argmax(hit, axis=1)
    rows = np.arange(len(k))
    t_hit = ego.t_s[k]
    prev = np.maximum(k - 1, 0)
    s0, s1 = sep[rows, prev], sep[rows, k]
    with np.errstate(divide='ignore', invalid='ignore'):
        frac = np.where((k > 0) & (s0 > s1), s0 / (s0 - s1), 1.0)
    t_hit = np.where(k > 0, ego.t_s[prev] + frac * (t_hit - ego.t_s[prev]), t_hit)
    ttc[near] = np.where(any_hit, t_hit, np.inf)
    dist[near] = np.where(any_hit, np.hypot(dx[:, 0], dy[:, 0]), np.nan)
    return ttc, dist


def ttc_1d(gap_m: FloatArray, closing_speed_mps: FloatArray) -> FloatArray:
    """Time to close ``gap_m`` at ``closing_speed_mps``; inf when not closing (below
    ``MIN_CLOSING_MPS``). Gap <= 0 → 0."""
    gap = np.asarray(gap_m, float)
    v = np.asarray(closing_speed_mps, float)
    closing = v > MIN_CLOSING_MPS
    out = np.where(closing, gap / np.where(closing, v, 1.0), np.inf)
    return np.where(gap <= 0.0, 0.0, out)


def ttc_1d_accel(
    gap_m: FloatArray,
    *,
    ego_speed_mps: FloatArray,
    ego_accel_mps2: FloatArray,
    lead_speed_mps: FloatArray,
    lead_accel_mps2: FloatArray,
    horizon_s: float = 10.0,
    step_s: float = 0.02,
) -> FloatArray:
    """Time until the follower reaches the lead (both at constant accel, stopping at 0).

    Evaluated on a time grid (the closed forms multiply with the stop cases); inf beyond
    ``horizon_s``. Used for property checks of the sampled collision search.
    """
    t = np.arange(0.0, horizon_s + step_s / 2, step_s)
    gap = np.atleast_1d(np.asarray(gap_m, float))[:, None]
    ego = travelled(
        np.atleast_1d(ego_speed_mps)[:, None], np.atleast_1d(ego_accel_mps2)[:, None], t
    )
    lead = travelled(
        np.atleast_1d(lead_speed_mps)[:, None], np.atleast_1d(lead_accel_mps2)[:, None], t
    )
    closed = ego - lead >= gap
    return np.where(closed.any(axis=1), t[np.argmax(closed, axis=1)], np.inf)


def time_to_reach(
    distance_m: FloatArray, speed_mps: FloatArray, accel_mps2: FloatArray
) -> FloatArray:
    """Time to cover ``distance_m`` at constant acceleration; inf when it stops first (or
    the distance is infinite).

    The root (-v + sqrt(v² + 2ad)) / a is computed as 2d / (v + sqrt(v² + 2ad)), the same
    number without the cancellation of -v + sqrt(...) when ad is small against v² (at
    a = 1e-8 m/s², v = 17 m/s the first form was 3 µs off for 1 m)."""
    d = np.asarray(distance_m, float)
    v = np.maximum(np.asarray(speed_mps, float), 0.0)
    a = np.asarray(accel_mps2, float)
    disc = v * v + 2.0 * a * d
    with np.errstate(divide='ignore', invalid='ignore'):
        t_acc = np.where(np.abs(a) > 1e-9, 2.0 * d / (v + np.sqrt(np.maximum(disc, 0.0))), d / v)
    t = np.where(disc < 0.0, np.inf, t_acc)
    t = np.where(((np.abs(a) <= 1e-9) & (v <= 0.0)) | (d == np.inf), np.inf, t)
    return np.where(d <= 0.0, 0.0, t)


def time_to_reach_one(distance_m: float, speed_mps: float, accel_mps2: float) -> float:
    """``time_to_reach`` of one distance, in floats (the own car's: RLVW), the same number."""
    d, v, a = distance_m, max(speed_mps, 0.0), accel_mps2
    if d <= 0.0:
        return 0.0
    if (abs(a) <= 1e-9 and v <= 0.0) or d == math.inf:
        return math.inf
    disc = v * v + 2.0 * a * d
    if disc < 0.0:
        return math.inf
    if abs(a) > 1e-9:
        root_sum = v + math.sqrt(max(disc, 0.0))
        if root_sum == 0.0:  # 2ad underflowed (a vanishing distance): numpy gives inf too
            return math.inf
        return 2.0 * d / root_sum
    if v == 0.0:  # (a NaN) numpy's quiet division by zero
        return math.inf if d > 0.0 else math.nan
    return d / v

"""Geometry of turning and passing manoeuvres (LTA, DNPW): where an oncoming vehicle's course
crosses the own path, and whether the own path turns ahead.

LTA needs more than the CTRA collision search: a left-turner slows into the turn (to
~7 m/s at a junction) while the search moves it along its path at its current speed, so the
search places it through the conflict point early and misses the conflict. The conflict-point
test here bounds the own arrival between the current speed and half of it (a turn's speed),
and raises on the time the oncoming vehicle needs to reach the point (T/CSAE 53 LTA: the
oncoming vehicle reaches the conflict area while the host is there).
"""

from __future__ import annotations

import numpy as np

from v2x_nodes.applications.kinematics import wrap

MIN_TURN_SPEED_MPS = 3.0


def path_heading_change(path_xy: np.ndarray, within_m: float) -> float:
    """Largest absolute heading change (rad) of the path over its first ``within_m``."""
    seg = np.diff(path_xy, axis=0)
    length = np.hypot(seg[:, 0], seg[:, 1])
    keep = length > 1e-6
    seg, length = seg[keep], length[keep]
    if len(seg) < 2:
        return 0.0
    start = np.concatenate(([0.0], np.cumsum(length)[:-1]))
    seg = seg[start <= within_m]
    if len(seg) < 2:
        return 0.0
    heading = np.arctan2(seg[:, 1], seg[:, 0])
    return float(np.max(np.abs(wrap(heading - heading[0]))))


def conflict_times(
    path_xy: np.ndarray, x: np.ndarray, y: np.ndarray, course: np.ndarray, reach_m: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Per target: distance along the own path to where the target's straight course crosses
    it (inf: no crossing within ``reach_m`` of the target), and the target's distance there."""
    a, b = path_xy[:-1], path_xy[1:]
    seg_len = np.hypot(*(b - a).T)
    s0 = np.concatenate(([0.0], np.cumsum(seg_len)[:-1]))
    d = b - a  # (S, 2)
    u = np.column_stack([np.cos(course), np.sin(course)])  # (T, 2)
    # solve a + t d = p + r u for each (target, segment)
    den = d[None, :, 0] * u[:, None, 1] - d[None, :, 1] * u[:, None, 0]  # (T, S)
    wx = x[:, None] - a[None, :, 0]
    wy = y[:, None] - a[None, :, 1]
    with np.errstate(divide='ignore', invalid='ignore'):
        t = (wx * u[:, None, 1] - wy * u[:, None, 0]) / den
        r = (wx * d[None, :, 1] - wy * d[None, :, 0]) / den
        ok = (np.abs(den) > 1e-9) & (t >= 0) & (t <= 1) & (r >= 0) & (r <= reach_m[:, None])
        s_ego = np.where(ok, s0[None, :] + t * seg_len[None, :], np.inf)  # (NaN: not ok)
    first = np.argmin(s_ego, axis=1)
    rows = np.arange(len(x))
    return s_ego[rows, first], np.where(ok[rows, first], r[rows, first], np.inf)


def lta_conflict_ttc(  # noqa: PLR0917
    path_xy: np.ndarray, ego_speed: float, x: np.ndarray, y: np.ndarray, course: np.ndarray,
    speed: np.ndarray, horizon_s: float, gap_s: float,
) -> np.ndarray:  # fmt: skip
    """Time for each oncoming target to reach the own turn path where the host may be then
    (its arrival between the current speed and half of it, widened by ``gap_s``); inf else."""
    reach = np.maximum(speed, 0.1) * horizon_s
    v = max(ego_speed, 0.1)
    # A target reaches its crossing within the horizon, and the host must be there by then
    # plus the gap at the current speed: crossings farther along the path cannot overlap,
    # so the path is searched only up to there (its first crossing, if nearer, is the same).
    path_xy = path_xy[: _within(path_xy, v * (horizon_s + gap_s) * (1.0 + 1e-9) + 1e-6) + 1]
    s_ego, r = conflict_times(path_xy, x, y, course, reach)
    t_rv = r / np.maximum(speed, 0.1)
    t_fast = s_ego / v
    t_slow = s_ego / max(0.5 * v, min(v, MIN_TURN_SPEED_MPS))
    overlap = (t_rv + gap_s >= t_fast) & (t_rv - gap_s <= t_slow) & np.isfinite(s_ego)
    return np.where(overlap, t_rv, np.inf)


def _within(path_xy: np.ndarray, length_m: float) -> int:
    """Index of the last path vertex that starts a segment within ``length_m`` of arc (every
    segment from there on starts beyond it); at least 1, the whole path when it is shorter."""
    seg_len = np.hypot(*np.diff(path_xy, axis=0).T)
    s0 = np.concatenate(([0.0], np.cumsum(seg_len)[:-1]))  # conflict_times' segment starts
    return max(int(np.searchsorted(s0, length_m, side='right')), 1)

"""Signal timing (SPAT) as the applications need it: the light at a future time, green
windows, and the GLOSA speed band. Times are seconds from now unless named otherwise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from v2x_runtime import messages as m

LIGHT_FLASHING_RED = 2
LIGHT_RED = 3
LIGHT_FLASHING_GREEN = 4
LIGHT_PERMISSIVE_GREEN = 5
LIGHT_PROTECTED_GREEN = 6
LIGHT_YELLOW = 7
GREEN = (LIGHT_FLASHING_GREEN, LIGHT_PERMISSIVE_GREEN, LIGHT_PROTECTED_GREEN)
RED = (LIGHT_FLASHING_RED, LIGHT_RED)
DEFAULT_GREEN_S = 30.0  # assumed length of a green whose duration SPAT does not give


@dataclass(frozen=True)
class PhaseTiming:
    """One phase with its times shifted to "seconds from now"."""

    phase_id: int
    light: int
    end_s: float  # likely end of the current light (min end when no likely end), from now
    next_green_s: float  # start of the next green, from now (NaN: unknown)
    next_green_duration_s: float


def note_ignored(cache: dict[Any, Any], reason: str, key: Any) -> None:
    """Remember that ``key``'s data was ignored this cycle for ``reason`` ('stale_spat',
    'stale_events'); the node counts each (reason, key) once per cycle in its diagnostics."""
    cache.setdefault('ignored', set()).add((reason, key))


def spat_is_stale(spat: list[tuple[int, Any]], intersection_id: int, now_ns: int,
                  max_age_s: float) -> bool:  # fmt: skip
    """Whether the SPAT of ``intersection_id`` was heard, but longer ago than ``max_age_s``."""
    return any(int(msg.intersection_id) == intersection_id
               and (now_ns - received_ns) * 1e-9 > max_age_s
               for received_ns, msg in spat)  # fmt: skip


def find_phase(spat: list[tuple[int, Any]], intersection_id: int, phase_id: int,
               now_ns: int, max_age_s: float) -> PhaseTiming | None:  # fmt: skip
    """The phase ``phase_id`` of intersection ``intersection_id`` from fresh SPAT, or None."""
    for received_ns, msg in spat:
        if int(msg.intersection_id) != intersection_id:
            continue
        if (now_ns - received_ns) * 1e-9 > max_age_s:
            return None
        ref_ns = m.to_ns(msg.header.stamp) or received_ns
        elapsed = (now_ns - ref_ns) * 1e-9
        for ph in msg.phases:
            if int(ph.phase_id) != phase_id:
                continue
            end = ph.likely_end_s if math.isfinite(ph.likely_end_s) else ph.min_end_s
            return PhaseTiming(int(ph.phase_id), int(ph.light), end - elapsed,
                               ph.next_start_s - elapsed, ph.next_duration_s)  # fmt: skip
    return None


def is_red_at(ph: PhaseTiming, t_s: float) -> bool:
    """Will the light be red (or have turned red from yellow) at ``t_s`` from now?"""
    ends = math.isfinite(ph.end_s) and t_s >= ph.end_s
    if ph.light in RED:
        if not ends:
            return True
        return math.isfinite(ph.next_green_s) and t_s < ph.next_green_s
    if ph.light == LIGHT_YELLOW:
        if not ends:
            return False
        return not (math.isfinite(ph.next_green_s) and t_s >= ph.next_green_s)
    if ph.light in GREEN:
        # after green comes yellow (a few seconds) then red: treat beyond the end as not green
        return ends and t_s >= ph.end_s + 3.0
    return False


def green_windows(ph: PhaseTiming) -> list[tuple[float, float]]:
    """Upcoming green intervals (start, end) from now."""
    out = []
    dur = ph.next_green_duration_s if math.isfinite(ph.next_green_duration_s) else DEFAULT_GREEN_S
    if ph.light in GREEN:
        out.append((0.0, ph.end_s if math.isfinite(ph.end_s) else math.inf))
        if math.isfinite(ph.next_green_s):
            out.append((ph.next_green_s, ph.next_green_s + dur))
    elif ph.light in RED or ph.light == LIGHT_YELLOW:
        start = ph.next_green_s
        if not math.isfinite(start) and ph.light in RED and math.isfinite(ph.end_s):
            start = ph.end_s
        if math.isfinite(start):
            out.append((max(start, 0.0), start + dur))
    return out


@dataclass(frozen=True)
class SpeedBand:
    min_mps: float
    max_mps: float
    window: tuple[float, float]


def glosa_band(distance_m: float, windows: list[tuple[float, float]], v_min: float,
               v_max: float, margin_s: float) -> SpeedBand | None:  # fmt: skip
    """The speeds (constant from now) that reach the stop line inside a green window, with
    ``margin_s`` after its start (unless it is green already) and before its end; the first
    window that fits wins."""
    for start, end in windows:
        t0 = start + margin_s if start > 0.0 else 0.0
        t1 = end - margin_s
        if t1 <= max(t0, 0.0):
            continue
        hi = v_max if t0 <= 0.0 else min(v_max, distance_m / t0)
        lo = max(v_min, distance_m / t1) if math.isfinite(t1) else v_min
        if lo <= hi:
            return SpeedBand(lo, hi, (start, end))
    return None

"""NTCIP 1202 (actuated signal controller MIB) objects and what they mean for SPAT.

Only the objects a SPAT source needs: the phase status groups (which phases show red, yellow,
green, walk...) and the phase timing parameters (minimum and maximum green, yellow change,
red clearance, in tenths of a second). OIDs are NTCIP 1202 v2 ones, under the ASC node
1.3.6.1.4.1.1206.4.2.1 (iso.org.dod.internet.private.enterprises.nema...devices.asc).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

ASC = '1.3.6.1.4.1.1206.4.2.1'
MAX_PHASES = f'{ASC}.1.1.0'
MAX_PHASE_GROUPS = f'{ASC}.1.3.0'
PHASE_TABLE = f'{ASC}.1.2.1'  # phaseEntry.<column>.<phase>
PHASE_STATUS_TABLE = f'{ASC}.1.4.1'  # phaseStatusGroupEntry.<column>.<group>

# phaseEntry columns (values in tenths of a second)
PHASE_MIN_GREEN = 4
PHASE_MAX_GREEN = 6
PHASE_YELLOW_CHANGE = 8
PHASE_RED_CLEAR = 9
TIMING_COLUMNS = (PHASE_MIN_GREEN, PHASE_MAX_GREEN, PHASE_YELLOW_CHANGE, PHASE_RED_CLEAR)

# phaseStatusGroupEntry columns (each an 8-bit set: bit 0 = first phase of the group)
STATUS_REDS = 2
STATUS_YELLOWS = 3
STATUS_GREENS = 4
STATUS_COLUMNS = (STATUS_REDS, STATUS_YELLOWS, STATUS_GREENS)

# T/CSAE 53 LightState (the SignalPhase.LIGHT_* values)
LIGHT_UNAVAILABLE, LIGHT_RED, LIGHT_PERMISSIVE_GREEN, LIGHT_PROTECTED_GREEN, LIGHT_YELLOW = (
    0,
    3,
    5,
    6,
    7,
)


class NtcipError(ValueError):
    """A controller answer that does not make sense (the message says which phase and why)."""


def status_oids(groups: int) -> list[str]:
    return [
        f'{PHASE_STATUS_TABLE}.{col}.{g}' for g in range(1, groups + 1) for col in STATUS_COLUMNS
    ]


def timing_oids(phases: list[int]) -> list[str]:
    return [f'{PHASE_TABLE}.{col}.{p}' for p in phases for col in TIMING_COLUMNS]


@dataclass(frozen=True)
class PhaseTiming:
    min_green_s: float
    max_green_s: float
    yellow_s: float
    red_clear_s: float


def parse_timing(values: dict[str, int], phases: list[int]) -> dict[int, PhaseTiming]:
    """Phase timing from the answers to ``timing_oids`` (tenths of a second)."""
    timing = {}
    for p in phases:
        tenths = [values.get(f'{PHASE_TABLE}.{col}.{p}') for col in TIMING_COLUMNS]
        if any(t is None or not 0 <= t <= 2550 for t in tenths):
            raise NtcipError(f'phase {p}: timing {tenths} missing or outside 0..255 s')
        min_g, max_g, yellow, red = (t / 10.0 for t in tenths)  # type: ignore[operator]
        if max_g < min_g:
            raise NtcipError(f'phase {p}: max green {max_g} s < min green {min_g} s')
        timing[p] = PhaseTiming(min_g, max_g, yellow, red)
    return timing


def parse_lights(
    values: dict[str, int], groups: int, phases: list[int], permissive: frozenset[int] = frozenset()
) -> dict[int, int]:
    """The light of each configured phase from the status group bit sets.

    Exactly one of red/yellow/green must be set for a configured phase; anything else (none,
    or two at once) is nonsense from the controller and raises NtcipError.
    """
    lights = {}
    for p in phases:
        group, bit = divmod(p - 1, 8)
        if group >= groups:
            raise NtcipError(f'phase {p} is outside the {groups} polled phase group(s)')
        flags = []
        for col in STATUS_COLUMNS:
            value = values.get(f'{PHASE_STATUS_TABLE}.{col}.{group + 1}')
            if value is None or not 0 <= value <= 255:
                raise NtcipError(f'phase group {group + 1} column {col}: bad value {value!r}')
            flags.append(bool(value >> bit & 1))
        red, yellow, green = flags
        if sum(flags) != 1:
            raise NtcipError(f'phase {p}: red={red} yellow={yellow} green={green}')
        if green:
            lights[p] = LIGHT_PERMISSIVE_GREEN if p in permissive else LIGHT_PROTECTED_GREEN
        else:
            lights[p] = LIGHT_YELLOW if yellow else LIGHT_RED
    return lights


@dataclass(frozen=True)
class Countdown:
    start_s: float
    min_end_s: float
    max_end_s: float
    likely_end_s: float


@dataclass
class PhaseClock:
    """When each phase's light last changed, to turn phase parameters into time to change."""

    since_ns: dict[int, tuple[int, int]] = field(default_factory=dict)  # phase -> (light, t)

    def observe(self, phase: int, light: int, now_ns: int) -> float:
        """Seconds the phase has shown ``light`` (0 at a change, or the first observation)."""
        last = self.since_ns.get(phase)
        if last is None or last[0] != light:
            self.since_ns[phase] = (light, now_ns)
            return 0.0
        return (now_ns - last[1]) / 1e9

    def countdown(self, light: int, elapsed_s: float, timing: PhaseTiming) -> Countdown:
        """Min/max/likely end of the current light; NaN where the controller decides freely.

        Green ends between min and max green (an actuated controller may gap out any time
        after min green; the likely end assumes it runs to max). Yellow ends exactly after
        the yellow change. A red's end depends on the other phases: only its earliest end,
        the red clearance, is known.
        """
        if light == LIGHT_YELLOW:
            end = max(0.0, timing.yellow_s - elapsed_s)
            return Countdown(-elapsed_s, end, end, end)
        if light in (LIGHT_PROTECTED_GREEN, LIGHT_PERMISSIVE_GREEN):
            lo = max(0.0, timing.min_green_s - elapsed_s)
            hi = max(lo, timing.max_green_s - elapsed_s)
            return Countdown(-elapsed_s, lo, hi, hi)
        lo = max(0.0, timing.red_clear_s - elapsed_s)
        return Countdown(-elapsed_s, lo, math.nan, math.nan)

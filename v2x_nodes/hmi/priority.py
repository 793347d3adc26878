"""The warning priority table: which driver warning wins when several are active.

A warning's priority is ``application priority + level bonus``. Application priorities put
collision warnings first, then the warnings about other vehicles' emergencies (EVW, EBW) and
abnormal states, then road hazards, then information; the level bonus (10 per level) lets a
critical warning of a lower class beat a mere caution of a higher one, but never lifts an
information service above a collision warning of any level. The table is documented in
docs/hmi.md; ``parse_overrides`` reads the ``APP=PRIORITY`` strings of the arbiter's parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from v2x_nodes.hmi.errors import PriorityConfigError

LEVEL_NONE, LEVEL_INFO, LEVEL_CAUTION, LEVEL_WARNING, LEVEL_CRITICAL = 0, 1, 2, 3, 4
LEVEL_NAMES = ('NONE', 'INFO', 'CAUTION', 'WARNING', 'CRITICAL')
LEVEL_BONUS = (0, 0, 10, 20, 30)  # by level: INFO adds nothing, CRITICAL 30

# Base priority by application (T/CSAE 53 Day-1 short names). Higher wins.
APPLICATION_PRIORITY: Mapping[str, int] = MappingProxyType(
    {
        # collision with a road user is imminent or possible
        'FCW': 60,  # forward collision
        'VRUCW': 59,  # vulnerable road user collision
        'ICW': 58,  # intersection collision
        'LTA': 57,  # left turn assist (oncoming traffic)
        'RLVW': 56,  # red light violation
        'DNPW': 55,  # do not pass (oncoming in the passing lane)
        'LCW': 54,  # lane change warning
        'BSW': 53,  # blind spot
        # other vehicles' emergencies and abnormal states
        'EVW': 45,  # emergency vehicle approaching
        'EBW': 44,  # emergency brake ahead
        'CLW': 43,  # control loss ahead
        'AVW': 42,  # abnormal vehicle ahead
        # road hazards and regulations
        'HLW': 30,  # hazardous location
        'TJW': 29,  # traffic jam ahead
        'SLW': 28,  # speed limit
        # information and efficiency
        'IVS': 15,  # in-vehicle signage
        'GLOSA': 14,  # green light optimal speed advisory
    }
)
UNKNOWN_APPLICATION_PRIORITY = 10


@dataclass(frozen=True)
class PriorityTable:
    """Application base priorities (with overrides applied) and the level bonus."""

    applications: Mapping[str, int] = field(default_factory=lambda: APPLICATION_PRIORITY)
    unknown: int = UNKNOWN_APPLICATION_PRIORITY

    def priority(self, application: str, level: int) -> int:
        """Priority of a warning; ``level`` must be 0..4 (callers reject others first)."""
        return self.applications.get(application.upper(), self.unknown) + LEVEL_BONUS[level]

    def with_overrides(self, overrides: Mapping[str, int]) -> PriorityTable:
        merged = dict(self.applications)
        merged.update({k.upper(): v for k, v in overrides.items()})
        return PriorityTable(MappingProxyType(merged), self.unknown)


def parse_overrides(entries: Iterable[str], *, parameter: str) -> dict[str, int]:
    """``['EVW=70', 'GLOSA=5']`` → ``{'EVW': 70, 'GLOSA': 5}``.

    :raises PriorityConfigError: an entry is not ``NAME=INTEGER`` (0..1000), or a name repeats.
    """
    out: dict[str, int] = {}
    for entry in entries:
        name, sep, value = entry.partition('=')
        name = name.strip().upper()
        if not sep or not name:
            raise PriorityConfigError(
                f'parameter {parameter}: entry {entry!r}: expected APPLICATION=PRIORITY'
            )
        try:
            number = int(value.strip())
        except ValueError:
            raise PriorityConfigError(
                f'parameter {parameter}: entry {entry!r}: priority must be an integer, '
                f'got {value.strip()!r}'
            ) from None
        if not 0 <= number <= 1000:
            raise PriorityConfigError(
                f'parameter {parameter}: entry {entry!r}: priority must be in 0..1000, got {number}'
            )
        if name in out:
            raise PriorityConfigError(f'parameter {parameter}: application {name} given twice')
        out[name] = number
    return out

"""Raise/clear hysteresis of warnings, per (application, target), so they do not flicker.

A finding carries a ``margin`` in the application's own units: ``margin <= 0`` means the
trigger condition holds (e.g. TTC - threshold). A warning is raised at ``margin <= 0``; it
clears only once the margin has stayed above ``clear_margin`` for ``hold_s`` (a target that
is no longer reported counts as above). In between it stays raised.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One application's result for one target in one cycle."""

    application: str
    target: str
    margin: float
    level: int
    ttc_s: float = float('inf')
    distance_m: float = float('nan')
    text: str = ''


@dataclass
class _Active:
    finding: Finding
    clear_since_ns: int | None = None


class Hysteresis:
    """The raised warnings of one application and when they may clear."""

    def __init__(self, clear_margin: float, hold_s: float) -> None:
        self.clear_margin = clear_margin
        self.hold_ns = round(hold_s * 1e9)
        self.active: dict[str, _Active] = {}

    def update(self, now_ns: int, findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
        """Feed one cycle's findings; returns (raised or still raised, just cleared)."""
        if not findings and not self.active:  # (most applications, most cycles)
            return [], []
        seen: set[str] = set()
        for f in findings:
            seen.add(f.target)
            state = self.active.get(f.target)
            if state is None:
                if f.margin <= 0.0:
                    self.active[f.target] = _Active(f)
                continue
            if f.margin <= 0.0:
                state.finding = f
                state.clear_since_ns = None
            elif f.margin <= self.clear_margin:
                state.finding = f  # inside the band: stays raised with fresh figures
                state.clear_since_ns = None
            elif state.clear_since_ns is None:
                state.clear_since_ns = now_ns
        cleared = []
        for target, state in list(self.active.items()):
            if target not in seen and state.clear_since_ns is None:
                state.clear_since_ns = now_ns
            if state.clear_since_ns is not None and now_ns - state.clear_since_ns >= self.hold_ns:
                cleared.append(state.finding)
                del self.active[target]
        return [s.finding for s in self.active.values()], cleared

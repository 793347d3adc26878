"""One warning at a time: priority arbitration with a minimum display time, free of messages.

Rules (docs/hmi.md has the table and examples):
1. Every active warning is a *candidate*, keyed by (application, target id). A new report of
   the same key updates it (level, text, TTC) and keeps the time it was raised.
2. ``LEVEL_NONE`` clears that key; with an empty target id it clears every key of the
   application. A candidate not refreshed for ``expire_after_s`` (if > 0) expires.
3. The shown warning changes when a candidate of strictly higher priority appears
   (immediately: safety first), or when the shown one is gone and has been shown for at least
   ``min_display_s`` (the *hold*: a cleared warning stays up that long, so nothing flickers).
   While the shown warning is within its hold, a challenger must beat the highest priority it
   had during the hold, so a warning whose level dips for a moment is not displaced.
4. Ties: priority, then smaller time to collision, then earlier raised, then key order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from v2x_nodes.hmi.priority import LEVEL_NONE, PriorityTable

NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class Candidate:
    """One active warning as the arbiter tracks it; ``payload`` is the original message."""

    application: str
    target_id: str
    level: int
    priority: int
    time_to_collision_s: float
    raised_ns: int
    updated_ns: int
    payload: Any = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.application, self.target_id)

    def rank(self) -> tuple[int, float, int, tuple[str, str]]:
        """Sort key: the smallest ranks first."""
        ttc = self.time_to_collision_s if math.isfinite(self.time_to_collision_s) else math.inf
        return (-self.priority, ttc, self.raised_ns, self.key)


@dataclass(frozen=True)
class Decision:
    """What a step decided: the shown warning (None: nothing) and what changed."""

    active: Candidate | None
    changed: bool  # another warning (or none) is shown now, or the shown one was updated
    held: bool  # the shown warning is gone but still within its minimum display time
    newly_suppressed: tuple[Candidate, ...]  # candidates not shown, first seen at this level
    expired: tuple[Candidate, ...]


class Arbiter:
    """The arbitration state machine; time comes from the caller (ns on the runtime's clock)."""

    def __init__(
        self, table: PriorityTable, *, min_display_s: float, expire_after_s: float
    ) -> None:
        self.table = table
        self.min_display_ns = round(min_display_s * NS_PER_S)
        self.expire_after_ns = round(expire_after_s * NS_PER_S)
        self.candidates: dict[tuple[str, str], Candidate] = {}
        self.shown: Candidate | None = None
        self.shown_since_ns = 0
        self.shown_peak = 0
        self._logged: set[tuple[tuple[str, str], int]] = set()
        self._dirty = False

    def report(
        self,
        *,
        application: str,
        target_id: str,
        level: int,
        time_to_collision_s: float,
        now_ns: int,
        payload: Any = None,
    ) -> int:
        """Add, update or clear a warning; returns how many candidates a clear removed."""
        if level == LEVEL_NONE:
            if target_id:
                keys = [(application, target_id)]
            else:
                keys = [k for k in self.candidates if k[0] == application]
            removed = 0
            for key in keys:
                if self.candidates.pop(key, None) is not None:
                    removed += 1
                    self._forget(key)
            return removed
        key = (application, target_id)
        old = self.candidates.get(key)
        self.candidates[key] = Candidate(
            application=application,
            target_id=target_id,
            level=level,
            priority=self.table.priority(application, level),
            time_to_collision_s=time_to_collision_s,
            raised_ns=old.raised_ns if old is not None else now_ns,
            updated_ns=now_ns,
            payload=payload,
        )
        if self.shown is not None and self.shown.key == key:
            self._dirty = True
        return 0

    def _forget(self, key: tuple[str, str]) -> None:
        self._logged = {k for k in self._logged if k[0] != key}

    def step(self, now_ns: int) -> Decision:
        """Expire stale candidates and decide which warning is shown at ``now_ns``."""
        expired: list[Candidate] = []
        if self.expire_after_ns > 0:
            for key, cand in list(self.candidates.items()):
                if now_ns - cand.updated_ns > self.expire_after_ns:
                    expired.append(self.candidates.pop(key))
                    self._forget(key)
        best = min(self.candidates.values(), key=Candidate.rank, default=None)
        shown, previous = self.shown, self.shown
        in_hold = shown is not None and now_ns - self.shown_since_ns < self.min_display_ns
        held = False
        if shown is not None and shown.key in self.candidates:
            current = self.candidates[shown.key]
            if in_hold:
                self.shown_peak = max(self.shown_peak, current.priority)
            bar = self.shown_peak if in_hold else current.priority
            shown = best if best is not None and best.priority > bar else current
        elif shown is not None and in_hold:
            # gone, but shown too briefly: keep it up unless a higher one arrives
            if best is not None and best.priority > self.shown_peak:
                shown = best
            else:
                held = True
        else:
            shown = best
        switched = (shown is None) != (previous is None) or (
            shown is not None and previous is not None and shown.key != previous.key
        )
        if switched:
            self.shown_since_ns = now_ns
            self.shown_peak = shown.priority if shown is not None else 0
        changed = switched or (self._dirty and shown is not None and not held)
        self._dirty = False
        self.shown = shown
        suppressed = []
        for cand in sorted(self.candidates.values(), key=Candidate.rank):
            if shown is not None and cand.key == shown.key:
                continue
            mark = (cand.key, cand.level)
            if mark not in self._logged:
                self._logged.add(mark)
                suppressed.append(cand)
        if shown is not None and changed:
            self._forget(shown.key)  # if it is displaced later, log it again
        return Decision(
            active=shown,
            changed=changed,
            held=held,
            newly_suppressed=tuple(suppressed),
            expired=tuple(expired),
        )

"""Hysteresis and de-duplication: candidates (conditions now) → events with stable ids.

A condition must hold for ``raise_after_s[kind]`` before its event is raised, and must be
absent for ``clear_after_s`` before it is withdrawn (short gaps, e.g. a tracker that drops
an object for a frame, neither reset a pending event nor end a raised one). An event keeps
its id while it lasts; a candidate of the same kind within ``dedup_radius_m`` of a raised
event whose own key went silent takes that event over (a track id switch on a stopped car
must not raise a second event). Ids are 1..255 (RSI rteId/rtsId), never two alike at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rsu_nodes.events.codes import EventKind
from rsu_nodes.events.rules import Candidate

MAX_ID = 255


@dataclass
class Entry:
    candidate: Candidate
    first_ns: int
    last_ns: int
    raised_ns: int | None = None
    event_id: int = 0


class EventBook:
    def __init__(
        self, raise_after_s: dict[EventKind, float], clear_after_s: float, dedup_radius_m: float
    ) -> None:
        self.raise_after_ns = {k: round(v * 1e9) for k, v in raise_after_s.items()}
        self.clear_after_ns = round(clear_after_s * 1e9)
        self.dedup_radius_m = dedup_radius_m
        self.entries: dict[tuple[EventKind, int], Entry] = {}
        self._next_id = 1
        self.raised_total = 0
        self.cleared_total = 0
        self.merged_total = 0

    def _new_id(self) -> int:
        used = {e.event_id for e in self.entries.values() if e.raised_ns is not None}
        for _ in range(MAX_ID):
            ident = self._next_id
            self._next_id = self._next_id % MAX_ID + 1
            if ident not in used:
                return ident
        return 0  # more than 255 live events: the RSI cannot carry them anyway

    def _takeover(self, cand: Candidate, keys_now: set[tuple[EventKind, int]]) -> Entry | None:
        for key, e in self.entries.items():
            if key[0] != cand.kind or e.raised_ns is None or key in keys_now:
                continue
            if math.dist(e.candidate.xyz[:2], cand.xyz[:2]) <= self.dedup_radius_m:
                del self.entries[key]
                return e
        return None

    def update(self, now_ns: int, candidates: list[Candidate]) -> None:
        keys_now = {(c.kind, c.key) for c in candidates}
        for cand in candidates:
            key = (cand.kind, cand.key)
            entry = self.entries.get(key)
            if entry is None:
                entry = self._takeover(cand, keys_now)
                if entry is not None:
                    self.merged_total += 1
                else:
                    entry = Entry(cand, now_ns, now_ns)
                self.entries[key] = entry
            entry.candidate = cand
            entry.last_ns = now_ns
            if (
                entry.raised_ns is None
                and now_ns - entry.first_ns >= self.raise_after_ns[cand.kind]
            ):
                entry.raised_ns = now_ns
                entry.event_id = self._new_id()
                self.raised_total += 1
        for key in [k for k, e in self.entries.items() if k not in keys_now]:
            entry = self.entries[key]
            if now_ns - entry.last_ns >= self.clear_after_ns:
                del self.entries[key]
                if entry.raised_ns is not None:
                    self.cleared_total += 1

    def active(self) -> list[Entry]:
        """Raised events, oldest first."""
        live = [e for e in self.entries.values() if e.raised_ns is not None]
        return sorted(live, key=lambda e: (e.raised_ns, e.event_id))

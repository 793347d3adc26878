"""Object reports converted once per Participant message and shared by a process's fusions.

A received object reaches the fusion of every vehicle in range as the same Participant
message: the V2X receivers of a process share the conversion of a frame (``v2x_nodes/rx/
shared.py``), and a receiver republishes its table of BSM senders ten times a second whether
or not a sender's entry changed. In the simulator one process hosts every vehicle, so the
same Participant was checked and converted into an ``ObjectReport`` by each of 8 fusions,
again every cycle. A report depends only on the message and the converter's settings (source
kind, priors, covariance factor, sender variance and, for a participant stamped 0, the array's
stamp), so the report made the first time is the report every time: the cache hands out that
same frozen object (or the same refusal).

Messages are never changed once published (the runtime's rule); an entry keeps its message
alive, so the ``id`` it is found by cannot be reused while it is stored. Bounded: the oldest
entries go first. Safe under threads: a lost race converts a message twice, to equal reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from perception_nodes.fusion.errors import ObjectInputError
from perception_nodes.fusion.reports import (
    CovarianceCache,
    CovariancePriors,
    ObjectReport,
    SourceKind,
    reports_from_participants,
)

Converted = ObjectReport | ObjectInputError


class SharedReports:
    """``reports_from_participants`` remembered per Participant message (module docstring)."""

    def __init__(self, max_entries: int = 8192, max_arrays: int = 256) -> None:
        self.max_entries = max_entries
        self.max_arrays = max_arrays
        self.hits = 0
        self.misses = 0
        self.array_hits = 0
        # (kind, priors, sender variance) -> (participant ids, array stamp) -> (participants,
        # converted, none refused)
        self._arrays: dict[tuple[Any, ...], dict[tuple[Any, ...], tuple[Any, ...]]] = {}
        # (kind, priors, sender variance) -> (message id, factor, fallback stamp) -> entry
        self._entries: dict[tuple[Any, ...], dict[tuple[Any, ...], tuple[Any, Converted]]] = {}

    def __len__(self) -> int:
        return sum(len(e) for e in self._entries.values())

    def convert(
        self,
        parts: Sequence[Any],
        kind: SourceKind,
        priors: CovariancePriors,
        default_stamp_ns: int,
        *,
        scales: Sequence[float] | None = None,
        position_var_m2: float = 0.0,
        cache: CovarianceCache | None = None,
    ) -> list[Converted]:
        """What ``reports_from_participants(parts, kind, priors, default_stamp_ns,
        cov_scale=scales, position_var_m2=..., cache=...)`` returns, the reports of messages
        seen before as the objects made then."""
        settings = (kind, priors, position_var_m2)  # hashed once per array, not per entry
        entries = self._entries.get(settings)
        if entries is None:
            entries = self._entries[settings] = {}
        out: list[Converted | None] = [None] * len(parts)
        keys = []
        missing = []
        for i, p in enumerate(parts):
            stamp = p.header.stamp
            key = (
                id(p),
                1.0 if scales is None else scales[i],
                # only a participant stamped 0 takes the array's stamp
                None if stamp.sec or stamp.nanosec else default_stamp_ns,
            )
            entry = entries.get(key)
            if entry is not None and entry[0] is p:
                out[i] = entry[1]
            else:
                keys.append(key)
                missing.append(i)
        self.hits += len(parts) - len(missing)
        if missing:
            self.misses += len(missing)
            made = reports_from_participants(
                [parts[i] for i in missing],
                kind,
                priors,
                default_stamp_ns,
                cov_scale=None if scales is None else np.array([scales[i] for i in missing]),
                position_var_m2=position_var_m2,
                cache=cache,
            )
            for i, key, r in zip(missing, keys, made, strict=True):
                out[i] = r
                entries[key] = (parts[i], r)
            while len(entries) > self.max_entries:  # per settings: one set in a simulation
                entries.pop(next(iter(entries)), None)
        return out  # type: ignore[return-value]

    def convert_all(
        self,
        parts: Sequence[Any],
        kind: SourceKind,
        priors: CovariancePriors,
        default_stamp_ns: int,
        *,
        position_var_m2: float = 0.0,
        cache: CovarianceCache | None = None,
    ) -> tuple[list[Converted], bool]:
        """``convert`` of a whole array without ``scales``, and whether no participant was
        refused. The list made before for the same participants (the same objects, in the same
        order) and array stamp is handed out again, as that list: read it, never change it.
        Every fusion gets a roadside array of the same shared Participants (the receivers keep
        them all, nearly always); one tuple of their ids finds it."""
        settings = (kind, priors, position_var_m2)
        arrays = self._arrays.get(settings)
        if arrays is None:
            arrays = self._arrays[settings] = {}
        key = (tuple(map(id, parts)), default_stamp_ns)
        entry = arrays.get(key)
        if entry is not None:
            self.array_hits += 1
            return entry[1], entry[2]
        out = self.convert(
            parts, kind, priors, default_stamp_ns, position_var_m2=position_var_m2, cache=cache
        )
        clean = not any(isinstance(r, ObjectInputError) for r in out)
        arrays[key] = (list(parts), out, clean)  # holds the participants: the ids stay theirs
        while len(arrays) > self.max_arrays:
            arrays.pop(next(iter(arrays)), None)
        return out, clean

    def clear(self) -> None:
        self._entries.clear()
        self._arrays.clear()


# The one instance of a process: every fusion in it shares the conversions.
SHARED_REPORTS = SharedReports()


class CycleMemo:
    """Per-report work of a fusion cycle at one time, shared by the process's engines.

    Every vehicle's fusion cycles at the same instants (10 Hz timers from the start) and,
    with ``SHARED_REPORTS``, holds the same report objects for the same roadside objects and
    BSM senders: each engine predicted those reports to the cycle time, and fused the same
    pairs (a sender's BSM with the roadside track of that sender) that other engines had
    fused a moment before. A prediction depends only on the report, the time and the
    manoeuvre noise; a fused pair only on its two reports, aligned so, and the method; rows
    and pairs are computed independently of the others in their batch (``predict_cv`` is
    element-wise, ``fuse_pairs`` row by row: tested), so the remembered result is the one
    the engine would compute. Entries hold their reports (their ``id`` stays theirs) and are
    kept for the two latest cycle times only. Under threads (the ROS container's executor) two
    engines may compute the same entry at once: both store equal results.
    """

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0
        self._tables: dict[tuple[Any, ...], dict[Any, tuple[Any, ...]]] = {}

    def table(self, now_ns: int, settings: tuple[Any, ...]) -> dict[Any, tuple[Any, ...]]:
        """The entries of cycle time ``now_ns`` under ``settings`` (engine configuration)."""
        key = (now_ns, settings)
        table = self._tables.get(key)
        if table is None:
            if len(self._tables) >= 2:  # keep the latest: cycles move forward in time
                for old in sorted(self._tables, key=lambda k: k[0])[:-1]:
                    self._tables.pop(old, None)  # another thread may have dropped it
            table = self._tables[key] = {}
        return table

    def clear(self) -> None:
        self._tables.clear()


# The one instance of a process.
CYCLE_MEMO = CycleMemo()

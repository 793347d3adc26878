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

    def __init__(self, max_entries: int = 8192) -> None:
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._entries: dict[tuple[Any, ...], tuple[Any, Converted]] = {}

    def __len__(self) -> int:
        return len(self._entries)

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
        entries = self._entries
        out: list[Converted | None] = [None] * len(parts)
        keys = []
        missing = []
        for i, p in enumerate(parts):
            stamp = p.header.stamp
            key = (
                id(p),
                kind,
                priors,
                1.0 if scales is None else scales[i],
                position_var_m2,
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
            while len(entries) > self.max_entries:
                entries.pop(next(iter(entries)), None)
        return out  # type: ignore[return-value]

    def clear(self) -> None:
        self._entries.clear()


# The one instance of a process: every fusion in it shares the conversions.
SHARED_REPORTS = SharedReports()

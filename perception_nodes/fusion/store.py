"""The latest report of every (source, object): duplicates, reordering, stale and future data.

Each source object keeps only its newest report. A report no newer than the stored one leaves
the store as it is: *repeated* when it is the stored report again (same stamp, same state and
covariance: the V2X receiver republishes its table of BSM senders whenever any sender
changes, so a sender whose next BSM is late or lost comes again unchanged — benign, only
counted), *duplicate* when it has the same stamp but other content (two different states
claiming one instant), *out of order* when older. Reports older
than ``max_age_s`` or stamped beyond ``future_tolerance_s`` are refused on arrival, and stored
reports that grow older than ``max_age_s`` expire at the next fusion cycle, so a source that
goes silent leaves no ghosts behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

import numpy as np

from perception_nodes.fusion.reports import ObjectReport


class Admission(Enum):
    ACCEPTED = 'accepted'
    REPEATED = 'repeated'
    DUPLICATE = 'duplicate'
    OUT_OF_ORDER = 'out_of_order'
    STALE = 'stale'
    FUTURE = 'future_stamp'


@dataclass(frozen=True)
class StoreLimits:
    max_age_s: float = 0.5
    future_tolerance_s: float = 0.05


class ReportStore:
    """Newest report per source object, with the admission rules above."""

    def __init__(self, limits: StoreLimits) -> None:
        self.limits = limits
        self._max_age_ns = limits.max_age_s * 1e9  # floats, compared as before
        self._future_ns = limits.future_tolerance_s * 1e9
        self._reports: dict[tuple[int, str, int], ObjectReport] = {}

    def __len__(self) -> int:
        return len(self._reports)

    def admit(self, report: ObjectReport, now_ns: int) -> Admission:
        age_ns = now_ns - report.stamp_ns
        if age_ns > self._max_age_ns:
            return Admission.STALE
        if -age_ns > self._future_ns:
            return Admission.FUTURE
        old = self._reports.get(report.key)
        if old is report:  # the same object again (shared conversions, ``shared.py``)
            return Admission.REPEATED
        if old is not None and report.stamp_ns <= old.stamp_ns:
            if report.stamp_ns < old.stamp_ns:
                return Admission.OUT_OF_ORDER
            same = np.array_equal(report.state, old.state) and np.array_equal(report.cov, old.cov)
            return Admission.REPEATED if same else Admission.DUPLICATE
        self._reports[report.key] = report
        return Admission.ACCEPTED

    def replace_group(self, group: tuple[int, str], keep: Iterable[tuple[int, str, int]]) -> int:
        """Forget the reports of ``group`` not in ``keep`` (a complete list superseded them).

        Returns how many were removed.
        """
        keep_set = set(keep)
        gone = [k for k, r in self._reports.items() if r.group == group and k not in keep_set]
        for k in gone:
            del self._reports[k]
        return len(gone)

    def drop_source(self, kind: int, source_id: str) -> int:
        """Forget every report of one sender; returns how many."""
        return self.drop(kind, source_id)

    def drop(self, kind: int, source_id: str, object_id: int | None = None) -> int:
        """Forget one sender's reports (only ``object_id``'s if given); returns how many."""
        gone = [
            k
            for k in self._reports
            if k[0] == kind and k[1] == source_id and object_id in (None, k[2])
        ]
        for k in gone:
            del self._reports[k]
        return len(gone)

    def expire(self, now_ns: int) -> int:
        """Drop reports older than ``max_age_s`` at ``now_ns``; returns how many."""
        limit = now_ns - int(self.limits.max_age_s * 1e9)
        gone = [k for k, r in self._reports.items() if r.stamp_ns < limit]
        for k in gone:
            del self._reports[k]
        return len(gone)

    def reports(self) -> list[ObjectReport]:
        return list(self._reports.values())

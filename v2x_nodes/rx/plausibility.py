"""The receivers' misbehaviour checks, with what does not depend on the receiver done once per
process.

Every receiver judges every participant it is handed with its own ``MisbehaviourChecker``
(each keeps its own history of senders). In the simulator one process hosts them all, and the
receivers of a broadcast frame get the very same Participant objects (``shared.py``): each
built the same ``Report`` of it and ran the same comparisons against the same previous report,
which was 60 % of the receive path in ``perf/dense_100``. Two things are shared here:

* ``facts(p, prefix)``: what a participant's checks read of it (the sender name, the
  checker's ``Report``, the stamp in ns, whether it has a position) — a function of the
  participant alone, made once per Participant object and handed out as that same object.
* ``SharingChecker``: ``MisbehaviourChecker`` whose verdict on (report, previous report) is
  taken from a per-process memo. ``misbehaviour.quiet`` is a conjunction of pure comparisons:
  ``quiet(r, prev, xy) == quiet(r, prev, None) and not hypot(r - xy) > max_range`` (the
  range test is the only one that reads the receiver), and the part without the receiver is
  remembered per (report object, previous report object). Reports are shared, so receivers
  that heard the same frames of a sender hold the same previous report and find the verdict.
  A report that is not quiet goes through ``MisbehaviourChecker.check`` as before (the
  detailed checks, reasons and texts), so every outcome and counter is unchanged.

Entries hold their objects (an ``id`` in a key stays theirs) and are forgotten all at once
when a table is full. Threads: dict operations only; a lost race computes a verdict twice.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from v2x_nodes.security.misbehaviour import (
    PLAUSIBLE,
    MisbehaviourChecker,
    MisbehaviourConfig,
    MisbehaviourOutcome,
    Report,
    quiet,
)
from v2x_runtime.identity_memo import IdentityMemo

NS_PER_S = 1_000_000_000
MAX_ENTRIES = 1024  # a few frames of every sender: what the receivers of one broadcast need


class Facts(NamedTuple):
    """What the receiver's checks read of one Participant."""

    participant: Any
    sender: str  # the misbehaviour checker's sender id
    report: Report
    stamp_ns: int
    has_position: bool  # x and y finite


def make_facts(p: Any, prefix: str | None) -> Facts:
    """The facts of ``p``; ``prefix`` None: a BSM sender (named by its source id), else the
    message kind of an RSU's object (named ``<prefix>/<source id>/<object id>``)."""
    sender = p.source_id if prefix is None else f'{prefix}/{p.source_id}/{p.id}'
    stamp = p.header.stamp
    stamp_ns = stamp.sec * NS_PER_S + stamp.nanosec
    x, y = p.position.x, p.position.y
    speed = math.hypot(p.velocity.x, p.velocity.y)
    heading = p.heading_rad
    report = Report(  # unknown speed and heading: 0
        sender,
        stamp_ns / NS_PER_S,
        float(x),
        float(y),
        speed if math.isfinite(speed) else 0.0,
        heading if math.isfinite(heading) else 0.0,
    )
    return Facts(p, sender, report, stamp_ns, math.isfinite(x) and math.isfinite(y))


_FACTS: IdentityMemo[Facts] = IdentityMemo(MAX_ENTRIES)


def facts(p: Any, prefix: str | None) -> Facts:
    """``make_facts(p, prefix)``, the same object for the same Participant object (a
    participant is only ever checked under one prefix: the kind of the frame it came from)."""
    entry = _FACTS.get(p)
    if entry is None:
        entry = _FACTS.put(p, make_facts(p, prefix))
    return entry


# per checker configuration: (id(report), id(previous)) -> (report, previous, quiet without
# the receiver's range test)
_VERDICTS: dict[MisbehaviourConfig, dict[tuple[int, int], tuple[Report, Report | None, bool]]] = {}


class SharingChecker(MisbehaviourChecker):
    """``MisbehaviourChecker`` with the receiver-independent verdicts shared (module doc)."""

    def __init__(self, config: MisbehaviourConfig | None = None) -> None:
        super().__init__(config)
        self._verdicts = _VERDICTS.setdefault(self.config, {})

    def check(
        self, report: Report, receiver_xy_m: tuple[float, float] | None = None
    ) -> MisbehaviourOutcome:
        """What ``MisbehaviourChecker.check`` returns, and the same history kept."""
        config = self.config
        last = self._last
        sender = report.sender_id
        previous = last.get(sender)
        if previous is not None and not (
            report.time_s - previous.time_s <= config.history_timeout_s
        ):
            previous = None
        verdicts = self._verdicts
        key = (id(report), id(previous))
        entry = verdicts.get(key)
        if entry is not None and entry[0] is report and entry[1] is previous:
            ok = entry[2]
        else:
            ok = quiet(report, previous, None, config)
            if len(verdicts) >= MAX_ENTRIES:
                verdicts.clear()
            verdicts[key] = (report, previous, ok)
        if ok and not (
            receiver_xy_m is not None
            and math.hypot(report.x_m - receiver_xy_m[0], report.y_m - receiver_xy_m[1])
            > config.max_range_m
        ):
            last[sender] = report
            last.move_to_end(sender)
            while len(last) > config.max_senders:
                last.popitem(last=False)
            return PLAUSIBLE
        return super().check(report, receiver_xy_m)  # not quiet: the detailed checks

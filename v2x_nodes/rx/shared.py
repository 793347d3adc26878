"""Typed outputs of received frames, converted once and shared by the receivers of a process.

A broadcast frame reaches every receiver in range; in the simulator one process hosts them all
(35 receivers in ``perf/dense_100``), and building the Participants, IntersectionStates and
IntersectionMaps of a frame cost each receiver more than the rest of its receive path. The
decoded value is already shared (``pipeline._decode_frame``); this shares the conversion.

A conversion depends on the frame, the receiver's ``frame_id`` and map origin, the trust its
security status gives, and on the receive time ``ref_ns`` only through the stamps it resolves:
a DSecond (millisecond of the minute) or MinuteOfTheYear becomes the instant of that value
nearest ``ref_ns`` (``codec.units``), and a missing one becomes ``ref_ns`` itself. So an output
converted at ``ref0`` is the output at ``ref1`` too when every stamp it carries lies within
``within_ns`` of ``ref1`` and none equals ``ref0`` (which could be the fallback); otherwise
the frame is converted again. ``within_ns`` is ``REUSE_WITHIN_NS``, under half a minute; a
MapData's only stamp is a MinuteOfTheYear, the nearest of three years' candidates, hence
``MOY_REUSE_WITHIN_NS``. The receiver shares the kinds whose outputs carry every resolved stamp
in a header: BSM, RSM, SPAT, MAP; ``test_rx_shared.py`` checks them against direct
conversion, at the half-minute edges too.

Outputs are shared, so nobody may change them: the receiver copies a participant whose trust
differs from the one it was converted with (a flagged sender) and builds its own
ParticipantArray of the participants it keeps. Thread-safe (the ROS container may run a
multi-threaded executor); an entry is complete before another thread can see it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

NS_PER_S = 1_000_000_000
# DSecond stamps resolve to the nearest instant within +-30 s of the receive time; one second
# of margin keeps away from the tie at exactly half a minute.
REUSE_WITHIN_NS = 29 * NS_PER_S
MOY_REUSE_WITHIN_NS = 100 * 86_400 * NS_PER_S  # the other years' candidates are >= 265 days off


def stamps_of(output: Any) -> tuple[int, ...]:
    """Every header stamp (ns) of an output: a message or a list of them, with the
    participants of a ParticipantArray."""
    stamps = []
    for msg in output if isinstance(output, list) else (output,):
        stamp = msg.header.stamp
        stamps.append(stamp.sec * NS_PER_S + stamp.nanosec)
        for p in getattr(msg, 'participants', ()):
            stamp = p.header.stamp
            stamps.append(stamp.sec * NS_PER_S + stamp.nanosec)
    return tuple(stamps)


@dataclass(slots=True)
class Entry:
    """An output converted at ``ref_ns``; its stamps kept as what the reuse test needs: the
    earliest and latest (None: no stamp) and whether one equals ``ref_ns``."""

    ref_ns: int
    first: int | None
    last: int | None
    has_ref: bool
    output: Any


def _entry(ref_ns: int, output: Any) -> Entry:
    stamps = stamps_of(output)
    if not stamps:
        return Entry(ref_ns, None, None, False, output)
    return Entry(ref_ns, min(stamps), max(stamps), ref_ns in stamps, output)


def reusable(entry: Entry, ref_ns: int, within_ns: int) -> bool:
    """Every stamp ``s`` of the entry has ``s != entry.ref_ns`` and ``|s - ref_ns| <
    within_ns``: tested on the earliest and latest stamp only (the same verdict as testing
    each, in integers)."""
    if ref_ns == entry.ref_ns:
        return True
    if entry.first is None:
        return True
    return (
        not entry.has_ref and -within_ns < entry.first - ref_ns and entry.last - ref_ns < within_ns  # type: ignore[operator]
    )


class SharedOutputs:
    """A bounded LRU of converted outputs, keyed by frame and receiver settings."""

    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        key: Hashable,
        ref_ns: int,
        convert: Callable[[int], Any],
        within_ns: int = REUSE_WITHIN_NS,
    ) -> Entry:
        """The entry whose ``output`` is that of ``convert(ref_ns)``, from an earlier
        conversion of ``key`` when that is provably the same (module docstring);
        ``reusable(entry, t, within_ns)`` tells whether it is that of ``convert(t)`` too,
        without a look-up. ``convert``'s exceptions propagate and nothing is stored."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and reusable(entry, ref_ns, within_ns):
                self._entries.move_to_end(key)
                self.hits += 1
                return entry
        output = convert(ref_ns)
        entry = _entry(ref_ns, output)
        with self._lock:
            self.misses += 1
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# The one instance of a process: every receiver in it shares the conversions.
SHARED = SharedOutputs()

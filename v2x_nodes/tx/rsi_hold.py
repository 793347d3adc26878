"""The RSU's current RSI content, held and repeated by the transmitter.

Events reach the transmitter on ``rsu/events`` at the rate of their feed (event detection,
2 Hz; a traffic centre, maybe once). Sending RSI only on arrival ties the broadcast rate to
the feed: a car that loses a few of those broadcasts (C-V2X has no retransmission) learns of a
sign or hazard seconds late. The RSU therefore keeps every event it was given and repeats them
at its own rate. An event leaves when its ``end_time`` has passed, or when its feed has not
repeated it for ``hold_ns`` (a feed withdraws an event by no longer publishing it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from v2x_nodes.codec.convert.rsi import MAX_RTES, MAX_RTSS
from v2x_runtime import messages as m

Key = tuple[int, bool, int]  # (source, is a traffic event (RTE) rather than a sign, id)


@dataclass
class _Held:
    event: Any
    refreshed_ns: int


class RsiHold:
    """Active events by (source, kind, id); ``hold_ns`` without a refresh drops one."""

    def __init__(self, hold_ns: int) -> None:
        self.hold_ns = hold_ns
        self.held: dict[Key, _Held] = {}

    @staticmethod
    def key(event: Any) -> Key:
        return (int(event.source), int(event.event_type) != 0, int(event.id))

    def update(self, events: Any, now_ns: int) -> bool:
        """Take (or refresh) ``events``; True when one of them was not held before."""
        new = False
        for ev in events:
            k = self.key(ev)
            new |= k not in self.held
            self.held[k] = _Held(ev, now_ns)
        return new

    def active(self, now_ns: int) -> list[Any]:
        """The events to broadcast now (ordered by key); expired ones are dropped."""
        for k in list(self.held):
            h = self.held[k]
            end_ns = m.to_ns(h.event.end_time)
            if now_ns - h.refreshed_ns > self.hold_ns or (end_ns and end_ns < now_ns):
                del self.held[k]
        return [self.held[k].event for k in sorted(self.held)]


def rsi_chunks(events: list[Any]) -> list[list[Any]]:
    """Split into groups one RSI can carry (<= 8 traffic events and <= 16 signs each)."""
    rtes = [e for e in events if int(e.event_type) != 0]
    rtss = [e for e in events if int(e.event_type) == 0]
    n = max(-(-len(rtes) // MAX_RTES), -(-len(rtss) // MAX_RTSS))
    return [
        rtes[i * MAX_RTES : (i + 1) * MAX_RTES] + rtss[i * MAX_RTSS : (i + 1) * MAX_RTSS]
        for i in range(n)
    ]

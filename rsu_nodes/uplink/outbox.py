"""A bounded outbox with at-least-once accounting.

Every record is either delivered (acknowledged by the broker), still waiting, or dropped and
counted: when the outbox is full the oldest waiting record makes room. Records in flight when
the connection breaks go back to the front and are sent again, so the centre may see a record
twice (each carries a sequence number to de-duplicate) but never loses one silently.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    seq: int
    topic: str
    payload: bytes


class Outbox:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f'outbox capacity must be >= 1, got {capacity}')
        self.capacity = capacity
        self._waiting: deque[Record] = deque()
        self._in_flight: OrderedDict[int, Record] = OrderedDict()
        self._next_seq = 0
        self.accepted = 0
        self.delivered = 0
        self.dropped = 0
        self.resent = 0

    def __len__(self) -> int:
        return len(self._waiting) + len(self._in_flight)

    def put(self, topic: str, make_payload: Callable[[int], bytes]) -> int:
        """Queue a record whose payload embeds its sequence number; drops the oldest if full."""
        record = Record(self._next_seq, topic, make_payload(self._next_seq))
        self._next_seq += 1
        if len(self) >= self.capacity:
            if self._waiting:
                self._waiting.popleft()
            else:  # everything is in flight: the oldest in-flight record gives way
                self._in_flight.popitem(last=False)
            self.dropped += 1
        self._waiting.append(record)
        self.accepted += 1
        return record.seq

    def take(self) -> Record | None:
        """The next record to send, or None."""
        return self._waiting.popleft() if self._waiting else None

    def sent(self, token: int, record: Record) -> None:
        """``record`` went out and waits for the acknowledgement identified by ``token``."""
        self._in_flight[token] = record

    def acknowledged(self, token: int) -> None:
        if self._in_flight.pop(token, None) is not None:
            self.delivered += 1

    def connection_lost(self) -> None:
        """Everything in flight is sent again, ahead of what waits."""
        self.resent += len(self._in_flight)
        self._waiting.extendleft(reversed(list(self._in_flight.values())))
        self._in_flight.clear()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

"""A transport kept open: polls without blocking, reopens after failures with back-off."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from v2x_runtime.backoff import Backoff
from vehicle_nodes.gnss.errors import NotReadyError, TransportError
from vehicle_nodes.gnss.transports import Transport


@dataclass
class TransportLink:
    """Owns one transport: ``poll(now_s)`` returns bytes read, (re)opening when due."""

    transport: Transport
    backoff: Backoff = field(default_factory=Backoff)
    stats: Counter[str] = field(default_factory=Counter)
    last_error: str = ''
    _retry_at_s: float = 0.0

    def poll(self, now_s: float) -> bytes:
        if not self.transport.is_open:
            if now_s < self._retry_at_s:
                return b''
            try:
                self.transport.open()
            except TransportError as err:
                self._failed(now_s, str(err), 'open_failed')
                return b''
            self.stats['opened'] += 1
        try:
            data = self.transport.read()
        except TransportError as err:
            self._failed(now_s, str(err), 'link_lost')
            return b''
        if data:
            self.backoff.reset()
            self.stats['bytes'] += len(data)
        return data

    def send(self, now_s: float, data: bytes) -> bool:
        """Write if open; a failure is counted and schedules a reopen. True when sent."""
        if not self.transport.is_open:
            self.stats['send_while_closed'] += 1
            return False
        try:
            self.transport.write(data)
        except NotReadyError as err:
            self.stats['send_not_ready'] += 1
            self.last_error = str(err)
            return False
        except TransportError as err:
            self._failed(now_s, str(err), 'send_failed')
            return False
        self.stats['bytes_sent'] += len(data)
        return True

    def close(self) -> None:
        self.transport.close()

    def _failed(self, now_s: float, detail: str, counter: str) -> None:
        self.stats[counter] += 1
        self.last_error = detail
        self.transport.close()
        self._retry_at_s = now_s + self.backoff.next_delay_s()

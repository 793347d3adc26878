"""Transmit rate limits per message type and BSM rate adaptation under congestion.

Limits are token buckets (rate, burst). BSMs follow the idea of SAE J2945/1's inter-transmit
time: nominally 10 Hz (CSAE 53), stretched when the channel is busy. The bridge cannot see the
radio's channel busy ratio, so it estimates the number of neighbours N from the BSM-sized
traffic it receives in the last second (datagrams/s ÷ nominal rate); the interval is
``nominal · max(1, N / density_threshold)`` clamped to ``max_interval_s``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """``rate_hz`` sustained, ``burst`` at once; time in ns from the component clock."""

    rate_hz: float
    burst: float
    tokens: float = field(init=False)
    last_ns: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def allow(self, now_ns: int) -> bool:
        if self.last_ns is not None:
            elapsed = max(0, now_ns - self.last_ns) / 1e9
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate_hz)
        self.last_ns = now_ns
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class BsmRateAdapter:
    """Decides whether a BSM may go now, from the load heard on the channel."""

    nominal_interval_s: float = 0.1
    max_interval_s: float = 0.6
    density_threshold: float = 25.0
    window_s: float = 1.0
    _heard: deque[int] = field(default_factory=deque)
    _last_sent_ns: int | None = None

    def heard(self, now_ns: int) -> None:
        """One datagram received from the air."""
        self._heard.append(now_ns)

    def neighbours(self, now_ns: int) -> float:
        horizon = now_ns - int(self.window_s * 1e9)
        while self._heard and self._heard[0] < horizon:
            self._heard.popleft()
        return len(self._heard) / self.window_s * self.nominal_interval_s

    def interval_s(self, now_ns: int) -> float:
        stretch = max(1.0, self.neighbours(now_ns) / self.density_threshold)
        return min(self.max_interval_s, self.nominal_interval_s * stretch)

    def allow(self, now_ns: int) -> bool:
        # 5% slack: a 10 Hz source jittering by a millisecond still gets every slot
        interval_ns = int(self.interval_s(now_ns) * 0.95e9)
        if self._last_sent_ns is not None and now_ns - self._last_sent_ns < interval_ns:
            return False
        self._last_sent_ns = now_ns
        return True

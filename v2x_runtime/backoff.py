"""Exponential back-off between reconnect attempts, shared by every node that keeps a link.

Plain arithmetic on seconds, no clock of its own: the caller adds ``next_delay_s()`` to the
time its context gives it, so the same code runs on simulated and wall time.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Exponential back-off: initial, multiplied by ``factor`` per failure, capped.

    ``next_delay_s`` after each failure; ``reset`` after a success.
    """

    initial_s: float = 0.5
    maximum_s: float = 30.0
    factor: float = 2.0
    _next_s: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._next_s = self.initial_s

    def next_delay_s(self) -> float:
        """The wait before the next attempt; the one after it grows."""
        delay = self._next_s
        self._next_s = min(self._next_s * self.factor, self.maximum_s)
        return delay

    def reset(self) -> None:
        self._next_s = self.initial_s

"""A python-can bus that never raises into the control loop: errors are counted and reported.

``virtual`` (in-process, tests and simulation) or ``socketcan`` (vehicles, vcan) are chosen by
name. Sends that fail are counted; ``bus_off_after`` failures in a row, or a bus-off error
frame from the controller, mark the port bus-off (a fault that makes the gate stop the vehicle).
A bus-off port tries to reopen at most every ``reopen_period_s``. Receiving never blocks: the
caller drains what has arrived once per cycle, so the loop stays deterministic.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import can

from vehicle_nodes.bywire.errors import BusError

INTERFACES = ('virtual', 'socketcan')
CAN_ERR_BUSOFF = 0x40  # linux/can/error.h: bus off, in the error frame's identifier
CAN_ERR_CRTL = 0x04  # controller problems (error passive / warning)
NS_PER_S = 1_000_000_000


@dataclass
class CanPort:
    """One CAN channel; ``open`` raises BusError naming interface and channel."""

    interface: str
    channel: str
    bus_off_after: int = 5
    reopen_period_s: float = 1.0
    bus: can.BusABC | None = None
    counts: Counter[str] = field(default_factory=Counter)
    consecutive_send_errors: int = 0
    bus_off: bool = False
    last_error: str = ''
    _last_reopen_ns: int = 0

    def open(self) -> None:
        if self.interface not in INTERFACES:
            raise BusError(f'can interface {self.interface!r}, expected one of {INTERFACES}')
        try:
            self.bus = can.Bus(interface=self.interface, channel=self.channel)
        except (can.CanError, OSError, ValueError) as err:
            raise BusError(f'cannot open {self.interface} channel {self.channel!r}: {err}') from err

    def close(self) -> None:
        if self.bus is not None:
            try:
                self.bus.shutdown()
            except (can.CanError, OSError):
                self.counts['shutdown_errors'] += 1
            self.bus = None

    def send(self, frame_id: int, data: bytes, *, extended: bool = False) -> bool:
        """Send one frame; False (and counted) when the interface refused it."""
        if self.bus is None:
            self._send_failed('bus not open')
            return False
        msg = can.Message(arbitration_id=frame_id, data=data, is_extended_id=extended)
        try:
            self.bus.send(msg, timeout=0.0)
        except (can.CanError, OSError) as err:
            self._send_failed(str(err))
            return False
        self.counts['sent'] += 1
        self.consecutive_send_errors = 0
        if self.bus_off:
            self.bus_off = False
            self.counts['bus_off_recovered'] += 1
        return True

    def _send_failed(self, reason: str) -> None:
        self.counts['send_errors'] += 1
        self.consecutive_send_errors += 1
        self.last_error = reason
        if self.consecutive_send_errors >= self.bus_off_after and not self.bus_off:
            self.bus_off = True
            self.counts['bus_off'] += 1

    def receive(self, max_frames: int = 1000) -> list[can.Message]:
        """Every frame waiting (up to ``max_frames``); error frames are counted, not returned."""
        frames: list[can.Message] = []
        if self.bus is None:
            return frames
        for _ in range(max_frames):
            try:
                msg = self.bus.recv(timeout=0.0)
            except (can.CanError, OSError) as err:
                self.counts['receive_errors'] += 1
                self.last_error = str(err)
                break
            if msg is None:
                break
            if msg.is_error_frame:
                self.counts['error_frames'] += 1
                if msg.arbitration_id & CAN_ERR_BUSOFF and not self.bus_off:
                    self.bus_off = True
                    self.counts['bus_off'] += 1
                continue
            frames.append(msg)
        else:
            self.counts['receive_backlog'] += 1
        return frames

    def maybe_reopen(self, now_ns: int) -> None:
        """While bus-off, close and reopen the interface at most every ``reopen_period_s``."""
        if not self.bus_off or now_ns - self._last_reopen_ns < self.reopen_period_s * NS_PER_S:
            return
        self._last_reopen_ns = now_ns
        self.close()
        try:
            self.open()
        except BusError as err:
            self.counts['reopen_errors'] += 1
            self.last_error = str(err)
            return
        self.counts['reopened'] += 1

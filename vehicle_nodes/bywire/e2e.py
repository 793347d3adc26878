"""End-to-end protection of CAN frames in the style of AUTOSAR E2E Profile 1 (variant 1A).

Layout (fixed by the DBC, checked at load): the CRC is byte 0 of the payload, the 4-bit rolling
counter the low nibble of byte 1. The CRC is CRC-8 SAE J1850 (poly 0x1D, init 0xFF,
xor-out 0xFF) computed over the 16-bit data ID (low byte, then high byte: Profile 1
``DATAID_BOTH``) followed by every payload byte except the CRC byte. The data ID is never sent:
a frame copied onto another identifier fails its check (masquerade protection).

The counter runs 0..14 and wraps (15 is reserved in Profile 1). The receiver accepts a delta of
1..``max_delta`` (frames lost in between are tolerated), flags a delta of 0 as repeated (a
frozen sender) and anything larger as a wrong sequence.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

CRC8_POLY = 0x1D
CRC8_INIT = 0xFF
CRC8_XOR_OUT = 0xFF
COUNTER_MODULO = 15  # values 0..14; 15 is invalid in Profile 1
CRC_BYTE = 0
COUNTER_BYTE = 1


def _make_table(poly: int) -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_TABLE = _make_table(CRC8_POLY)


def crc8_j1850(data: bytes | bytearray | memoryview, *, init: int = CRC8_INIT) -> int:
    """CRC-8 SAE J1850 of ``data`` (check value of b'123456789' is 0x4B)."""
    crc = init
    table = _TABLE
    for byte in data:
        crc = table[crc ^ byte]
    return crc ^ CRC8_XOR_OUT


def e2e_crc(data_id: int, payload: bytes | bytearray) -> int:
    """The Profile 1 CRC of a payload: over data ID (low, high) then the bytes after byte 0."""
    head = bytes((data_id & 0xFF, (data_id >> 8) & 0xFF))
    return crc8_j1850(head + bytes(payload[COUNTER_BYTE:]))


def protect(data_id: int, payload: bytearray, counter: int) -> None:
    """Write ``counter`` (low nibble of byte 1) and the CRC (byte 0) into ``payload`` in place."""
    payload[COUNTER_BYTE] = (payload[COUNTER_BYTE] & 0xF0) | (counter % COUNTER_MODULO)
    payload[CRC_BYTE] = e2e_crc(data_id, payload)


class E2eStatus(enum.Enum):
    """Outcome of checking one received frame (Profile 1 check states, simplified)."""

    OK = 'ok'
    INITIAL = 'initial'  # first frame seen, or first after a resynchronisation
    OK_SOME_LOST = 'ok_some_lost'
    REPEATED = 'repeated'  # same counter as before: frozen sender or replay
    WRONG_SEQUENCE = 'wrong_sequence'  # counter jumped further than max_delta
    BAD_CRC = 'bad_crc'
    BAD_COUNTER = 'bad_counter'  # the reserved value 15
    SHORT = 'short'  # payload too short to carry the header

    @property
    def valid(self) -> bool:
        return self in (E2eStatus.OK, E2eStatus.INITIAL, E2eStatus.OK_SOME_LOST)


@dataclass
class E2eReceiver:
    """Per-identifier receive state: the last valid counter and the run of bad frames."""

    data_id: int
    max_delta: int = 2
    last_counter: int | None = None
    consecutive_bad: int = 0

    def check(self, payload: bytes | bytearray) -> E2eStatus:
        """Check one payload and update the state (only valid frames and jumps move it)."""
        status = self._classify(payload)
        if status.valid:
            self.last_counter = payload[COUNTER_BYTE] & 0x0F
            self.consecutive_bad = 0
        else:
            self.consecutive_bad += 1
            if status is E2eStatus.WRONG_SEQUENCE:
                # Profile 1 resynchronises: the jump is reported once, the frame after it that
                # continues the new sequence is valid again.
                self.last_counter = payload[COUNTER_BYTE] & 0x0F
        return status

    def _classify(self, payload: bytes | bytearray) -> E2eStatus:
        if len(payload) < 2:
            return E2eStatus.SHORT
        if payload[CRC_BYTE] != e2e_crc(self.data_id, payload):
            return E2eStatus.BAD_CRC
        counter = payload[COUNTER_BYTE] & 0x0F
        if counter >= COUNTER_MODULO:
            return E2eStatus.BAD_COUNTER
        if self.last_counter is None:
            return E2eStatus.INITIAL
        delta = (counter - self.last_counter) % COUNTER_MODULO
        if delta == 0:
            return E2eStatus.REPEATED
        if delta == 1:
            return E2eStatus.OK
        if delta <= self.max_delta:
            return E2eStatus.OK_SOME_LOST
        return E2eStatus.WRONG_SEQUENCE

    def resync(self) -> None:
        """Forget the counter (after a silent period the next frame starts a new sequence)."""
        self.last_counter = None

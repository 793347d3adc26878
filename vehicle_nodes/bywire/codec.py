"""Frames from a DBC: strict cantools encode/decode plus the E2E header on safety frames.

A message is E2E-protected when its DBC gives it a non-zero ``E2EDataID`` attribute; it must
then have an 8-bit ``Crc`` signal at bit 0 and a 4-bit ``Counter`` at bit 8 (Intel order), the
Profile 1 variant 1A layout, which ``FrameCodec`` checks at construction.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any

from cantools.database.can import Message

from vehicle_nodes.bywire import e2e
from vehicle_nodes.bywire.dbc import PSEUDO_MESSAGE, LoadedDbc
from vehicle_nodes.bywire.errors import DbcError, FrameError

E2E_ATTRIBUTE = 'E2EDataID'
CRC_SIGNAL = 'Crc'
COUNTER_SIGNAL = 'Counter'


def e2e_data_id(message: Message) -> int | None:
    """The message's E2E data ID from the DBC, or None when it is not protected."""
    attrs = message.dbc.attributes if message.dbc is not None else {}
    attr = attrs.get(E2E_ATTRIBUTE)
    if attr is None or not attr.value:
        return None
    return int(attr.value)


def _check_layout(message: Message) -> None:
    want = {CRC_SIGNAL: (0, 8), COUNTER_SIGNAL: (8, 4)}
    for name, (start, length) in want.items():
        try:
            sig = message.get_signal_by_name(name)
        except KeyError:
            raise DbcError(
                f'{message.name}: E2E-protected but has no {name} signal; '
                f'expected {name} at bit {start}, {length} bits'
            ) from None
        if (sig.start, sig.length, sig.byte_order) != (start, length, 'little_endian'):
            raise DbcError(
                f'{message.name}.{name}: expected start {start}, length {length}, Intel order; '
                f'got start {sig.start}, length {sig.length}, {sig.byte_order}'
            )


class DecodeOutcome(enum.Enum):
    OK = 'ok'
    UNKNOWN_ID = 'unknown_id'
    BAD_LENGTH = 'bad_length'
    UNDECODABLE = 'undecodable'
    E2E_FAILED = 'e2e_failed'


@dataclass(frozen=True)
class Decoded:
    """What one received frame turned out to be."""

    frame_id: int
    outcome: DecodeOutcome
    name: str = ''
    signals: dict[str, Any] = field(default_factory=dict)
    e2e_status: e2e.E2eStatus | None = None
    out_of_range: tuple[str, ...] = ()  # signals outside the DBC's [min, max]
    detail: str = ''


Range = tuple[str, float, float]  # signal name, lowest and highest accepted value


def signal_ranges(message: Message) -> tuple[Range, ...]:
    """Each signal's [min, max] from the DBC, widened by half a step for rounding."""
    ranges = []
    for sig in message.signals:
        tol = abs(sig.scale) / 2
        lo = -math.inf if sig.minimum is None else sig.minimum - tol
        hi = math.inf if sig.maximum is None else sig.maximum + tol
        ranges.append((sig.name, lo, hi))
    return tuple(ranges)


def out_of_range_signals(ranges: tuple[Range, ...], values: dict[str, Any]) -> tuple[str, ...]:
    """Names of the signals whose value lies outside the DBC range (precomputed ``ranges``)."""
    bad = []
    for name, lo, hi in ranges:
        value = values.get(name)
        if isinstance(value, int | float) and not lo <= value <= hi:
            bad.append(name)
    return tuple(bad)


class FrameCodec:
    """Encode/decode every message of a database; keeps the E2E counters of both directions."""

    def __init__(self, loaded: LoadedDbc, *, e2e_max_delta: int = 2) -> None:
        self.loaded = loaded
        self.messages: dict[int, Message] = {}
        self.data_ids: dict[int, int] = {}
        for msg in loaded.db.messages:
            if msg.name == PSEUDO_MESSAGE:
                continue
            self.messages[msg.frame_id] = msg
            data_id = e2e_data_id(msg)
            if data_id is not None:
                _check_layout(msg)
                self.data_ids[msg.frame_id] = data_id
        self._by_name = {msg.name: msg for msg in self.messages.values()}
        self.ranges = {fid: signal_ranges(msg) for fid, msg in self.messages.items()}
        self._tx_counter: dict[int, int] = {}
        self.receivers = {
            fid: e2e.E2eReceiver(did, max_delta=e2e_max_delta) for fid, did in self.data_ids.items()
        }

    def message(self, name: str) -> Message:
        try:
            return self._by_name[name]
        except KeyError:
            raise FrameError(f'no message {name!r} in {self.loaded.source}') from None

    def encode(
        self, name: str, values: dict[str, Any], *, counter: int | None = None
    ) -> tuple[int, bytes]:
        """Encode strictly (names and ranges); protected frames get counter and CRC.

        ``counter`` overrides the rolling counter (fault injection in the kit simulator).
        """
        msg = self.message(name)
        data_id = self.data_ids.get(msg.frame_id)
        if data_id is not None:
            if counter is None:
                counter = self._tx_counter.get(msg.frame_id, 0)
                self._tx_counter[msg.frame_id] = (counter + 1) % e2e.COUNTER_MODULO
            values = {**values, CRC_SIGNAL: 0, COUNTER_SIGNAL: counter}
        try:
            data = bytearray(msg.encode(values, strict=True))
        except Exception as err:  # cantools EncodeError and KeyError for missing signals
            raise FrameError(f'{name}: cannot encode {values}: {err}') from err
        if data_id is not None:
            e2e.protect(data_id, data, values[COUNTER_SIGNAL])
        return msg.frame_id, bytes(data)

    def lookup(self, frame_id: int, *, extended: bool = False) -> Message | None:
        """The message of an identifier; a standard and an extended id are different frames."""
        msg = self.messages.get(frame_id)
        if msg is None or msg.is_extended_frame != extended:
            return None
        return msg

    def decode(self, frame_id: int, data: bytes, *, extended: bool = False) -> Decoded:
        """Decode one received frame; never raises, the outcome says what went wrong."""
        msg = self.lookup(frame_id, extended=extended)
        if msg is None:
            return Decoded(frame_id, DecodeOutcome.UNKNOWN_ID, detail=f'id 0x{frame_id:x}')
        if len(data) != msg.length:
            return Decoded(
                frame_id,
                DecodeOutcome.BAD_LENGTH,
                msg.name,
                detail=f'{msg.name}: {len(data)} bytes, expected {msg.length}',
            )
        status = None
        receiver = self.receivers.get(frame_id)
        if receiver is not None:
            status = receiver.check(data)
            if not status.valid:
                return Decoded(
                    frame_id,
                    DecodeOutcome.E2E_FAILED,
                    msg.name,
                    e2e_status=status,
                    detail=f'{msg.name}: E2E {status.value}',
                )
        try:
            values = msg.decode(data, decode_choices=False, scaling=True)
        except Exception as err:  # cantools DecodeError and friends
            return Decoded(frame_id, DecodeOutcome.UNDECODABLE, msg.name, detail=str(err))
        assert isinstance(values, dict)
        return Decoded(
            frame_id,
            DecodeOutcome.OK,
            msg.name,
            values,
            status,
            out_of_range_signals(self.ranges[frame_id], values),
        )

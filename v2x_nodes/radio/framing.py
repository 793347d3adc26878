"""Datagram framing between the stack and an OBU/RSU.

Most C-V2X modules take one UPER MessageFrame per UDP datagram; some put a small vendor header
in front (a fixed prefix, sometimes carrying the RSSI). The framing is a parameter, never code:
``none`` sends the bare frame; ``prefix`` adds ``tx_prefix`` on transmit and strips
``rx_header_bytes`` on receive, reading an int8 RSSI at ``rssi_offset`` when that is >= 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

MAX_DATAGRAM = 65_507  # IPv4 UDP payload limit
MAX_FRAME = 8_192  # larger than any CSAE 53 message a PC5 radio carries; bigger is rejected


class Framing(Enum):
    NONE = 'none'
    PREFIX = 'prefix'


class FramingError(ValueError):
    """A datagram that does not fit the configured framing; the message says why."""


@dataclass(frozen=True)
class FramingConfig:
    framing: Framing = Framing.NONE
    tx_prefix: bytes = b''
    rx_header_bytes: int = 0
    rssi_offset: int = -1

    def __post_init__(self) -> None:
        if self.framing is Framing.PREFIX and self.rssi_offset >= self.rx_header_bytes:
            raise FramingError(
                f'rssi_offset {self.rssi_offset} lies outside the {self.rx_header_bytes}-byte '
                'header'
            )


@dataclass(frozen=True)
class Received:
    payload: bytes
    rssi_dbm: float


def unwrap(datagram: bytes, config: FramingConfig) -> Received:
    """The UPER frame (and RSSI, NaN if the header has none) carried by one datagram."""
    header = config.rx_header_bytes if config.framing is Framing.PREFIX else 0
    if len(datagram) <= header:
        raise FramingError(
            f'datagram of {len(datagram)} bytes has no frame after a {header}-byte header'
        )
    payload = datagram[header:]
    if len(payload) > MAX_FRAME:
        raise FramingError(f'frame of {len(payload)} bytes exceeds {MAX_FRAME}')
    rssi = math.nan
    if config.framing is Framing.PREFIX and config.rssi_offset >= 0:
        rssi = float(
            int.from_bytes(
                datagram[config.rssi_offset : config.rssi_offset + 1], 'big', signed=True
            )
        )
    return Received(payload, rssi)


def wrap(payload: bytes, config: FramingConfig) -> bytes:
    """The datagram that carries one UPER frame."""
    if not payload:
        raise FramingError('empty frame')
    if len(payload) > MAX_FRAME:
        raise FramingError(f'frame of {len(payload)} bytes exceeds {MAX_FRAME}')
    if config.framing is Framing.PREFIX:
        return config.tx_prefix + payload
    return payload

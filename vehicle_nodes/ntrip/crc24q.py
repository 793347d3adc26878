"""CRC-24Q (Qualcomm), the RTCM 3 frame check: polynomial 0x1864CFB, init 0, no reflection.

Two forms. ``crc24q`` is the classic byte-table loop (the reference). ``crc24q_many`` uses
that the CRC (with init 0 and no final XOR) is linear over GF(2): a message's CRC is the XOR of
each byte's contribution, and the contribution of byte ``b`` followed by ``k`` bytes is the CRC
of ``b`` then ``k`` zeros. A (1029 × 256) table of those contributions turns the CRCs of many
frames into one gather and one ``bitwise_xor.reduceat`` in numpy.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

POLY = 0x1864CFB
MAX_CRC_SPAN = 3 + 1023  # header + longest payload: the bytes a frame's CRC covers


def _byte_table() -> NDArray[np.uint32]:
    table = np.zeros(256, dtype=np.uint32)
    for byte in range(256):
        crc = byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= POLY
        table[byte] = crc & 0xFFFFFF
    return table


TABLE = _byte_table()
_TABLE_LIST = [int(v) for v in TABLE]


def crc24q(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-24Q of ``data`` by the byte table (continue from ``crc`` for chunked input)."""
    table = _TABLE_LIST
    for byte in bytes(data):
        crc = ((crc << 8) & 0xFFFFFF) ^ table[(crc >> 16) ^ byte]
    return crc


def _positional_table() -> NDArray[np.uint32]:
    """Row r holds the contribution of a byte followed by (MAX_CRC_SPAN - 1 - r) bytes."""
    rows = np.empty((MAX_CRC_SPAN, 256), dtype=np.uint32)
    row = TABLE.copy()
    for r in range(MAX_CRC_SPAN - 1, -1, -1):
        rows[r] = row
        row = ((row << 8) & 0xFFFFFF) ^ TABLE[row >> 16]  # append one zero byte
    return rows


POSITIONAL = _positional_table().ravel()


def crc24q_many(
    data: NDArray[np.uint8], starts: NDArray[np.int64], lengths: NDArray[np.int64]
) -> NDArray[np.uint32]:
    """CRC-24Q of ``data[s:s+n]`` for every (s, n), each n in 1..MAX_CRC_SPAN, at once."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.uint32)
    lengths = np.asarray(lengths, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    offsets = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    position = np.arange(int(offsets[-1] + lengths[-1]), dtype=np.int64)
    # byte k of span j: source index starts[j] + (k - offsets[j]); its contribution row is
    # MAX_CRC_SPAN - lengths[j] + (k - offsets[j]); one repeat gives each span's shift
    source = position + np.repeat(starts - offsets, lengths)
    rows = source + np.repeat(MAX_CRC_SPAN - lengths - starts, lengths)
    contributions = POSITIONAL[(rows << 8) + data[source]]
    return np.bitwise_xor.reduceat(contributions, offsets)

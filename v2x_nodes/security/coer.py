"""Hand-written COER primitives (ITU-T X.696, canonical) for the secured-message fast path.

Only what ``secured_message`` needs: length determinants, unsigned semi-constrained integers
(Psid) and extension-addition skipping. Every reader enforces the canonical form, so a value has
exactly one accepted encoding, as it does in asn1tools' encoder.
"""

from __future__ import annotations

from v2x_nodes.security.errors import DecodeError


def encode_length(length: int) -> bytes:
    """Length determinant: one byte below 128, else 0x80|n and n big-endian bytes."""
    if length < 128:
        return bytes((length,))
    body = length.to_bytes((length.bit_length() + 7) // 8, 'big')
    return bytes((0x80 | len(body),)) + body


def read_length(data: bytes, pos: int, where: str) -> tuple[int, int]:
    """(length, position after the determinant); raises DecodeError on short/non-canonical."""
    if pos >= len(data):
        raise DecodeError(f'{where}: truncated at byte {pos}, expected a length')
    first = data[pos]
    if first < 128:
        return first, pos + 1
    count = first & 0x7F
    end = pos + 1 + count
    if count == 0 or end > len(data):
        raise DecodeError(f'{where}: bad long-form length at byte {pos}')
    value = int.from_bytes(data[pos + 1 : end], 'big')
    if value < 128 or data[pos + 1] == 0:
        raise DecodeError(f'{where}: non-canonical length {value} at byte {pos}')
    return value, end


def encode_unsigned(value: int) -> bytes:
    """INTEGER (0..MAX): length determinant and the minimal big-endian octets."""
    if value < 0:
        raise ValueError(f'unsigned integer expected, got {value}')
    body = value.to_bytes(max(1, (value.bit_length() + 7) // 8), 'big')
    return encode_length(len(body)) + body


def read_unsigned(data: bytes, pos: int, where: str) -> tuple[int, int]:
    """(value, position after it) of an INTEGER (0..MAX); raises DecodeError."""
    length, pos = read_length(data, pos, where)
    end = pos + length
    if length == 0 or end > len(data):
        raise DecodeError(f'{where}: integer of {length} bytes at byte {pos} does not fit')
    if length > 1 and data[pos] == 0:
        raise DecodeError(f'{where}: non-canonical integer (leading zero) at byte {pos}')
    return int.from_bytes(data[pos:end], 'big'), end


def read_fixed(data: bytes, pos: int, size: int, where: str) -> tuple[bytes, int]:
    """(``size`` bytes at ``pos``, position after them); raises DecodeError when short."""
    end = pos + size
    if end > len(data):
        raise DecodeError(f'{where}: truncated, {size} bytes expected at byte {pos}')
    return data[pos:end], end


def read_byte(data: bytes, pos: int, where: str) -> int:
    """The byte at ``pos``; raises DecodeError when the data ends before it."""
    if pos >= len(data):
        raise DecodeError(f'{where}: truncated, 1 byte expected at byte {pos}')
    return data[pos]


def skip_extensions(data: bytes, pos: int, where: str) -> int:
    """Skip a SEQUENCE's extension additions (presence bitmap + open types); new position."""
    length, pos = read_length(data, pos, where)
    if length < 2 or pos + length > len(data):
        raise DecodeError(f'{where}: bad extension bitmap at byte {pos}')
    unused = data[pos]
    bits = data[pos + 1 : pos + length]
    if unused > 7 or (bits[-1] & ((1 << unused) - 1)):
        raise DecodeError(f'{where}: bad extension bitmap padding at byte {pos}')
    present = sum(bin(b).count('1') for b in bits)
    if present == 0:
        raise DecodeError(f'{where}: extension bit set but no addition present')
    pos += length
    for _ in range(present):
        size, pos = read_length(data, pos, where)
        pos += size
        if pos > len(data):
            raise DecodeError(f'{where}: extension addition runs past the end')
    return pos

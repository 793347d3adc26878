from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vehicle_nodes.bywire import e2e


def crc8_bitwise(data: bytes) -> int:
    """Reference CRC-8 SAE J1850 computed bit by bit (independent of the table)."""
    crc = 0xFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1D) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc ^ 0xFF


def test_crc8_check_value_and_known_vectors() -> None:
    # The catalogue check value of CRC-8/SAE-J1850 and AUTOSAR's Crc_CalculateCRC8 examples.
    assert e2e.crc8_j1850(b'123456789') == 0x4B
    assert e2e.crc8_j1850(bytes(4)) == 0x59
    assert e2e.crc8_j1850(bytes([0xF2, 0x01, 0x83])) == 0x37
    assert e2e.crc8_j1850(bytes([0xFF] * 4)) == 0x74


@given(st.binary(max_size=64))
def test_table_crc_equals_bitwise(data: bytes) -> None:
    assert e2e.crc8_j1850(data) == crc8_bitwise(data)


@given(st.integers(0, 0xFFFF), st.binary(min_size=8, max_size=8), st.integers(0, 14))
def test_protect_then_check_is_valid(data_id: int, raw: bytes, counter: int) -> None:
    payload = bytearray(raw)
    e2e.protect(data_id, payload, counter)
    assert payload[1] & 0x0F == counter
    assert payload[1] & 0xF0 == raw[1] & 0xF0  # the upper nibble is user data, untouched
    assert e2e.E2eReceiver(data_id).check(payload) is e2e.E2eStatus.INITIAL


@given(
    st.integers(0, 0xFFFF),
    st.binary(min_size=8, max_size=8),
    st.integers(0, 14),
    st.integers(0, 63),
)
def test_every_single_bit_flip_is_detected(
    data_id: int, raw: bytes, counter: int, bit: int
) -> None:
    payload = bytearray(raw)
    e2e.protect(data_id, payload, counter)
    payload[bit // 8] ^= 1 << (bit % 8)
    assert e2e.E2eReceiver(data_id).check(payload) in (
        e2e.E2eStatus.BAD_CRC,
        e2e.E2eStatus.BAD_COUNTER,
    )


def test_data_id_protects_against_masquerade() -> None:
    payload = bytearray(8)
    e2e.protect(0x1110, payload, 3)
    assert e2e.E2eReceiver(0x1111).check(payload) is e2e.E2eStatus.BAD_CRC


def frame(data_id: int, counter: int) -> bytearray:
    payload = bytearray(8)
    e2e.protect(data_id, payload, counter)
    return payload


def test_counter_sequence_states() -> None:
    rx = e2e.E2eReceiver(7, max_delta=2)
    assert rx.check(frame(7, 13)) is e2e.E2eStatus.INITIAL
    assert rx.check(frame(7, 14)) is e2e.E2eStatus.OK
    assert rx.check(frame(7, 0)) is e2e.E2eStatus.OK  # wraps after 14
    assert rx.check(frame(7, 2)) is e2e.E2eStatus.OK_SOME_LOST
    assert rx.check(frame(7, 2)) is e2e.E2eStatus.REPEATED
    assert rx.check(frame(7, 2)) is e2e.E2eStatus.REPEATED
    assert rx.consecutive_bad == 2
    assert rx.check(frame(7, 9)) is e2e.E2eStatus.WRONG_SEQUENCE
    assert rx.consecutive_bad == 3
    assert rx.check(frame(7, 10)) is e2e.E2eStatus.OK  # resynchronised on the jump
    assert rx.consecutive_bad == 0


def test_reserved_counter_and_short_payload() -> None:
    payload = bytearray(8)
    payload[1] = 0x0F
    payload[0] = e2e.e2e_crc(5, payload)
    rx = e2e.E2eReceiver(5)
    assert rx.check(payload) is e2e.E2eStatus.BAD_COUNTER
    assert rx.check(b'\x01') is e2e.E2eStatus.SHORT
    assert rx.consecutive_bad == 2


@given(st.binary(max_size=16))
def test_fuzz_check_never_raises(data: bytes) -> None:
    status = e2e.E2eReceiver(0x1234).check(data)
    assert isinstance(status, e2e.E2eStatus)


@pytest.mark.parametrize('counter', [0, 14, 15, 29])
def test_protect_wraps_counter_into_range(counter: int) -> None:
    payload = bytearray(8)
    e2e.protect(1, payload, counter)
    assert payload[1] & 0x0F == counter % 15

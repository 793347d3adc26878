"""1609.2 Time64/Time32: TAI since 2004 from POSIX time, with the leap seconds since 2004."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from v2x_nodes.security.time_tai import (
    EPOCH_2004_POSIX_S,
    leap_seconds_since_2004,
    posix_ns_from_time64,
    posix_s_from_time32,
    time32_from_posix_s,
    time64_from_posix_ns,
)


def test_epoch_and_leap_seconds() -> None:
    assert time64_from_posix_ns(EPOCH_2004_POSIX_S * 10**9) == 0
    assert time32_from_posix_s(EPOCH_2004_POSIX_S) == 0
    # 2005-12-31T23:59:59Z is before the first leap second, 2006-01-01 after it.
    assert leap_seconds_since_2004(1_136_073_599) == 0
    assert leap_seconds_since_2004(1_136_073_600) == 1
    # 2026: five leap seconds (2005, 2008, 2012, 2015, 2016): TAI-since-2004 runs 5 s ahead.
    posix_2026 = 1_767_225_600  # 2026-01-01T00:00:00Z
    assert time32_from_posix_s(posix_2026) == posix_2026 - EPOCH_2004_POSIX_S + 5
    assert time64_from_posix_ns(posix_2026 * 10**9 + 1500) == (
        (posix_2026 - EPOCH_2004_POSIX_S + 5) * 10**6 + 1
    )


def test_out_of_range_raises() -> None:
    with pytest.raises(ValueError, match='Time64'):
        time64_from_posix_ns((EPOCH_2004_POSIX_S - 1) * 10**9)
    with pytest.raises(ValueError, match='Time32'):
        time32_from_posix_s(EPOCH_2004_POSIX_S - 1)


@given(st.integers(EPOCH_2004_POSIX_S * 10**9, 4_000_000_000 * 10**9))
def test_time64_round_trip_to_the_microsecond(posix_ns: int) -> None:
    back = posix_ns_from_time64(time64_from_posix_ns(posix_ns))
    assert back == posix_ns - posix_ns % 1000


@given(st.integers(EPOCH_2004_POSIX_S, 4_000_000_000))
def test_time32_round_trip(posix_s: int) -> None:
    assert posix_s_from_time32(time32_from_posix_s(posix_s)) == posix_s


_LAST_LEAP_S = 1_483_228_800  # 2017-01-01T00:00:00Z


@given(
    st.integers(EPOCH_2004_POSIX_S * 10**9, 4_000_000_000 * 10**9)
    | st.integers((_LAST_LEAP_S - 20) * 10**9, (_LAST_LEAP_S + 20) * 10**9)
)
def test_constant_offset_after_the_last_leap_second_equals_the_table(posix_ns: int) -> None:
    """The per-message shortcut (no table look-up after the last leap second) gives what the
    leap-second table gives, both ways, around the last leap second too."""
    posix_s = posix_ns // 10**9
    by_table = (posix_ns - EPOCH_2004_POSIX_S * 10**9) // 1000 + leap_seconds_since_2004(
        posix_s
    ) * 10**6
    assert time64_from_posix_ns(posix_ns) == by_table
    approx_s = EPOCH_2004_POSIX_S + by_table // 10**6
    leaps = leap_seconds_since_2004(approx_s - leap_seconds_since_2004(approx_s))
    assert posix_ns_from_time64(by_table) == (
        (by_table - leaps * 10**6) * 1000 + EPOCH_2004_POSIX_S * 10**9
    )

"""IEEE 1609.2 time: Time64 (µs) and Time32 (s) of TAI since 2004-01-01 00:00:00 UTC.

Components get POSIX time (UTC, no leap seconds) in nanoseconds from their clock; 1609.2 counts
TAI, which is ahead of UTC by every leap second inserted since the 2004 epoch (5 so far). The
table below is the IERS list after 2004; a new leap second needs one more row.
"""

from __future__ import annotations

import bisect

# POSIX second of 2004-01-01T00:00:00Z, the 1609.2 epoch.
EPOCH_2004_POSIX_S = 1_072_915_200
# POSIX seconds from which one more leap second separates TAI-since-2004 from UTC.
_LEAP_SECOND_STARTS_POSIX_S = (
    1_136_073_600,  # after 2005-12-31
    1_230_768_000,  # after 2008-12-31
    1_341_100_800,  # after 2012-06-30
    1_435_708_800,  # after 2015-06-30
    1_483_228_800,  # after 2016-12-31
)
_NS_PER_S = 1_000_000_000
_TIME64_MAX = 2**64 - 1
_TIME32_MAX = 2**32 - 1


def leap_seconds_since_2004(posix_s: float) -> int:
    """Leap seconds inserted between the 2004 epoch and ``posix_s``."""
    return bisect.bisect_right(_LEAP_SECOND_STARTS_POSIX_S, posix_s)


# After the last leap second of the table the offset is constant: the per-message conversions
# skip the table there (both ways; the tests check the shortcut against the table).
_LAST_LEAPS = len(_LEAP_SECOND_STARTS_POSIX_S)
_LAST_LEAP_NS = _LEAP_SECOND_STARTS_POSIX_S[-1] * _NS_PER_S
_LAST_LEAP_TIME64 = (_LEAP_SECOND_STARTS_POSIX_S[-1] - EPOCH_2004_POSIX_S + _LAST_LEAPS) * 1_000_000
_EPOCH_NS = EPOCH_2004_POSIX_S * _NS_PER_S


def time64_from_posix_ns(posix_ns: int) -> int:
    """Time64 (µs TAI since 2004) of a POSIX time in ns; raises ValueError before 2004."""
    if posix_ns >= _LAST_LEAP_NS:
        value = (posix_ns - _EPOCH_NS) // 1000 + _LAST_LEAPS * 1_000_000
    else:
        posix_s = posix_ns // _NS_PER_S
        value = (posix_ns - _EPOCH_NS) // 1000 + leap_seconds_since_2004(posix_s) * 1_000_000
    if not 0 <= value <= _TIME64_MAX:
        raise ValueError(f'time {posix_ns} ns is outside Time64 (2004 .. 2004 + 2^64 µs)')
    return value


def posix_ns_from_time64(time64_us: int) -> int:
    """POSIX time in ns of a Time64 value (inverse of ``time64_from_posix_ns``)."""
    if time64_us >= _LAST_LEAP_TIME64:
        return (time64_us - _LAST_LEAPS * 1_000_000) * 1000 + _EPOCH_NS
    approx_s = EPOCH_2004_POSIX_S + time64_us // 1_000_000
    leaps = leap_seconds_since_2004(approx_s - leap_seconds_since_2004(approx_s))
    return (time64_us - leaps * 1_000_000) * 1000 + _EPOCH_NS


def time32_from_posix_s(posix_s: int) -> int:
    """Time32 (s TAI since 2004) of a POSIX time in s; raises ValueError out of range."""
    value = posix_s - EPOCH_2004_POSIX_S + leap_seconds_since_2004(posix_s)
    if not 0 <= value <= _TIME32_MAX:
        raise ValueError(f'time {posix_s} s is outside Time32 (2004 .. 2140)')
    return value


def posix_s_from_time32(time32_s: int) -> int:
    """POSIX time in s of a Time32 value (inverse of ``time32_from_posix_s``)."""
    approx_s = EPOCH_2004_POSIX_S + time32_s
    return approx_s - leap_seconds_since_2004(approx_s - leap_seconds_since_2004(approx_s))

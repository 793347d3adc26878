"""Unit conversions at the codec edge: the standard's LSBs on the wire, SI / ENU inside.

Every function is pure and scalar. ``*_to_wire`` takes SI values (NaN = unknown) and returns
the integer the standard defines, using its "unavailable" code for NaN and clamping to the
range where the standard says "this value or beyond"; ``*_from_wire`` does the reverse and
returns NaN for the unavailable codes. Headings: T/CSAE 53 counts clockwise from north, we
use ENU yaw (0 = east, counter-clockwise); yaw rates and steering angles flip sign the same way.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from datetime import UTC, datetime
from functools import cache
from math import isfinite  # a local name: these run per field on the hot path

from v2x_nodes.codec.errors import ConversionError

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000

# Section: position (1e-7 degree, 0.1 m)
LATLON_PER_DEG = 10_000_000
LAT_UNAVAILABLE = 900_000_001
LON_UNAVAILABLE = 1_800_000_001
ELEVATION_UNKNOWN = -4096
ELEVATION_MAX = 61439


def lat_to_wire(lat_deg: float) -> int:
    if lat_deg is None or not isfinite(lat_deg):
        return LAT_UNAVAILABLE
    if not -90.0 <= lat_deg <= 90.0:
        raise ConversionError('latitude_deg', f'expected -90..90, got {lat_deg}')
    return round(lat_deg * LATLON_PER_DEG)


def lat_from_wire(value: int) -> float:
    return math.nan if value == LAT_UNAVAILABLE else value / LATLON_PER_DEG


def lon_to_wire(lon_deg: float) -> int:
    if lon_deg is None or not isfinite(lon_deg):
        return LON_UNAVAILABLE
    if not -180.0 <= lon_deg <= 180.0:
        raise ConversionError('longitude_deg', f'expected -180..180, got {lon_deg}')
    wire = round(lon_deg * LATLON_PER_DEG)
    return wire if wire > -1_800_000_000 else wire + 3_600_000_000  # -180 is +180


def lon_from_wire(value: int) -> float:
    return math.nan if value == LON_UNAVAILABLE else value / LATLON_PER_DEG


def elevation_to_wire(alt_m: float) -> int:
    if alt_m is None or not isfinite(alt_m):
        return ELEVATION_UNKNOWN
    return min(max(round(alt_m * 10.0), ELEVATION_UNKNOWN + 1), ELEVATION_MAX)


def elevation_from_wire(value: int | None) -> float:
    return math.nan if value is None or value == ELEVATION_UNKNOWN else value / 10.0


# Section: motion
SPEED_LSB_MPS = 0.02
SPEED_UNAVAILABLE = 8191
HEADING_LSB_DEG = 0.0125
HEADING_UNAVAILABLE = 28800
ACCEL_LSB_MPS2 = 0.01
ACCEL_UNAVAILABLE = 2001
VERT_ACCEL_LSB_G = 0.02
VERT_ACCEL_UNAVAILABLE = -127
STANDARD_GRAVITY = 9.80665
YAW_RATE_LSB_DEGPS = 0.01
STEERING_LSB_DEG = 1.5
STEERING_UNAVAILABLE = 127


def speed_to_wire(speed_mps: float) -> int:
    if speed_mps is None or not isfinite(speed_mps):
        return SPEED_UNAVAILABLE
    return min(round(abs(speed_mps) / SPEED_LSB_MPS), SPEED_UNAVAILABLE - 1)


def speed_from_wire(value: int) -> float:
    return math.nan if value == SPEED_UNAVAILABLE else value * SPEED_LSB_MPS


def heading_to_wire(yaw_rad: float) -> int:
    """ENU yaw (east = 0, counter-clockwise) -> clockwise-from-north in 0.0125 degree."""
    if yaw_rad is None or not isfinite(yaw_rad):
        return HEADING_UNAVAILABLE
    north_cw_deg = (90.0 - math.degrees(yaw_rad)) % 360.0
    return round(north_cw_deg / HEADING_LSB_DEG) % HEADING_UNAVAILABLE


def heading_from_wire(value: int) -> float:
    """Clockwise-from-north 0.0125 degree -> ENU yaw in (-pi, pi]."""
    if value == HEADING_UNAVAILABLE:
        return math.nan
    yaw = math.radians(90.0 - value * HEADING_LSB_DEG)
    return math.atan2(math.sin(yaw), math.cos(yaw))


def accel_to_wire(accel_mps2: float) -> int:
    if accel_mps2 is None or not isfinite(accel_mps2):
        return ACCEL_UNAVAILABLE
    return min(max(round(accel_mps2 / ACCEL_LSB_MPS2), -2000), 2000)


def accel_from_wire(value: int) -> float:
    return math.nan if value == ACCEL_UNAVAILABLE else value * ACCEL_LSB_MPS2


def vert_accel_to_wire(accel_mps2: float) -> int:
    if accel_mps2 is None or not isfinite(accel_mps2):
        return VERT_ACCEL_UNAVAILABLE
    return min(max(round(accel_mps2 / STANDARD_GRAVITY / VERT_ACCEL_LSB_G), -126), 127)


def vert_accel_from_wire(value: int) -> float:
    if value == VERT_ACCEL_UNAVAILABLE:
        return math.nan
    return value * VERT_ACCEL_LSB_G * STANDARD_GRAVITY


def yaw_rate_to_wire(yaw_rate_radps: float) -> int:
    """ENU yaw rate (counter-clockwise +) -> YawRate (0.01 degree/s, clockwise +)."""
    if yaw_rate_radps is None or not isfinite(yaw_rate_radps):
        return 0  # YawRate has no unavailable code
    return min(max(round(-math.degrees(yaw_rate_radps) / YAW_RATE_LSB_DEGPS), -32767), 32767)


def yaw_rate_from_wire(value: int) -> float:
    return -math.radians(value * YAW_RATE_LSB_DEGPS)


def steering_to_wire(angle_rad: float) -> int:
    """Steering-wheel angle, left + (REP 103) -> SteeringWheelAngle (1.5 degree, right +)."""
    if angle_rad is None or not isfinite(angle_rad):
        return STEERING_UNAVAILABLE
    return min(max(round(-math.degrees(angle_rad) / STEERING_LSB_DEG), -126), 126)


def steering_from_wire(value: int) -> float:
    return math.nan if value == STEERING_UNAVAILABLE else -math.radians(value * STEERING_LSB_DEG)


# Section: time
DSECOND_UNAVAILABLE_FROM = 60000
MOY_INVALID = 527040
TIMEMARK_BEYOND_HOUR = 36000
TIMEMARK_UNKNOWN = 36001
_MINUTE_NS = 60 * NS_PER_S
_HOUR_NS = 3600 * NS_PER_S


def dsecond_from_ns(stamp_ns: int) -> int:
    """Milliseconds within the UTC minute of ``stamp_ns`` (ns since the Unix epoch)."""
    return (stamp_ns // NS_PER_MS) % 60000


def _nearest(candidate_ns: int, period_ns: int, ref_ns: int) -> int:
    k = round((ref_ns - candidate_ns) / period_ns)
    return candidate_ns + k * period_ns


def ns_from_dsecond(dsecond: int, ref_ns: int) -> int | None:
    """The instant nearest ``ref_ns`` whose millisecond-of-minute is ``dsecond``."""
    if dsecond >= DSECOND_UNAVAILABLE_FROM:
        return None
    minute_start = ref_ns - ref_ns % _MINUTE_NS
    return _nearest(minute_start + dsecond * NS_PER_MS, _MINUTE_NS, ref_ns)


@cache
def _year_start_ns(year: int) -> int:
    return int(datetime(year, 1, 1, tzinfo=UTC).timestamp()) * NS_PER_S


# (start ns, end ns, year) of the UTC year last asked for: stamps of one run fall in one year,
# and the datetime call this saves cost more than the rest of a minute-of-year conversion.
_LAST_YEAR = [(0, 0, 0)]


def _utc_year(stamp_ns: int) -> int:
    start, end, year = _LAST_YEAR[0]
    if start <= stamp_ns < end:
        return year
    year = datetime.fromtimestamp(stamp_ns // NS_PER_S, tz=UTC).year
    _LAST_YEAR[0] = (_year_start_ns(year), _year_start_ns(year + 1), year)
    return year


def moy_from_ns(stamp_ns: int) -> int:
    """Whole minutes since the start of the UTC year of ``stamp_ns``."""
    return (stamp_ns - _year_start_ns(_utc_year(stamp_ns))) // _MINUTE_NS


def ns_from_moy(moy: int, ref_ns: int) -> int | None:
    """Start of minute ``moy`` of the year (of ``ref_ns`` or a neighbour) nearest ``ref_ns``."""
    if moy >= MOY_INVALID:
        return None
    year = _utc_year(ref_ns)
    candidates = [_year_start_ns(y) + moy * _MINUTE_NS for y in (year - 1, year, year + 1)]
    return min(candidates, key=lambda ns: abs(ns - ref_ns))


def timemark_from_seconds(seconds: float) -> int:
    """A duration from now (s) as TimeMark tenths: NaN -> unknown, >= 1 h -> beyond the hour."""
    if seconds is None or math.isnan(seconds):
        return TIMEMARK_UNKNOWN
    if seconds >= 3600.0:
        return TIMEMARK_BEYOND_HOUR
    if seconds <= 0.0:
        return 0
    return min(round(seconds * 10.0), TIMEMARK_BEYOND_HOUR - 1)


def timemark_to_seconds(value: int | None) -> float:
    if value is None or value == TIMEMARK_UNKNOWN:
        return math.nan
    if value == TIMEMARK_BEYOND_HOUR:
        return math.inf
    return value / 10.0


def timemark_from_ns(stamp_ns: int) -> int:
    """Tenths of a second within the UTC hour of ``stamp_ns`` (absolute UTCTiming form)."""
    return (stamp_ns % _HOUR_NS) // (NS_PER_S // 10)


def ns_from_timemark(value: int, ref_ns: int) -> int | None:
    if value >= TIMEMARK_BEYOND_HOUR:
        return None
    hour_start = ref_ns - ref_ns % _HOUR_NS
    return _nearest(hour_start + value * (NS_PER_S // 10), _HOUR_NS, ref_ns)


def time_offset_from_seconds(seconds: float) -> int:
    """TimeOffset (10 ms, 1..65535): NaN -> 65535 unavailable, >= 655.34 s -> 65534."""
    if seconds is None or math.isnan(seconds):
        return 65535
    return min(max(round(seconds * 100.0), 1), 65534)


def time_offset_to_seconds(value: int) -> float:
    return math.nan if value == 65535 else value / 100.0


# Section: confidence and accuracy classes
def confidence_to_wire(probability: float) -> int:
    """Probability 0..1 -> Confidence (0.5 % steps, 0..200)."""
    if probability is None or not isfinite(probability):
        return 0
    return min(max(round(probability * 200.0), 0), 200)


def confidence_from_wire(value: int) -> float:
    return value / 200.0


class AccuracyClasses(tuple[float, ...]):
    """Upper bounds (SI) of each accuracy class, index = enumeration value (0: unavailable),
    with the classes sorted tightest first once, for ``accuracy_class`` (asked per message:
    sorting, or hashing the bounds to find them sorted, cost as much as the rest)."""

    ascending: tuple[float, ...]  # the bounds of classes 1.., tightest first
    classes: tuple[int, ...]  # their class numbers

    def __new__(cls, bounds: tuple[float, ...]) -> AccuracyClasses:
        self = super().__new__(cls, bounds)
        order = sorted(range(1, len(bounds)), key=lambda i: bounds[i])
        self.ascending = tuple(bounds[i] for i in order)
        self.classes = tuple(order)
        return self


POSITION_CLASSES_M = AccuracyClasses(
    (math.inf, 500, 200, 100, 50, 20, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01)
)
ELEVATION_CLASSES_M = POSITION_CLASSES_M
SPEED_CLASSES_MPS = AccuracyClasses((math.inf, 100, 10, 5, 1, 0.1, 0.05, 0.01))
HEADING_CLASSES_DEG = AccuracyClasses((math.inf, 10, 5, 1, 0.1, 0.05, 0.01, 0.0125))
SIZE_CLASSES_M = AccuracyClasses(
    (math.inf, 100, 50, 20, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01)
)


def accuracy_class(accuracy: float, bounds: AccuracyClasses) -> int:
    """The class with the smallest bound that still covers ``accuracy``; 0 when unknown."""
    if accuracy is None or not isfinite(accuracy) or accuracy < 0:
        return 0
    classes = bounds.classes
    index = bisect_left(bounds.ascending, accuracy)
    return classes[index] if index < len(classes) else 0


def class_accuracy(index: int, bounds: tuple[float, ...]) -> float:
    """Upper bound of class ``index`` (NaN for 0 = unavailable)."""
    return math.nan if index == 0 else float(bounds[index])


# Section: sizes
def cm_to_wire(length_m: float, maximum: int) -> int:
    if length_m is None or not isfinite(length_m) or length_m <= 0:
        return 0
    return min(round(length_m * 100.0), maximum)


def height_to_wire(height_m: float) -> int:
    if height_m is None or not isfinite(height_m) or height_m <= 0:
        return 0
    return min(round(height_m / 0.05), 127)


def decimetre_to_wire(length_m: float, maximum: int) -> int:
    if length_m is None or not isfinite(length_m) or length_m <= 0:
        return 0
    return min(round(length_m * 10.0), maximum)


# Section: bit strings (asn1tools form: (bytes, number of bits), bit 0 first on the wire)
def bits_to_int(value: tuple[bytes, int]) -> int:
    """Named-bit mask (bit n of the standard = 1 << n) of an asn1tools BIT STRING value."""
    data, nbits = value
    raw = int.from_bytes(data, 'big') >> (8 * len(data) - nbits) if data else 0
    return int(f'{raw:0{nbits}b}'[::-1], 2) if nbits else 0


def int_to_bits(mask: int, nbits: int) -> tuple[bytes, int]:
    """asn1tools BIT STRING value of ``nbits`` bits from a named-bit mask."""
    if mask >> nbits:
        raise ConversionError('bit mask', f'{mask:#x} does not fit in {nbits} bits')
    raw = int(f'{mask:0{nbits}b}'[::-1], 2) if nbits else 0
    nbytes = (nbits + 7) // 8
    return (raw << (8 * nbytes - nbits)).to_bytes(nbytes, 'big'), nbits

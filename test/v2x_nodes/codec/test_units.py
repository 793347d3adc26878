"""Unit conversions at the edge: exact inverses up to one LSB, wrap-around, unavailable codes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import LocalFrame
from v2x_nodes.codec import units
from v2x_nodes.codec.errors import ConversionError
from v2x_nodes.codec.offsets import (
    GeoPoint,
    absolute_from_llv,
    absolutes_from_llv,
    offset_llv,
    offsets_llv,
)

NOW_NS = 1_764_000_000_000_000_000  # 2025-11-24


def _angle_diff(a: float, b: float) -> float:
    return abs(math.atan2(math.sin(a - b), math.cos(a - b)))


@given(st.floats(-10 * math.pi, 10 * math.pi))
def test_heading_is_clockwise_from_north(yaw: float) -> None:
    wire = units.heading_to_wire(yaw)
    assert 0 <= wire < units.HEADING_UNAVAILABLE
    assert _angle_diff(units.heading_from_wire(wire), yaw) <= math.radians(0.0125 / 2) + 1e-12


def test_heading_reference_directions() -> None:
    assert units.heading_to_wire(math.pi / 2) == 0  # north
    assert units.heading_to_wire(0.0) == 7200  # east = 90 degree clockwise from north
    assert units.heading_to_wire(math.pi) == 21600  # west
    assert units.heading_to_wire(math.nan) == units.HEADING_UNAVAILABLE
    assert math.isnan(units.heading_from_wire(units.HEADING_UNAVAILABLE))


@given(st.floats(0, 163.8))
def test_speed_lsb(speed: float) -> None:
    assert abs(units.speed_from_wire(units.speed_to_wire(speed)) - speed) <= 0.01 + 1e-9


def test_unavailable_codes() -> None:
    assert units.speed_to_wire(math.nan) == 8191 and math.isnan(units.speed_from_wire(8191))
    assert units.lat_to_wire(math.nan) == 900000001
    assert math.isnan(units.lon_from_wire(1800000001))
    assert units.elevation_to_wire(math.nan) == -4096
    assert units.accel_to_wire(math.nan) == 2001
    assert units.steering_to_wire(math.nan) == 127
    assert units.timemark_from_seconds(math.nan) == 36001
    assert units.timemark_to_seconds(36000) == math.inf
    assert units.speed_to_wire(500.0) == 8190  # clamped, not unavailable


@given(st.integers(NOW_NS - 25 * 10**9, NOW_NS + 25 * 10**9))
def test_dsecond_resolves_near_reference(stamp_ns: int) -> None:
    wire = units.dsecond_from_ns(stamp_ns)
    assert units.ns_from_dsecond(wire, NOW_NS) == stamp_ns - stamp_ns % 1_000_000


@given(st.integers(NOW_NS - 150 * 86400 * 10**9, NOW_NS + 150 * 86400 * 10**9))
def test_minute_of_year_resolves_near_reference(stamp_ns: int) -> None:
    moy = units.moy_from_ns(stamp_ns)
    assert 0 <= moy < units.MOY_INVALID
    assert units.ns_from_moy(moy, stamp_ns + 30 * 10**9) == stamp_ns - stamp_ns % (60 * 10**9)


@given(st.integers(0, (1 << 16) - 1))
def test_bit_strings_keep_named_bit_numbers(mask: int) -> None:
    value = units.int_to_bits(mask, 16)
    assert units.bits_to_int(value) == mask
    if mask & 1:  # named bit 0 is the first bit on the wire
        assert value[0][0] & 0x80


@given(
    st.floats(-60, 60),
    st.floats(-179, 179),
    st.floats(-0.9, 0.9),
    st.floats(-0.9, 0.9),
    st.floats(-100, 500),
    st.floats(-300, 300),
)
def test_offset_llv_round_trip(lat0, lon0, dlat, dlon, alt0, dalt) -> None:
    ref = GeoPoint.from_degrees(lat0, lon0, alt0)
    lat, lon, alt = lat0 + dlat, lon0 + dlon, alt0 + dalt
    value = offset_llv(ref, lat, lon, alt)
    back = absolute_from_llv(ref, value)
    assert abs(back[0] - lat) <= 0.5e-7 + 1e-12 and abs(back[1] - lon) <= 0.5e-7 + 1e-12
    assert abs(back[2] - alt) <= 0.05 + 1e-9
    span = max(abs(round(lat * 1e7) - ref.lat), abs(round(lon * 1e7) - ref.lon))
    if span < 2048:
        assert value['offsetLL'][0] == 'position-LL1'  # the shortest variant that fits
    if span >= 1 << 23:
        assert value['offsetLL'][0] == 'position-LatLon'


@given(st.floats(-2000, 2000), st.floats(-2000, 2000), st.floats(-50, 50))
def test_enu_round_trip(east, north, up) -> None:
    origin = LocalFrame(31.2, 121.5, 5.0)
    back = origin.enu_of(*origin.geodetic_of(east, north, up))
    assert all(abs(a - b) < 1e-6 for a, b in zip(back, (east, north, up), strict=True))


def _near_bounds() -> st.SearchStrategy:
    """Offsets at and around every variant's range ends, and anywhere up to 2**25."""
    edge = st.builds(
        lambda bits, sign, step: sign * (1 << (bits - 1)) + step,
        st.integers(6, 25),
        st.sampled_from([-1, 1]),
        st.integers(-1, 1),
    )
    return st.one_of(edge, st.integers(-(1 << 25), 1 << 25))


@given(_near_bounds(), _near_bounds(), _near_bounds(), st.booleans())
def test_offset_llv_picks_the_smallest_variant_that_holds(d_lat, d_lon, d_z, ref_alt) -> None:
    """The variant rule of the module docstring, written out against the range tables."""
    ref = GeoPoint(312_000_000, 1_215_000_000, 400 if ref_alt else None)
    lat, lon, elevation = ref.lat + d_lat, ref.lon + d_lon, min(max(400 + d_z, -4095), 61439)
    value = offset_llv(ref, lat / 1e7, lon / 1e7, elevation / 10.0)
    ll = [
        name
        for name, bits in zip(
            [f'position-LL{n}' for n in range(1, 7)], (12, 14, 16, 18, 22, 24), strict=True
        )
        if all(-(1 << (bits - 1)) <= d < 1 << (bits - 1) for d in (d_lat, d_lon))
    ]
    expected_ll = (ll[0], {'lon': d_lon, 'lat': d_lat}) if ll else ('position-LatLon', {})
    assert value['offsetLL'][0] == expected_ll[0]
    if ll:
        assert value['offsetLL'][1] == expected_ll[1]
    dz = elevation - 400
    v = [f'offset{n}' for n, bits in enumerate(range(7, 13), 1) if abs(dz) < 1 << (bits - 1)]
    assert value['offsetV'] == ((v[0], dz) if v and ref_alt else ('elevation', elevation))
    back = absolute_from_llv(ref, value)
    assert (round(back[0] * 1e7), round(back[1] * 1e7)) == (lat, lon)
    assert round(back[2] * 10) == elevation


_LAT = st.floats(-90, 90)
_LON = st.floats(-180, 180)
_ALT = st.one_of(st.floats(-500, 7000), st.just(math.nan), st.floats(-1e5, 1e5))


@given(
    st.tuples(_LAT, _LON, st.one_of(st.none(), st.floats(-400, 6000))),
    st.lists(st.tuples(st.floats(-0.2, 0.2), st.floats(-0.2, 0.2), _ALT), max_size=40),
    st.lists(st.tuples(_LAT, _LON, _ALT), max_size=3),
)
def test_batched_offsets_equal_the_scalar_form(ref_pos, near, far) -> None:
    """offsets_llv / absolutes_from_llv (MapData's vectorised path) give exactly the values of
    offset_llv / absolute_from_llv, point by point, near the reference and anywhere."""
    lat0, lon0, alt0 = ref_pos
    ref = GeoPoint.from_degrees(lat0, lon0, math.nan if alt0 is None else alt0)
    points = [(min(max(lat0 + a, -90), 90), lon0 + b, c) for a, b, c in near]
    points = [
        (la, lo - 360 if lo > 180 else lo + 360 if lo < -180 else lo, al) for la, lo, al in points
    ]
    points += far
    lats, lons, alts = (np.array([p[k] for p in points], dtype=float) for k in range(3))
    batch = offsets_llv(ref, lats, lons, alts)
    assert batch == [offset_llv(ref, *p) for p in points]
    back = absolutes_from_llv(ref, batch)
    scalar = [absolute_from_llv(ref, v) for v in batch]
    for k in range(3):
        expected = np.array([s[k] for s in scalar], dtype=float)
        np.testing.assert_array_equal(back[k], expected)  # NaN where NaN, else bit-equal


def test_batched_offsets_raise_the_scalar_error() -> None:
    ref = GeoPoint.from_degrees(31.2, 121.5, 4.0)
    for lat, lon in ((math.nan, 121.5), (31.2, math.inf), (91.0, 121.5), (31.2, -181.0)):
        lats, lons = np.array([31.2, lat]), np.array([121.5, lon])
        with pytest.raises(ConversionError) as batch:
            offsets_llv(ref, lats, lons, np.zeros(2))
        with pytest.raises(ConversionError) as scalar:
            offset_llv(ref, lat, lon, 0.0)
        assert str(batch.value) == str(scalar.value)


@given(st.lists(st.integers(0, 4_102_444_800 * units.NS_PER_S), min_size=1, max_size=20))
def test_minute_of_year_matches_the_calendar(stamps: list[int]) -> None:
    """moy_from_ns (which remembers the last year looked up) against datetime, stamps in any
    order across year boundaries."""
    from datetime import UTC, datetime

    edges = [units._year_start_ns(2026) + d for d in (-1, 0, 1)]
    for stamp in [*stamps, *edges, *reversed(stamps)]:
        year = datetime.fromtimestamp(stamp // units.NS_PER_S, tz=UTC).year
        start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp()) * units.NS_PER_S
        assert units.moy_from_ns(stamp) == (stamp - start) // 60_000_000_000


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_timemark_from_seconds_clamps_to_the_hour(seconds: float) -> None:
    wire = units.timemark_from_seconds(seconds)
    if math.isnan(seconds):
        assert wire == units.TIMEMARK_UNKNOWN
    elif seconds >= 3600.0:
        assert wire == units.TIMEMARK_BEYOND_HOUR
    elif seconds <= 0.0:
        assert wire == 0
    else:
        assert wire == min(round(seconds * 10.0), units.TIMEMARK_BEYOND_HOUR - 1)


TABLES = [
    units.POSITION_CLASSES_M,
    units.SPEED_CLASSES_MPS,
    units.HEADING_CLASSES_DEG,
    units.SIZE_CLASSES_M,
]


@given(
    st.sampled_from(TABLES),
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(0.0, 600.0),
        st.sampled_from([0.0, 0.01, 0.0125, 0.05, 10.0, 500.0, 501.0]),
    ),
)
def test_accuracy_class_is_the_tightest_class_that_covers(bounds, accuracy) -> None:
    """Against the definition, class by class (the heading table's bounds are not in order:
    class 7 is 0.01 deg, class 8 0.0125 deg)."""
    covering = [i for i in range(1, len(bounds)) if accuracy >= 0 and bounds[i] >= accuracy]
    expected = min(covering, key=lambda i: bounds[i]) if covering else 0
    assert units.accuracy_class(accuracy, bounds) == expected
    if expected:
        assert units.class_accuracy(expected, bounds) >= accuracy

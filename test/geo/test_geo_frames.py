"""Coordinates: round trips, an independent ECEF/ENU computation, GK against EPSG, datums."""

import math

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import geo
from geo import Datum, GaussKrugerZone, LocalFrame, ZoneWidth

# WGS84 defining constants, written here so the check does not reuse the code under test.
A_M = 6378137.0
F = 1.0 / 298.257223563
E2 = F * (2.0 - F)
GRS80_F = 1.0 / 298.257222101

lats = st.floats(-89.0, 89.0)
lons = st.floats(-180.0, 180.0)
heights = st.floats(-500.0, 9000.0)
offsets = st.floats(-20_000.0, 20_000.0)


def ecef_reference(lat_deg, lon_deg, h_m):
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    n = A_M / np.sqrt(1.0 - E2 * np.sin(lat) ** 2)
    return np.array(
        [
            (n + h_m) * np.cos(lat) * np.cos(lon),
            (n + h_m) * np.cos(lat) * np.sin(lon),
            (n * (1.0 - E2) + h_m) * np.sin(lat),
        ]
    )


def enu_reference(lat0, lon0, h0, lat, lon, h):
    d = ecef_reference(lat, lon, h) - ecef_reference(lat0, lon0, h0)
    p, q = math.radians(lat0), math.radians(lon0)
    rot = np.array(
        [
            [-math.sin(q), math.cos(q), 0.0],
            [-math.sin(p) * math.cos(q), -math.sin(p) * math.sin(q), math.cos(p)],
            [math.cos(p) * math.cos(q), math.cos(p) * math.sin(q), math.sin(p)],
        ]
    )
    return rot @ d


def meridian_arc_m(lat_deg, f):
    """Meridian arc length by numerical integration (independent of any series expansion)."""
    e2 = f * (2.0 - f)
    phi = np.linspace(0.0, math.radians(lat_deg), 20001)
    integrand = A_M * (1.0 - e2) / (1.0 - e2 * np.sin(phi) ** 2) ** 1.5
    return float(np.trapezoid(integrand, phi))


@settings(max_examples=200, deadline=None)
@given(lats, lons, heights, offsets, offsets, st.floats(-100.0, 100.0))
def test_enu_round_trip_below_1mm(lat0, lon0, h0, de, dn, du):
    frame = LocalFrame(lat0, lon0, h0)
    lat, lon, h = frame.to_geodetic(de, dn, du)
    e, n, u = frame.to_enu(lat, lon, h)
    assert np.allclose([e, n, u], [de, dn, du], atol=1e-3, rtol=0)


@settings(max_examples=100, deadline=None)
@given(st.floats(-80.0, 80.0), lons, heights, st.floats(-0.2, 0.2), st.floats(-0.2, 0.2))
def test_enu_matches_independent_ecef_rotation(lat0, lon0, h0, dlat, dlon):
    frame = LocalFrame(lat0, lon0, h0)
    lat, lon, h = lat0 + dlat, lon0 + dlon, h0 + 30.0
    got = np.array(frame.to_enu(lat, lon, h), dtype=float)
    assert np.allclose(got, enu_reference(lat0, lon0, h0, lat, lon, h), atol=1e-6, rtol=0)


def test_enu_vectorised_over_arrays():
    frame = LocalFrame(31.2304, 121.4737, 4.0)
    e = np.linspace(-500.0, 500.0, 11)
    lat, lon, h = frame.to_geodetic(e, np.zeros(11), 0.0)
    assert lat.shape == (11,)
    back = frame.to_enu(lat, lon, h)
    assert np.allclose(back[0], e, atol=1e-6)
    assert float(back[1][5]) == pytest.approx(0.0, abs=1e-9)


def test_ecef_of_a_known_point():
    # The equator/prime meridian and the north pole: closed-form ECEF values.
    assert np.allclose(geo.geodetic_to_ecef(0.0, 0.0, 0.0), [A_M, 0.0, 0.0], atol=1e-6)
    b = A_M * (1.0 - F)
    assert np.allclose(geo.geodetic_to_ecef(90.0, 0.0, 10.0), [0.0, 0.0, b + 10.0], atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(lats, lons, heights)
def test_ecef_round_trip(lat, lon, h):
    back = geo.ecef_to_geodetic(*geo.geodetic_to_ecef(lat, lon, h))
    assert back[0] == pytest.approx(lat, abs=1e-9)
    assert back[2] == pytest.approx(h, abs=1e-3)


EPSG_CASES = [(4547, 114.0), (4534, 75.0), (4554, 135.0), (4502, 75.0), (4512, 135.0)]


@pytest.mark.parametrize(('code', 'cm'), EPSG_CASES)
def test_gk_zone_matches_pyproj_epsg_definition(code, cm):
    zone = geo.zone_from_epsg(code)
    assert zone.central_meridian_deg == cm
    assert zone.epsg == code
    rng = np.random.default_rng(code)
    lat = rng.uniform(18.0, 53.0, 500)
    lon = cm + rng.uniform(-1.5, 1.5, 500)
    epsg = pyproj.Transformer.from_crs(4490, code, always_xy=True)
    e_ref, n_ref = epsg.transform(lon, lat)
    e, n = geo.geodetic_to_gk(lat, lon, zone)
    assert np.max(np.abs(e - e_ref)) < 1e-6
    assert np.max(np.abs(n - n_ref)) < 1e-6


def test_gk_prefixed_zone_against_epsg_and_false_easting():
    zone = GaussKrugerZone(ZoneWidth.THREE, 38, zone_prefix=True)
    assert zone.epsg == 4526
    e, n = geo.geodetic_to_gk(30.0, 114.0, zone)
    ref = pyproj.Transformer.from_crs(4490, 4526, always_xy=True).transform(114.0, 30.0)
    assert np.allclose([e, n], ref, atol=1e-6)
    assert float(e) == pytest.approx(38_500_000.0, abs=1e-6)


@pytest.mark.parametrize('lat', [10.0, 30.0, 45.0, 60.0])
def test_gk_northing_on_central_meridian_is_the_meridian_arc(lat):
    zone = GaussKrugerZone(ZoneWidth.SIX, 20)
    _, n = geo.geodetic_to_gk(lat, zone.central_meridian_deg, zone)
    assert float(n) == pytest.approx(meridian_arc_m(lat, GRS80_F), abs=1e-3)


@settings(max_examples=200, deadline=None)
@given(st.floats(-80.0, 80.0), st.floats(-3.0, 2.999), st.sampled_from(list(ZoneWidth)))
def test_gk_round_trip_below_1mm(lat, dlon, width):
    zone = geo.zone_for_longitude(117.0, width)
    lon = zone.central_meridian_deg + dlon * (int(width) / 6.0)
    e, n = geo.geodetic_to_gk(lat, lon, zone)
    lat2, lon2 = geo.gk_to_geodetic(e, n, zone)
    e2, n2 = geo.geodetic_to_gk(lat2, lon2, zone)
    assert abs(float(e2 - e)) < 1e-3 and abs(float(n2 - n)) < 1e-3
    assert lat2 == pytest.approx(lat, abs=1e-8)


def test_zone_for_longitude():
    assert geo.zone_for_longitude(114.2, ZoneWidth.THREE).number == 38
    assert geo.zone_for_longitude(115.6, ZoneWidth.THREE).number == 39
    assert geo.zone_for_longitude(116.4, ZoneWidth.SIX).number == 20
    assert geo.zone_for_longitude(116.4, ZoneWidth.SIX).central_meridian_deg == 117.0


def test_zone_errors_name_the_problem():
    with pytest.raises(geo.ZoneError, match=r'zone number must be 1\.\.60, got 61'):
        GaussKrugerZone(ZoneWidth.SIX, 61)
    with pytest.raises(geo.ZoneError, match='EPSG:4326 is not a CGCS2000'):
        geo.zone_from_epsg(4326)
    with pytest.raises(geo.ZoneError, match='finite'):
        geo.zone_for_longitude(float('nan'))


def test_coordinate_errors():
    with pytest.raises(geo.CoordinateError, match='latitude must be within'):
        LocalFrame(10.0, 10.0).to_enu(95.0, 10.0, 0.0)
    with pytest.raises(geo.CoordinateError, match='finite'):
        LocalFrame(float('nan'), 10.0)
    with pytest.raises(geo.CoordinateError, match='do not broadcast'):
        geo.geodetic_to_ecef([1.0, 2.0], [1.0, 2.0, 3.0], 0.0)


@settings(max_examples=100, deadline=None)
@given(lats, lons, heights)
def test_wgs84_cgcs2000_is_pyproj_ballpark_identity(lat, lon, h):
    """PROJ has no WGS84→CGCS2000 operation: it applies a null 'ballpark' transformation."""
    lat2, lon2, h2 = geo.wgs84_to_cgcs2000(lat, lon, h)
    assert abs(float(lat2) - lat) < 1e-12 and abs(float(lon2) - lon) < 1e-12
    assert abs(float(h2) - h) < 1e-9
    back = geo.cgcs2000_to_wgs84(lat2, lon2, h2)
    assert np.allclose(back, [lat, lon, h], atol=1e-12)


def test_pyproj_describes_the_wgs84_cgcs2000_operation_as_ballpark():
    description = pyproj.Transformer.from_crs(4979, 4480, always_xy=True).description
    assert 'Ballpark' in description


def test_wgs84_and_grs80_ellipsoids_differ_by_a_tenth_of_a_millimetre():
    """Same geodetic numbers on the two ellipsoids: ECEF differs by at most ~0.1 mm."""
    lat = np.linspace(-90.0, 90.0, 181)
    wgs = np.array(geo.geodetic_to_ecef(lat, 100.0, 0.0, Datum.WGS84))
    cgcs = np.array(geo.geodetic_to_ecef(lat, 100.0, 0.0, Datum.CGCS2000))
    diff = np.linalg.norm(wgs - cgcs, axis=0)
    assert 1e-5 < diff.max() < 2e-4


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e4, 1e4))
def test_heading_round_trip(heading):
    yaw = geo.heading_deg_to_yaw(heading)
    assert -math.pi <= float(yaw) < math.pi
    back = float(geo.yaw_to_heading_deg(yaw))
    assert 0.0 <= back < 360.0
    assert math.isclose(math.remainder(back - heading, 360.0), 0.0, abs_tol=1e-6)


def test_heading_conventions():
    assert float(geo.yaw_to_heading_deg(0.0)) == pytest.approx(90.0)  # east
    assert float(geo.yaw_to_heading_deg(math.pi / 2)) == pytest.approx(0.0)  # north
    assert float(geo.heading_deg_to_yaw(180.0)) == pytest.approx(-math.pi / 2)  # south
    ve, vn = geo.course_speed_to_enu_velocity(2.0, 90.0)
    assert float(ve) == pytest.approx(2.0) and float(vn) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ('lat', 'lon', 'epsg'),
    [(31.23, 121.47, 32651), (-33.45, -70.68, 32719), (49.01, 8.42, 32632), (0.5, 179.9, 32660)],
)
def test_utm_against_pyproj_epsg(lat, lon, epsg):
    zone = geo.utm_zone_for(lat, lon)
    assert zone.epsg == epsg
    rng = np.random.default_rng(epsg)
    lats = lat + rng.uniform(-1.0, 1.0, 200)
    lons = zone.central_meridian_deg + rng.uniform(-3.0, 3.0, 200)
    ref = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(lons, lats)
    got = geo.geodetic_to_utm(lats, lons, zone)
    assert np.max(np.abs(np.array(got) - np.array(ref))) < 1e-6


@settings(max_examples=100, deadline=None)
@given(st.floats(-80.0, 84.0), st.floats(-179.9, 179.9))
def test_utm_round_trip_below_1mm(lat, lon):
    zone = geo.utm_zone_for(lat, lon)
    e, n = geo.geodetic_to_utm(lat, lon, zone)
    lat2, lon2 = geo.utm_to_geodetic(e, n, zone)
    e2, n2 = geo.geodetic_to_utm(lat2, lon2, zone)
    assert abs(float(e2 - e)) < 1e-3 and abs(float(n2 - n)) < 1e-3


def test_utm_zone_errors():
    with pytest.raises(geo.ZoneError, match=r'UTM zone number must be 1\.\.60, got 0'):
        geo.UtmZone(0)
    with pytest.raises(geo.ZoneError, match='finite'):
        geo.utm_zone_for(float('nan'), 0.0)

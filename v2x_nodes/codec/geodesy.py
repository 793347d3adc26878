"""Positions at the codec edge: PositionOffsetLLV variants and a local ENU frame.

Offsets are computed on the wire integers (1e-7 degree, 0.1 m) so that encode/decode are
exact inverses: the smallest ``position-LLn`` that holds both offsets is chosen, else the
absolute ``position-LatLon``; vertically the smallest ``offsetN`` whose range (without its
lowest value, which means unavailable) holds the difference, else the absolute elevation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from v2x_nodes.codec import units
from v2x_nodes.codec.errors import ConversionError

# (alternative, bits of each offset) from the closest to the farthest reach.
_LL_VARIANTS = (
    ('position-LL1', 12),
    ('position-LL2', 14),
    ('position-LL3', 16),
    ('position-LL4', 18),
    ('position-LL5', 22),
    ('position-LL6', 24),
)
_V_VARIANTS = (
    ('offset1', 7),
    ('offset2', 8),
    ('offset3', 9),
    ('offset4', 10),
    ('offset5', 11),
    ('offset6', 12),
)


@dataclass(frozen=True)
class GeoPoint:
    """A reference position on the wire (Position3D): 1e-7 degree and 0.1 m (None: absent)."""

    lat: int
    lon: int
    elevation: int | None = None

    @classmethod
    def from_degrees(cls, lat_deg: float, lon_deg: float, alt_m: float = math.nan) -> GeoPoint:
        if not (math.isfinite(lat_deg) and math.isfinite(lon_deg)):
            raise ConversionError('reference position', 'latitude/longitude must be finite')
        elevation = units.elevation_to_wire(alt_m) if math.isfinite(alt_m) else None
        return cls(units.lat_to_wire(lat_deg), units.lon_to_wire(lon_deg), elevation)

    @classmethod
    def from_position3d(cls, value: dict[str, Any]) -> GeoPoint:
        elevation = value.get('elevation')
        if elevation == units.ELEVATION_UNKNOWN:
            elevation = None
        return cls(value['lat'], value['long'], elevation)

    def to_position3d(self) -> dict[str, Any]:
        value: dict[str, Any] = {'lat': self.lat, 'long': self.lon}
        if self.elevation is not None:
            value['elevation'] = self.elevation
        return value

    @property
    def lat_deg(self) -> float:
        return units.lat_from_wire(self.lat)

    @property
    def lon_deg(self) -> float:
        return units.lon_from_wire(self.lon)

    @property
    def alt_m(self) -> float:
        return units.elevation_from_wire(self.elevation)


def offset_llv(ref: GeoPoint, lat_deg: float, lon_deg: float, alt_m: float) -> dict[str, Any]:
    """PositionOffsetLLV of a geodetic position relative to ``ref`` (variant by distance)."""
    if not (math.isfinite(lat_deg) and math.isfinite(lon_deg)):
        raise ConversionError('latitude_deg/longitude_deg', 'a position to send must be known')
    lat = units.lat_to_wire(lat_deg)
    lon = units.lon_to_wire(lon_deg)
    d_lat, d_lon = lat - ref.lat, lon - ref.lon
    offset_ll: tuple[str, dict[str, int]] = ('position-LatLon', {'lon': lon, 'lat': lat})
    for name, bits in _LL_VARIANTS:
        half = 1 << (bits - 1)
        if -half <= d_lat < half and -half <= d_lon < half:
            offset_ll = (name, {'lon': d_lon, 'lat': d_lat})
            break
    value: dict[str, Any] = {'offsetLL': offset_ll}
    if math.isfinite(alt_m):
        elevation = units.elevation_to_wire(alt_m)
        value['offsetV'] = ('elevation', elevation)
        if ref.elevation is not None:
            d_z = elevation - ref.elevation
            for name, bits in _V_VARIANTS:
                half = 1 << (bits - 1)
                if -half < d_z < half:
                    value['offsetV'] = (name, d_z)
                    break
    return value


def absolute_from_llv(ref: GeoPoint, value: dict[str, Any]) -> tuple[float, float, float]:
    """(lat_deg, lon_deg, alt_m) of a PositionOffsetLLV; alt NaN when not given/unavailable."""
    name, ll = value['offsetLL']
    if name == 'position-LatLon':
        lat, lon = ll['lat'], ll['lon']
    else:
        lat, lon = ref.lat + ll['lat'], ref.lon + ll['lon']
        if lon > 1_800_000_000:  # an offset across the antimeridian
            lon -= 3_600_000_000
    alt = math.nan
    if 'offsetV' in value:
        vname, dz = value['offsetV']
        if vname == 'elevation':
            alt = units.elevation_from_wire(dz)
        else:
            bits = dict(_V_VARIANTS)[vname]
            if dz != -(1 << (bits - 1)) and ref.elevation is not None:
                alt = (ref.elevation + dz) / 10.0
    return units.lat_from_wire(lat), units.lon_from_wire(lon), alt


# Section: local ENU frame (WGS84 / CGCS2000 share the ellipsoid to well under a millimetre)
_A = 6378137.0
_F = 1.0 / 298.257223563
_E2 = _F * (2.0 - _F)


def _ecef(lat_deg: float, lon_deg: float, alt_m: float) -> tuple[float, float, float]:
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    n = _A / math.sqrt(1.0 - _E2 * math.sin(lat) ** 2)
    return (
        (n + alt_m) * math.cos(lat) * math.cos(lon),
        (n + alt_m) * math.cos(lat) * math.sin(lon),
        (n * (1.0 - _E2) + alt_m) * math.sin(lat),
    )


_B = _A * (1.0 - _F)
_EP2 = _E2 / (1.0 - _E2)


def _geodetic(x: float, y: float, z: float) -> tuple[float, float, float]:
    """ECEF -> geodetic: Bowring's formula plus one refinement (sub-micrometre near ground)."""
    lon = math.atan2(y, x)
    p = math.hypot(x, y)
    theta = math.atan2(z * _A, p * _B)
    st, ct = math.sin(theta), math.cos(theta)
    lat = math.atan2(z + _EP2 * _B * st**3, p - _E2 * _A * ct**3)
    n = _A / math.sqrt(1.0 - _E2 * math.sin(lat) ** 2)
    alt = p / math.cos(lat) - n
    lat = math.atan2(z, p * (1.0 - _E2 * n / (n + alt)))
    n = _A / math.sqrt(1.0 - _E2 * math.sin(lat) ** 2)
    return math.degrees(lat), math.degrees(lon), p / math.cos(lat) - n


@dataclass(frozen=True)
class GeoOrigin:
    """Origin of the local ENU ``map`` frame (degrees, ellipsoidal metres)."""

    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0

    @cached_property
    def _frame(self) -> tuple[tuple[float, float, float], tuple[float, float, float, float]]:
        """Origin in ECEF and the sines/cosines of its longitude and latitude."""
        lat0, lon0 = math.radians(self.lat_deg), math.radians(self.lon_deg)
        trig = (math.sin(lon0), math.cos(lon0), math.sin(lat0), math.cos(lat0))
        return _ecef(self.lat_deg, self.lon_deg, self.alt_m), trig

    def to_enu(self, lat_deg: float, lon_deg: float, alt_m: float) -> tuple[float, float, float]:
        """ENU metres of a geodetic position (a NaN altitude is taken as the origin's)."""
        alt = alt_m if math.isfinite(alt_m) else self.alt_m
        x, y, z = _ecef(lat_deg, lon_deg, alt)
        (x0, y0, z0), (sl, cl, sp, cp) = self._frame
        dx, dy, dz = x - x0, y - y0, z - z0
        east = -sl * dx + cl * dy
        north = -sp * cl * dx - sp * sl * dy + cp * dz
        up = cp * cl * dx + cp * sl * dy + sp * dz
        return east, north, up

    def to_geodetic(self, east: float, north: float, up: float) -> tuple[float, float, float]:
        """(lat_deg, lon_deg, alt_m) of an ENU position."""
        (x0, y0, z0), (sl, cl, sp, cp) = self._frame
        dx = -sl * east - sp * cl * north + cp * cl * up
        dy = cl * east - sp * sl * north + cp * sl * up
        dz = cp * north + sp * up
        return _geodetic(x0 + dx, y0 + dy, z0 + dz)

"""Positions at the codec edge: PositionOffsetLLV variants; the ENU frame is ``geo.LocalFrame``.

Offsets are computed on the wire integers (1e-7 degree, 0.1 m) so that encode/decode are
exact inverses: the smallest ``position-LLn`` that holds both offsets is chosen, else the
absolute ``position-LatLon``; vertically the smallest ``offsetN`` whose range (without its
lowest value, which means unavailable) holds the difference, else the absolute elevation.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from math import isfinite
from typing import Any

import numpy as np

from geo import LocalFrame
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


# Precomputed from the variant tables (hot path): the half-range of each variant, ascending.
_LL_NAMES = tuple(name for name, _ in _LL_VARIANTS)
_LL_HALVES = tuple(1 << (bits - 1) for _, bits in _LL_VARIANTS)
_V_NAMES = tuple(name for name, _ in _V_VARIANTS)
_V_HALVES = tuple(1 << (bits - 1) for _, bits in _V_VARIANTS)
_V_UNAVAILABLE = {name: -(1 << (bits - 1)) for name, bits in _V_VARIANTS}
_LATLON = 'position-LatLon'


def offset_llv(ref: GeoPoint, lat_deg: float, lon_deg: float, alt_m: float) -> dict[str, Any]:
    """PositionOffsetLLV of a geodetic position relative to ``ref`` (variant by distance)."""
    if not (isfinite(lat_deg) and isfinite(lon_deg)):
        raise ConversionError('latitude_deg/longitude_deg', 'a position to send must be known')
    lat = units.lat_to_wire(lat_deg)
    lon = units.lon_to_wire(lon_deg)
    d_lat, d_lon = lat - ref.lat, lon - ref.lon
    # -half <= d < half for both offsets  <=>  max(d, -d - 1) < half
    index = bisect_right(_LL_HALVES, max(d_lat, -1 - d_lat, d_lon, -1 - d_lon))
    if index < len(_LL_NAMES):
        value: dict[str, Any] = {'offsetLL': (_LL_NAMES[index], {'lon': d_lon, 'lat': d_lat})}
    else:
        value = {'offsetLL': (_LATLON, {'lon': lon, 'lat': lat})}
    if isfinite(alt_m):
        elevation = units.elevation_to_wire(alt_m)
        if ref.elevation is None:
            value['offsetV'] = ('elevation', elevation)
        else:
            d_z = elevation - ref.elevation
            index = bisect_right(_V_HALVES, abs(d_z))  # -half < d_z < half
            if index < len(_V_NAMES):
                value['offsetV'] = (_V_NAMES[index], d_z)
            else:
                value['offsetV'] = ('elevation', elevation)
    return value


def absolute_from_llv(ref: GeoPoint, value: dict[str, Any]) -> tuple[float, float, float]:
    """(lat_deg, lon_deg, alt_m) of a PositionOffsetLLV; alt NaN when not given/unavailable."""
    name, ll = value['offsetLL']
    if name == _LATLON:
        lat, lon = ll['lat'], ll['lon']
    else:
        lat, lon = ref.lat + ll['lat'], ref.lon + ll['lon']
        if lon > 1_800_000_000:  # an offset across the antimeridian
            lon -= 3_600_000_000
    alt = math.nan
    offset_v = value.get('offsetV')
    if offset_v is not None:
        vname, dz = offset_v
        if vname == 'elevation':
            alt = units.elevation_from_wire(dz)
        elif dz != _V_UNAVAILABLE[vname] and ref.elevation is not None:
            alt = (ref.elevation + dz) / 10.0
    return units.lat_from_wire(lat), units.lon_from_wire(lon), alt


def offsets_llv(
    ref: GeoPoint, lat_deg: np.ndarray, lon_deg: np.ndarray, alt_m: np.ndarray
) -> list[dict[str, Any]]:
    """``offset_llv`` of many positions (float arrays of one length): the same values, with
    the wire arithmetic vectorised (a MapData node has tens of lane points). Any position the
    scalar form would refuse sends the whole batch through it, so errors are its errors."""
    lat_deg, lon_deg, alt_m = (np.asarray(a, dtype=np.float64) for a in (lat_deg, lon_deg, alt_m))
    with np.errstate(invalid='ignore'):
        usable = (np.abs(lat_deg) <= 90.0).all() and (np.abs(lon_deg) <= 180.0).all()
    if not usable:  # NaN or out of range somewhere: the scalar form raises the error
        columns = (lat_deg.tolist(), lon_deg.tolist(), alt_m.tolist())
        return [offset_llv(ref, *p) for p in zip(*columns, strict=True)]
    # round() of Python floats and np.rint both round half to even: the same integers.
    lat = np.rint(lat_deg * units.LATLON_PER_DEG).astype(np.int64)
    lon = np.rint(lon_deg * units.LATLON_PER_DEG).astype(np.int64)
    lon[lon <= -1_800_000_000] += 3_600_000_000  # -180 is +180 (units.lon_to_wire)
    d_lat, d_lon = lat - ref.lat, lon - ref.lon
    span = np.maximum(np.maximum(d_lat, -1 - d_lat), np.maximum(d_lon, -1 - d_lon))
    ll_index = np.searchsorted(_LL_HALVES, span, side='right').tolist()
    has_alt = np.isfinite(alt_m)
    elevation = np.clip(
        np.rint(np.where(has_alt, alt_m, 0.0) * 10.0),
        units.ELEVATION_UNKNOWN + 1,
        units.ELEVATION_MAX,
    ).astype(np.int64)
    if ref.elevation is not None:
        d_z = elevation - ref.elevation
        v_index = np.searchsorted(_V_HALVES, np.abs(d_z), side='right').tolist()
        d_z_list = d_z.tolist()
    out = []
    rows = zip(
        lat.tolist(), lon.tolist(), d_lat.tolist(), d_lon.tolist(), ll_index,
        has_alt.tolist(), elevation.tolist(), strict=True,
    )  # fmt: skip
    n_ll, n_v = len(_LL_NAMES), len(_V_NAMES)
    for i, (la, lo, dla, dlo, li, alt_known, elev) in enumerate(rows):
        if li < n_ll:
            value: dict[str, Any] = {'offsetLL': (_LL_NAMES[li], {'lon': dlo, 'lat': dla})}
        else:
            value = {'offsetLL': (_LATLON, {'lon': lo, 'lat': la})}
        if alt_known:
            if ref.elevation is not None and v_index[i] < n_v:
                value['offsetV'] = (_V_NAMES[v_index[i]], d_z_list[i])
            else:
                value['offsetV'] = ('elevation', elev)
        out.append(value)
    return out


def absolutes_from_llv(
    ref: GeoPoint, values: list[dict[str, Any]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat_deg, lon_deg, alt_m) arrays of many PositionOffsetLLV: ``absolute_from_llv`` per
    value, with the divisions vectorised."""
    lats, lons, decimetres = [], [], []
    ref_lat, ref_lon, ref_elev = ref.lat, ref.lon, ref.elevation
    nan = math.nan
    for value in values:
        name, ll = value['offsetLL']
        if name == _LATLON:
            lats.append(ll['lat'])
            lons.append(ll['lon'])
        else:
            lats.append(ref_lat + ll['lat'])
            lon = ref_lon + ll['lon']
            lons.append(lon - 3_600_000_000 if lon > 1_800_000_000 else lon)
        offset_v = value.get('offsetV')
        if offset_v is None:
            decimetres.append(nan)
            continue
        vname, dz = offset_v
        if vname == 'elevation':
            decimetres.append(nan if dz == units.ELEVATION_UNKNOWN else dz)
        elif dz != _V_UNAVAILABLE[vname] and ref_elev is not None:
            decimetres.append(ref_elev + dz)
        else:
            decimetres.append(nan)
    lat = np.array(lats, dtype=np.int64)
    lon = np.array(lons, dtype=np.int64)
    lat_deg = np.where(lat == units.LAT_UNAVAILABLE, np.nan, lat / units.LATLON_PER_DEG)
    lon_deg = np.where(lon == units.LON_UNAVAILABLE, np.nan, lon / units.LATLON_PER_DEG)
    return lat_deg, lon_deg, np.array(decimetres, dtype=np.float64) / 10.0


# Section: the local ENU frame is geo.LocalFrame; these wrap its scalar forms for the codec
def enu(origin: LocalFrame, lat_deg: float, lon_deg: float, alt_m: float) -> tuple[float, ...]:
    """ENU metres of a geodetic position in ``origin`` (a NaN altitude is taken as the origin's,
    so a message without elevation still gets a horizontal position)."""
    return origin.enu_of(lat_deg, lon_deg, alt_m if math.isfinite(alt_m) else origin.h0_m)


def geodetic(origin: LocalFrame, east_m: float, north_m: float, up_m: float) -> tuple[float, ...]:
    """(lat_deg, lon_deg, alt_m) of an ENU position in ``origin``."""
    return origin.geodetic_of(east_m, north_m, up_m)

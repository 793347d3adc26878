"""CGCS2000 Gauss-Krüger projections: the Chinese 3° and 6° zone systems (EPSG:4491-4554).

6° zone n has its central meridian at 6n − 3 °E; 3° zone n at 3n °E. The false easting is
500 km, optionally prefixed by the zone number (zone 38 → 38 500 000 m), as the national maps
print it. The projection is built here from its parameters (transverse Mercator, k = 1 on the
GRS80 ellipsoid); the tests check it against PROJ's EPSG definitions.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyproj
from numpy.typing import ArrayLike

from geo.datums import Datum, FloatArray, as_float_arrays, check_latitude, transform_geodetic
from geo.errors import ZoneError


class ZoneWidth(enum.IntEnum):
    """Width of a Gauss-Krüger zone in degrees of longitude."""

    THREE = 3
    SIX = 6


# EPSG code ranges published for CGCS2000 Gauss-Krüger (first code, first zone, last zone).
_EPSG_PREFIXED = {ZoneWidth.SIX: (4491, 13, 23), ZoneWidth.THREE: (4513, 25, 45)}
_EPSG_PLAIN = {ZoneWidth.SIX: (4502, 13, 23), ZoneWidth.THREE: (4534, 25, 45)}


@dataclass(frozen=True)
class GaussKrugerZone:
    """One zone: its width, number and whether eastings carry the zone-number prefix."""

    width: ZoneWidth
    number: int
    zone_prefix: bool = False

    def __post_init__(self) -> None:
        limit = 360 // int(self.width)
        if not 1 <= self.number <= limit:
            raise ZoneError(
                f'{int(self.width)}° Gauss-Krüger zone number must be 1..{limit}, got {self.number}'
            )

    @property
    def central_meridian_deg(self) -> float:
        if self.width is ZoneWidth.SIX:
            return float(6 * self.number - 3)
        return float(3 * self.number)

    @property
    def false_easting_m(self) -> float:
        return 500_000.0 + (self.number * 1_000_000.0 if self.zone_prefix else 0.0)

    @property
    def epsg(self) -> int | None:
        """The EPSG code of this zone, where EPSG defines one (China's zones), else None."""
        table = _EPSG_PREFIXED if self.zone_prefix else _EPSG_PLAIN
        first_code, first_zone, last_zone = table[self.width]
        if first_zone <= self.number <= last_zone:
            return first_code + self.number - first_zone
        return None

    def proj_string(self) -> str:
        return (
            f'+proj=tmerc +lat_0=0 +lon_0={self.central_meridian_deg:g} +k=1 '
            f'+x_0={self.false_easting_m:.0f} +y_0=0 +ellps=GRS80 +units=m +no_defs'
        )


def zone_for_longitude(
    lon_deg: float, width: ZoneWidth = ZoneWidth.THREE, *, zone_prefix: bool = False
) -> GaussKrugerZone:
    """The zone whose strip contains ``lon_deg`` (3° zones are centred on multiples of 3°)."""
    if not math.isfinite(lon_deg):
        raise ZoneError(f'longitude must be finite to choose a zone, got {lon_deg}')
    lon = lon_deg % 360.0
    if width is ZoneWidth.SIX:
        number = int(lon // 6.0) + 1
    else:
        number = math.floor((lon + 1.5) / 3.0) % 120 or 120
    return GaussKrugerZone(width, number, zone_prefix)


def zone_from_epsg(code: int) -> GaussKrugerZone:
    """The zone an EPSG code (4491-4554) stands for; raises ZoneError for other codes."""
    for prefix, table in ((True, _EPSG_PREFIXED), (False, _EPSG_PLAIN)):
        for width, (first_code, first_zone, last_zone) in table.items():
            if first_code <= code <= first_code + last_zone - first_zone:
                return GaussKrugerZone(width, first_zone + code - first_code, prefix)
    raise ZoneError(f'EPSG:{code} is not a CGCS2000 Gauss-Krüger zone (expected 4491..4554)')


@cache
def _projection(zone: GaussKrugerZone) -> pyproj.Transformer:
    return pyproj.Transformer.from_pipeline(zone.proj_string())


def geodetic_to_gk(
    lat_deg: ArrayLike, lon_deg: ArrayLike, zone: GaussKrugerZone, datum: Datum = Datum.CGCS2000
) -> tuple[FloatArray, FloatArray]:
    """Geodetic → (easting_m, northing_m) in the zone; WGS84 input goes through CGCS2000."""
    lat, lon = as_float_arrays(lat_deg, lon_deg)
    check_latitude(lat, 'geodetic_to_gk')
    if datum is not Datum.CGCS2000:
        lat, lon, _ = transform_geodetic(lat, lon, np.zeros_like(lat), datum, Datum.CGCS2000)
    e, n = _projection(zone).transform(lon, lat)
    return np.asarray(e, float), np.asarray(n, float)


def gk_to_geodetic(
    easting_m: ArrayLike,
    northing_m: ArrayLike,
    zone: GaussKrugerZone,
    datum: Datum = Datum.CGCS2000,
) -> tuple[FloatArray, FloatArray]:
    """(easting_m, northing_m) in the zone → geodetic (lat_deg, lon_deg) on ``datum``."""
    e, n = as_float_arrays(easting_m, northing_m)
    lon, lat = _projection(zone).transform(e, n, direction='INVERSE')
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    if datum is not Datum.CGCS2000:
        lat, lon, _ = transform_geodetic(lat, lon, np.zeros_like(lat), Datum.CGCS2000, datum)
    return lat, lon

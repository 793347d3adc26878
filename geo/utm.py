"""UTM on WGS84 (EPSG:326xx north, 327xx south): what Lanelet2 maps and many tools expect.

Zone n spans 6° with its central meridian at 6n − 183°; k0 = 0.9996, false easting 500 km,
false northing 10 000 km in the south. The special zones of Norway and Svalbard are ignored
(choose the zone explicitly there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyproj
from numpy.typing import ArrayLike

from geo.datums import FloatArray, as_float_arrays, check_latitude
from geo.errors import ZoneError


@dataclass(frozen=True)
class UtmZone:
    number: int
    south: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 60:
            raise ZoneError(f'UTM zone number must be 1..60, got {self.number}')

    @property
    def central_meridian_deg(self) -> float:
        return 6.0 * self.number - 183.0

    @property
    def epsg(self) -> int:
        return (32700 if self.south else 32600) + self.number

    def proj_string(self) -> str:
        return f'+proj=utm +zone={self.number}{" +south" if self.south else ""} +ellps=WGS84'


def utm_zone_for(lat_deg: float, lon_deg: float) -> UtmZone:
    """The standard zone containing a point (south for negative latitudes)."""
    if not (math.isfinite(lat_deg) and math.isfinite(lon_deg)):
        raise ZoneError(f'position must be finite to choose a UTM zone, got {lat_deg}, {lon_deg}')
    number = int(((lon_deg + 180.0) % 360.0) // 6.0) + 1
    return UtmZone(number, lat_deg < 0.0)


@cache
def _projection(zone: UtmZone) -> pyproj.Transformer:
    return pyproj.Transformer.from_pipeline(zone.proj_string())


def geodetic_to_utm(
    lat_deg: ArrayLike, lon_deg: ArrayLike, zone: UtmZone
) -> tuple[FloatArray, FloatArray]:
    """WGS84 geodetic → (easting_m, northing_m) in ``zone``."""
    lat, lon = as_float_arrays(lat_deg, lon_deg)
    check_latitude(lat, 'geodetic_to_utm')
    e, n = _projection(zone).transform(lon, lat)
    return np.asarray(e, float), np.asarray(n, float)


def utm_to_geodetic(
    easting_m: ArrayLike, northing_m: ArrayLike, zone: UtmZone
) -> tuple[FloatArray, FloatArray]:
    """(easting_m, northing_m) in ``zone`` → WGS84 (lat_deg, lon_deg)."""
    e, n = as_float_arrays(easting_m, northing_m)
    lon, lat = _projection(zone).transform(e, n, direction='INVERSE')
    return np.asarray(lat, float), np.asarray(lon, float)

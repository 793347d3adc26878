"""Geodetic datums (WGS84, CGCS2000) and the cached pyproj transformers between them and ECEF.

WGS84 (EPSG:4326/4979) and CGCS2000 (EPSG:4490/4480) share the semi-major axis; their
flattenings differ by 1.6e-11 (semi-minor axes by 0.1 mm). Both frames are realisations of
ITRF: CGCS2000 is ITRF97 frozen at epoch 2000.0, WGS84 (G1762+) follows the current ITRF, so
the same point differs by the plate motion since 2000 (≈ 3-4 cm/yr in China, decimetres today).
PROJ has no published transformation between the two and uses a "ballpark" null
transformation: geodetic coordinates pass through unchanged. ``wgs84_to_cgcs2000`` therefore
returns its input to within floating point; we keep the call so that a better operation (a
plate-motion model or a national grid) can be slotted in at one place. See docs/positioning.md.
"""

from __future__ import annotations

import enum
from functools import cache

import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray

from geo.errors import CoordinateError

FloatArray = NDArray[np.float64]


class Datum(enum.Enum):
    """A geodetic datum with its 3-D geographic EPSG code and ellipsoid name (PROJ)."""

    WGS84 = (4979, 'WGS84')
    CGCS2000 = (4480, 'GRS80')

    @property
    def epsg_3d(self) -> int:
        return self.value[0]

    @property
    def ellps(self) -> str:
        return self.value[1]


@cache
def geodetic_transformer(source: Datum, target: Datum) -> pyproj.Transformer:
    """3-D geographic → geographic transformer (lon, lat, h order), built once per pair."""
    return pyproj.Transformer.from_crs(source.epsg_3d, target.epsg_3d, always_xy=True)


@cache
def ecef_transformer(datum: Datum) -> pyproj.Transformer:
    """Geodetic (lon, lat, h) → ECEF (x, y, z) on the datum's ellipsoid; inverse available."""
    return pyproj.Transformer.from_pipeline(f'+proj=cart +ellps={datum.ellps}')


def as_float_arrays(*values: ArrayLike) -> tuple[FloatArray, ...]:
    """Broadcast inputs to float64 arrays of one shape; raises CoordinateError if they don't."""
    try:
        arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values))
    except (ValueError, TypeError) as err:
        shapes = [np.shape(v) for v in values]
        raise CoordinateError(f'coordinates do not broadcast: shapes {shapes}') from err
    return tuple(np.array(a, dtype=np.float64) for a in arrays)


def check_latitude(lat_deg: FloatArray, where: str) -> None:
    """Reject latitudes outside [-90, 90] deg (NaN passes through as NaN, never raises)."""
    bad = np.abs(lat_deg) > 90.0
    if np.any(bad):
        raise CoordinateError(
            f'{where}: latitude must be within [-90, 90] deg, got {lat_deg[bad].ravel()[:3]}'
        )


def transform_geodetic(
    lat_deg: ArrayLike, lon_deg: ArrayLike, h_m: ArrayLike, source: Datum, target: Datum
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Geodetic coordinates from one datum to another (arrays in, arrays out)."""
    lat, lon, h = as_float_arrays(lat_deg, lon_deg, h_m)
    check_latitude(lat, f'{source.name}→{target.name}')
    if source is target:
        return lat, lon, h
    x, y, z = geodetic_transformer(source, target).transform(lon, lat, h)
    return np.asarray(y, float), np.asarray(x, float), np.asarray(z, float)


def wgs84_to_cgcs2000(
    lat_deg: ArrayLike, lon_deg: ArrayLike, h_m: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """WGS84 → CGCS2000 geodetic, as PROJ does it (a ballpark null transformation)."""
    return transform_geodetic(lat_deg, lon_deg, h_m, Datum.WGS84, Datum.CGCS2000)


def cgcs2000_to_wgs84(
    lat_deg: ArrayLike, lon_deg: ArrayLike, h_m: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """CGCS2000 → WGS84 geodetic, the inverse of ``wgs84_to_cgcs2000``."""
    return transform_geodetic(lat_deg, lon_deg, h_m, Datum.CGCS2000, Datum.WGS84)


def geodetic_to_ecef(
    lat_deg: ArrayLike, lon_deg: ArrayLike, h_m: ArrayLike, datum: Datum = Datum.WGS84
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Geodetic → Earth-centred Earth-fixed metres on the datum's ellipsoid."""
    lat, lon, h = as_float_arrays(lat_deg, lon_deg, h_m)
    check_latitude(lat, 'geodetic_to_ecef')
    x, y, z = ecef_transformer(datum).transform(lon, lat, h)
    return np.asarray(x, float), np.asarray(y, float), np.asarray(z, float)


def ecef_to_geodetic(
    x_m: ArrayLike, y_m: ArrayLike, z_m: ArrayLike, datum: Datum = Datum.WGS84
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """ECEF metres → geodetic (lat deg, lon deg, ellipsoidal height m)."""
    x, y, z = as_float_arrays(x_m, y_m, z_m)
    lon, lat, h = ecef_transformer(datum).transform(x, y, z, direction='INVERSE')
    return np.asarray(lat, float), np.asarray(lon, float), np.asarray(h, float)

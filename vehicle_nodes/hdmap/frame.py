"""The projection the map loader needs, and a small pyproj adapter until `geo` lands.

The loader takes any object with ``to_enu``/``to_geodetic`` shaped like
``geo.local_frame.LocalFrame`` (local east-north-up tangent plane, metres); this module's
``EnuFrame`` is a private stand-in with the same signatures, to be replaced by ``geo``.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import pyproj
from numpy.typing import ArrayLike

from vehicle_nodes.hdmap.errors import HdMapError
from vehicle_nodes.hdmap.geometry import FloatArray


class GeodeticFrame(Protocol):
    """A local ENU frame: geodetic (deg, deg, m) ↔ (east_m, north_m, up_m)."""

    lat0_deg: float
    lon0_deg: float

    def to_enu(
        self, lat_deg: ArrayLike, lon_deg: ArrayLike, h_m: ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]: ...

    def to_geodetic(
        self, east_m: ArrayLike, north_m: ArrayLike, up_m: ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]: ...


class EnuFrame:
    """Topocentric ENU at (lat0_deg, lon0_deg, h0_m) on WGS84 via PROJ (cart + topocentric)."""

    def __init__(self, lat0_deg: float, lon0_deg: float, h0_m: float = 0.0) -> None:
        if not all(math.isfinite(v) for v in (lat0_deg, lon0_deg, h0_m)) or abs(lat0_deg) > 90:
            raise HdMapError(
                f'map origin must be finite with |lat| <= 90, got {(lat0_deg, lon0_deg, h0_m)}'
            )
        self.lat0_deg = float(lat0_deg)
        self.lon0_deg = float(lon0_deg)
        self.h0_m = float(h0_m)
        self._tf = pyproj.Transformer.from_pipeline(
            '+proj=pipeline +step +proj=cart +ellps=WGS84 +step +proj=topocentric '
            f'+ellps=WGS84 +lat_0={self.lat0_deg!r} +lon_0={self.lon0_deg!r} +h_0={self.h0_m!r}'
        )

    def to_enu(
        self, lat_deg: ArrayLike, lon_deg: ArrayLike, h_m: ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Geodetic WGS84 → (east_m, north_m, up_m)."""
        e, n, u = self._tf.transform(
            np.asarray(lon_deg, float), np.asarray(lat_deg, float), np.asarray(h_m, float)
        )
        return np.asarray(e, float), np.asarray(n, float), np.asarray(u, float)

    def to_geodetic(
        self, east_m: ArrayLike, north_m: ArrayLike, up_m: ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(east_m, north_m, up_m) → geodetic WGS84 (lat_deg, lon_deg, h_m)."""
        lon, lat, h = self._tf.transform(
            np.asarray(east_m, float),
            np.asarray(north_m, float),
            np.asarray(up_m, float),
            direction='INVERSE',
        )
        return np.asarray(lat, float), np.asarray(lon, float), np.asarray(h, float)

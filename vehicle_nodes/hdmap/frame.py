"""The projection the map loader needs: any local ENU frame shaped like ``geo.LocalFrame``.

The project's frame is ``geo.LocalFrame`` (topocentric ENU at an origin, via PROJ); the loader
and the export depend only on this protocol, so tests or tools may pass another projection.
"""

from __future__ import annotations

from typing import Protocol

from numpy.typing import ArrayLike

from vehicle_nodes.hdmap.geometry import FloatArray


class GeodeticFrame(Protocol):
    """A local ENU frame: geodetic (deg, deg, m) ↔ (east_m, north_m, up_m)."""

    def to_enu(
        self, lat_deg: ArrayLike, lon_deg: ArrayLike, h_m: ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]: ...

    def to_geodetic(
        self, east_m: ArrayLike, north_m: ArrayLike, up_m: ArrayLike
    ) -> tuple[FloatArray, FloatArray, FloatArray]: ...

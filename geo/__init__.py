"""Shared coordinates: WGS84 ↔ CGCS2000 ↔ local ENU ↔ Gauss-Krüger / UTM, vectorised (numpy).

The RSU georeferencing and the vehicle nodes both use this one module family.
"""

from geo.datums import (
    Datum,
    cgcs2000_to_wgs84,
    ecef_to_geodetic,
    geodetic_to_ecef,
    transform_geodetic,
    wgs84_to_cgcs2000,
)
from geo.errors import CoordinateError, GeoError, ZoneError
from geo.gauss_kruger import (
    GaussKrugerZone,
    ZoneWidth,
    geodetic_to_gk,
    gk_to_geodetic,
    zone_for_longitude,
    zone_from_epsg,
)
from geo.heading import (
    course_speed_to_enu_velocity,
    heading_deg_to_yaw,
    wrap_angle_rad,
    yaw_to_heading_deg,
)
from geo.local_frame import LocalFrame
from geo.utm import UtmZone, geodetic_to_utm, utm_to_geodetic, utm_zone_for

__all__ = [
    'CoordinateError',
    'Datum',
    'GaussKrugerZone',
    'GeoError',
    'LocalFrame',
    'UtmZone',
    'ZoneError',
    'ZoneWidth',
    'cgcs2000_to_wgs84',
    'course_speed_to_enu_velocity',
    'ecef_to_geodetic',
    'geodetic_to_ecef',
    'geodetic_to_gk',
    'geodetic_to_utm',
    'gk_to_geodetic',
    'heading_deg_to_yaw',
    'transform_geodetic',
    'utm_to_geodetic',
    'utm_zone_for',
    'wgs84_to_cgcs2000',
    'wrap_angle_rad',
    'yaw_to_heading_deg',
    'zone_for_longitude',
    'zone_from_epsg',
]

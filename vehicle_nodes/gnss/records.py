"""Typed records: one per NMEA sentence kind, and the assembled epoch ``GnssFix``."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class FixType(enum.IntEnum):
    """Position solution kind; the value is also what `localization/gnss/fix_type` carries."""

    NO_FIX = 0
    SINGLE = 1
    DGNSS = 2
    RTK_FLOAT = 3
    RTK_FIXED = 4
    DEAD_RECKONING = 5


# GGA field 6 (quality indicator, NMEA 0183 4.x) → fix type. 3 = PPS is a plain single fix,
# 7 (manual input) and 8 (simulator) are not measurements, 9 is SBAS on some receivers.
GGA_QUALITY_TO_FIX: dict[int, FixType] = {
    0: FixType.NO_FIX,
    1: FixType.SINGLE,
    2: FixType.DGNSS,
    3: FixType.SINGLE,
    4: FixType.RTK_FIXED,
    5: FixType.RTK_FLOAT,
    6: FixType.DEAD_RECKONING,
    7: FixType.NO_FIX,
    8: FixType.NO_FIX,
    9: FixType.DGNSS,
}


class Constellation(enum.IntFlag):
    """Bits as in sensor_msgs/NavSatStatus.service (BeiDou is COMPASS there)."""

    NONE = 0
    GPS = 1
    GLONASS = 2
    BEIDOU = 4
    GALILEO = 8


# Talker ID → constellation. GN = combined solution (systems from GSA system ID);
# QZSS (GQ) and NavIC (GI) have no NavSatStatus bit and count as none.
TALKER_CONSTELLATION: dict[str, Constellation] = {
    'GP': Constellation.GPS,
    'GL': Constellation.GLONASS,
    'GA': Constellation.GALILEO,
    'BD': Constellation.BEIDOU,
    'GB': Constellation.BEIDOU,
    'GN': Constellation.NONE,
    'GQ': Constellation.NONE,
    'GI': Constellation.NONE,
}

# GSA field 18 (NMEA 4.10 GNSS system ID) → constellation.
GSA_SYSTEM_ID: dict[int, Constellation] = {
    1: Constellation.GPS,
    2: Constellation.GLONASS,
    3: Constellation.GALILEO,
    4: Constellation.BEIDOU,
}


class CovarianceKind(enum.IntEnum):
    """Same values as sensor_msgs/NavSatFix.COVARIANCE_TYPE_*."""

    UNKNOWN = 0
    APPROXIMATED = 1
    DIAGONAL_KNOWN = 2
    KNOWN = 3


@dataclass(frozen=True)
class Gga:
    talker: str
    time_s: float | None  # seconds of the UTC day
    lat_deg: float | None
    lon_deg: float | None
    alt_msl_m: float | None
    geoid_sep_m: float | None
    quality: int
    num_sats: int | None
    hdop: float | None
    dgps_age_s: float | None

    @property
    def fix_type(self) -> FixType:
        """Fix type from the quality indicator; a measured fix from 0 satellites is no fix.

        (Hemisphere receivers send quality 1 with 00 satellites while acquiring; gpsd, too,
        reports no fix for those.)"""
        fix_type = GGA_QUALITY_TO_FIX[self.quality]
        if self.num_sats == 0 and fix_type not in (FixType.NO_FIX, FixType.DEAD_RECKONING):
            return FixType.NO_FIX
        return fix_type


@dataclass(frozen=True)
class Rmc:
    talker: str
    time_s: float | None
    valid: bool
    lat_deg: float | None
    lon_deg: float | None
    speed_mps: float | None
    course_deg: float | None
    date: tuple[int, int, int] | None  # (year, month, day)
    mode: str


@dataclass(frozen=True)
class Gst:
    talker: str
    time_s: float | None
    rms_m: float | None
    major_m: float | None
    minor_m: float | None
    orientation_deg: float | None
    lat_sigma_m: float | None
    lon_sigma_m: float | None
    alt_sigma_m: float | None


@dataclass(frozen=True)
class Gsa:
    talker: str
    fix_dim: int | None  # 1 = no fix, 2 = 2-D, 3 = 3-D
    satellites: tuple[int, ...]
    pdop: float | None
    hdop: float | None
    vdop: float | None
    system: Constellation


@dataclass(frozen=True)
class Vtg:
    talker: str
    course_deg: float | None
    speed_mps: float | None
    mode: str


@dataclass(frozen=True)
class Heading:
    """True heading from HDT or THS (deg clockwise from north)."""

    talker: str
    kind: str  # 'HDT' or 'THS'
    heading_deg: float | None
    valid: bool


@dataclass(frozen=True)
class Zda:
    talker: str
    time_s: float | None
    date: tuple[int, int, int] | None


Record = Gga | Rmc | Gst | Gsa | Vtg | Heading | Zda


def _unknown_covariance() -> np.ndarray:
    return np.zeros((3, 3))


@dataclass(frozen=True)
class GnssFix:
    """One receiver epoch, assembled from its sentences. Position on WGS84, covariance ENU m²."""

    time_s: float | None
    date: tuple[int, int, int] | None
    fix_type: FixType
    lat_deg: float
    lon_deg: float
    alt_m: float  # ellipsoidal height when the geoid separation is known, else MSL
    alt_is_ellipsoidal: bool
    covariance_m2: np.ndarray = field(default_factory=_unknown_covariance)
    covariance_kind: CovarianceKind = CovarianceKind.UNKNOWN
    num_sats: int | None = None
    hdop: float | None = None
    systems: Constellation = Constellation.NONE
    heading_deg: float | None = None
    speed_mps: float | None = None
    course_deg: float | None = None
    dgps_age_s: float | None = None

"""Records → epochs → ``GnssFix``: a receiver's burst of sentences for one instant.

An epoch ends when a timed sentence (GGA, RMC, GST, ZDA) carries a different UTC time, when a
sentence kind it already holds comes again (receivers without time in their GGA, timeless
HDT/VTG), or on ``flush()`` (the driver calls it when the line has gone quiet). An epoch makes
a fix only if it holds a GGA. Covariance: GST's lat/lon/alt sigmas when the same epoch has a
GST, else HDOP (and VDOP) × a user-equivalent range error for the fix type.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from vehicle_nodes.gnss.records import (
    TALKER_CONSTELLATION,
    Constellation,
    CovarianceKind,
    FixType,
    Gga,
    GnssFix,
    Gsa,
    Gst,
    Heading,
    Record,
    Rmc,
    Vtg,
    Zda,
)

# 1-sigma user-equivalent range error (m) per fix type for the DOP fallback. Typical figures
# for automotive receivers; the GST, when present, replaces them.
UERE_M: dict[FixType, float] = {
    FixType.SINGLE: 2.5,
    FixType.DGNSS: 0.7,
    FixType.RTK_FLOAT: 0.25,
    FixType.RTK_FIXED: 0.02,
    FixType.DEAD_RECKONING: 10.0,
}
VERTICAL_TO_HORIZONTAL_DOP = 1.7  # VDOP/HDOP when no GSA gives VDOP


@dataclass
class _Epoch:
    time_s: float | None = None
    records: dict[str, Record] = field(default_factory=dict)
    gsa: list[Gsa] = field(default_factory=list)
    talkers: set[str] = field(default_factory=set)

    def empty(self) -> bool:
        return not self.records and not self.gsa


def record_kind(record: Record) -> str:
    """The sentence kind a record came from ('GGA', 'HDT', 'THS', ...)."""
    if isinstance(record, Heading):
        return record.kind
    return type(record).__name__.upper()


@dataclass
class EpochAssembler:
    """Feed records in arrival order; complete fixes come back from ``add`` and ``flush``."""

    stats: Counter[str] = field(default_factory=Counter)
    _epoch: _Epoch = field(default_factory=_Epoch)
    _date: tuple[int, int, int] | None = None

    def add(self, record: Record) -> list[GnssFix]:
        out: list[GnssFix] = []
        time_s = getattr(record, 'time_s', None)
        epoch = self._epoch
        kind = record_kind(record)
        new_time = time_s is not None and epoch.time_s is not None and time_s != epoch.time_s
        if not epoch.empty() and (new_time or kind in epoch.records):
            fix = self.flush()
            if fix is not None:
                out.append(fix)
            epoch = self._epoch
        if time_s is not None:
            epoch.time_s = time_s
        epoch.talkers.add(record.talker)
        if isinstance(record, Gsa):
            epoch.gsa.append(record)
        else:
            epoch.records[kind] = record
        if isinstance(record, (Rmc, Zda)) and record.date is not None:
            self._date = record.date
        return out

    def flush(self) -> GnssFix | None:
        """Close the current epoch; its fix if it had a GGA."""
        epoch, self._epoch = self._epoch, _Epoch()
        if epoch.empty():
            return None
        gga = epoch.records.get('GGA')
        if not isinstance(gga, Gga):
            self.stats['epoch_without_gga'] += 1
            return None
        self.stats['fixes'] += 1
        return assemble_fix(gga, epoch, self._date)


def _systems(epoch: _Epoch) -> Constellation:
    systems = Constellation.NONE
    for gsa in epoch.gsa:
        if gsa.satellites and gsa.fix_dim is not None and gsa.fix_dim > 1:
            systems |= gsa.system
    if systems is Constellation.NONE:
        for talker in epoch.talkers:
            systems |= TALKER_CONSTELLATION.get(talker, Constellation.NONE)
    return systems or Constellation.GPS


def covariance(
    fix_type: FixType, gst: Gst | None, hdop: float | None, vdop: float | None
) -> tuple[np.ndarray, CovarianceKind]:
    """ENU position covariance (m²) and its kind, from GST or from DOP × UERE."""
    if fix_type is FixType.NO_FIX:
        return np.zeros((3, 3)), CovarianceKind.UNKNOWN
    if gst is not None:
        sigmas = (gst.lon_sigma_m, gst.lat_sigma_m, gst.alt_sigma_m)
        if all(s is not None and math.isfinite(s) and s > 0.0 for s in sigmas):
            return np.diag(np.square(np.array(sigmas, dtype=float))), CovarianceKind.DIAGONAL_KNOWN
    if hdop is None or hdop <= 0.0:
        return np.zeros((3, 3)), CovarianceKind.UNKNOWN
    uere = UERE_M[fix_type]
    sigma_h = hdop * uere
    sigma_v = (vdop if vdop and vdop > 0.0 else hdop * VERTICAL_TO_HORIZONTAL_DOP) * uere
    return np.diag([sigma_h**2, sigma_h**2, sigma_v**2]), CovarianceKind.APPROXIMATED


def _velocity(epoch: _Epoch) -> tuple[float | None, float | None]:
    rmc, vtg = epoch.records.get('RMC'), epoch.records.get('VTG')
    speed = course = None
    if isinstance(vtg, Vtg) and vtg.mode != 'N':
        speed, course = vtg.speed_mps, vtg.course_deg
    if isinstance(rmc, Rmc) and rmc.valid:
        speed = rmc.speed_mps if speed is None else speed
        course = rmc.course_deg if course is None else course
    return speed, course


def _heading(epoch: _Epoch) -> float | None:
    for kind in ('THS', 'HDT'):
        record = epoch.records.get(kind)
        if isinstance(record, Heading) and record.valid and record.heading_deg is not None:
            return record.heading_deg % 360.0
    return None


def assemble_fix(gga: Gga, epoch: _Epoch, date: tuple[int, int, int] | None) -> GnssFix:
    """One epoch's records → a fix; a GGA without position is a NO_FIX with NaN position."""
    fix_type = gga.fix_type
    if gga.lat_deg is None or gga.lon_deg is None:
        fix_type = FixType.NO_FIX
    gst = epoch.records.get('GST')
    gst = gst if isinstance(gst, Gst) and gst.time_s in (None, gga.time_s) else None
    vdop = next((g.vdop for g in epoch.gsa if g.vdop is not None), None)
    hdop = (
        gga.hdop
        if gga.hdop is not None
        else next((g.hdop for g in epoch.gsa if g.hdop is not None), None)
    )
    cov, kind = covariance(fix_type, gst, hdop, vdop)
    alt_ellipsoidal = gga.alt_msl_m is not None and gga.geoid_sep_m is not None
    alt = math.nan if gga.alt_msl_m is None else gga.alt_msl_m + (gga.geoid_sep_m or 0.0)
    speed, course = _velocity(epoch)
    return GnssFix(
        time_s=gga.time_s,
        date=date,
        fix_type=fix_type,
        lat_deg=math.nan if gga.lat_deg is None else gga.lat_deg,
        lon_deg=math.nan if gga.lon_deg is None else gga.lon_deg,
        alt_m=alt,
        alt_is_ellipsoidal=alt_ellipsoidal,
        covariance_m2=cov,
        covariance_kind=kind,
        num_sats=gga.num_sats,
        hdop=hdop,
        systems=_systems(epoch),
        heading_deg=_heading(epoch),
        speed_mps=speed,
        course_deg=course,
        dgps_age_s=gga.dgps_age_s,
    )

"""Write a GGA sentence from a position: what an NTRIP client uploads to a VRS caster."""

from __future__ import annotations

import math

from vehicle_nodes.gnss.nmea import nmea_checksum
from vehicle_nodes.gnss.records import FixType

# Fix type → GGA quality indicator (the inverse of the parser's table for measured fixes).
FIX_TO_GGA_QUALITY = {
    FixType.NO_FIX: 0,
    FixType.SINGLE: 1,
    FixType.DGNSS: 2,
    FixType.RTK_FIXED: 4,
    FixType.RTK_FLOAT: 5,
    FixType.DEAD_RECKONING: 6,
}


def _angle(value_deg: float, degree_digits: int, letters: str) -> tuple[str, str]:
    hemisphere = letters[0] if value_deg >= 0.0 else letters[1]
    value = abs(value_deg)
    degrees = int(value)
    minutes = round((value - degrees) * 60.0, 7)
    if minutes >= 60.0:
        degrees, minutes = degrees + 1, 0.0
    return f'{degrees:0{degree_digits}d}{minutes:010.7f}', hemisphere


def build_gga(
    *,
    time_s: float,
    lat_deg: float,
    lon_deg: float,
    alt_msl_m: float,
    fix_type: FixType = FixType.SINGLE,
    num_sats: int = 12,
    hdop: float = 1.0,
    geoid_sep_m: float = 0.0,
    talker: str = 'GP',
) -> str:
    """A checksummed GGA line (without CR LF). Time is seconds of the UTC day."""
    if not (math.isfinite(lat_deg) and math.isfinite(lon_deg) and math.isfinite(alt_msl_m)):
        raise ValueError(f'GGA needs a finite position, got {lat_deg}, {lon_deg}, {alt_msl_m}')
    centis = round(time_s * 100.0) % 8_640_000
    hours, rest = divmod(centis, 360_000)
    minutes, centi_secs = divmod(rest, 6000)
    stamp = f'{hours:02d}{minutes:02d}{centi_secs // 100:02d}.{centi_secs % 100:02d}'
    lat, ns = _angle(lat_deg, 2, 'NS')
    lon, ew = _angle(lon_deg, 3, 'EW')
    body = (
        f'{talker}GGA,{stamp},{lat},{ns},{lon},{ew},{FIX_TO_GGA_QUALITY[fix_type]},'
        f'{num_sats:02d},{hdop:.1f},{alt_msl_m:.3f},M,{geoid_sep_m:.3f},M,,'
    )
    return f'${body}*{nmea_checksum(body.encode("ascii")):02X}'

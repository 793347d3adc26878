"""NTRIP source tables: STR (streams), CAS (casters) and NET (networks) records, and choosing
the stream nearest to a position. Field order from the NTRIP 2.0 specification, section 2.3."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from vehicle_nodes.ntrip.errors import SourceTableError

EARTH_RADIUS_M = 6_371_008.8


def _float(value: str, what: str, line_no: int) -> float:
    try:
        result = float(value) if value.strip() else math.nan
    except ValueError:
        raise SourceTableError(
            f'source table line {line_no}: {what} must be a number, got {value!r}'
        ) from None
    return result


@dataclass(frozen=True)
class StreamEntry:
    """An STR record: one mount point."""

    mountpoint: str
    identifier: str
    format: str
    format_details: str
    carrier: int
    nav_system: str
    network: str
    country: str
    lat_deg: float
    lon_deg: float
    nmea_required: bool
    solution: int  # 0 single base, 1 network
    generator: str
    authentication: str  # N none, B basic, D digest
    fee: bool
    bitrate: int
    misc: str = ''


@dataclass(frozen=True)
class CasterEntry:
    host: str
    port: int
    identifier: str
    operator: str
    nmea: bool
    country: str
    lat_deg: float
    lon_deg: float


@dataclass(frozen=True)
class NetworkEntry:
    identifier: str
    operator: str
    authentication: str
    fee: bool


@dataclass
class SourceTable:
    streams: list[StreamEntry] = field(default_factory=list)
    casters: list[CasterEntry] = field(default_factory=list)
    networks: list[NetworkEntry] = field(default_factory=list)
    unknown_lines: int = 0
    short_records: int = 0  # STR records with fewer fields than the specification's 19

    def stream(self, mountpoint: str) -> StreamEntry | None:
        return next((s for s in self.streams if s.mountpoint == mountpoint), None)

    def nearest(
        self, lat_deg: float, lon_deg: float, *, fmt_prefix: str = 'RTCM 3'
    ) -> StreamEntry | None:
        """The STR with a position nearest (great circle) to the point, of RTCM 3 format."""
        best, best_m = None, math.inf
        for entry in self.streams:
            if not entry.format.upper().replace(' ', '').startswith(fmt_prefix.replace(' ', '')):
                continue
            if not (math.isfinite(entry.lat_deg) and math.isfinite(entry.lon_deg)):
                continue
            d = haversine_m(lat_deg, lon_deg, entry.lat_deg, entry.lon_deg)
            if d < best_m:
                best, best_m = entry, d
        return best


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _int(value: str, what: str, line_no: int) -> int:
    value = value.strip()
    if not value:
        return 0
    try:
        return int(value)
    except ValueError:
        raise SourceTableError(
            f'source table line {line_no}: {what} must be an integer, got {value!r}'
        ) from None


def parse_sourcetable(text: str) -> SourceTable:
    """Parse a table body (up to ENDSOURCETABLE); raises SourceTableError on a short record."""
    table = SourceTable()
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith('ENDSOURCETABLE'):
            break
        fields = line.split(';')
        kind = fields[0]
        if kind == 'STR':
            if len(fields) < 2 or not fields[1]:
                raise SourceTableError(f'source table line {line_no}: STR without a mount point')
            if len(fields) < 19:  # RTKLIB's caster writes only STR;mount;format
                table.short_records += 1
                fields = fields + [''] * (19 - len(fields))
            table.streams.append(
                StreamEntry(
                    mountpoint=fields[1],
                    identifier=fields[2],
                    format=fields[3],
                    format_details=fields[4],
                    carrier=_int(fields[5], 'STR carrier', line_no),
                    nav_system=fields[6],
                    network=fields[7],
                    country=fields[8],
                    lat_deg=_float(fields[9], 'STR latitude', line_no),
                    lon_deg=_float(fields[10], 'STR longitude', line_no),
                    nmea_required=fields[11].strip() == '1',
                    solution=_int(fields[12], 'STR solution', line_no),
                    generator=fields[13],
                    authentication=fields[15],
                    fee=fields[16].strip() == 'Y',
                    bitrate=_int(fields[17], 'STR bitrate', line_no),
                    misc=';'.join(fields[18:]),
                )
            )
        elif kind == 'CAS':
            if len(fields) < 9:
                raise SourceTableError(
                    f'source table line {line_no}: CAS needs 9 fields, got {len(fields)}'
                )
            table.casters.append(
                CasterEntry(
                    host=fields[1],
                    port=_int(fields[2], 'CAS port', line_no),
                    identifier=fields[3],
                    operator=fields[4],
                    nmea=fields[5].strip() == '1',
                    country=fields[6],
                    lat_deg=_float(fields[7], 'CAS latitude', line_no),
                    lon_deg=_float(fields[8], 'CAS longitude', line_no),
                )
            )
        elif kind == 'NET':
            if len(fields) < 5:
                raise SourceTableError(
                    f'source table line {line_no}: NET needs 5 fields, got {len(fields)}'
                )
            table.networks.append(
                NetworkEntry(fields[1], fields[2], fields[3], fields[4].strip() == 'Y')
            )
        else:
            table.unknown_lines += 1
    return table

"""NMEA 0183 sentence parsing: checksum, address field, then one handler per sentence kind.

The field layouts (name → index) come from pynmea2's sentence classes, so a new sentence is one
row in ``HANDLERS``; THS, which pynmea2 lacks, brings its own layout. Conversions are strict
(pynmea2 silently returns the raw string when a number does not parse), and every problem is
an expected outcome: a ``Rejection`` with a reason that the caller counts.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pynmea2

from vehicle_nodes.gnss.records import (
    GGA_QUALITY_TO_FIX,
    GSA_SYSTEM_ID,
    TALKER_CONSTELLATION,
    Constellation,
    Gga,
    Gsa,
    Gst,
    Heading,
    Record,
    Rmc,
    Vtg,
    Zda,
)

KNOTS_TO_MPS = 1852.0 / 3600.0
KMPH_TO_MPS = 1.0 / 3.6


class Reason(enum.Enum):
    """Why a line gave no record. ``is_error`` separates bad input from sentences we skip."""

    NOT_NMEA = 'not_nmea'
    MISSING_CHECKSUM = 'missing_checksum'
    BAD_CHECKSUM = 'bad_checksum'
    MALFORMED = 'malformed'
    UNKNOWN_TALKER = 'unknown_talker'
    BAD_FIELD = 'bad_field'
    PROPRIETARY = 'proprietary'
    UNSUPPORTED = 'unsupported'

    @property
    def is_error(self) -> bool:
        return self not in (Reason.PROPRIETARY, Reason.UNSUPPORTED)


@dataclass(frozen=True)
class Rejection:
    """A line that gave no record: the reason (counted) and a detail for the log."""

    reason: Reason
    detail: str


class FieldError(ValueError):
    """A field that does not hold what its sentence says; becomes Reason.BAD_FIELD."""


def nmea_checksum(body: bytes) -> int:
    """XOR of all bytes, folded on Python ints (a few big-int ops instead of a byte loop)."""
    value = int.from_bytes(body, 'little')
    width = len(body)
    while width > 1:
        half = (width + 1) // 2
        value = (value >> (8 * half)) ^ (value & ((1 << (8 * half)) - 1))
        width = half
    return value


class _Fields:
    """The data fields of one sentence, addressed by name through a layout."""

    __slots__ = ('data', 'kind', 'layout', 'talker')

    def __init__(self, talker: str, kind: str, data: list[str], layout: Mapping[str, int]) -> None:
        self.talker = talker
        self.kind = kind
        self.data = data
        self.layout = layout

    def text(self, name: str) -> str:
        index = self.layout[name]
        return self.data[index].strip() if index < len(self.data) else ''

    def number(self, name: str) -> float | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise FieldError(f'{self.kind}.{name}: expected a number, got {raw!r}') from None
        if not math.isfinite(value):
            raise FieldError(f'{self.kind}.{name}: expected a finite number, got {raw!r}')
        return value

    def integer(self, name: str) -> int | None:
        raw = self.text(name)
        if not raw:
            return None
        if not raw.isdigit():
            raise FieldError(f'{self.kind}.{name}: expected an integer, got {raw!r}')
        return int(raw)

    def time_of_day(self, name: str = 'timestamp') -> float | None:
        """hhmmss(.sss) → seconds of the UTC day."""
        raw = self.text(name)
        if not raw:
            return None
        if len(raw) < 6 or not raw[:6].isdigit():
            raise FieldError(f'{self.kind}.{name}: expected hhmmss.ss, got {raw!r}')
        hours, minutes = int(raw[0:2]), int(raw[2:4])
        try:
            seconds = float(raw[4:])
        except ValueError:
            raise FieldError(f'{self.kind}.{name}: expected hhmmss.ss, got {raw!r}') from None
        if hours > 23 or minutes > 59 or not 0.0 <= seconds < 61.0:
            raise FieldError(f'{self.kind}.{name}: time out of range, got {raw!r}')
        return hours * 3600.0 + minutes * 60.0 + seconds

    def angle(self, value_name: str, dir_name: str, degree_digits: int) -> float | None:
        """(d)ddmm.mmmm + hemisphere letter → signed decimal degrees."""
        raw, hemisphere = self.text(value_name), self.text(dir_name)
        if not raw:
            return None
        head, frac = raw[:degree_digits], raw[degree_digits:]
        try:
            degrees, minutes = int(head), float(frac)
        except ValueError:
            raise FieldError(f'{self.kind}.{value_name}: expected ddmm.mm, got {raw!r}') from None
        limit = 90 if degree_digits == 2 else 180
        if not (0.0 <= minutes < 60.0 and degrees + minutes / 60.0 <= limit):
            raise FieldError(f'{self.kind}.{value_name}: out of range, got {raw!r}')
        signs = {'N': 1.0, 'S': -1.0} if degree_digits == 2 else {'E': 1.0, 'W': -1.0}
        if hemisphere not in signs:
            expected = '/'.join(signs)
            raise FieldError(f'{self.kind}.{dir_name}: expected {expected}, got {hemisphere!r}')
        return signs[hemisphere] * (degrees + minutes / 60.0)

    def date(self, name: str) -> tuple[int, int, int] | None:
        raw = self.text(name)
        if not raw:
            return None
        if len(raw) != 6 or not raw.isdigit():
            raise FieldError(f'{self.kind}.{name}: expected ddmmyy, got {raw!r}')
        day, month, yy = int(raw[0:2]), int(raw[2:4]), int(raw[4:6])
        year = 1900 + yy if yy >= 80 else 2000 + yy  # two-digit years pivot at the GPS epoch
        if not (1 <= day <= 31 and 1 <= month <= 12):
            raise FieldError(f'{self.kind}.{name}: date out of range, got {raw!r}')
        return year, month, day


def _gga(f: _Fields) -> Gga:
    quality = f.integer('gps_qual')
    if quality is None or quality not in GGA_QUALITY_TO_FIX:
        raise FieldError(f'GGA.gps_qual: expected 0..9, got {f.text("gps_qual")!r}')
    return Gga(
        talker=f.talker,
        time_s=f.time_of_day(),
        lat_deg=f.angle('lat', 'lat_dir', 2),
        lon_deg=f.angle('lon', 'lon_dir', 3),
        alt_msl_m=f.number('altitude'),
        geoid_sep_m=f.number('geo_sep'),
        quality=quality,
        num_sats=f.integer('num_sats'),
        hdop=f.number('horizontal_dil'),
        dgps_age_s=f.number('age_gps_data'),
    )


def _rmc(f: _Fields) -> Rmc:
    knots = f.number('spd_over_grnd')
    return Rmc(
        talker=f.talker,
        time_s=f.time_of_day(),
        valid=f.text('status') == 'A',
        lat_deg=f.angle('lat', 'lat_dir', 2),
        lon_deg=f.angle('lon', 'lon_dir', 3),
        speed_mps=None if knots is None else knots * KNOTS_TO_MPS,
        course_deg=f.number('true_course'),
        date=f.date('datestamp'),
        mode=f.text('mode_indicator'),
    )


def _gst(f: _Fields) -> Gst:
    return Gst(
        talker=f.talker,
        time_s=f.time_of_day(),
        rms_m=f.number('rms'),
        major_m=f.number('std_dev_major'),
        minor_m=f.number('std_dev_minor'),
        orientation_deg=f.number('orientation'),
        lat_sigma_m=f.number('std_dev_latitude'),
        lon_sigma_m=f.number('std_dev_longitude'),
        alt_sigma_m=f.number('std_dev_altitude'),
    )


def _gsa(f: _Fields) -> Gsa:
    sats = tuple(
        int(raw) for raw in (f.text(f'sv_id{i:02d}') for i in range(1, 13)) if raw.isdigit()
    )
    system = TALKER_CONSTELLATION.get(f.talker, Constellation.NONE)
    if len(f.data) > 17 and f.data[17].strip().isdigit():  # NMEA 4.10 GNSS system ID
        system = GSA_SYSTEM_ID.get(int(f.data[17]), system)
    return Gsa(
        talker=f.talker,
        fix_dim=f.integer('mode_fix_type'),
        satellites=sats,
        pdop=f.number('pdop'),
        hdop=f.number('hdop'),
        vdop=f.number('vdop'),
        system=system,
    )


def _vtg(f: _Fields) -> Vtg:
    kmph, knots = f.number('spd_over_grnd_kmph'), f.number('spd_over_grnd_kts')
    if kmph is not None:
        speed = kmph * KMPH_TO_MPS
    elif knots is not None:
        speed = knots * KNOTS_TO_MPS
    else:
        speed = None
    return Vtg(f.talker, f.number('true_track'), speed, f.text('faa_mode'))


def _hdt(f: _Fields) -> Heading:
    heading = f.number('heading')
    return Heading(f.talker, 'HDT', heading, heading is not None)


def _ths(f: _Fields) -> Heading:
    # THS mode: A autonomous, E estimated (dead reckoning), M manual, S simulator, V invalid.
    heading = f.number('heading')
    mode = f.text('mode_indicator')
    return Heading(f.talker, 'THS', heading, heading is not None and mode in ('A', 'E'))


def _zda(f: _Fields) -> Zda:
    day, month, year = f.integer('day'), f.integer('month'), f.integer('year')
    date = None if None in (day, month, year) else (int(year), int(month), int(day))  # type: ignore[arg-type]
    return Zda(f.talker, f.time_of_day(), date)


def _pynmea2_layout(kind: str) -> Mapping[str, int]:
    return pynmea2.TalkerSentence.sentence_types[kind].name_to_idx


# Sentence kind → (field layout, handler). Adding a sentence = adding a row.
HANDLERS: dict[str, tuple[Mapping[str, int], Callable[[_Fields], Record]]] = {
    'GGA': (_pynmea2_layout('GGA'), _gga),
    'RMC': (_pynmea2_layout('RMC'), _rmc),
    'GST': (_pynmea2_layout('GST'), _gst),
    'GSA': (_pynmea2_layout('GSA'), _gsa),
    'VTG': (_pynmea2_layout('VTG'), _vtg),
    'HDT': (_pynmea2_layout('HDT'), _hdt),
    'THS': ({'heading': 0, 'mode_indicator': 1}, _ths),
    'ZDA': (_pynmea2_layout('ZDA'), _zda),
}

_HEX = frozenset('0123456789ABCDEFabcdef')

# Every decodable address (talker + kind) → its handler, so the hot path is one dict lookup.
_DISPATCH = {
    talker + kind: entry for talker in TALKER_CONSTELLATION for kind, entry in HANDLERS.items()
}
_SKIPPED: dict[str, Rejection] = {}  # cached outcomes for addresses we skip (bounded below)


def _address_rejection(address: str) -> Rejection:
    cached = _SKIPPED.get(address)
    if cached is not None:
        return cached
    if address.startswith('P'):
        outcome = Rejection(Reason.PROPRIETARY, f'proprietary sentence {address}')
    elif len(address) != 5 or not address.isalnum() or not address.isupper():
        return Rejection(Reason.MALFORMED, f'address field must be TTSSS, got {address!r}')
    elif address[:2] not in TALKER_CONSTELLATION:
        return Rejection(Reason.UNKNOWN_TALKER, f'talker {address[:2]!r} in {address}')
    else:
        outcome = Rejection(Reason.UNSUPPORTED, f'{address} is not decoded')
    if len(_SKIPPED) < 1024:
        _SKIPPED[address] = outcome
    return outcome


def parse_sentence(line: str, *, require_checksum: bool = True) -> Record | Rejection:
    """Parse one line (``$TTSSS,...*hh``, no line ending) into a record or a Rejection."""
    if not line.startswith('$'):
        return Rejection(Reason.NOT_NMEA, f'expected a line starting with $, got {line[:16]!r}')
    star = line.rfind('*')
    if star < 0:
        if require_checksum:
            return Rejection(Reason.MISSING_CHECKSUM, f'no *hh checksum in {line[:24]!r}')
        body = line[1:]
    else:
        body = line[1:star]
        given = line[star + 1 :].strip()
        if len(given) != 2 or not set(given) <= _HEX:
            return Rejection(Reason.MALFORMED, f'checksum must be 2 hex digits, got {given!r}')
        try:
            computed = nmea_checksum(body.encode('ascii'))
        except UnicodeEncodeError:
            return Rejection(Reason.MALFORMED, f'non-ASCII characters in {line[:24]!r}')
        if computed != int(given, 16):
            return Rejection(
                Reason.BAD_CHECKSUM, f'{body[:5]}: checksum {given}, computed {computed:02X}'
            )
    fields = body.split(',')
    address = fields[0]
    entry = _DISPATCH.get(address)
    if entry is None:
        return _address_rejection(address)
    layout, handler = entry
    try:
        return handler(_Fields(address[:2], address[2:], fields[1:], layout))
    except FieldError as err:
        return Rejection(Reason.BAD_FIELD, f'{address}: {err}')

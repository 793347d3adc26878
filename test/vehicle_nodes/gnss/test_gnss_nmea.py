"""NMEA parsing: sentences written here per talker and kind, malformed ones, and fuzzing."""

import functools
import math
import operator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vehicle_nodes.gnss.gga_writer import build_gga
from vehicle_nodes.gnss.nmea import Reason, Rejection, nmea_checksum, parse_sentence
from vehicle_nodes.gnss.records import FixType, Gga, Gsa, Gst, Heading, Rmc, Vtg

TALKERS = ['GP', 'GL', 'GA', 'BD', 'GB', 'GN']


def sentence(body: str) -> str:
    """Checksum computed the plain way, independent of the parser's folded XOR."""
    checksum = functools.reduce(operator.xor, body.encode('ascii'), 0)
    return f'${body}*{checksum:02X}'


@given(st.binary(max_size=300))
def test_folded_checksum_equals_plain_xor(body):
    assert nmea_checksum(body) == functools.reduce(operator.xor, body, 0)


@pytest.mark.parametrize('talker', TALKERS)
@pytest.mark.parametrize(
    ('quality', 'fix_type'),
    [
        (0, FixType.NO_FIX),
        (1, FixType.SINGLE),
        (2, FixType.DGNSS),
        (4, FixType.RTK_FIXED),
        (5, FixType.RTK_FLOAT),
        (6, FixType.DEAD_RECKONING),
        (9, FixType.DGNSS),
    ],
)
def test_gga_per_talker_and_quality(talker, quality, fix_type):
    line = sentence(
        f'{talker}GGA,092750.25,3954.1234567,N,11623.7654321,E,{quality},17,0.7,48.250,M,'
        '-9.100,M,1.2,0123'
    )
    record = parse_sentence(line)
    assert isinstance(record, Gga)
    assert record.talker == talker
    assert record.time_s == pytest.approx(9 * 3600 + 27 * 60 + 50.25)
    assert record.lat_deg == pytest.approx(39 + 54.1234567 / 60, abs=1e-12)
    assert record.lon_deg == pytest.approx(116 + 23.7654321 / 60, abs=1e-12)
    assert record.alt_msl_m == 48.25 and record.geoid_sep_m == -9.1
    assert record.fix_type is fix_type
    assert (record.num_sats, record.hdop, record.dgps_age_s) == (17, 0.7, 1.2)


def test_gga_southern_western_hemispheres():
    record = parse_sentence(sentence('GNGGA,000000,3330.0,S,07040.5,W,1,08,1.0,10.0,M,,M,,'))
    assert isinstance(record, Gga)
    assert record.lat_deg == pytest.approx(-33.5) and record.lon_deg == pytest.approx(-70.675)
    assert record.geoid_sep_m is None


@pytest.mark.parametrize('talker', TALKERS)
def test_rmc(talker):
    record = parse_sentence(
        sentence(f'{talker}RMC,123519.00,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W,D')
    )
    assert isinstance(record, Rmc)
    assert record.valid and record.date == (1994, 3, 23) and record.mode == 'D'
    assert record.speed_mps == pytest.approx(22.4 * 1852 / 3600)
    assert record.course_deg == 84.4


def test_rmc_void_status():
    record = parse_sentence(sentence('GPRMC,123519,V,,,,,,,230394,,,N'))
    assert isinstance(record, Rmc) and not record.valid and record.lat_deg is None


@pytest.mark.parametrize('talker', TALKERS)
def test_gst(talker):
    record = parse_sentence(
        sentence(f'{talker}GST,172814.0,0.006,0.023,0.020,273.6,0.023,0.020,0.031')
    )
    assert isinstance(record, Gst)
    assert (record.lat_sigma_m, record.lon_sigma_m, record.alt_sigma_m) == (0.023, 0.020, 0.031)
    assert record.orientation_deg == 273.6 and record.rms_m == 0.006


@pytest.mark.parametrize(
    ('talker', 'system_field', 'expected'),
    [
        ('GP', '', 'GPS'),
        ('GL', '', 'GLONASS'),
        ('GA', '', 'GALILEO'),
        ('BD', '', 'BEIDOU'),
        ('GB', '', 'BEIDOU'),
        ('GN', ',4', 'BEIDOU'),
        ('GN', ',2', 'GLONASS'),
    ],
)
def test_gsa_systems(talker, system_field, expected):
    record = parse_sentence(
        sentence(f'{talker}GSA,A,3,05,12,25,,,,,,,,,,1.7,0.8,1.6{system_field}')
    )
    assert isinstance(record, Gsa)
    assert record.system.name == expected
    assert record.satellites == (5, 12, 25) and record.fix_dim == 3
    assert (record.pdop, record.hdop, record.vdop) == (1.7, 0.8, 1.6)


def test_vtg_prefers_kmph_and_falls_back_to_knots():
    record = parse_sentence(sentence('GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A'))
    assert isinstance(record, Vtg)
    assert record.speed_mps == pytest.approx(10.2 / 3.6) and record.course_deg == 54.7
    record = parse_sentence(sentence('GNVTG,054.7,T,,M,005.5,N,,K,A'))
    assert record.speed_mps == pytest.approx(5.5 * 1852 / 3600)


@pytest.mark.parametrize('talker', TALKERS)
def test_hdt_and_ths(talker):
    hdt = parse_sentence(sentence(f'{talker}HDT,274.07,T'))
    assert isinstance(hdt, Heading) and hdt.heading_deg == 274.07 and hdt.valid
    ths = parse_sentence(sentence(f'{talker}THS,77.52,A'))
    assert isinstance(ths, Heading) and ths.kind == 'THS' and ths.valid
    invalid = parse_sentence(sentence(f'{talker}THS,77.52,V'))
    assert isinstance(invalid, Heading) and not invalid.valid
    empty = parse_sentence(sentence(f'{talker}HDT,,T'))
    assert isinstance(empty, Heading) and not empty.valid


MALFORMED = [
    ('GPGGA,1,2,3', Reason.NOT_NMEA),
    ('$GPGGA,092750,3954.12,N,11623.76,E,1,08,1.0,10,M,,M,,', Reason.MISSING_CHECKSUM),
    ('$GPGGA,092750,3954.12,N,11623.76,E,1,08,1.0,10,M,,M,,*00', Reason.BAD_CHECKSUM),
    ('$GPGGA,092750*XZ', Reason.MALFORMED),
    ('$GPGGA,092750*123', Reason.MALFORMED),
    (sentence('GYOACC,1,2,3'), Reason.MALFORMED),
    (sentence('gpgga,1'), Reason.MALFORMED),
    (sentence('XXGGA,092750,,,,,0,,,,,,,,'), Reason.UNKNOWN_TALKER),
    (sentence('PSTI,030,1,2'), Reason.PROPRIETARY),
    (sentence('GPGSV,3,1,12,05,06,110,19'), Reason.UNSUPPORTED),
    (sentence('GPGGA,092750,3954.12,N,11623.76,E,X,08,1.0,10,M,,M,,'), Reason.BAD_FIELD),
    (sentence('GPGGA,092750,3954.12,N,11623.76,E,,08,1.0,10,M,,M,,'), Reason.BAD_FIELD),
    (sentence('GPGGA,092750,9954.12,N,11623.76,E,1,08,1.0,10,M,,M,,'), Reason.BAD_FIELD),
    (sentence('GPGGA,092750,3954.12,E,11623.76,E,1,08,1.0,10,M,,M,,'), Reason.BAD_FIELD),
    (sentence('GPGGA,092750,3954.12,N,11623.76,E,1,08,1.0,nan,M,,M,,'), Reason.BAD_FIELD),
    (sentence('GPGGA,252750,3954.12,N,11623.76,E,1,08,1.0,10,M,,M,,'), Reason.BAD_FIELD),
    (sentence('GPGGA,0927,3954.12,N,11623.76,E,1,08,1.0,10,M,,M,,'), Reason.BAD_FIELD),
    (sentence('GPRMC,123519,A,4807.038,N,01131.000,E,1.0,2.0,231394,,,A'), Reason.BAD_FIELD),
    (sentence('GPHDT,abc,T'), Reason.BAD_FIELD),
]


@pytest.mark.parametrize(('line', 'reason'), MALFORMED)
def test_malformed_sentences_are_rejected_with_a_reason(line, reason):
    outcome = parse_sentence(line)
    assert isinstance(outcome, Rejection)
    assert outcome.reason is reason
    assert outcome.detail


def test_bad_checksum_detail_names_both_values():
    outcome = parse_sentence('$GPHDT,274.07,T*04')
    assert isinstance(outcome, Rejection)
    assert 'checksum 04, computed 03' in outcome.detail


def test_missing_checksum_accepted_when_not_required():
    record = parse_sentence('$GPHDT,274.07,T', require_checksum=False)
    assert isinstance(record, Heading) and record.heading_deg == 274.07


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-89.9999, 89.9999),
    st.floats(-179.9999, 179.9999),
    st.floats(-400.0, 8000.0),
    st.floats(0.0, 86399.0),
    st.sampled_from(sorted(FixType, key=int)),
)
def test_gga_writer_round_trip(lat, lon, alt, time_s, fix_type):
    line = build_gga(time_s=time_s, lat_deg=lat, lon_deg=lon, alt_msl_m=alt, fix_type=fix_type)
    record = parse_sentence(line)
    assert isinstance(record, Gga)
    assert record.lat_deg == pytest.approx(lat, abs=1e-8)
    assert record.lon_deg == pytest.approx(lon, abs=1e-8)
    assert record.alt_msl_m == pytest.approx(alt, abs=1e-3)
    assert record.fix_type is fix_type
    assert math.remainder(record.time_s - time_s, 86400.0) == pytest.approx(0.0, abs=0.006)


def test_gga_writer_refuses_nan():
    with pytest.raises(ValueError, match='finite position'):
        build_gga(time_s=0.0, lat_deg=math.nan, lon_deg=0.0, alt_msl_m=0.0)


VALID = [
    sentence('GNGGA,092750.25,3954.1234567,N,11623.7654321,E,4,17,0.7,48.250,M,-9.100,M,1.2,0123'),
    sentence('GNRMC,123519.00,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W,D'),
    sentence('GPGST,172814.0,0.006,0.023,0.020,273.6,0.023,0.020,0.031'),
    sentence('GNGSA,A,3,05,12,25,,,,,,,,,,1.7,0.8,1.6,4'),
    sentence('GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A'),
    sentence('GNTHS,77.52,A'),
]


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(VALID), st.data())
def test_fuzz_mutated_sentences_never_raise(line, data):
    raw = bytearray(line.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(['flip', 'insert', 'delete']))
        pos = data.draw(st.integers(0, len(raw) - 1))
        if op == 'flip':
            raw[pos] = data.draw(st.integers(0, 255))
        elif op == 'insert':
            raw.insert(pos, data.draw(st.integers(0, 255)))
        elif len(raw) > 1:
            del raw[pos]
    outcome = parse_sentence(raw.decode('ascii', errors='replace'))
    assert outcome is not None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_fuzz_random_text_never_raises(text):
    outcome = parse_sentence('$' + text)
    assert outcome is not None

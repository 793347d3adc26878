"""Real receivers' logs against gpsd's own decoding of them (gpsd_expected/*.chk).

A .chk file interleaves each NMEA line with the JSON reports gpsd produced after reading it.
We decode the same lines and compare fixes, fix types, heights, GST sigmas, headings and
speeds; the odd lines (proprietary, invalid talkers, gpsd JSON, comments) must be counted.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from vehicle_nodes.gnss.nmea import Rejection, parse_sentence
from vehicle_nodes.gnss.records import CovarianceKind, FixType, Gga, Gst, Heading, Rmc
from vehicle_nodes.gnss.stream import NmeaStream

LOGS = [
    'beidou-bd.log',
    'hemi.log',
    'polarx2.log',
    'skytraq-PX1172RH_DS.log',
    'skytraq-dgps.log',
    'ublox-zed-f9p-nmea.log',
    'unicore-um621.log',
]

# gpsd TPV "status" (absent = 1, plain GPS fix) for each of our fix types.
GPSD_STATUS = {
    FixType.SINGLE: 1,
    FixType.DGNSS: 2,
    FixType.RTK_FIXED: 3,
    FixType.RTK_FLOAT: 4,
    FixType.DEAD_RECKONING: 5,
}


@dataclass
class Step:
    """One NMEA line of the .chk and the gpsd reports that followed it."""

    line: str
    reports: list[dict] = field(default_factory=list)


def read_chk(path: Path) -> list[Step]:
    steps: list[Step] = []
    for raw in path.read_text(errors='replace').splitlines():
        if raw.startswith('{') and steps:
            steps[-1].reports.append(json.loads(raw))
        elif raw.startswith('$'):
            steps.append(Step(raw.strip()))
    return steps


def next_report(steps: list[Step], start: int, cls: str, stop_kind: str) -> dict | None:
    """The first report of class ``cls`` after line ``start``, before the next ``stop_kind``."""
    for i in range(start, len(steps)):
        if i > start and steps[i].line[3:6] == stop_kind:
            return None
        for report in steps[i].reports:
            if report.get('class') == cls:
                return report
    return None


@pytest.mark.parametrize('log', LOGS)
def test_gga_fixes_agree_with_gpsd(nmea_dir, log):
    steps = read_chk(nmea_dir / 'gpsd_expected' / f'{log}.chk')
    compared = no_fix = 0
    for i, step in enumerate(steps):
        record = parse_sentence(step.line)
        if not isinstance(record, Gga):
            continue
        tpv = next_report(steps, i, 'TPV', 'GGA')
        if tpv is None:
            continue
        if record.fix_type is FixType.NO_FIX or record.lat_deg is None:
            assert tpv.get('mode', 0) <= 1, step.line
            no_fix += 1
            continue
        assert tpv['mode'] >= 2, step.line
        assert tpv.get('status', 1) == GPSD_STATUS[record.fix_type], step.line
        assert record.lat_deg == pytest.approx(tpv['lat'], abs=1e-9)
        assert record.lon_deg == pytest.approx(tpv['lon'], abs=1e-9)
        if record.alt_msl_m is not None and record.geoid_sep_m is not None:
            assert record.alt_msl_m + record.geoid_sep_m == pytest.approx(tpv['altHAE'], abs=1e-3)
        compared += 1
    assert compared + no_fix > 0, f'{log}: no GGA compared'


@pytest.mark.parametrize('log', ['polarx2.log', 'skytraq-dgps.log', 'ublox-zed-f9p-nmea.log'])
def test_gst_sigmas_agree_with_gpsd(nmea_dir, log):
    steps = read_chk(nmea_dir / 'gpsd_expected' / f'{log}.chk')
    compared = 0
    for i, step in enumerate(steps):
        record = parse_sentence(step.line)
        if not isinstance(record, Gst):
            continue
        report = next_report(steps, i, 'GST', 'GST')
        assert report is not None, step.line
        for ours, key in (
            (record.lat_sigma_m, 'lat'),
            (record.lon_sigma_m, 'lon'),
            (record.alt_sigma_m, 'alt'),
            (record.major_m, 'major'),
            (record.minor_m, 'minor'),
            (record.orientation_deg, 'orient'),
            (record.rms_m, 'rms'),
        ):
            if key not in report:
                continue
            assert ours == pytest.approx(report[key], abs=1e-3), (step.line, key)
        compared += 1
    assert compared >= 5


@pytest.mark.parametrize('log', ['hemi.log', 'skytraq-PX1172RH_DS.log'])
def test_headings_agree_with_gpsd(nmea_dir, log):
    steps = read_chk(nmea_dir / 'gpsd_expected' / f'{log}.chk')
    compared = 0
    for i, step in enumerate(steps):
        record = parse_sentence(step.line)
        if not isinstance(record, Heading) or not record.valid:
            continue
        att = next_report(steps, i, 'ATT', record.kind)
        if att is None:
            continue
        assert record.heading_deg == pytest.approx(att['heading'], abs=1e-3), step.line
        compared += 1
    assert compared >= 4


@pytest.mark.parametrize('log', LOGS)
def test_rmc_speed_and_track_agree_with_gpsd(nmea_dir, log):
    steps = read_chk(nmea_dir / 'gpsd_expected' / f'{log}.chk')
    for i, step in enumerate(steps):
        record = parse_sentence(step.line)
        if not isinstance(record, Rmc) or not record.valid:
            continue
        tpv = next((r for r in steps[i].reports if r.get('class') == 'TPV'), None)
        if tpv is None or 'speed' not in tpv:
            continue
        assert record.speed_mps == pytest.approx(tpv['speed'], abs=1e-3), step.line
        if record.course_deg is not None and 'track' in tpv:
            assert record.course_deg == pytest.approx(tpv['track'], abs=1e-3), step.line


def gpsd_gst_by_time(steps: list[Step]) -> dict[str, tuple[float, float, float]]:
    found = {}
    for step in steps:
        for r in step.reports:
            if r.get('class') == 'GST' and 'time' in r:
                found[r['time'][11:23]] = (r['lon'], r['lat'], r['alt'])
    return found


@pytest.mark.parametrize('log', LOGS)
def test_whole_logs_assemble_into_fixes_that_match_gpsd(nmea_dir, log):
    """The raw log (headers, JSON, odd lines included) through the stream, in odd chunks."""
    data = (nmea_dir / log).read_bytes()
    stream = NmeaStream()
    fixes = []
    for start in range(0, len(data), 77):
        fixes += stream.feed(data[start : start + 77])
    fixes += stream.flush()
    stats = stream.stats()
    assert stats['sentence_GGA'] == len(fixes) == stats['fixes']
    odd = sum(v for k, v in stats.items() if k.startswith(('rejected_', 'skipped_')))
    odd += stats['not_nmea_lines']
    assert odd > 0  # every real log here has lines we do not decode; they are counted

    steps = read_chk(nmea_dir / 'gpsd_expected' / f'{log}.chk')
    gga_steps = [
        (i, r) for i, s in enumerate(steps) if isinstance(r := parse_sentence(s.line), Gga)
    ]
    assert len(gga_steps) == len(fixes)
    gst = gpsd_gst_by_time(steps)
    gst_compared = 0
    for fix, (_, gga) in zip(fixes, gga_steps, strict=True):
        assert fix.fix_type is gga.fix_type or fix.fix_type is FixType.NO_FIX
        if fix.fix_type is FixType.NO_FIX:
            assert fix.covariance_kind is CovarianceKind.UNKNOWN
            continue
        assert fix.lat_deg == gga.lat_deg and fix.lon_deg == gga.lon_deg
        sigmas = np.sqrt(np.diag(fix.covariance_m2))
        if fix.covariance_kind is CovarianceKind.DIAGONAL_KNOWN:
            hh, rest = divmod(fix.time_s, 3600)
            mm, ss = divmod(rest, 60)
            key = f'{int(hh):02d}:{int(mm):02d}:{ss:06.3f}'
            if key in gst:  # gpsd leaves the time out of a GST before it knows the date
                assert sigmas == pytest.approx(gst[key], abs=1e-3)
                gst_compared += 1
        else:
            assert fix.covariance_kind is CovarianceKind.APPROXIMATED
            assert np.all(sigmas > 0.0) and math.isfinite(sigmas.sum())
    if stats['sentence_GST']:
        assert gst_compared > 0


def test_headings_reach_the_fix(nmea_dir):
    stream = NmeaStream()
    fixes = stream.feed((nmea_dir / 'skytraq-PX1172RH_DS.log').read_bytes()) + stream.flush()
    headings = {f.heading_deg for f in fixes}
    assert 244.28 in headings
    assert all(f.fix_type is FixType.RTK_FLOAT for f in fixes)


def test_odd_lines_are_counted_by_reason(nmea_dir):
    stream = NmeaStream()
    stream.feed((nmea_dir / 'unicore-um621.log').read_bytes())
    stream.flush()
    stats = stream.stats()
    assert stats['rejected_malformed'] >= 200  # $GYOACC / $SNRSTAT: invalid address fields
    assert stats['skipped_unsupported'] > 0  # GSV, TXT
    assert isinstance(stream.last_rejection, Rejection)

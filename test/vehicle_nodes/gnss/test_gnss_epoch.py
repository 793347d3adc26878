"""Epoch assembly and the byte stream: properties over generated receiver output, and fuzzing."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vehicle_nodes.gnss.epoch import UERE_M, covariance
from vehicle_nodes.gnss.gga_writer import build_gga
from vehicle_nodes.gnss.records import CovarianceKind, FixType
from vehicle_nodes.gnss.stream import NmeaStream


def sentence(body):
    checksum = 0
    for byte in body.encode():
        checksum ^= byte
    return f'${body}*{checksum:02X}'


def stamp(t):
    h, rest = divmod(t, 3600)
    m, s = divmod(rest, 60)
    return f'{int(h):02d}{int(m):02d}{s:05.2f}'


epoch_strategy = st.fixed_dictionaries(
    {
        'fix_type': st.sampled_from(
            [FixType.SINGLE, FixType.DGNSS, FixType.RTK_FLOAT, FixType.RTK_FIXED]
        ),
        'gst': st.one_of(st.none(), st.tuples(*[st.floats(0.005, 50.0)] * 3)),
        'heading': st.one_of(st.none(), st.floats(0.0, 359.99)),
        'rmc': st.booleans(),
        'order': st.permutations(['GGA', 'GST', 'HDT', 'RMC']),
    }
)


@settings(max_examples=100, deadline=None)
@given(st.lists(epoch_strategy, min_size=1, max_size=8), st.integers(1, 97))
def test_one_fix_per_epoch_whatever_the_sentence_order(epochs, chunk):
    lines = []
    for i, e in enumerate(epochs):
        t = 1000.0 + i
        parts = {
            'GGA': build_gga(
                time_s=t,
                lat_deg=30.0 + i * 1e-5,
                lon_deg=120.0,
                alt_msl_m=10.0,
                fix_type=e['fix_type'],
                hdop=0.9,
            ),
            'GST': sentence(
                f'GNGST,{stamp(t)},0.1,0.2,0.1,0.0,{e["gst"][0]:.3f},'
                f'{e["gst"][1]:.3f},{e["gst"][2]:.3f}'
            )
            if e['gst']
            else None,
            'HDT': sentence(f'GNHDT,{e["heading"]:.2f},T') if e['heading'] is not None else None,
            'RMC': sentence(f'GNRMC,{stamp(t)},A,3000.0000,N,12000.0000,E,1.0,45.0,251126,,,A')
            if e['rmc']
            else None,
        }
        lines += [parts[k] for k in e['order'] if parts[k] is not None]
    data = ('\r\n'.join(lines) + '\r\n').encode()
    stream = NmeaStream()
    fixes = []
    for start in range(0, len(data), chunk):
        fixes += stream.feed(data[start : start + chunk])
    fixes += stream.flush()
    assert len(fixes) == len(epochs)
    for fix, e in zip(fixes, epochs, strict=True):
        assert fix.fix_type is e['fix_type']
        if e['gst']:
            lat_s, lon_s, alt_s = (round(v, 3) for v in e['gst'])
            assert fix.covariance_kind is CovarianceKind.DIAGONAL_KNOWN
            assert np.allclose(np.diag(fix.covariance_m2), [lon_s**2, lat_s**2, alt_s**2])
        else:
            assert fix.covariance_kind is CovarianceKind.APPROXIMATED
        if e['heading'] is not None and e['order'].index('HDT') > e['order'].index('GGA'):
            assert fix.heading_deg == pytest.approx(round(e['heading'], 2) % 360.0)
        if e['rmc']:
            assert fix.speed_mps == pytest.approx(1852 / 3600) and fix.course_deg == 45.0


@pytest.mark.parametrize('fix_type', [f for f in FixType if f is not FixType.NO_FIX])
def test_dop_fallback_scales_with_uere(fix_type):
    cov, kind = covariance(fix_type, None, 1.5, 2.0)
    assert kind is CovarianceKind.APPROXIMATED
    assert np.allclose(
        np.sqrt(np.diag(cov)), [1.5 * UERE_M[fix_type]] * 2 + [2.0 * UERE_M[fix_type]]
    )
    cov, kind = covariance(fix_type, None, None, None)
    assert kind is CovarianceKind.UNKNOWN and not cov.any()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.integers(1, 300))
def test_fuzz_random_bytes_through_the_stream(data, chunk):
    stream = NmeaStream()
    fixes = []
    for start in range(0, len(data), chunk):
        fixes += stream.feed(data[start : start + chunk])
    fixes += stream.flush()
    assert all(math.isnan(f.lat_deg) or abs(f.lat_deg) <= 90.0 for f in fixes)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                sentence('GNGGA,000001.00,3000.0,N,12000.0,E,4,20,0.6,10.0,M,1.0,M,1.0,0001'),
                sentence('GNGST,000001.00,0.1,0.02,0.01,0.0,0.012,0.011,0.03'),
                sentence('GNTHS,12.5,A'),
                '$GNGGA,garbage*00',
                '\x00\xff\xfe',
                '$PUBX,00,1,2*00',
                'x' * 600,
            ]
        ),
        max_size=40,
    )
)
def test_fuzz_mixed_good_and_bad_lines_never_raise_and_are_counted(lines):
    data = ('\r\n'.join(lines) + '\r\n').encode('latin-1')
    stream = NmeaStream()
    stream.feed(data)
    stream.flush()
    stats = stream.stats()
    good = sum(v for k, v in stats.items() if k.startswith('sentence_'))
    bad = sum(v for k, v in stats.items() if k.startswith(('rejected_', 'skipped_')))
    assert good + bad == stats['lines']  # every line handed to the parser is counted once

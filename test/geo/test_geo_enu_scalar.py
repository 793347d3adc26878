"""LocalFrame.enu_of (plain float arithmetic) against the PROJ pipeline it stands in for."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import LocalFrame
from geo.datums import Datum

FRAMES = [LocalFrame(31.2, 121.5, 4.0), LocalFrame(-33.9, 151.2, 50.0, Datum.CGCS2000)]


@settings(max_examples=300, deadline=None)
@given(
    index=st.sampled_from([0, 1]),
    dlat=st.floats(-0.5, 0.5),
    dlon=st.floats(-0.5, 0.5),
    h=st.floats(-400.0, 9000.0),
)
def test_enu_of_matches_the_proj_pipeline(index: int, dlat: float, dlon: float, h: float) -> None:
    frame = FRAMES[index]
    lat, lon = frame.lat0_deg + dlat, frame.lon0_deg + dlon
    expected = frame.to_enu(lat, lon, h)
    got = frame.enu_of(lat, lon, h)
    for g, e in zip(got, expected, strict=True):
        assert g == pytest.approx(float(e), abs=1e-6)  # PROJ and this agree to ~2e-9 m


def test_enu_of_origin_is_zero_and_nan_propagates() -> None:
    frame = FRAMES[0]
    assert frame.enu_of(31.2, 121.5, 4.0) == pytest.approx((0.0, 0.0, 0.0), abs=1e-6)
    assert all(math.isnan(v) for v in frame.enu_of(math.nan, 121.5, 0.0))

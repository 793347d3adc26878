"""LocalFrame's scalar forms (the per-message path of the V2X codec) agree with the array
forms and invert each other."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from geo import LocalFrame

FRAME = LocalFrame(31.2, 121.5, 4.0)


@settings(max_examples=200, deadline=None)
@given(st.floats(-5000, 5000), st.floats(-5000, 5000), st.floats(-50, 200))
def test_scalar_forms_match_the_array_forms_and_round_trip(east, north, up) -> None:
    lat, lon, h = FRAME.geodetic_of(east, north, up)
    assert all(isinstance(v, float) for v in (lat, lon, h))
    a_lat, a_lon, a_h = FRAME.to_geodetic(east, north, up)
    assert (lat, lon, h) == (float(a_lat), float(a_lon), float(a_h))
    e, n, u = FRAME.enu_of(lat, lon, h)
    assert math.isclose(e, east, abs_tol=1e-6) and math.isclose(n, north, abs_tol=1e-6)
    assert math.isclose(u, up, abs_tol=1e-6)


def test_nan_in_nan_out() -> None:
    assert all(math.isnan(v) for v in FRAME.enu_of(math.nan, 121.5, 0.0))

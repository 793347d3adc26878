"""The probe's truth interpolation equals ``np.interp`` (it replaces it on the hot path)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim_nodes.report.probe import _interp

finite = st.floats(-1e4, 1e4, allow_nan=False)


@given(
    st.lists(st.tuples(st.floats(0, 100), finite, finite), min_size=1, max_size=50),
    st.floats(-1, 101),
    st.booleans(),
)
def test_interp_equals_numpy(samples, t, on_sample):
    hist = sorted(samples, key=lambda h: h[0])
    if on_sample:
        t = hist[len(hist) // 2][0]  # exactly on a sample (and on duplicated stamps)
    ts = [h[0] for h in hist]
    expected = (
        float(np.interp(t, ts, [h[1] for h in hist])),
        float(np.interp(t, ts, [h[2] for h in hist])),
    )
    assert _interp(t, hist) == expected

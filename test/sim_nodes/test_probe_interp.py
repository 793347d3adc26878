"""The probe's truth interpolation equals ``np.interp`` (it replaces it on the hot path)."""

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sim_nodes.report.probe import _interp

finite = st.floats(-1e4, 1e4, allow_nan=False)


@given(
    st.lists(st.tuples(st.floats(0, 100), finite, finite), min_size=1, max_size=50),
    st.floats(-1, 101),
    st.booleans(),
)
@example([(0.0, 0.0, 0.0), (5e-324, 0.0, 1.0)], 0.0, False)  # slope inf: numpy keeps the sample
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


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(finite, finite, st.floats(-1e-3, 1e-3), st.floats(-1e-3, 1e-3)), max_size=30)
)
def test_fix_errors_made_in_one_call_equal_one_call_per_fix(fixes):
    """The probe keeps each fix with its truth and converts them together when read: the
    errors are those of converting each fix on its own, in arrival order."""
    from geo.local_frame import LocalFrame
    from sim_nodes.report.probe import Probe
    from v2x_runtime import messages as m

    frame = LocalFrame(31.2837, 121.1638, 0.0)
    probe = Probe({'car'}, set(), frame)
    probe.truth['car'] = [(0.0, 0.0, 0.0), (1.0, 0.0, 0.0)]
    expected = []
    for k, (tx, ty, dlat, dlon) in enumerate(fixes):
        probe.truth['car'].append((2.0 + k, tx, ty))
        lat, lon = 31.2837 + dlat, 121.1638 + dlon
        fix = m.new(
            'sensor_msgs/msg/NavSatFix',
            header=m.header(round((2.0 + k) * 1e9), 'gnss'),
            latitude=lat,
            longitude=lon,
            altitude=1.0,
        )
        probe.on_fix('car', fix)
        e, n, _ = frame.to_enu(lat, lon, 1.0)
        expected.append(float(np.hypot(float(e) - tx, float(n) - ty)))
        if k == len(fixes) // 2:  # read half-way: later fixes are added to the same list
            assert probe.gnss_errors_m == expected
    assert probe.gnss_errors_m == expected

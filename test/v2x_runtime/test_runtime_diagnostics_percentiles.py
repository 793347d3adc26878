"""The diagnostics' p50/p99 are numpy's linear percentiles, bit for bit, at a fraction of the
cost (the bag's diagnostics and the determinism of runs depend on the same floats)."""

from __future__ import annotations

import logging

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from v2x_runtime.diagnostics import _QUANTILES, Diagnostics, ThrottledLogger, _linear_quantile

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=400, deadline=None)
@given(st.lists(finite, min_size=1, max_size=1200))
def test_linear_quantile_is_numpys_percentile_to_the_bit(values):
    data = np.array(values, dtype=float)
    expected = np.percentile(data, [50, 99])
    ordered = np.sort(data)
    got = [_linear_quantile(ordered, q) for q in _QUANTILES]
    assert np.array_equal(got, expected, equal_nan=True)


def test_non_finite_samples_fall_back_to_numpy():
    diag = Diagnostics('/x', ThrottledLogger(logging.getLogger('t'), lambda: 0))
    for v in (1.0, float('nan'), 3.0):
        diag.observe('a', v)
    for v in (1.0, float('inf'), 2.0, 5.0):
        diag.observe('b', v)
    pairs = dict(diag.key_values())
    assert pairs['a.p50'] == f'{np.percentile([1.0, np.nan, 3.0], 50):.6g}' == 'nan'
    assert pairs['b.p50'] == f'{np.percentile([1.0, np.inf, 2.0, 5.0], 50):.6g}' == '3.5'
    assert pairs['b.p99'] == f'{np.percentile([1.0, np.inf, 2.0, 5.0], 99):.6g}'


def test_windows_of_latencies_give_the_same_text_as_before():
    rng = np.random.default_rng(5)
    diag = Diagnostics('/x', ThrottledLogger(logging.getLogger('t'), lambda: 0))
    samples = rng.lognormal(-4.0, 0.5, 1500)
    for v in samples:
        diag.observe('latency_s', v)
    window = samples[-1000:]
    p50, p99 = np.percentile(window, [50, 99])
    pairs = dict(diag.key_values())
    assert pairs['latency_s.p50'] == f'{p50:.6g}'
    assert pairs['latency_s.p99'] == f'{p99:.6g}'
    assert pairs['latency_s.max'] == f'{window.max():.6g}'

"""Constant-velocity time alignment."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from perception_nodes.fusion.motion import SCALAR_ROWS, _predict_arrays, predict_cv, predict_few

seeds = st.integers(0, 2**32 - 1)


def _spd(rng, k):
    a = rng.normal(size=(k, 4, 4))
    return a @ np.swapaxes(a, 1, 2) + 0.01 * np.eye(4)


@settings(max_examples=50, deadline=None)
@given(seeds, st.floats(-2.0, 2.0), st.floats(0.0, 5.0))
def test_prediction_matches_the_matrix_form(seed, dt, accel):
    rng = np.random.default_rng(seed)
    x, p = rng.normal(size=(3, 4)), _spd(rng, 3)
    xp, pp = predict_cv(x, p, np.full(3, dt), accel)
    f = np.eye(4)
    f[0, 2] = f[1, 3] = dt
    a = abs(dt)
    q1 = np.array([[a**3 / 3, a**2 / 2], [a**2 / 2, a]]) * accel**2
    q = np.kron(q1, np.eye(2))
    assert np.allclose(xp, x @ f.T)
    assert np.allclose(pp, f @ p @ f.T + q)
    assert (np.linalg.eigvalsh(pp) > 0).all()
    assert np.allclose(pp, np.swapaxes(pp, 1, 2))


def test_zero_dt_is_identity_and_inputs_untouched():
    rng = np.random.default_rng(1)
    x, p = rng.normal(size=(2, 4)), _spd(rng, 2)
    x0, p0 = x.copy(), p.copy()
    xp, pp = predict_cv(x, p, np.zeros(2), 2.0)
    assert np.allclose(xp, x) and np.allclose(pp, p)
    assert np.array_equal(x, x0) and np.array_equal(p, p0)


def test_monte_carlo_covariance():
    """Straight-line truth with white acceleration: the predicted spread matches the model."""
    rng = np.random.default_rng(2)
    n, dt, acc, steps = 20000, 0.5, 1.5, 50
    h = dt / steps
    s = np.zeros((n, 4))
    for _ in range(steps):
        a = rng.normal(0.0, acc / np.sqrt(h), size=(n, 2))
        s[:, :2] += s[:, 2:] * h + 0.5 * a * h * h
        s[:, 2:] += a * h
    _, pp = predict_cv(np.zeros((1, 4)), np.zeros((1, 4, 4)), np.array([dt]), acc)
    emp = np.cov(s.T)
    assert np.allclose(emp, pp[0], rtol=0.06, atol=0.03)


_values = st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([0.0, -0.0, 1e-300, 1e150])


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, SCALAR_ROWS).flatmap(
        lambda n: st.tuples(
            st.lists(_values, min_size=4 * n, max_size=4 * n),
            st.lists(_values, min_size=16 * n, max_size=16 * n),
            st.lists(
                st.floats(-1e3, 1e3) | st.sampled_from([0.0, -0.0, 1e-9]), min_size=n, max_size=n
            ),
            st.floats(0.0, 50.0) | st.lists(st.floats(0.0, 50.0), min_size=n, max_size=n),
        )
    )
)
def test_the_float_rows_are_the_array_form_bit_for_bit(args):
    """A few rows go through ``predict_few``: the same bits as the array form they replace
    (any values, not only covariances; huge ones overflow to inf alike)."""
    xs, ps, dts, accel = args
    n = len(dts)
    x, p = np.array(xs).reshape(n, 4), np.array(ps).reshape(n, 4, 4)
    dt = np.array(dts)
    q = np.asarray(accel, dtype=float) ** 2
    with np.errstate(all='ignore'):
        want = _predict_arrays(x, p, dt, q)
    got = predict_few(x, p, dts, np.broadcast_to(q, (n,)).tolist())
    for w, g in zip(want, got, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape
        nan = np.isnan(w)  # inf - inf: NaN in both (its payload is not published apart)
        assert np.array_equal(np.isnan(g), nan)
        assert np.array_equal(g[~nan].view(np.int64), w[~nan].view(np.int64))  # -0.0 too


def test_a_step_whose_cube_overflows_goes_the_array_way():
    x, p = np.ones((1, 4)), np.eye(4)[None]
    with np.errstate(all='ignore'):
        want = _predict_arrays(x, p, np.array([1e200]), np.asarray(1.0))
        got = predict_cv(x, p, np.array([1e200]), 1.0)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1], equal_nan=True)
    assert np.isinf(got[1][0, 0, 0])

"""Property tests of the prediction, TTC and geometry functions."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from v2x_nodes.applications.kinematics import (
    MIN_CLOSING_MPS,
    CollisionParams,
    ego_along_path,
    first_collision,
    footprint_half_extents,
    predict_ctra,
    time_to_reach,
    time_to_reach_one,
    travelled,
    ttc_1d,
    ttc_1d_accel,
    wrap,
)

speeds = st.floats(0.0, 40.0)
accels = st.floats(-9.0, 3.0)
T = np.arange(0.1, 6.0001, 0.1)


@given(speeds, accels)
def test_travelled_is_monotone_and_never_negative(v: float, a: float) -> None:
    s = travelled(np.array(v), np.array(a), T)
    assert np.all(s >= 0.0)
    assert np.all(np.diff(s) >= -1e-9)
    if a < 0:
        assert s[-1] <= v * v / (-2 * a) + 1e-6  # never beyond the stopping distance


@given(st.floats(0.1, 300.0), st.floats(0.5, 40.0), accels)
def test_time_to_reach_inverts_travelled(d: float, v: float, a: float) -> None:
    t = float(time_to_reach(d, v, a))
    if math.isinf(t):
        assert a < 0 and v * v / (-2 * a) < d + 1e-6
    else:
        assert abs(float(travelled(np.array(v), np.array(a), np.array(t))) - d) < 1e-6 * max(d, 1)


edge = st.sampled_from([0.0, -0.0, 1e-10, -1e-10, 1e-9, -1e-9, math.nan, math.inf, -math.inf])


@given(st.one_of(st.floats(-10.0, 400.0), edge), st.one_of(st.floats(-1.0, 40.0), edge),
       st.one_of(st.floats(-9.0, 3.0), edge))  # fmt: skip
def test_time_to_reach_one_is_the_array_version(d: float, v: float, a: float) -> None:
    with np.errstate(all='ignore'):
        want = float(time_to_reach(d, v, a))
    got = time_to_reach_one(d, v, a)
    assert got == want or (math.isnan(got) and math.isnan(want))


@given(st.floats(-math.pi, math.pi), speeds, st.floats(-100, 100), st.floats(-100, 100))
def test_ctra_without_turn_is_a_straight_line(course: float, v: float, x: float, y: float) -> None:
    one = np.array
    px, py, pc = predict_ctra(one([x]), one([y]), course_rad=one([course]), speed_mps=one([v]),
                              accel_mps2=one([0.0]), yaw_rate_radps=one([0.0]), t_s=T)  # fmt: skip
    assert np.allclose(px[0], x + v * T * math.cos(course), atol=1e-6)
    assert np.allclose(py[0], y + v * T * math.sin(course), atol=1e-6)
    assert np.allclose(pc[0], course)


@given(st.floats(1.0, 20.0), st.floats(0.05, 1.0))
def test_ctra_turn_stays_on_its_circle(v: float, w: float) -> None:
    one = np.array
    px, py, _ = predict_ctra(one([0.0]), one([0.0]), course_rad=one([0.0]), speed_mps=one([v]),
                             accel_mps2=one([0.0]), yaw_rate_radps=one([w]),
                             t_s=np.arange(0.01, 3.0, 0.01))  # fmt: skip
    r = v / w  # centre at (0, r)
    assert np.allclose(np.hypot(px[0], py[0] - r), r, rtol=1e-3, atol=1e-3)


@given(st.floats(-50, 50))
def test_wrap_range(a: float) -> None:
    w = float(wrap(a))
    assert -math.pi <= w < math.pi
    assert abs(math.sin(w) - math.sin(a)) < 1e-9 and abs(math.cos(w) - math.cos(a)) < 1e-9


@given(st.floats(0.0, 10.0), st.floats(0.0, 5.0), st.floats(-math.pi, math.pi))
def test_half_extents_bound_the_box(length: float, width: float, rel: float) -> None:
    hl, hw = footprint_half_extents(np.array(length), np.array(width), np.array(rel))
    corners = [(dl, dw) for dl in (-length / 2, length / 2) for dw in (-width / 2, width / 2)]
    c, s = math.cos(rel), math.sin(rel)
    assert max(abs(c * a - s * b) for a, b in corners) <= hl + 1e-9
    assert max(abs(s * a + c * b) for a, b in corners) <= hw + 1e-9


@given(st.floats(-1000, 1000), st.floats(-50, 50))
def test_ttc_1d_signs(gap: float, closing: float) -> None:
    t = float(ttc_1d(gap, closing))
    if gap <= 0:
        assert t == 0.0
    elif closing <= MIN_CLOSING_MPS:
        assert math.isinf(t)
    else:
        assert math.isclose(t * closing, gap, rel_tol=1e-9, abs_tol=1e-300)  # gap/2 may underflow


@settings(max_examples=150, deadline=None)
@given(st.floats(5.0, 60.0), st.floats(5.0, 30.0), st.floats(0.0, 30.0), st.floats(-8.0, 0.0))
def test_in_lane_collision_time_matches_the_1d_solution(gap: float, v_ego: float, v_lead: float,
                                                        a_lead: float) -> None:  # fmt: skip
    """A lead straight ahead in the ego lane: the sampled 2-D search agrees with the 1-D
    closed-form-on-a-fine-grid solution for the bumper gap, within one interpolated step."""
    length = 4.5
    bumper = gap  # rear of the lead to the front of the ego
    centre = bumper + length  # both 4.5 m long: centres one length apart plus the gap
    truth = float(ttc_1d_accel(bumper, ego_speed_mps=v_ego, ego_accel_mps2=0.0,
                               lead_speed_mps=v_lead, lead_accel_mps2=a_lead,
                               horizon_s=6.0, step_s=0.001)[0])  # fmt: skip
    path = np.array([[0.0, 0.0], [500.0, 0.0]])
    ego = ego_along_path(path, v_ego, 0.0, T)
    one = np.array
    tx, ty, tc = predict_ctra(one([centre]), one([0.0]), course_rad=one([0.0]),
                              speed_mps=one([v_lead]), accel_mps2=one([a_lead]),
                              yaw_rate_radps=one([0.0]), t_s=T)  # fmt: skip
    speed = np.broadcast_to(np.array([[v_lead]]), tx.shape)
    params = CollisionParams(lon_margin_m=0.0, lat_margin_m=0.0, lon_growth_mps=0.0,
                             lat_growth_mps=0.0)  # fmt: skip
    ttc, _ = first_collision(ego, ego_length_m=length, ego_width_m=1.8, tx=tx, ty=ty, tcourse=tc,
                             tspeed=speed, length_m=one([length]), width_m=one([1.8]),
                             params=params)  # fmt: skip
    assume(truth > 0.15 or math.isinf(truth))
    if math.isinf(truth) or truth > 5.9:
        assert ttc[0] >= 5.8
    else:
        assert abs(ttc[0] - truth) <= 0.1, (ttc[0], truth)

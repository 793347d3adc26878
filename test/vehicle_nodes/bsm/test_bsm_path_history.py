"""Path history within the standard's limits (points, distance, chord error) and path
prediction, on generated trajectories (property-based)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vehicle_nodes.bsm.path_history import (
    Crumb,
    PathHistory,
    PathHistoryConfig,
    chord_errors,
    predict_path,
)

STEP_NS = 100_000_000  # 10 Hz


def drive(segments: list[tuple[float, float, float]], speed_mps: float) -> list[Crumb]:
    """Crumbs along (duration_s, yaw_rate_radps, noise_m) segments at 10 Hz."""
    x = y = yaw = 0.0
    t = 0
    crumbs = [Crumb(0, 0.0, 0.0, 0.0, speed_mps)]
    rng = np.random.default_rng(3)
    for duration_s, yaw_rate, noise in segments:
        for _ in range(round(duration_s * 10)):
            yaw += yaw_rate * 0.1
            x += speed_mps * 0.1 * math.cos(yaw)
            y += speed_mps * 0.1 * math.sin(yaw)
            t += STEP_NS
            nx, ny = rng.normal(0.0, noise, 2) if noise else (0.0, 0.0)
            crumbs.append(Crumb(t, x + nx, y + ny, 0.0, speed_mps))
    return crumbs


def check_limits(crumbs: list[Crumb], config: PathHistoryConfig) -> list[Crumb]:
    ph = PathHistory(config)
    for c in crumbs:
        ph.add(c)
    now = crumbs[-1]
    points = ph.points(now)
    assert len(points) <= config.max_points
    chain = [now, *points]  # newest first
    lengths = [math.hypot(a.x_m - b.x_m, a.y_m - b.y_m) for a, b in itertools.pairwise(chain)]
    assert sum(lengths) <= config.max_distance_m
    assert all(length <= config.max_chord_m for length in lengths)
    assert all(a.stamp_ns > b.stamp_ns for a, b in itertools.pairwise(chain))
    by_time = {c.stamp_ns: c for c in crumbs}
    for newer, older in itertools.pairwise(chain):  # every crumb between is near the chord
        inner = [c for t, c in by_time.items() if older.stamp_ns <= t <= newer.stamp_ns]
        xy = np.array([(c.x_m, c.y_m) for c in inner])
        if len(xy) > 2:
            assert chord_errors(xy).max() <= config.allowable_error_m + 1e-9
    return points


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(1.0, 20.0), st.floats(-0.5, 0.5), st.sampled_from([0.0, 0.05])),
        min_size=1,
        max_size=6,
    ),
    st.floats(1.0, 35.0),
)
def test_path_history_stays_within_the_limits(segments, speed) -> None:
    crumbs = drive(segments, speed)
    points = check_limits(crumbs, PathHistoryConfig())
    travelled = sum(s[0] for s in segments) * speed
    if travelled > 2.0:
        assert points  # at least the start of the track is described


def test_straight_drive_just_beyond_the_covered_distance_keeps_a_point() -> None:
    # 306 m straight: the start is out of the 300 m, a point within it must be there
    points = check_limits(drive([(5.0, 0.0, 0.0), (19.5, 0.0, 0.0)], 12.5), PathHistoryConfig())
    assert points


def test_straight_road_needs_few_points_and_a_curve_many() -> None:
    straight = check_limits(drive([(40.0, 0.0, 0.0)], 15.0), PathHistoryConfig())
    assert 1 <= len(straight) <= 2  # chords up to 310 m, history 300 m
    curve = check_limits(drive([(30.0, 0.1, 0.0)], 10.0), PathHistoryConfig())
    # R = 100 m: a 1 m sagitta allows 28 m chords; 300 m of arc need ~11 points
    assert 9 <= len(curve) <= 13


def test_long_winding_track_is_capped_at_23_points() -> None:
    segments = [(3.0, 0.6 * (-1) ** k, 0.0) for k in range(40)]
    points = check_limits(drive(segments, 8.0), PathHistoryConfig(max_distance_m=1000.0))
    assert len(points) == 23


def test_clear_forgets_the_track() -> None:
    ph = PathHistory()
    for c in drive([(10.0, 0.2, 0.0)], 10.0):
        ph.add(c)
    ph.clear()
    ph.add(Crumb(10**12, 0.0, 0.0, 0.0, 1.0))
    assert ph.points(Crumb(10**12 + STEP_NS, 1.0, 0.0, 0.0, 1.0)) == [
        Crumb(10**12, 0.0, 0.0, 0.0, 1.0)
    ]


def test_path_prediction_radius_and_confidence() -> None:
    turn = predict_path(10.0, 0.1, 0.0)
    assert turn.radius_m == 100.0 and turn.confidence == 1.0
    assert predict_path(10.0, -0.05, 0.05).radius_m == -200.0
    assert predict_path(10.0, -0.05, 0.05).confidence == 0.5
    assert math.isinf(predict_path(30.0, 0.001, 0.0).radius_m)  # 30 km: straight
    assert predict_path(0.2, 0.3, 0.0) == predict_path(math.nan, 0.0, 0.0)
    assert predict_path(0.2, 0.3, 0.0).confidence == 0.0


def reference_concise(crumbs: list[Crumb], config: PathHistoryConfig) -> list[Crumb]:
    """The promotion rule written out on whole lists (what ``add`` does incrementally)."""
    concise, pending = [crumbs[0]], []
    for crumb in crumbs[1:]:
        anchor = concise[-1]
        xy = np.array([(c.x_m, c.y_m) for c in (anchor, *pending, crumb)])
        chord = math.hypot(crumb.x_m - anchor.x_m, crumb.y_m - anchor.y_m)
        too_far = chord > min(config.max_chord_m, config.max_distance_m)
        too_bent = len(xy) > 2 and chord_errors(xy).max() > config.allowable_error_m
        if (too_far or too_bent) and pending:
            concise.append(pending[-1])
            pending = [crumb]
        else:
            pending.append(crumb)
    return concise


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(1.0, 15.0), st.floats(-0.5, 0.5), st.sampled_from([0.0, 0.3])),
        min_size=1,
        max_size=5,
    ),
    st.floats(1.0, 35.0),
)
def test_incremental_promotion_matches_the_rule_on_whole_lists(segments, speed) -> None:
    crumbs = drive(segments, speed)
    config = PathHistoryConfig()
    ph = PathHistory(config)
    for c in crumbs:
        ph.add(c)
    assert list(ph.concise) == reference_concise(crumbs, config)


_COORD = st.one_of(
    st.floats(-500.0, 500.0, allow_nan=False),
    st.sampled_from([0.0, 1.0, 1.0 + 1e-12, -3.5, float('nan')]),
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(_COORD, _COORD), min_size=3, max_size=30),
    st.sampled_from([0.0, 0.5, 1.0, 2.0]),
)
def test_chord_test_in_floats_equals_the_numpy_chord_errors(points, limit) -> None:
    """``PathHistory._bent`` (plain floats for a few points) gives the verdict of
    ``chord_errors(xy).max() > limit`` on any points: degenerate chords, repeated and
    near-equal points, NaN, and more points than the float path takes."""
    xy = np.array(points, dtype=float)
    history = PathHistory(PathHistoryConfig(allowable_error_m=limit))
    with np.errstate(invalid='ignore'):
        expected = bool(float(chord_errors(xy).max()) > limit)
        assert history._bent(xy) == expected

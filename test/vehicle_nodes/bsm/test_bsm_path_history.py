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


def _reference_add(history: PathHistory, crumb: Crumb) -> None:
    """``PathHistory.add`` as first written: the chord test by ``chord_errors`` over an array
    of (anchor, *pending, crumb) built for each crumb."""
    if not history.concise:
        history.concise.append(crumb)
        return
    anchor = history.concise[-1]
    if crumb.stamp_ns <= anchor.stamp_ns or (
        history.pending and crumb.stamp_ns <= history.pending[-1].stamp_ns
    ):
        return
    xy = np.array([(c.x_m, c.y_m) for c in (anchor, *history.pending, crumb)])
    chord = math.hypot(crumb.x_m - anchor.x_m, crumb.y_m - anchor.y_m)
    cfg = history.config
    too_far = chord > min(cfg.max_chord_m, cfg.max_distance_m)
    too_bent = len(xy) > 2 and float(chord_errors(xy).max()) > cfg.allowable_error_m
    if (too_far or too_bent) and history.pending:
        history.concise.append(history.pending[-1])
        history.pending = [crumb]
    else:
        history.pending.append(crumb)


_STEP = st.tuples(
    st.sampled_from([0, 50_000_000, 100_000_000, 100_000_000, 1_000_000_000]),
    st.one_of(st.floats(-30.0, 30.0), st.sampled_from([0.0, 0.0, 1e-12, 1.0])),
    st.one_of(st.floats(-3.0, 3.0), st.sampled_from([0.0, 0.0, -1e-12, 0.5])),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_STEP, min_size=1, max_size=150),
    st.sampled_from([0.2, 1.0, 2.5]),
    st.integers(0, 3),
)
def test_kept_offsets_give_the_concise_points_of_the_array_chord_test(
    steps, allowable, clear_at
) -> None:
    """The kept offsets (and the division after the maximum) give the concise and pending
    crumbs the ``chord_errors`` formulation gives, crumb by crumb: straight runs (many pending
    crumbs), stops (degenerate chords), repeated stamps, long jumps, a clear() midway."""
    config = PathHistoryConfig(allowable_error_m=allowable, max_distance_m=120.0)
    new, old = PathHistory(config), PathHistory(config)
    stamp, x, y = 0, 0.0, 0.0
    for i, (dt, dx, dy) in enumerate(steps):
        stamp, x, y = stamp + dt, x + dx, y + dy
        if i == clear_at * 40:
            new.clear()
            old.clear()
        crumb = Crumb(stamp, x, y, 0.0, 5.0)
        new.add(crumb)
        _reference_add(old, crumb)
        assert list(new.concise) == list(old.concise)
        assert new.pending == old.pending

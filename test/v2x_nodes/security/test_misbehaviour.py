"""Misbehaviour checker: each kind of implausible sender is flagged, plausible motion is not."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v2x_nodes.security import ConfigError
from v2x_nodes.security.misbehaviour import (
    MisbehaviourChecker,
    MisbehaviourConfig,
    MisbehaviourReason,
    Report,
    check_alone,
    check_pair,
    local_xy_m,
    quiet,
)

R = MisbehaviourReason


def _flags(*reports: Report, receiver: tuple[float, float] | None = None) -> frozenset[R]:
    checker = MisbehaviourChecker()
    outcome = None
    for report in reports:
        outcome = checker.check(report, receiver)
    assert outcome is not None
    return outcome.reasons


def _east(t: float, x: float, speed: float = 20.0, **kw: float) -> Report:
    fields = {'y_m': 0.0, 'heading_rad': 0.0, 'accel_mps2': 0.0, **kw}
    return Report('car', t, x, speed_mps=speed, **fields)  # type: ignore[arg-type]


def test_plausible_straight_drive_passes() -> None:
    checker = MisbehaviourChecker()
    for step in range(100):
        t = step * 0.1
        outcome = checker.check(_east(t, 20.0 * t), receiver_xy_m=(0.0, 0.0))
        assert outcome.ok, outcome


@pytest.mark.parametrize(
    ('reports', 'expected'),
    [
        ((_east(0, 0, speed=math.nan),), R.NON_FINITE),
        ((_east(0, 0, speed=100.0),), R.SPEED_IMPLAUSIBLE),
        ((_east(0, 0, speed=-1.0),), R.SPEED_IMPLAUSIBLE),
        ((_east(0, 0, accel_mps2=30.0),), R.ACCEL_IMPLAUSIBLE),
        ((_east(0, 0, speed=10.0), _east(0.1, 1.0, speed=30.0)), R.ACCEL_IMPLAUSIBLE),
        ((_east(0, 0), _east(0.1, 200.0)), R.POSITION_JUMP),
        ((_east(0, 0), _east(0, 0)), R.TIME_NOT_INCREASING),
        ((_east(1, 20), _east(0.9, 18)), R.TIME_NOT_INCREASING),
        ((_east(0, 0, speed=30.0), _east(2.0, 0.5, speed=30.0)), R.SPEED_INCONSISTENT),
        (
            (
                _east(0, 0, heading_rad=math.pi / 2),
                _east(1.0, 20.0, heading_rad=math.pi / 2),
            ),
            R.HEADING_INCONSISTENT,
        ),
        ((_east(0, 0), _east(1.0, -20.0, heading_rad=0.0)), R.HEADING_INCONSISTENT),
        ((_east(0, 0), _east(0.1, 2.0, heading_rad=math.pi / 2)), R.YAW_RATE_IMPLAUSIBLE),
    ],
)
def test_each_kind_of_implausible_report_is_flagged(
    reports: tuple[Report, ...], expected: MisbehaviourReason
) -> None:
    assert expected in _flags(*reports)


def test_beyond_radio_range() -> None:
    assert _flags(_east(0, 5000.0), receiver=(0.0, 0.0)) == {R.BEYOND_RANGE}
    assert _flags(_east(0, 900.0), receiver=(0.0, 0.0)) == frozenset()


def test_flagged_reports_do_not_become_the_reference() -> None:
    checker = MisbehaviourChecker()
    assert checker.check(_east(0.0, 0.0)).ok
    assert not checker.check(_east(0.1, 500.0)).ok  # teleport
    assert checker.check(_east(0.2, 4.0)).ok  # compared with t=0, not with the teleport
    checker.forget('car')
    assert checker.check(_east(0.3, 900.0)).ok  # no history: nothing to compare with
    # After the history timeout a sender starts afresh.
    assert checker.check(_east(10.0, 5000.0)).ok


def test_sender_table_is_bounded_and_config_checked() -> None:
    checker = MisbehaviourChecker(MisbehaviourConfig(max_senders=3))
    for index in range(10):
        checker.check(Report(f's{index}', 0.0, 0.0, 0.0, 0.0, 0.0))
    assert len(checker._last) == 3
    with pytest.raises(ConfigError, match='max_speed_mps'):
        MisbehaviourConfig(max_speed_mps=-1.0)
    with pytest.raises(ConfigError, match='position_noise_m'):
        MisbehaviourConfig(position_noise_m=math.nan)


def test_local_xy_matches_geodesic_distance() -> None:
    from pyproj import Geod

    geod = Geod(ellps='WGS84')
    origin = (31.2304, 121.4737)
    for lat, lon in ((31.2394, 121.4737), (31.2304, 121.4837), (31.2204, 121.4637)):
        x, y = local_xy_m(lat, lon, *origin)
        azimuth, _, distance = geod.inv(origin[1], origin[0], lon, lat)
        assert math.hypot(x, y) == pytest.approx(distance, rel=2e-4)
        assert math.atan2(x, y) == pytest.approx(math.radians(azimuth), abs=1e-3)


@settings(max_examples=60, deadline=None)
@given(
    speed0=st.floats(0.0, 40.0),
    accels=st.lists(st.floats(-6.0, 3.0), min_size=20, max_size=80),
    lateral=st.lists(st.floats(-6.0, 6.0), min_size=20, max_size=80),
    noise=st.lists(st.tuples(st.floats(-1.5, 1.5), st.floats(-1.5, 1.5)), min_size=80, max_size=80),
    heading0=st.floats(-math.pi, math.pi),
)
def test_physically_plausible_trajectories_are_never_flagged(
    speed0: float,
    accels: list[float],
    lateral: list[float],
    noise: list[tuple[float, float]],
    heading0: float,
) -> None:
    checker = MisbehaviourChecker()
    x = y = 0.0
    speed, heading, dt = speed0, heading0, 0.1
    for step, (accel, lat_accel) in enumerate(zip(accels, lateral, strict=False)):
        outcome = checker.check(
            Report(
                'v',
                step * dt,
                x + noise[step][0],
                y + noise[step][1],
                speed,
                math.remainder(heading, 2 * math.pi),
                accel,
            ),
            receiver_xy_m=(0.0, 0.0),
        )
        assert outcome.ok, (step, outcome)
        new_speed = min(60.0, max(0.0, speed + accel * dt))
        if speed > 1.0:
            heading += lat_accel / speed * dt
        mean = 0.5 * (speed + new_speed)
        x += mean * math.cos(heading) * dt
        y += mean * math.sin(heading) * dt
        speed = new_speed


def _near(base: float, spread: float) -> st.SearchStrategy[float]:
    """Values around ``base``, its edges included."""
    return st.floats(base - spread, base + spread) | st.sampled_from([base - spread, base + spread])


@st.composite
def _report_pairs(draw: st.DrawFn) -> tuple[Report, Report]:
    """(previous, report): a finite previous report (the checker keeps only plausible ones) and
    a next one whose step straddles every threshold of the checks; now and then one value of
    it is not finite."""
    previous = Report(
        'v',
        draw(st.floats(0.0, 100.0)),
        draw(st.floats(-2000.0, 2000.0)),
        draw(st.floats(-2000.0, 2000.0)),
        draw(st.floats(0.0, 75.0)),
        draw(st.floats(-math.pi, math.pi)),
        draw(st.floats(-15.0, 15.0)),
    )
    dt = draw(_near(0.1, 0.3) | st.floats(-1.0, 6.0))
    speed = draw(_near(previous.speed_mps, 6.0) | st.floats(-2.0, 80.0))
    direction = draw(_near(previous.heading_rad, 1.5))
    distance = draw(_near(speed * dt, 12.0) | st.floats(0.0, abs(speed * dt) + 1.0))
    values = [
        previous.time_s + dt,
        previous.x_m + distance * math.cos(direction),
        previous.y_m + distance * math.sin(direction),
        speed,
        draw(_near(previous.heading_rad, 1.0)),
        draw(_near(0.0, 14.0)),
    ]
    if draw(st.integers(0, 7)) == 0:
        values[draw(st.integers(0, 5))] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    return previous, Report('v', *values)


@settings(max_examples=400, deadline=None)
@given(
    pair=_report_pairs(),
    receiver=st.none() | st.tuples(st.floats(-3000.0, 3000.0), st.floats(-3000.0, 3000.0)),
)
def test_fast_check_agrees_with_the_detailed_checks(
    pair: tuple[Report, Report], receiver: tuple[float, float] | None
) -> None:
    """``quiet`` (the per-message path) says plausible exactly when the detailed checks
    (which name the reasons) find nothing, alone and against the previous report."""
    previous, report = pair
    config = MisbehaviourConfig()
    alone = check_alone(report, receiver, config)
    assert quiet(report, None, receiver, config) is (not alone)
    if not any(reason is R.NON_FINITE for reason, _ in alone):
        alone += check_pair(previous, report, config)
    assert quiet(report, previous, receiver, config) is (not alone), alone

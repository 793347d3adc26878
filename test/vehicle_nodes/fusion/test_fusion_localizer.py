"""Fusion on simulated drives with ground truth."""

import math

import numpy as np
import pytest
from scipy.stats import chi2

from vehicle_nodes.fusion import FilterConfig, FixKind, Localizer, LocalizerConfig, Outcome
from vehicle_nodes.fusion.simulate import SensorModel, replay, simulate


def make(model: SensorModel) -> Localizer:
    return Localizer(LocalizerConfig(filter=FilterConfig(lever_arm_m=model.lever_arm_m)))


def run(model, duration_s=60.0, speed_mps=15.0, seed=1, kind=FixKind.RTK_FIXED):
    drive = simulate(duration_s, speed_mps, model, seed)
    return replay(
        drive,
        make(model),
        fix_kind=kind,
        fix_sigma_m=model.gnss_sigma_m,
        velocity_sigma_mps=model.gnss_velocity_sigma_mps,
    )


@pytest.mark.parametrize('seed', [1, 2, 3])
def test_rtk_fixed_gives_under_5_cm_rms(seed):
    r = run(SensorModel(gnss_sigma_m=0.02), seed=seed)
    settled = r.error_m[r.t_s > 5.0]
    rms = math.sqrt(float(np.mean(settled**2)))
    assert rms <= 0.05, rms


@pytest.mark.parametrize('seed', [4, 5, 6])
def test_ten_second_outage_at_15_mps_stays_within_a_metre(seed):
    model = SensorModel(outages_s=((40.0, 50.0),))
    r = run(model, seed=seed)
    assert r.error_at(49.9) <= 1.0, r.error_at(49.9)
    assert r.error_at(39.9) <= 0.05
    # Back under 5 cm soon after the GNSS returns.
    assert r.error_at(52.0) <= 0.05


def test_covariance_grows_through_an_outage():
    model = SensorModel(outages_s=((20.0, 30.0),))
    drive = simulate(31.0, 15.0, model, 9)
    loc = make(model)
    sigmas = {}
    for t_probe in (19.95, 25.0, 29.95):
        part = replay_until(drive, loc, t_probe)
        sigmas[t_probe] = part
    assert sigmas[19.95] < sigmas[25.0] < sigmas[29.95]
    assert loc.estimate().dead_reckoning


def replay_until(drive, loc, t_end):
    """Continue feeding ``drive`` into ``loc`` up to t_end; returns the position σ there."""
    start = loc.t_s if loc.t_s is not None else -1.0
    events = sorted(
        [(t, 0, i) for i, t in enumerate(drive.t_imu_s) if start < t <= t_end]
        + [(t, 1, i) for i, t in enumerate(drive.t_wheel_s) if start < t <= t_end]
        + [(t, 2, i) for i, t in enumerate(drive.t_gnss_s) if start < t <= t_end]
    )
    for t, kind, i in events:
        if kind == 0:
            loc.on_imu(t, drive.gyro_radps[i], drive.accel_mps2[i])
        elif kind == 1:
            loc.on_wheel_speed(t, drive.wheel_mps[i])
        elif drive.gnss_valid[i]:
            loc.on_gnss_position(t, drive.gnss_xy_m[i], np.eye(2) * 0.02**2, FixKind.RTK_FIXED)
            loc.on_gnss_velocity(t, drive.gnss_v_mps[i], np.eye(2) * 0.03**2)
    cov = loc.estimate().covariance
    return math.sqrt(cov[0, 0] + cov[1, 1])


def test_five_metre_jump_is_rejected():
    model = SensorModel(jumps=((30.0, 5.0, 0.0),))
    r = run(model, seed=7)
    jumped = [out for t, out in r.outcomes if abs(t - 30.0) < 0.06]
    assert jumped == [Outcome.GATED.value]
    others = [out for t, out in r.outcomes if t > 5.0 and abs(t - 30.0) > 0.06]
    # The gate's own false alarms (0.1 % per fix at the default probability) stay rare.
    assert others.count(Outcome.ACCEPTED.value) >= 0.99 * len(others)
    assert r.error_at(30.0) <= 0.05


def test_a_lasting_offset_is_taken_after_reset_after_s():
    """GNSS 5 m off for 10 s: followed after reset_after_s, and again when it comes back."""
    model = SensorModel(jumps=tuple((30.0 + 0.1 * k, 5.0, 0.0) for k in range(100)))
    r = run(model, seed=8)
    reset_times = [t for t, out in r.outcomes if out == Outcome.RESET.value]
    assert reset_times == [pytest.approx(35.0, abs=0.06), pytest.approx(45.0, abs=0.06)]
    # Between the resets the filter agrees with the (offset) GNSS again.
    between = [out for t, out in r.outcomes if 35.1 < t < 39.9]
    assert between.count(Outcome.ACCEPTED.value) >= len(between) - 1
    assert r.error_at(50.0) <= 0.1


def test_nees_is_consistent_over_monte_carlo_runs():
    runs = []
    for seed in range(12):
        r = run(SensorModel(), duration_s=40.0, seed=100 + seed)
        runs.append(r.nees[-300:])
    mean_per_epoch = np.mean(runs, axis=0)
    dof, n = 4, len(runs)
    lo, hi = chi2.ppf([0.025, 0.975], dof * n) / n
    inside = np.mean((mean_per_epoch > lo) & (mean_per_epoch < hi))
    assert inside >= 0.8, (inside, mean_per_epoch.mean())
    assert 0.5 * dof < np.mean(runs) < 1.5 * dof


def test_single_fix_quality_is_weighted_down():
    """Single-point fixes (3 m) with honest covariance still give metre-level positions."""
    model = SensorModel(gnss_sigma_m=2.0, gnss_velocity_sigma_mps=0.1)
    r = run(model, kind=FixKind.SINGLE, seed=3)
    assert math.sqrt(np.mean(r.error_m[r.t_s > 10.0] ** 2)) < 1.5


def test_alignment_from_a_baseline_without_gnss_velocity():
    loc = Localizer()
    for k in range(40):
        t = 0.1 * k
        loc.on_wheel_speed(t, 10.0)
        out = loc.on_gnss_position(t, np.array([t * 10.0, t * 10.0]), None, FixKind.RTK_FIXED)
        if loc.aligned:
            break
    assert out is Outcome.ACCEPTED
    assert loc.estimate().yaw_rad == pytest.approx(math.pi / 4, abs=0.05)


def test_alignment_from_gnss_heading():
    loc = Localizer()
    assert loc.on_gnss_position(0.0, np.array([1.0, 2.0]), None, FixKind.DGNSS) is Outcome.BUFFERED
    assert loc.on_heading(0.05, 1.0, 0.01) is Outcome.ACCEPTED
    est = loc.estimate()
    assert (est.x_m, est.y_m, est.yaw_rad) == pytest.approx((1.0, 2.0, 1.0))


def test_bad_input_is_refused_with_a_reason():
    loc = Localizer()
    assert loc.on_imu(0.0, math.nan, 0.0) is Outcome.NOT_FINITE
    assert loc.on_imu(1.0, 0.0, 0.0) is Outcome.ACCEPTED
    assert loc.on_imu(0.5, 0.0, 0.0) is Outcome.STALE
    assert loc.on_gnss_position(1.1, np.zeros(2), None, FixKind.NO_FIX) is Outcome.NO_FIX
    assert (
        loc.on_gnss_position(1.1, np.array([math.inf, 0.0]), None, FixKind.SINGLE)
        is Outcome.NOT_FINITE
    )
    bad_cov = np.array([[-1.0, 0.0], [0.0, 1.0]])
    assert loc.on_gnss_position(1.1, np.zeros(2), bad_cov, FixKind.SINGLE) is Outcome.NOT_FINITE
    assert loc.on_gnss_velocity(1.1, np.array([math.nan, 0.0]), np.eye(2)) is Outcome.NOT_FINITE
    assert loc.on_heading(1.1, 0.0, 0.0) is Outcome.NOT_FINITE
    assert loc.on_vehicle_status(1.1, math.nan, 0.0, 0.0) is Outcome.NOT_FINITE
    assert loc.estimate() is None


def test_receiver_covariance_is_floored_by_fix_type():
    cov = Localizer._weight(np.eye(2) * 1e-8, FixKind.SINGLE)
    np.testing.assert_allclose(cov, np.eye(2) * 0.25)
    cov = Localizer._weight(np.diag([4.0, 1e-6]), FixKind.RTK_FIXED)
    np.testing.assert_allclose(np.diag(cov), [4.0, 0.005**2])


def test_vehicle_status_stands_in_for_a_silent_imu():
    """No IMU at all: yaw rate from VehicleStatus keeps the heading through an outage."""
    model = SensorModel(outages_s=((20.0, 25.0),))
    drive = simulate(26.0, 10.0, model, 5)
    loc = make(model)
    yaw_rate = np.gradient(np.unwrap(drive.truth[:, 2]), drive.t_imu_s)
    every = len(drive.t_imu_s) // len(drive.t_wheel_s)
    events = sorted(
        [(t, 1, i) for i, t in enumerate(drive.t_wheel_s)]
        + [(t, 2, i) for i, t in enumerate(drive.t_gnss_s)]
    )
    for t, kind, i in events:
        if kind == 1:
            j = i * every
            loc.on_vehicle_status(t, drive.wheel_mps[i], yaw_rate[j], 0.0)
        elif drive.gnss_valid[i]:
            loc.on_gnss_position(t, drive.gnss_xy_m[i], np.eye(2) * 0.02**2, FixKind.RTK_FIXED)
    est = loc.estimate()
    j = round(est.t_s * 100)
    assert math.hypot(est.x_m - drive.truth[j, 0], est.y_m - drive.truth[j, 1]) < 1.0


@pytest.mark.parametrize('velocity_first', [False, True])
def test_alignment_on_gnss_velocity_uses_its_speed_and_epoch(velocity_first):
    """Before any wheel speed, aligning on a GNSS velocity starts at that speed (not 0, which
    then gates every later velocity), and a fix of the previous epoch is moved to the
    velocity's epoch (a receiver may send velocity before position)."""
    loc = Localizer()
    v = np.array([12.0, 0.0])
    cov = np.eye(2) * 0.02**2
    for k in range(4):
        t = 0.1 * k
        xy = np.array([12.0 * t, 0.0])
        if velocity_first:
            loc.on_gnss_velocity(t, v, np.eye(2) * 0.03**2)
            loc.on_gnss_position(t, xy, cov, FixKind.RTK_FIXED)
        else:
            loc.on_gnss_position(t, xy, cov, FixKind.RTK_FIXED)
            loc.on_gnss_velocity(t, v, np.eye(2) * 0.03**2)
    est = loc.estimate()
    assert est is not None
    assert est.speed_mps == pytest.approx(12.0, abs=0.1)
    assert est.x_m == pytest.approx(12.0 * 0.3, abs=0.05)
    assert est.y_m == pytest.approx(0.0, abs=0.05)

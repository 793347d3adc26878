"""Loss of control: a car that spins and slides to a stop stays tracked with RTK fixes.

The rolling model (velocity along the heading, wheels = ground speed) cannot follow a car
whose body yaws at 1.2 rad/s while it slides on along its course: before the sliding model
the prediction swung round with the heading, the gate refused every RTK fix and the estimate
ended tens of metres off (the CLW scenario's `skidder`: 35 m, reset after 5 s).
"""

import math

import numpy as np
import pytest

from vehicle_nodes.fusion import FilterConfig, FixKind, Localizer, LocalizerConfig, Outcome
from vehicle_nodes.fusion.simulate import SensorModel, replay, simulate, simulate_spin


def make(model: SensorModel, **cfg) -> Localizer:
    return Localizer(LocalizerConfig(filter=FilterConfig(lever_arm_m=model.lever_arm_m), **cfg))


def spin(model=None, *, seed=1, speed=14.0, rate=1.2, wheels_locked=True, duration=14.0):
    model = model or SensorModel()
    drive = simulate_spin(duration, speed, model, seed, skid_at_s=6.0, spin_rate_radps=rate,
                          wheels_locked=wheels_locked)  # fmt: skip
    loc = make(model)
    r = replay(drive, loc, fix_kind=FixKind.RTK_FIXED, fix_sigma_m=model.gnss_sigma_m,
               velocity_sigma_mps=model.gnss_velocity_sigma_mps)  # fmt: skip
    return r, loc


@pytest.mark.parametrize('seed', [1, 2, 3])
@pytest.mark.parametrize('wheels_locked', [True, False])
def test_a_spinning_car_is_followed_with_rtk_fixes(seed, wheels_locked):
    """14 m/s, 1.2 rad/s spin from 6 s, sliding to a stop at 3 m/s² (as the CLW scenario):
    every RTK fix is taken and the error stays at centimetres (on the rolling model alone:
    > 10 m within 3 s and the fixes gated, then reset)."""
    r, loc = spin(seed=seed, wheels_locked=wheels_locked)
    after = r.t_s > 2.0
    assert r.error_m[after].max() < 0.15, r.error_m[after].max()
    assert math.sqrt(np.mean(r.error_m[after] ** 2)) < 0.05
    outs = [o for t, o in r.outcomes if t > 2.0]
    assert Outcome.RESET.value not in outs
    assert outs.count(Outcome.GATED.value) <= 2  # the gate's false alarms only
    # seen at once: by the yaw rate × speed (16.8 m/s²) or the antenna's sideways velocity
    assert len(loc.skids) == 1
    assert loc.skids[0].t_s == pytest.approx(6.0, abs=0.02)
    # stopped (at 10.7 s) and calm for skid_exit_hold_s: back on the rolling model
    assert not loc.sliding
    assert abs(loc.estimate().speed_mps) < 0.1


def test_a_slow_spin_is_seen_by_its_side_slip():
    """6 m/s at 1.0 rad/s is 6 m/s² (a tyre could hold that turn): the GNSS velocity moving
    across the heading reveals the slide."""
    r, loc = spin(seed=4, speed=6.0, rate=1.0)
    assert r.error_m[r.t_s > 2.0].max() < 0.15
    assert [s.reason for s in loc.skids] == ['side_slip']
    assert 6.0 <= loc.skids[0].t_s < 6.5
    assert abs(loc.skids[0].lateral_mps) > 1.0


def test_a_multipath_jump_during_the_spin_is_still_refused():
    model = SensorModel(jumps=((7.5, 4.0, -3.0),))
    r, loc = spin(model, seed=5)
    assert len(loc.skids) == 1 and loc.skids[0].t_s < 7.5  # the jump comes mid-slide
    jumped = [o for t, o in r.outcomes if abs(t - 7.5) < 0.06]
    assert jumped == [Outcome.GATED.value]
    assert r.error_at(7.5) < 0.15
    assert r.error_m[r.t_s > 2.0].max() < 0.15


def test_the_sliding_estimate_reports_its_side_slip():
    """While sliding, the estimate carries the sideways velocity (odometry twist.linear.y)."""
    model = SensorModel()
    drive = simulate_spin(8.0, 14.0, model, 6, skid_at_s=6.0, spin_rate_radps=1.2)
    loc = make(model)
    replay(drive, loc, fix_kind=FixKind.RTK_FIXED, fix_sigma_m=0.02, velocity_sigma_mps=0.03)
    est = loc.estimate()
    assert est.sliding
    j = round(est.t_s * 100)
    course = drive.truth[0, 2]
    ground = 14.0 - 3.0 * (est.t_s - 6.0)
    slip = course - drive.truth[j, 2]
    assert est.speed_mps == pytest.approx(ground * math.cos(slip), abs=0.2)
    assert est.lateral_speed_mps == pytest.approx(ground * math.sin(slip), abs=0.2)
    # the velocity's random walk between the 10 Hz GNSS epochs: ~1.3 m/s after 0.1 s
    assert 0.0 < est.lateral_speed_var_m2ps2 < 2.0


def test_wheel_speeds_of_a_sliding_car_are_counted_not_used():
    model = SensorModel()
    drive = simulate_spin(7.0, 14.0, model, 7, skid_at_s=6.0, spin_rate_radps=1.2)
    loc = make(model)
    replay(drive, loc, fix_kind=FixKind.RTK_FIXED, fix_sigma_m=0.02, velocity_sigma_mps=0.03)
    assert loc.sliding
    assert loc.on_wheel_speed(loc.t_s + 0.01, 0.0) is Outcome.SKIDDING


@pytest.mark.parametrize('seed', [1, 2, 3])
def test_ordinary_drives_never_look_like_a_skid(seed):
    model = SensorModel()
    loc = make(model)
    replay(simulate(60.0, 15.0, model, seed), loc, fix_kind=FixKind.RTK_FIXED,
           fix_sigma_m=0.02, velocity_sigma_mps=0.03)  # fmt: skip
    assert loc.skids == []


def test_tight_turn_at_the_grip_limit_is_no_skid():
    """0.7 rad/s at 15 m/s is 10.5 m/s²: at the limit of a good tyre, not beyond it."""
    loc = make(SensorModel(), grip_limit_mps2=11.0)
    loc.on_wheel_speed(0.0, 15.0)
    loc.on_gnss_position(0.0, np.zeros(2), np.eye(2) * 1e-4, FixKind.RTK_FIXED)
    assert loc.on_heading(0.0, 0.0, 0.001) is Outcome.ACCEPTED
    for k in range(1, 31):
        loc.on_imu(0.01 * k, 0.7, 0.0)
    assert not loc.sliding
    loc.on_imu(0.31, 0.8, 0.0)  # 12 m/s²: no tyre holds that
    assert loc.sliding
    assert loc.skids[0].reason == 'grip_limit'

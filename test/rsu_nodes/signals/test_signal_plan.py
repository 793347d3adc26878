"""The fixed-time plan engine: lights and SPAT timing through whole cycles, and bad plans."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rsu_nodes.signals import Light, PlanError, plan_from_dict
from sim_nodes.world.four_arm import default_plan

TWO_STAGE = {
    'offset_s': 0.0,
    'stages': [
        {'green_s': 20, 'vehicle_groups': [1], 'pedestrian_groups': [11], 'ped_clearance_s': 5},
        {'green_s': 10, 'vehicle_groups': [2]},
    ],
}


def test_lights_through_one_cycle():
    plan = plan_from_dict(TWO_STAGE)
    assert plan.cycle_s == 40.0
    expected = {
        0.0: (Light.PROTECTED_GREEN, Light.PROTECTED_GREEN, Light.RED),
        16.0: (Light.PROTECTED_GREEN, Light.FLASHING_GREEN, Light.RED),
        21.0: (Light.YELLOW, Light.RED, Light.RED),
        24.0: (Light.RED, Light.RED, Light.RED),  # all-red
        26.0: (Light.RED, Light.RED, Light.PROTECTED_GREEN),
        36.0: (Light.RED, Light.RED, Light.YELLOW),
        39.5: (Light.RED, Light.RED, Light.RED),
        40.0: (Light.PROTECTED_GREEN, Light.PROTECTED_GREEN, Light.RED),
    }
    for t, (g1, g11, g2) in expected.items():
        state = plan.state(t)
        assert (state[1].light, state[11].light, state[2].light) == (g1, g11, g2), t


def test_spat_timing_counts_down_and_next_start():
    plan = plan_from_dict(TWO_STAGE)
    s = plan.state(10.0)[1]
    assert (s.start_s, s.likely_end_s, s.min_end_s, s.max_end_s) == (-10.0, 10.0, 10.0, 10.0)
    assert s.next_start_s == 30.0 and s.next_duration_s == 20.0
    red = plan.state(30.0)[1]  # red from 23 (after yellow) to 40
    assert red.light is Light.RED and red.start_s == -7.0 and red.likely_end_s == 10.0
    assert red.next_start_s == 10.0 and red.next_duration_s == 20.0
    ped = plan.state(5.0)[11]  # walking green merges into flashing green for next_duration
    assert ped.likely_end_s == 10.0 and ped.next_duration_s == 20.0


def test_offset_shifts_the_cycle():
    plan = plan_from_dict({**TWO_STAGE, 'offset_s': 7.0})
    assert plan.light(7.0, 1) is Light.PROTECTED_GREEN
    assert plan.light(6.9, 1) is Light.RED


@settings(deadline=None)
@given(st.floats(min_value=-1e5, max_value=1e5, allow_nan=False))
def test_timing_is_consistent_at_any_time(t):
    plan = plan_from_dict(default_plan())
    for group, s in plan.state(t).items():
        assert s.start_s <= 1e-9 < s.likely_end_s + 1e-9
        assert s.next_start_s > 0
        assert 0 < s.next_duration_s <= plan.cycle_s
        # the light holds until likely_end and the group is green at next_start
        assert plan.light(t + s.likely_end_s - 1e-3, group) is s.light
        assert plan.light(t + s.next_start_s + 1e-3, group).is_green
        if s.light.is_green:
            assert s.next_start_s >= s.likely_end_s


def test_the_default_plan_never_greens_conflicting_through_groups():
    plan = plan_from_dict(default_plan())
    ns, ew = (3, 7), (1, 5)
    for k in range(int(plan.cycle_s * 10)):
        state = plan.state(k / 10)
        assert not (
            any(state[g].light.is_green for g in ns) and any(state[g].light.is_green for g in ew)
        )


@pytest.mark.parametrize(
    ('plan', 'match'),
    [
        ({'stages': []}, 'at least one stage'),
        ({'stages': [{'green_s': -1, 'vehicle_groups': [1]}]}, r'stages\[0\].*green_s > 0'),
        (
            {'stages': [{'green_s': 4, 'pedestrian_groups': [11], 'ped_clearance_s': 6}]},
            'ped_clearance_s',
        ),
        (
            {'stages': [{'green_s': 5, 'vehicle_groups': [1], 'pedestrian_groups': [1]}]},
            'both vehicle and pedestrian',
        ),
        ({'stages': [{'vehicle_groups': [1]}]}, 'green_s'),
    ],
)
def test_bad_plans_fail_with_the_reason(plan, match):
    with pytest.raises(PlanError, match=match):
        plan_from_dict(plan)


def test_nan_is_never_returned_for_a_valid_plan():
    plan = plan_from_dict(TWO_STAGE)
    for s in plan.state(12.3).values():
        assert all(math.isfinite(v) for v in (s.start_s, s.likely_end_s, s.next_start_s))

"""The priority table and the parsing of its overrides."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from v2x_nodes.hmi.errors import HmiError, PriorityConfigError
from v2x_nodes.hmi.priority import (
    APPLICATION_PRIORITY,
    UNKNOWN_APPLICATION_PRIORITY,
    PriorityTable,
    parse_overrides,
)

COLLISION = ('FCW', 'VRUCW', 'ICW', 'LTA', 'RLVW', 'DNPW', 'LCW', 'BSW')
EMERGENCY = ('EVW', 'EBW', 'CLW', 'AVW')
HAZARD = ('HLW', 'TJW', 'SLW')
INFORMATION = ('IVS', 'GLOSA')
LEVELS = st.integers(1, 4)


def test_the_table_covers_the_day1_warnings():
    assert set(APPLICATION_PRIORITY) == {*COLLISION, *EMERGENCY, *HAZARD, *INFORMATION}


@given(st.sampled_from(COLLISION), LEVELS, st.sampled_from(INFORMATION), LEVELS)
def test_information_never_beats_a_collision_warning(collision, lc, info, li):
    table = PriorityTable()
    assert table.priority(collision, lc) > table.priority(info, li)


@given(st.sampled_from(COLLISION + EMERGENCY + HAZARD + INFORMATION), st.integers(1, 3))
def test_a_higher_level_of_the_same_application_ranks_higher(app, level):
    table = PriorityTable()
    assert table.priority(app, level + 1) > table.priority(app, level)


@given(st.sampled_from(COLLISION), st.sampled_from(EMERGENCY), LEVELS)
def test_at_equal_level_collision_beats_emergency_beats_hazard(collision, emergency, level):
    table = PriorityTable()
    assert table.priority(collision, level) > table.priority(emergency, level)
    for hazard in HAZARD:
        assert table.priority(emergency, level) > table.priority(hazard, level)


def test_a_critical_emergency_brake_beats_a_forward_collision_caution_but_not_a_warning():
    table = PriorityTable()
    assert table.priority('EBW', 4) > table.priority('FCW', 2)
    assert table.priority('FCW', 3) > table.priority('EBW', 4)


def test_unknown_applications_rank_lowest_and_names_are_case_insensitive():
    table = PriorityTable()
    assert table.priority('XYZ', 1) == UNKNOWN_APPLICATION_PRIORITY
    assert table.priority('fcw', 3) == table.priority('FCW', 3)


def test_overrides_replace_the_table_entry():
    table = PriorityTable().with_overrides(
        parse_overrides(['evw=70', ' GLOSA = 5 '], parameter='p')
    )
    assert table.priority('EVW', 1) == 70
    assert table.priority('EVW', 1) > table.priority('FCW', 1)
    assert table.priority('GLOSA', 1) == 5
    assert PriorityTable().priority('EVW', 1) == APPLICATION_PRIORITY['EVW']  # no side effect


@pytest.mark.parametrize(
    ('entries', 'match'),
    [
        (['EVW'], r"priority_overrides: entry 'EVW': expected APPLICATION=PRIORITY"),
        (['=5'], 'expected APPLICATION=PRIORITY'),
        (['EVW=high'], r"priority must be an integer, got 'high'"),
        (['EVW=1001'], r'must be in 0\.\.1000, got 1001'),
        (['EVW=1', 'evw=2'], 'application EVW given twice'),
    ],
)
def test_bad_overrides_name_the_parameter_and_entry(entries, match):
    with pytest.raises(PriorityConfigError, match=match) as info:
        parse_overrides(entries, parameter='priority_overrides')
    assert isinstance(info.value, HmiError)

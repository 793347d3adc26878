"""Parameter declarations: types from defaults, ranges, choices, lists."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from v2x_runtime import ParameterError
from v2x_runtime.parameters import make_spec


def test_types_come_from_the_default():
    assert make_spec('a', 1.0, 'x').validate(2) == 2.0
    assert make_spec('b', 1, 'x').validate(2) == 2
    assert make_spec('c', [1.0, 2.0], 'x').validate([3, 4.5]) == [3.0, 4.5]
    with pytest.raises(ParameterError, match='b: expected int, got float'):
        make_spec('b', 1, 'x').validate(2.5)
    with pytest.raises(ParameterError, match='d: expected bool, got int'):
        make_spec('d', True, 'x').validate(1)
    with pytest.raises(ParameterError, match='a: expected a finite number, got nan'):
        make_spec('a', 1.0, 'x').validate(math.nan)
    with pytest.raises(ParameterError, match='c: expected a list'):
        make_spec('c', [1.0], 'x').validate(1.0)


def test_declarations_are_checked():
    with pytest.raises(ParameterError, match='lower_snake_case'):
        make_spec('Rate', 1.0, 'x')
    with pytest.raises(ParameterError, match=r'rate: 0.0 is outside \[0.1, 5.0\]'):
        make_spec('rate', 0.0, 'x', range=(0.1, 5.0))
    with pytest.raises(ParameterError, match='unsupported default type dict'):
        make_spec('d', {}, 'x')  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match='mixes types'):
        make_spec('l', [1, 'a'], 'x')  # type: ignore[list-item]


@given(st.floats(allow_nan=False, allow_infinity=False), st.floats(0, 100), st.floats(0, 100))
def test_range_accepts_exactly_the_closed_interval(value, a, b):
    low, high = min(a, b), max(a, b)
    spec = make_spec('p', low, 'x', range=(low, high))
    if low <= value <= high:
        assert spec.validate(value) == value
    else:
        with pytest.raises(ParameterError, match='outside'):
            spec.validate(value)

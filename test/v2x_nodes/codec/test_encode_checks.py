"""The one-pass encode check never vouches for a value asn1tools' checks would refuse.

``encode_checks`` is a filter in front of asn1tools' type and constraint checks: valid values
pass it (so the fast path is taken), and a value it passes must pass both asn1tools checks. Here
valid values drawn from the schema are mutated one leaf at a time (out-of-range numbers, wrong
Python types, oversized strings and lists, unknown alternatives, missing members), and
``uper.encode`` gives exactly what ``spec.encode(..., check_constraints=True)`` gives: the same
bytes, or an error with the same field path and reason.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from asn_strategies import for_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from v2x_nodes.codec import uper
from v2x_nodes.codec.encode_checks import DoubtError, fast_check, generated_check
from v2x_nodes.codec.errors import EncodeError
from v2x_nodes.codec.schema import load_schema

TYPES = ['MessageFrame', *uper.TYPE_NAMES.values()]
_REPLACEMENTS: list[Any] = [
    None,
    True,
    1.5,
    'x',
    'unknownName',
    b'\x00' * 40,
    bytearray(b'\x01'),
    -(1 << 40),
    1 << 40,
    (b'\xff', 9),
    ('noSuchAlternative', 1),
    [],
    {},
    'é' * 300,
]


def _leaves(value: Any, path: tuple = ()) -> list[tuple]:
    """Paths of every node of a value (dict keys, list indexes, choice slot 1)."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _leaves(item, (*path, i))
    elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        found += _leaves(value[1], (*path, 1))
    return found


def _get(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


def _replace(value: Any, path: tuple, new: Any, delete: bool = False) -> Any:
    """A copy of ``value`` with the node at ``path`` replaced (or its dict key deleted)."""
    if not path:
        return new
    key, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if delete and not rest:
            del copy[key]
        else:
            copy[key] = _replace(value[key], rest, new, delete)
        return copy
    if isinstance(value, list):
        copy = list(value)
        if not rest and delete:
            copy.append(copy[key])  # one element too many, maybe
        else:
            copy[key] = _replace(value[key], rest, new, delete)
        return copy
    return (value[0], _replace(value[1], rest, new, delete))


def _mutations(value: Any, rng: random.Random, count: int) -> list[Any]:
    paths = _leaves(value)
    out = []
    for _ in range(count):
        path = rng.choice(paths)
        node = _get(value, path)
        roll = rng.random()
        if roll < 0.15 and path:
            out.append(_replace(value, path, None, delete=True))
        elif roll < 0.55 and type(node) is int:
            out.append(_replace(value, path, node + rng.choice([-(1 << rng.randrange(40)), 1])))
        elif roll < 0.65 and type(node) is list:
            out.append(_replace(value, path, node * rng.randrange(2, 40)))
        elif roll < 0.7 and type(node) is str:
            out.append(_replace(value, path, node * rng.randrange(2, 80)))
        else:
            out.append(_replace(value, path, rng.choice(_REPLACEMENTS)))
    return out


def _outcome(encode, value: Any) -> Any:
    try:
        return encode(value)
    except EncodeError as err:
        return ('error', err.path, err.reason)


def _asn1tools_outcome(type_name: str, value: Any) -> Any:
    try:
        return load_schema().uper.encode(type_name, value, check_constraints=True)
    except Exception as err:
        path, reason, _ = uper._split(type_name, err)
        return ('error', path, reason)


def _vouches(check, value: Any) -> bool:
    try:
        check(value)
    except DoubtError:
        return False
    return True


@pytest.mark.parametrize('build', [fast_check, generated_check], ids=['closures', 'generated'])
@pytest.mark.parametrize('type_name', TYPES)
@settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fast_check_agrees_with_asn1tools(build, type_name: str, data) -> None:
    compiled = load_schema().uper._types[type_name]
    check = build(compiled)
    valid = data.draw(for_type(type_name))
    assert _vouches(check, valid), 'a valid value must take the fast path'
    assert uper.encode(type_name, valid) == _asn1tools_outcome(type_name, valid)
    rng = random.Random(data.draw(st.integers(0, 1 << 30)))
    for value in _mutations(valid, rng, 60):
        if _vouches(check, value):
            compiled.check_types(value)  # raises if the fast check vouched wrongly
            compiled.check_constraints(value)
        assert _outcome(lambda v: uper.encode(type_name, v), value) == _asn1tools_outcome(
            type_name, value
        )


def _checks_pass(compiled, value: Any) -> bool:
    try:
        compiled.check_types(value)
        compiled.check_constraints(value)
    except Exception:
        return False
    return True


@pytest.mark.parametrize('build', [fast_check, generated_check], ids=['closures', 'generated'])
def test_mutations_break_values_the_fast_check_then_doubts(build) -> None:
    """The corpus is not trivially valid: asn1tools' checks refuse many mutants, and the fast
    check doubts every one of them."""
    compiled = load_schema().uper._types['BasicSafetyMessage']
    check = build(compiled)
    seed = _SEED_BSM
    assert _vouches(check, seed)
    refused = 0
    for value in _mutations(seed, random.Random(3), 400):
        if not _checks_pass(compiled, value):
            refused += 1
            assert not _vouches(check, value), value
    assert refused > 100


_SEED_BSM = {
    'msgCnt': 1,
    'id': b'\x01' * 8,
    'secMark': 100,
    'pos': {'lat': 312000000, 'long': 1215000000, 'elevation': 40},
    'transmission': 'park',
    'speed': 500,
    'heading': 1000,
    'accelSet': {'long': 0, 'lat': 0, 'vert': 0, 'yaw': 0},
    'brakes': {'brakePadel': 'on'},
    'size': {'width': 190, 'length': 460},
    'vehicleClass': {'classification': 10},
    'safetyExt': {'lights': (b'\x80\x00', 9)},
}


@pytest.mark.parametrize('type_name', TYPES)
@settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_check_vouches_exactly_where_the_closures_do(type_name: str, data) -> None:
    """``generated_check`` is ``fast_check`` written out as code: the same verdict on every
    valid value and every mutant (so it is as safe a filter as the closures)."""
    compiled = load_schema().uper._types[type_name]
    closures, generated = fast_check(compiled), generated_check(compiled)
    valid = data.draw(for_type(type_name))
    rng = random.Random(data.draw(st.integers(0, 1 << 30)))
    for value in [valid, *_mutations(valid, rng, 80)]:
        assert _vouches(generated, value) == _vouches(closures, value), value

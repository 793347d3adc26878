"""JSON values shared by the HMI protocol and the RSU uplink payloads."""

from __future__ import annotations

import math

import pytest

from v2x_runtime import messages as m
from v2x_runtime.json_values import PARTICIPANT_CLASSES, compact_json, number


def test_participant_classes_follow_the_message_constants() -> None:
    participant = m.msg_class('v2x_stack/msg/Participant')
    constants = {
        getattr(participant, name): name.removeprefix('CLASS_').lower()
        for name in vars(participant)
        if name.startswith('CLASS_')
    }
    assert dict(enumerate(PARTICIPANT_CLASSES)) == constants


def test_number_rounds_finite_values_and_nulls_the_rest() -> None:
    assert number(1.23456) == 1.235
    assert number(31.123456789, 8) == 31.12345679
    assert number(3) == 3.0
    assert [number(v) for v in (math.nan, math.inf, -math.inf)] == [None, None, None]


def test_compact_json_is_compact_and_refuses_nan() -> None:
    assert compact_json({'a': [1, None], 'b': 'x'}) == '{"a":[1,null],"b":"x"}'
    with pytest.raises(ValueError, match='JSON compliant'):
        compact_json({'a': math.nan})

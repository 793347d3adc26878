"""The pruned post-decode constraint checks agree with asn1tools' full checker.

``per_checks`` drops the checks a UPER decode cannot break; here every frame of a mutated and
random corpus is decoded with bare asn1tools and both checkers judge the value: same verdict,
same error text (field path and constraint), for every message type.
"""

from __future__ import annotations

import numpy as np
import pytest
from asn1tools.codecs import ConstraintsError
from asn1tools.codecs import uper as _uper
from asn_strategies import for_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from v2x_nodes.codec import uper
from v2x_nodes.codec.per_checks import pruned_check
from v2x_nodes.codec.schema import load_schema

TYPES = ['MessageFrame', *uper.TYPE_NAMES.values()]


def _verdict(check, value) -> str:
    try:
        check(value)
    except ConstraintsError as err:
        return str(err)
    return 'ok'


def _seeds(type_name: str) -> list[bytes]:
    found: list[bytes] = []

    @settings(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def collect(data):
        found.append(uper.encode(type_name, data.draw(for_type(type_name))))

    collect()
    return found


def _bare_decode(compiled, data: bytes):
    try:
        return compiled._type.decode(_uper.Decoder(bytearray(data)))
    except Exception:
        return None


@pytest.mark.parametrize('type_name', TYPES)
def test_pruned_check_agrees_on_mutated_frames(type_name: str) -> None:
    compiled = load_schema().uper._types[type_name]
    pruned = pruned_check(compiled)
    rng = np.random.default_rng(7)
    seeds = _seeds(type_name)
    decoded = broken = 0
    for i in range(3000):
        if i % 4 == 0:
            data = rng.integers(0, 256, int(rng.integers(1, 120)), dtype=np.uint8).tobytes()
        else:
            buf = bytearray(seeds[i % len(seeds)])
            for _ in range(int(rng.integers(1, 4))):
                buf[int(rng.integers(0, len(buf)))] ^= 1 << int(rng.integers(0, 8))
            data = bytes(buf)
        value = _bare_decode(compiled, data)
        if value is None:
            continue
        decoded += 1
        full = _verdict(compiled.check_constraints, value)
        assert _verdict(pruned, value) == full, data.hex()
        broken += full != 'ok'
    assert decoded > 100
    if type_name != 'SensorSharingMsg':
        assert broken > 0, 'the corpus never broke a constraint: the test shows nothing'


@pytest.mark.parametrize('type_name', TYPES)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_pruned_check_passes_valid_values(type_name: str, data) -> None:
    value = data.draw(for_type(type_name))
    assert uper.decode(type_name, uper.encode(type_name, value)) is not None
    pruned_check(load_schema().uper._types[type_name])(value)

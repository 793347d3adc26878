"""Every message type round-trips through UPER over values drawn from the ASN.1 constraints."""

from __future__ import annotations

import pytest
from asn_strategies import for_type
from hypothesis import HealthCheck, given, settings

from v2x_nodes.codec import uper

MESSAGE_TYPES = [*uper.TYPE_NAMES.values(), 'MessageFrame']
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize('type_name', MESSAGE_TYPES)
def test_uper_round_trip(type_name: str) -> None:
    @SETTINGS
    @given(for_type(type_name))
    def check(value):
        data = uper.encode(type_name, value)
        assert uper.decode(type_name, data) == value
        assert uper.encode(type_name, uper.decode(type_name, data)) == data

    check()


@pytest.mark.parametrize('kind', list(uper.MessageKind))
def test_frame_round_trip(kind: uper.MessageKind) -> None:
    @SETTINGS
    @given(for_type(uper.TYPE_NAMES[kind]))
    def check(value):
        frame = uper.decode_frame(uper.encode_frame(kind, value))
        assert frame.kind == kind
        assert frame.value == value

    check()

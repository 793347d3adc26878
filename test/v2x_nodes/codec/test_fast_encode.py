"""The generated UPER encoder (``fast_encode``) writes asn1tools' bytes.

``uper.encode`` runs the generated encoder once the encode check passes. Values drawn from the
ASN.1 strategies must encode to asn1tools' bytes for every message type and inside the
MessageFrame, and decode back to the value; a small module of its own covers what the message
set's strategies do not draw (extensions beyond the root, DEFAULT members, named bits, strings,
a recursive type), which the generated code hands back to the asn1tools node.
"""

from __future__ import annotations

import asn1tools
import pytest
from asn_strategies import for_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from v2x_nodes.codec import uper
from v2x_nodes.codec.fast_encode import build
from v2x_nodes.codec.schema import load_schema

K = uper.MessageKind
QUIET = list(HealthCheck)
DRAWS = settings(max_examples=150, deadline=None, suppress_health_check=QUIET)


@pytest.mark.parametrize('kind', list(K), ids=[k.name for k in K])
def test_drawn_messages_encode_to_asn1tools_bytes(kind: uper.MessageKind) -> None:
    spec = load_schema().uper
    name = uper.TYPE_NAMES[kind]
    encoder = build(spec._types[name]._type)
    encoded = 0

    @DRAWS
    @given(for_type(name))
    def check(value) -> None:
        nonlocal encoded
        reference = spec.encode(name, value, check_constraints=True)
        assert encoder(value) == reference
        assert uper.encode(name, value) == reference
        assert uper.decode(name, reference) == value
        if kind in uper.FRAME_ALTERNATIVES:
            frame = (uper.FRAME_ALTERNATIVES[kind], value)
            assert uper.encode_frame(kind, value) == spec.encode('MessageFrame', frame)
        assert uper.decode_frame(uper.encode_frame(kind, value)) == uper.Frame(kind, value)
        encoded += 1

    check()
    assert encoded > 0


def test_every_alternative_of_the_frame_through_one_encoder() -> None:
    spec = load_schema().uper
    encoder = build(spec._types['MessageFrame']._type)

    @settings(max_examples=60, deadline=None, suppress_health_check=QUIET)
    @given(st.data())
    def check(data) -> None:
        kind = data.draw(st.sampled_from(list(uper.FRAME_ALTERNATIVES)))
        frame = (uper.FRAME_ALTERNATIVES[kind], data.draw(for_type(uper.TYPE_NAMES[kind])))
        assert encoder(frame) == spec.encode('MessageFrame', frame)

    check()


_MODULE = """
Test DEFINITIONS AUTOMATIC TAGS ::= BEGIN
  Colour ::= ENUMERATED { red, green, ..., blue }
  Lights ::= BIT STRING { low(0), high(1), fog(2) } (SIZE (1..8))
  Flags ::= BIT STRING (SIZE (3, ...))
  Node ::= SEQUENCE { value INTEGER (0..7), next Node OPTIONAL }
  Alt ::= CHOICE { a INTEGER (0..3), b BOOLEAN, ..., c NULL }
  Top ::= SEQUENCE {
    small INTEGER (-5..5, ...),
    wide INTEGER (0..65535),
    same INTEGER (4..4),
    count INTEGER (0..MAX) OPTIONAL,
    colour Colour DEFAULT green,
    lights Lights OPTIONAL,
    flags Flags OPTIONAL,
    octets OCTET STRING (SIZE (0..3, ...)) OPTIONAL,
    fixed OCTET STRING (SIZE (2)) OPTIONAL,
    name IA5String (SIZE (1..8)) OPTIONAL,
    items SEQUENCE (SIZE (1..4, ...)) OF Alt,
    node Node OPTIONAL,
    on BOOLEAN DEFAULT TRUE,
    nothing NULL OPTIONAL,
    ...,
    later INTEGER (0..3) OPTIONAL
  }
END
"""

_SPEC = asn1tools.compile_string(_MODULE, 'uper')
_TOP = build(_SPEC._types['Top']._type)
_ALT = st.one_of(
    st.tuples(st.just('a'), st.integers(0, 3)),
    st.tuples(st.just('b'), st.booleans()),
    st.tuples(st.just('c'), st.none()),  # an addition: the CHOICE's extension
)
_NODE = st.recursive(
    st.fixed_dictionaries({'value': st.integers(0, 7)}),
    lambda inner: st.fixed_dictionaries({'value': st.integers(0, 7), 'next': inner}),
    max_leaves=4,
)
_TOP_VALUES = st.fixed_dictionaries(
    {
        'small': st.integers(-300, 300),  # beyond -5..5: the INTEGER's extension
        'wide': st.integers(0, 65535),
        'same': st.just(4),
        'items': st.lists(_ALT, min_size=1, max_size=6),  # 5, 6: the SIZE's extension
    },
    optional={
        'count': st.integers(0, 1 << 40),
        'colour': st.sampled_from(['red', 'green', 'blue']),  # blue: an addition
        'lights': st.integers(1, 8).flatmap(
            lambda n: st.tuples(st.binary(min_size=1, max_size=1), st.just(n))
        ),
        'flags': st.tuples(st.binary(min_size=1, max_size=1), st.just(3)),
        'octets': st.binary(max_size=5),  # 4, 5: the SIZE's extension
        'fixed': st.binary(min_size=2, max_size=2),
        'name': st.text('abcXYZ', min_size=1, max_size=8),
        'node': _NODE,
        'on': st.booleans(),  # TRUE: the DEFAULT, not encoded
        'nothing': st.none(),
        'later': st.integers(0, 3),  # an extension addition of the SEQUENCE
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=QUIET)
@given(_TOP_VALUES)
def test_extensions_defaults_and_delegated_kinds_encode_to_asn1tools_bytes(value) -> None:
    reference = _SPEC.encode('Top', value, check_constraints=True)
    assert _TOP(value) == reference
    # what decodes from those bytes (DEFAULTs filled in, named bits trimmed) encodes to them
    assert _TOP(_SPEC.decode('Top', reference)) == reference


def test_a_bit_string_beyond_its_root_size_raises_as_in_asn1tools() -> None:
    """asn1tools does not implement that extension; the generated encoder raises too (the
    caller then lets asn1tools give its error)."""
    value = {'small': 0, 'wide': 0, 'same': 4, 'items': [('a', 1)], 'flags': (b'\x00', 4)}
    with pytest.raises(NotImplementedError):
        _SPEC.encode('Top', value)
    with pytest.raises(NotImplementedError):
        _TOP(value)


def test_an_empty_encoding_is_empty_bytes() -> None:
    spec = asn1tools.compile_string('E DEFINITIONS ::= BEGIN Z ::= SEQUENCE { n NULL } END', 'uper')
    assert build(spec._types['Z']._type)({'n': None}) == bytes(spec.encode('Z', {'n': None}))


@settings(max_examples=10, deadline=None, suppress_health_check=QUIET)
@given(for_type('BasicSafetyMessage'), for_type('SPAT'))
def test_a_frame_encoder_builds_each_alternative_on_first_use(bsm, spat) -> None:
    """The MessageFrame's encoder is built per alternative (a car sends only BSMs); one built
    for an alternative refuses another (LookupError: the caller then uses asn1tools)."""
    spec = load_schema().uper
    encoder = build(spec._types['MessageFrame']._type)
    frame = ('bsmFrame', bsm)
    assert encoder(frame) == spec.encode('MessageFrame', frame)
    assert set(encoder.encoders) == {'bsmFrame'}
    with pytest.raises(LookupError):
        encoder.encoders['bsmFrame'](('spatFrame', spat))

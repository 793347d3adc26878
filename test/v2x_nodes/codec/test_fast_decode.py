"""The generated frame decoders (``fast_decode``) agree with the asn1tools path.

``decode_frame`` tries the generated decoder of the frame's root alternative (BSM, MAP, SPAT,
RSI, RSM) first; ``decode_frame_asn1tools`` is the old path. Values drawn from the ASN.1
strategies, encoded, must decode to the same value both ways (and through the generated
decoder, not a fallback); mutated, truncated, extended and random frames of every kind must get
the same verdict, the same value when accepted and the same error text when not.
"""

from __future__ import annotations

import numpy as np
import pytest
from asn1tools.codecs import uper as _uper
from asn_strategies import for_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from v2x_nodes.codec import DecodeError, uper
from v2x_nodes.codec.fast_decode import UnsupportedError, build
from v2x_nodes.codec.schema import load_schema

K = uper.MessageKind
QUIET = list(HealthCheck)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=QUIET)


def _verdict(decoder, data: bytes) -> tuple[str, object]:
    try:
        frame = decoder(data)
    except DecodeError as err:
        return 'rejected', str(err)
    return 'accepted', (frame.kind, frame.value)


def _same(data: bytes) -> str:
    """Both paths on ``data``: asserts the same verdict and value; returns which path ran
    (``fallback-constraint``: well-formed bits, a value out of range, which the constraint
    checks written into the generated decoder must have declined)."""
    fast = uper._decode_fast(data)
    reference = _verdict(uper.decode_frame_asn1tools, data)
    assert _verdict(uper.decode_frame, data) == reference, data.hex()
    if fast is not None:
        assert reference == ('accepted', (fast.kind, fast.value)), data.hex()
        return 'fast'
    if reference[0] == 'rejected':
        try:
            uper.decode_frame_asn1tools(data)
        except DecodeError as err:
            if err.constraint:
                return 'fallback-constraint'
    return 'fallback-' + reference[0]


@FUZZ
@given(for_type('BasicSafetyMessage'))
def test_drawn_bsm_decodes_the_same_through_the_generated_decoder(value) -> None:
    data = uper.encode_frame(K.BSM, value)
    fast = uper._decode_fast(data)
    assert fast is not None, 'a plain BSM fell back to asn1tools'
    assert fast == uper.decode_frame_asn1tools(data)
    assert fast.value == value


ROOT_KINDS = sorted(uper.FRAME_ALTERNATIVES)  # BSM, MAP, SPAT, RSI, RSM


@pytest.mark.parametrize('kind', ROOT_KINDS, ids=lambda k: k.name)
def test_drawn_messages_of_every_root_kind_decode_the_same(kind) -> None:
    """MAP, SPAT, RSI, RSM (strings included) take the generated path as the BSM does."""

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=QUIET)
    @given(for_type(uper.TYPE_NAMES[kind]))
    def check(value):
        data = uper.encode_frame(kind, value)
        fast = uper._decode_fast(data)
        assert fast is not None, f'a plain {kind.name} fell back to asn1tools'
        assert fast == uper.decode_frame_asn1tools(data)
        assert fast.value == value

    check()


@settings(max_examples=40, deadline=None, suppress_health_check=QUIET)
@given(for_type(uper.TYPE_NAMES[K.SSM]))
def test_the_ssm_extension_falls_back_with_the_same_result(value) -> None:
    frame = uper.encode_frame(K.SSM, value)
    assert uper._decode_fast(frame) is None
    assert uper.decode_frame(frame) == uper.decode_frame_asn1tools(frame)


@st.composite
def _mutated(draw) -> bytes:
    kind = draw(st.sampled_from(ROOT_KINDS))
    buf = bytearray(uper.encode_frame(kind, draw(for_type(uper.TYPE_NAMES[kind]))))
    how = draw(st.sampled_from(['flip', 'byte', 'truncate', 'append', 'first-bits']))
    if how == 'flip':
        for _ in range(draw(st.integers(1, 4))):
            bit = draw(st.integers(0, 8 * len(buf) - 1))
            buf[bit // 8] ^= 0x80 >> (bit % 8)
    elif how == 'byte':
        buf[draw(st.integers(0, len(buf) - 1))] = draw(st.integers(0, 255))
    elif how == 'truncate':
        del buf[draw(st.integers(0, len(buf) - 1)) :]
    elif how == 'append':
        buf += draw(st.binary(min_size=1, max_size=3))
    else:  # the extension and choice bits at the head: extensions, other alternatives
        buf[0] ^= draw(st.integers(1, 255))
    return bytes(buf)


@FUZZ
@given(_mutated())
def test_mutated_frames_get_the_same_verdict(data: bytes) -> None:
    _same(data)


@FUZZ
@given(st.binary(max_size=80))
def test_random_frames_get_the_same_verdict(data: bytes) -> None:
    _same(data)


def test_mutated_corpus_exercises_every_outcome() -> None:
    """Seeded corpus: the comparison above means something only if the generated decoders
    accept some mutated frames and the fallback rejects others, some of them for a broken
    constraint only (the SSM extension gives the accepted fallbacks)."""
    rng = np.random.default_rng(11)
    seeds: list[bytes] = []

    others: list[bytes] = []
    few = settings(max_examples=20, deadline=None, database=None, suppress_health_check=QUIET)

    @few
    @given(st.data())
    def collect_roots(data):
        kind = data.draw(st.sampled_from(ROOT_KINDS))
        seeds.append(uper.encode_frame(kind, data.draw(for_type(uper.TYPE_NAMES[kind]))))

    @few
    @given(for_type(uper.TYPE_NAMES[K.SSM]))
    def collect_others(value):
        others.append(uper.encode_frame(K.SSM, value))

    collect_roots()
    collect_others()
    outcomes: dict[str, int] = {}
    for frame in others:
        outcome = _same(frame)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    for i in range(3000):
        buf = bytearray(seeds[i % len(seeds)])
        for _ in range(int(rng.integers(1, 3))):
            buf[int(rng.integers(0, len(buf)))] ^= 1 << int(rng.integers(0, 8))
        if i % 5 == 0:
            del buf[int(rng.integers(1, len(buf))) :]
        outcome = _same(bytes(buf))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert set(outcomes) == {
        'fast',
        'fallback-accepted',
        'fallback-rejected',
        'fallback-constraint',
    }, outcomes


@pytest.mark.parametrize('alternative', sorted(uper.FRAME_ALTERNATIVES.values()))
@pytest.mark.parametrize('checked', [False, True], ids=['unchecked', 'checks-written-in'])
def test_generator_on_every_alternative_matches_asn1tools_or_declines(
    alternative: str, checked: bool
) -> None:
    """The generator is not BSM-specific: built for each root alternative of MessageFrame, it
    gives asn1tools' value or raises ``UnsupportedError`` (open types), never another value;
    with the constraint checks written in as well."""
    compiled = load_schema().uper._types['MessageFrame']
    checker = compiled.constraints_checker._type if checked else None
    decoder = build(compiled._type, alternative, checker)
    kind = {alt: k for k, alt in uper.FRAME_ALTERNATIVES.items()}[alternative]
    matched = 0

    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=QUIET)
    @given(for_type(uper.TYPE_NAMES[kind]))
    def check(value):
        nonlocal matched
        data = uper.encode_frame(kind, value)
        reference = compiled._type.decode(_uper.Decoder(bytearray(data)))
        try:
            got, _ = decoder(data)
        except UnsupportedError:
            return
        assert got == reference
        matched += 1

    check()
    assert matched > 0  # no open types in the root alternatives: ASCII strings are covered

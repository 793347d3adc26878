"""UPER encode/decode of the message set, with every constraint checked both ways.

asn1tools does the bit work; this layer adds what the air interface needs: constraint checks
on encode *and* decode, rejection of trailing bytes beyond the octet padding, the frame's
open-type extension (``msgFrameExt`` carrying SSM), and errors that name the field path and
the broken constraint. Any exception asn1tools raises on hostile input is wrapped in
``DecodeError``: nothing else escapes ``decode``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from asn1tools.codecs import ConstraintsError, ErrorWithLocation, OutOfDataError
from asn1tools.codecs import uper as _uper

from v2x_nodes.codec import fast_encode
from v2x_nodes.codec.encode_checks import generated_check
from v2x_nodes.codec.errors import DecodeError, EncodeError
from v2x_nodes.codec.fast_decode import ChoiceDecoder
from v2x_nodes.codec.per_checks import pruned_check
from v2x_nodes.codec.schema import load_schema

FRAME_TYPE = 'MessageFrame'
EXT_ALTERNATIVE = 'msgFrameExt'


class MessageKind(IntEnum):
    """Message types; the values are ``V2xFrame.MSG_*``."""

    BSM = 1
    MAP = 2
    SPAT = 3
    RSI = 4
    RSM = 5
    SSM = 6


TYPE_NAMES: dict[MessageKind, str] = {
    MessageKind.BSM: 'BasicSafetyMessage',
    MessageKind.MAP: 'MapData',
    MessageKind.SPAT: 'SPAT',
    MessageKind.RSI: 'RoadSideInformation',
    MessageKind.RSM: 'RoadsideSafetyMessage',
    MessageKind.SSM: 'SensorSharingMsg',
}

# Root alternatives of MessageFrame (T/CSAE 53) and the extension's message ids (T/CSAE 157).
FRAME_ALTERNATIVES: dict[MessageKind, str] = {
    MessageKind.BSM: 'bsmFrame',
    MessageKind.MAP: 'mapFrame',
    MessageKind.RSM: 'rsmFrame',
    MessageKind.SPAT: 'spatFrame',
    MessageKind.RSI: 'rsiFrame',
}
EXT_MESSAGE_IDS: dict[MessageKind, int] = {MessageKind.SSM: 12}

_KIND_OF_ALTERNATIVE = {alt: kind for kind, alt in FRAME_ALTERNATIVES.items()}
_KIND_OF_EXT_ID = {mid: kind for kind, mid in EXT_MESSAGE_IDS.items()}
_OFFSET = re.compile(r'\s*\(At bit offset: (\d+)\)\s*$')


@dataclass(frozen=True)
class Frame:
    """One decoded MessageFrame: which message it carries and that message's value."""

    kind: MessageKind
    value: dict[str, Any]


def _split(type_name: str, err: Exception) -> tuple[str, str, int | None]:
    """(field path, reason, bit offset) out of an asn1tools error."""
    text = str(err)
    offset = getattr(err, 'offset', None)
    text = _OFFSET.sub('', text)
    message = getattr(err, 'message', None)
    if isinstance(err, ErrorWithLocation) and message is not None and text.endswith(message):
        path = text[: -len(message)].rstrip(': ').strip()
        return path, message, offset
    return type_name, f'{type(err).__name__}: {text}', offset


_FAST_ENCODERS: dict[str, tuple[Any, Any]] = {}


def _fast_encoder(type_name: str, compiled: Any) -> tuple[Any, Any]:
    """The one-pass type and constraint check of ``type_name`` (``encode_checks``, as
    generated code) and its generated encoder (``fast_encode``), built once."""
    pair = _FAST_ENCODERS.get(type_name)
    if pair is None:
        pair = _FAST_ENCODERS[type_name] = (
            generated_check(compiled),
            fast_encode.build(compiled._type),
        )
    return pair


def encode(type_name: str, value: Any) -> bytes:
    """UPER bytes of ``value`` (an asn1tools value) as ``type_name``.

    :raises EncodeError: unknown type, missing/unknown field, wrong type or broken constraint.
    """
    spec = load_schema().uper
    compiled = spec.types.get(type_name)
    if compiled is None:
        raise EncodeError(type_name, '', f'unknown type (known: {", ".join(sorted(spec.types))})')
    check, fast = _FAST_ENCODERS.get(type_name) or _fast_encoder(type_name, compiled)
    try:
        check(value)
        return fast(value)  # spec.encode's bytes once both checks pass
    except Exception:
        pass  # a value the fast check doubts: asn1tools' own checks give the verdict and text
    try:
        return spec.encode(type_name, value, check_constraints=True)
    except Exception as err:
        path, reason, _ = _split(type_name, err)
        raise EncodeError(type_name, path, reason) from None


class _Decoder(_uper.Decoder):
    """asn1tools' UPER bit reader with its two hot reads inlined (same results, same errors):
    they are called ~40 times per BSM and each went through ``number_of_read_bits()``."""

    def read_bit(self) -> int:
        left = self.number_of_bits
        if left == 0:
            raise OutOfDataError(self.total_number_of_bits)
        self.number_of_bits = left - 1
        return 1 if self.value[self.total_number_of_bits - left] == '1' else 0

    def read_non_negative_binary_integer(self, number_of_bits: int) -> int:
        left = self.number_of_bits
        if number_of_bits > left:
            raise OutOfDataError(self.total_number_of_bits - left)
        if number_of_bits == 0:
            return 0
        offset = self.total_number_of_bits - left
        self.number_of_bits = left - number_of_bits
        return int(self.value[offset : offset + number_of_bits], 2)


_CHECKS: dict[str, Any] = {}


def _checks(type_name: str, compiled: Any) -> Any:
    """The constraint checks a UPER decode of ``type_name`` can fail (``per_checks``)."""
    check = _CHECKS.get(type_name)
    if check is None:
        check = _CHECKS[type_name] = pruned_check(compiled)
    return check


def decode(type_name: str, data: bytes) -> Any:
    """The value of UPER ``data`` as ``type_name``; constraints checked, trailing bytes refused.

    :raises DecodeError: for any malformed, truncated, oversized or out-of-range input.
    """
    spec = load_schema().uper
    try:
        compiled = spec._types[type_name]  # asn1tools' compiled type: we need the bit count
    except KeyError:
        raise DecodeError(type_name, '', 'unknown type') from None
    decoder = _Decoder(bytearray(data))
    try:
        try:
            value = compiled._type.decode(decoder)
        except ErrorWithLocation as err:
            err.add_location(compiled._type)
            raise
        used_bits = decoder.number_of_read_bits()
        _checks(type_name, compiled)(value)
    except Exception as err:
        path, reason, offset = _split(type_name, err)
        error = DecodeError(type_name, path, reason, offset)
        error.constraint = isinstance(err, ConstraintsError)
        raise error from None
    used_bytes = max(1, (used_bits + 7) // 8)
    if len(data) > used_bytes:
        raise DecodeError(
            type_name,
            '',
            f'{len(data) - used_bytes} trailing byte(s) after a {used_bytes}-byte encoding',
            used_bits,
        )
    return value


def encode_frame(kind: MessageKind, value: dict[str, Any]) -> bytes:
    """A UPER MessageFrame carrying ``value`` (the message, e.g. a BasicSafetyMessage)."""
    if kind in FRAME_ALTERNATIVES:
        return encode(FRAME_TYPE, (FRAME_ALTERNATIVES[kind], value))
    inner = encode(TYPE_NAMES[kind], value)
    ext = {'messageId': EXT_MESSAGE_IDS[kind], 'value': inner}
    return encode(FRAME_TYPE, (EXT_ALTERNATIVE, ext))


def build_frame_encoders(kinds: Any) -> None:
    """Build the checks and generated encoders of frames carrying ``kinds`` now (a sender's
    start: ~10 ms per message type), not on the first frame of each."""
    spec = load_schema().uper
    check, fast = _fast_encoder(FRAME_TYPE, spec.types[FRAME_TYPE])
    for kind in kinds:
        if kind in FRAME_ALTERNATIVES:
            check.prepare(FRAME_ALTERNATIVES[kind])
            fast.prepare(FRAME_ALTERNATIVES[kind])
        else:  # the inner message of the extension (the frame itself is asn1tools')
            _fast_encoder(TYPE_NAMES[kind], spec.types[TYPE_NAMES[kind]])


_FAST_FRAME: list[tuple[ChoiceDecoder, Any]] = []


def _fast_frame() -> tuple[ChoiceDecoder, Any]:
    """The generated decoders of a MessageFrame's root alternatives (``fast_decode``, each
    built on its first frame), built once, with the frame's pruned post-decode checks written
    into them (else returned apart, to run on the value)."""
    if not _FAST_FRAME:
        compiled = load_schema().uper._types[FRAME_TYPE]
        checker = compiled.constraints_checker._type
        decoder = ChoiceDecoder(compiled._type, FRAME_ALTERNATIVES.values(), checker)
        check = None if decoder.checked else _checks(FRAME_TYPE, compiled)
        _FAST_FRAME.append((decoder, check))
    return _FAST_FRAME[0]


def build_frame_decoders() -> None:
    """Generate the frame decoders now (~40 ms for all), not on the first frame of each kind:
    a receiver calls this at start, off the latency path."""
    _fast_frame()[0].build_all()


def _decode_fast(data: bytes) -> Frame | None:
    """A frame through the generated decoders, with the same post-decode checks and
    trailing-byte rule as ``decode``; None where asn1tools must decide (the SSM extension,
    extensions, truncated or broken input): it then gives the value or the error text."""
    decoder, check = _FAST_FRAME[0] if _FAST_FRAME else _fast_frame()
    try:
        value, used_bits = decoder(data)
        if check is not None:  # not written into the generated code
            check(value)
    except Exception:
        return None
    if len(data) > max(1, (used_bits + 7) // 8):
        return None
    return Frame(_KIND_OF_ALTERNATIVE[value[0]], value[1])


def decode_frame(data: bytes) -> Frame:
    """The message inside a UPER MessageFrame (the SSM open type decoded as well).

    A root alternative (BSM, MAP, SPAT, RSI, RSM) goes through its generated decoder first
    (``fast_decode``, same values).

    :raises DecodeError: malformed frame, unknown alternative or extension message id.
    """
    frame = _decode_fast(data)
    if frame is not None:
        return frame
    return decode_frame_asn1tools(data)


def decode_frame_asn1tools(data: bytes) -> Frame:
    """``decode_frame`` with asn1tools alone: the reference the generated decoder must match.

    :raises DecodeError: malformed frame, unknown alternative or extension message id.
    """
    alternative, value = decode(FRAME_TYPE, data)
    if alternative in _KIND_OF_ALTERNATIVE:
        return Frame(_KIND_OF_ALTERNATIVE[alternative], value)
    if alternative == EXT_ALTERNATIVE:
        message_id = value['messageId']
        kind = _KIND_OF_EXT_ID.get(message_id)
        if kind is None:
            supported = ', '.join(str(i) for i in sorted(_KIND_OF_EXT_ID))
            raise DecodeError(
                FRAME_TYPE,
                'msgFrameExt.messageId',
                f'unsupported extension message id {message_id} (supported: {supported})',
            )
        inner = decode(TYPE_NAMES[kind], value['value'])
        return Frame(kind, inner)
    raise DecodeError(FRAME_TYPE, '', 'an extension alternative this schema does not know')

"""Errors of the V2X codec. Callers catch ``CodecError``; each subclass names one cause.

Messages say what, where, expected and got: the ASN.1 type, the dotted field path inside it,
the constraint that was broken (as asn1tools states it) and, for decoding, the bit offset.
"""

from __future__ import annotations


class CodecError(Exception):
    """Base of every error raised by ``v2x_nodes.codec``."""


class SchemaError(CodecError):
    """The ASN.1 modules do not parse or compile (a packaging fault, never bad input)."""


class FieldError(CodecError):
    """A value broke a rule of the schema; names the type, the field path and the constraint."""

    def __init__(self, type_name: str, path: str, reason: str, offset_bits: int | None = None):
        self.type_name = type_name
        self.path = path
        self.reason = reason
        self.offset_bits = offset_bits
        where = f' (at bit {offset_bits})' if offset_bits is not None else ''
        super().__init__(f'{type_name}: field {path or type_name}: {reason}{where}')


class EncodeError(FieldError):
    """A value cannot be encoded: out of range, wrong type, missing or unknown field."""


class DecodeError(FieldError):
    """Bytes do not decode: truncated, malformed, out of range or trailing garbage.

    ``constraint`` is True when the bits were well formed but a value broke a constraint of
    the schema (out of range, wrong size): receivers count that apart from malformed bytes.
    """

    constraint: bool = False


class ConversionError(CodecError):
    """A ROS message cannot be represented in the standard (or the reverse); names the field."""

    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f'{field}: {reason}')


class InputFormatError(CodecError):
    """CLI input is not what the command reads (not hex, not JSON); names the line."""

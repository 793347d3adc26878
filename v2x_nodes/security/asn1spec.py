"""The compiled 1609.2 subset (``ieee1609dot2.asn``) and strict COER encode/decode with it.

asn1tools' OER codec is the codec of record for every structure here. Two things it does not
do are added: a canonical check (decode, re-encode, compare: COER has exactly one encoding per
value, and 1609.2 hashes the bytes as received) and the length of the value that starts a
buffer (asn1tools' OER has no ``decode_with_length``), both derived from the re-encoding.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import asn1tools

from v2x_nodes.security.errors import DecodeError, EncodeError

SPEC_PATH = Path(__file__).with_name('ieee1609dot2.asn')

# DEFAULT values of PsidGroupPermissions as asn1tools decodes them; a canonical encoder omits
# a member equal to its default, so they are dropped before re-encoding (see ``_strip_defaults``).
_GROUP_DEFAULTS = {'minChainLength': 1, 'chainLengthRange': 0, 'eeType': (b'\x80', 1)}


@functools.cache
def spec() -> asn1tools.compiler.Specification:
    """The compiled specification (compiled once per process)."""
    return asn1tools.compile_files(str(SPEC_PATH), 'oer')


def encode(type_name: str, value: Any) -> bytes:
    """COER of ``value`` as ``type_name``, constraints checked; raises EncodeError."""
    try:
        return bytes(spec().encode(type_name, value, check_constraints=True))
    except (asn1tools.Error, KeyError, TypeError, ValueError, AttributeError) as err:
        raise EncodeError(f'cannot encode {type_name}: {err}') from None


def _strip_defaults(value: Any) -> Any:
    """A copy of a decoded value without members equal to their DEFAULT (PsidGroupPermissions)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _GROUP_DEFAULTS and item == _GROUP_DEFAULTS[key]:
                continue
            out[key] = _strip_defaults(item)
        return out
    if isinstance(value, list):
        return [_strip_defaults(item) for item in value]
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return (value[0], _strip_defaults(value[1]))
    return value


def decode_prefix(type_name: str, data: bytes) -> tuple[Any, int]:
    """Decode the ``type_name`` value at the start of ``data``: (value, its length in bytes).

    Raises DecodeError when the bytes do not decode, break a constraint, or are not the
    canonical (COER) encoding of the value.
    """
    try:
        value = spec().decode(type_name, data)
    except Exception as err:
        raise DecodeError(f'{type_name}: not valid COER ({type(err).__name__}: {err})') from None
    value = _strip_defaults(value)
    try:
        canonical = encode(type_name, value)
    except EncodeError as err:
        raise DecodeError(f'{type_name}: constraint broken: {err}') from None
    if data[: len(canonical)] != canonical:
        raise DecodeError(f'{type_name}: not the canonical (COER) encoding of its value')
    return value, len(canonical)


def decode(type_name: str, data: bytes) -> Any:
    """Decode exactly ``data`` as ``type_name`` (no trailing bytes); raises DecodeError."""
    value, length = decode_prefix(type_name, data)
    if length != len(data):
        raise DecodeError(f'{type_name}: {len(data) - length} trailing bytes after the value')
    return value

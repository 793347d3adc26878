"""JSON encoding rules (X.697, as asn1tools' ``jer`` codec writes them) for the CLI and tests.

One gap in asn1tools' JER: the open type inside ``MessageFrameExt`` (the frame extension that
carries SSM). Our convention, documented in docs/codec.md: that ``value`` is written as the
uppercase hex of the inner message's UPER, and read back the same way. The inner bytes are
still decoded on input, so an invalid SSM inside a frame is refused with its own field path.
"""

from __future__ import annotations

import json
from typing import Any

from v2x_nodes.codec import uper
from v2x_nodes.codec.errors import DecodeError, EncodeError
from v2x_nodes.codec.schema import load_schema


def _check_open_type(type_name: str, value: Any) -> None:
    """Decode the SSM (or other known) open type of a frame value so errors are caught early."""
    if type_name != uper.FRAME_TYPE or not isinstance(value, tuple):
        return
    alternative, body = value
    if alternative != uper.EXT_ALTERNATIVE:
        return
    kind = {mid: k for k, mid in uper.EXT_MESSAGE_IDS.items()}.get(body['messageId'])
    if kind is None:
        return  # an extension message this schema does not describe: carried as given
    try:
        uper.decode(uper.TYPE_NAMES[kind], body['value'])
    except DecodeError as err:
        raise EncodeError(
            type_name, f'{type_name}.msgFrameExt.value', f'invalid inner {err}'
        ) from None


def value_from_jer(type_name: str, text: str | bytes) -> Any:
    """The asn1tools value of one JER document of ``type_name``.

    :raises EncodeError: not JSON, or not a valid ``type_name`` value (field path named).
    """
    spec = load_schema().jer
    if type_name not in spec.types:
        raise EncodeError(type_name, '', 'unknown type')
    try:
        value = spec.decode(type_name, text.encode() if isinstance(text, str) else text)
    except json.JSONDecodeError as err:
        raise EncodeError(type_name, '', f'input is not JSON: {err}') from None
    except Exception as err:
        path, reason, _ = uper._split(type_name, err)
        raise EncodeError(type_name, path, reason) from None
    _check_open_type(type_name, value)
    return value


def jer_from_value(type_name: str, value: Any, *, indent: int | None = None) -> str:
    """JER text of an asn1tools value (open type as uppercase hex of its UPER)."""
    spec = load_schema().jer
    try:
        text = spec.encode(type_name, value, check_constraints=True)
    except Exception as err:
        path, reason, _ = uper._split(type_name, err)
        raise EncodeError(type_name, path, reason) from None
    if indent is None:
        return text.decode()
    return json.dumps(json.loads(text), indent=indent)


def jer_to_uper(type_name: str, text: str | bytes) -> bytes:
    """UPER bytes of one JER document."""
    return uper.encode(type_name, value_from_jer(type_name, text))


def uper_to_jer(type_name: str, data: bytes, *, indent: int | None = None) -> str:
    """JER text of UPER bytes (constraints checked on decode)."""
    return jer_from_value(type_name, uper.decode(type_name, data), indent=indent)

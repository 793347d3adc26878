"""China message set codec: T/CSAE 53-2020 (= YD/T 3709-2020) and T/CSAE 157-2020 SSM in UPER.

``uper`` encodes and decodes frames with every constraint checked; ``convert`` turns the
decoded values into the project's ROS messages and back (all unit conversion happens there);
``jer`` reads and writes the JSON encoding rules for the CLI.
"""

from v2x_nodes.codec.errors import (
    CodecError,
    ConversionError,
    DecodeError,
    EncodeError,
    FieldError,
    SchemaError,
)

_UPER_NAMES = ('Frame', 'MessageKind', 'decode', 'decode_frame', 'encode', 'encode_frame')


def __getattr__(name: str) -> object:
    """The UPER names load asn1tools (~0.2 s) on first use, so importing the package is cheap."""
    if name in _UPER_NAMES:
        from v2x_nodes.codec import uper

        return getattr(uper, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    'CodecError',
    'ConversionError',
    'DecodeError',
    'EncodeError',
    'FieldError',
    'Frame',
    'MessageKind',
    'SchemaError',
    'decode',
    'decode_frame',
    'encode',
    'encode_frame',
]

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
from v2x_nodes.codec.uper import Frame, MessageKind, decode, decode_frame, encode, encode_frame

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

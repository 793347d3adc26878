"""Errors of the runtime layer. Callers catch ``RuntimeLayerError``; each subclass names a cause."""


class RuntimeLayerError(Exception):
    """Base of every error raised by v2x_runtime."""


class MessageError(RuntimeLayerError):
    """A message type is unknown, or bytes do not (de)serialise."""


class ParameterError(RuntimeLayerError):
    """A parameter declaration or value is invalid (wrong type, out of range, unknown)."""


class TopologyError(RuntimeLayerError):
    """A topology file is invalid; the message names the file, the component and the field."""


class BagError(RuntimeLayerError):
    """A rosbag2 cannot be opened, read or written; the message names the path."""

"""Errors of the GNSS driver package: one base, a few precise subclasses.

Bad sentences are not exceptions: the parser returns a counted ``Rejection`` (see nmea.py).
These are raised for configuration and transport problems, which the caller must see.
"""

from v2x_runtime.errors import ParameterError


class GnssError(Exception):
    """Base of every error raised by ``vehicle_nodes.gnss``."""


class TransportError(GnssError):
    """A transport that cannot be opened or configured (port, address, device)."""


class NotReadyError(TransportError):
    """The link is still being established: nothing was sent, nothing is wrong yet."""


class ConfigError(GnssError, ParameterError):
    """A parameter combination the driver cannot run with; names the parameter."""

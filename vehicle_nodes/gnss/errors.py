"""Errors of the GNSS driver package: one base, a few precise subclasses.

Bad sentences are not exceptions: the parser returns a counted ``Rejection`` (see nmea.py).
These are raised for configuration and transport problems, which the caller must see.
"""


class GnssError(Exception):
    """Base of every error raised by ``vehicle_nodes.gnss``."""


class TransportError(GnssError):
    """A transport that cannot be opened or configured (port, address, device)."""


class ConfigError(GnssError):
    """A parameter combination the driver cannot run with; names the parameter."""

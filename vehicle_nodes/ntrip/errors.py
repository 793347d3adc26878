"""Errors of the NTRIP client package: one base, a few precise subclasses.

Caster refusals and dropped connections are outcomes the session counts and retries; these
exceptions are for what a caller must see (bad configuration, an unusable response).
"""

from v2x_runtime.errors import ParameterError


class NtripError(Exception):
    """Base of every error raised by ``vehicle_nodes.ntrip``."""


class ConfigError(NtripError, ParameterError):
    """A parameter the client cannot run with; the message names it."""


class ProtocolError(NtripError):
    """A caster response that does not follow NTRIP/HTTP (status line, chunk size, table)."""


class SourceTableError(ProtocolError):
    """A source table line that does not parse; names the line number and field."""

"""Errors of the V2X applications. Callers catch ``ApplicationError``.

Bad remote data never raises: it is ignored for triggering and counted in diagnostics.
These exceptions are for configuration: a map that cannot be loaded, an unknown application.
"""


class ApplicationError(Exception):
    """Base of every error raised by v2x_nodes.applications."""


class ConfigError(ApplicationError):
    """A parameter or file the applications need is missing or invalid (says which and why)."""

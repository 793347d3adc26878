"""Errors of the coordinate package: one base, a few precise subclasses."""


class GeoError(Exception):
    """Base of every error raised by ``geo``."""


class ZoneError(GeoError):
    """A Gauss-Krüger zone or central meridian outside the defined set."""


class CoordinateError(GeoError):
    """Input coordinates that cannot be transformed (out of range, NaN, shape mismatch)."""

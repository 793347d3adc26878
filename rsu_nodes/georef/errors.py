"""Errors of the georeferencing area."""


class GeorefError(Exception):
    """Base of the georeferencing errors."""


class ExtrinsicsError(GeorefError):
    """Sensor extrinsics that cannot be used (wrong length, not finite)."""

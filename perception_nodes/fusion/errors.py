"""Errors of the cooperative fusion area: one base, a few kinds."""

from __future__ import annotations


class FusionError(Exception):
    """Base of every error raised by ``perception_nodes.fusion``."""


class FusionConfigError(FusionError):
    """A fusion parameter is out of range or inconsistent (raised at start-up)."""


class ObjectInputError(FusionError):
    """A reported object cannot be used (non-finite value, bad covariance, unknown frame)."""


class TransformError(FusionError):
    """No ego pose to bring a vehicle-frame object into the map frame."""

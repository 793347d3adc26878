"""Errors of the fusion area."""

from __future__ import annotations


class FusionError(Exception):
    """Base of every error the fusion package raises."""


class ConfigError(FusionError):
    """A filter setting out of range: names the field, the expected range and the value."""

"""Errors of the event detection area."""


class EventError(Exception):
    """Base of the event detection errors."""


class EventConfigError(EventError):
    """A detector configuration that cannot work (bad code table entry, map without lanes)."""

"""Errors of the by-wire area: one base, a few kinds. Messages say what, where, expected, got."""

from __future__ import annotations


class BywireError(Exception):
    """Base of every error raised by ``vehicle_nodes.bywire``."""


class GateConfigError(BywireError):
    """The gate's configuration is inconsistent (sources, priorities, limits)."""


class DbcError(BywireError):
    """A DBC file cannot be read or does not describe what the kit layer needs."""


class FrameError(BywireError):
    """A CAN frame cannot be encoded or decoded (unknown id, bad length, out of range)."""


class CandumpFormatError(BywireError):
    """A line of a candump log does not follow ``(sec.usec) iface id#data``."""


class BusError(BywireError):
    """The CAN interface cannot be opened or used."""

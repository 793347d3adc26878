"""Errors of the tracker: one base and the kinds a caller tells apart."""

from __future__ import annotations


class TrackingError(Exception):
    """Base of every error raised by ``perception_nodes.tracking``."""

    reason = 'tracking_error'


class TrackerConfigError(TrackingError):
    """A tracker parameter is out of range (names the field, the expected and the given value)."""

    reason = 'config'


class TimeOrderError(TrackingError):
    """A detection set is not newer than the tracker's last one (time went backwards or stood)."""

    reason = 'time_backwards'


class MeasurementError(TrackingError):
    """A detection set has non-finite values or inconsistent array lengths."""

    reason = 'bad_detections'

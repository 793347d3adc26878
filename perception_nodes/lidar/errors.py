"""Errors of the lidar pipeline: one base, a few kinds, each with a diagnostics reason code."""

from __future__ import annotations


class LidarError(Exception):
    """Base of every error raised by ``perception_nodes.lidar``."""

    reason = 'lidar_error'


class CloudFieldError(LidarError):
    """A PointCloud2 lacks x/y/z, or a field has a type or offset the pipeline cannot read."""

    reason = 'wrong_fields'


class CloudLayoutError(LidarError):
    """A PointCloud2's sizes (width, height, point_step, row_step, data) do not agree."""

    reason = 'bad_layout'


class CloudTooLargeError(LidarError):
    """A PointCloud2 holds more points than the configured maximum."""

    reason = 'oversized'


class LidarConfigError(LidarError):
    """A pipeline parameter is invalid (names the field, the expected and the given value)."""

    reason = 'config'

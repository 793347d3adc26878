"""Multi-object tracking: IMM (constant velocity + coordinated turn) Kalman filters per track,
Mahalanobis-gated Hungarian assignment, tentative/confirmed/lost life cycle, stable ids."""

from perception_nodes.tracking.errors import (
    MeasurementError,
    TimeOrderError,
    TrackerConfigError,
    TrackingError,
)
from perception_nodes.tracking.imm import ImmParams
from perception_nodes.tracking.tracker import (
    DetectionSet,
    MultiObjectTracker,
    Track,
    TrackerConfig,
    TrackStatus,
)

__all__ = [
    'DetectionSet',
    'ImmParams',
    'MeasurementError',
    'MultiObjectTracker',
    'TimeOrderError',
    'Track',
    'TrackStatus',
    'TrackerConfig',
    'TrackerConfigError',
    'TrackingError',
]

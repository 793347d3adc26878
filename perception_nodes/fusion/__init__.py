"""Cooperative perception: late (object-level) fusion of onboard, roadside and V2V objects.

Time alignment, sender error and ego pose folded into covariances, gated globally optimal
association, covariance intersection, stable fused ids; the CooperativeFusion and
EgoMotionCompensation components live in ``component`` and ``ego_motion``.
"""

from perception_nodes.fusion.engine import FusedObject, FusionConfig, FusionEngine
from perception_nodes.fusion.errors import (
    FusionConfigError,
    FusionError,
    ObjectInputError,
    TransformError,
)
from perception_nodes.fusion.intersection import FusionMethod, fuse_pairs
from perception_nodes.fusion.reports import CovariancePriors, ObjectReport, SourceKind

__all__ = [
    'CovariancePriors',
    'FusedObject',
    'FusionConfig',
    'FusionConfigError',
    'FusionEngine',
    'FusionError',
    'FusionMethod',
    'ObjectInputError',
    'ObjectReport',
    'SourceKind',
    'TransformError',
    'fuse_pairs',
]

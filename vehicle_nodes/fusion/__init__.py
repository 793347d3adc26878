"""GNSS + IMU + wheel-speed fusion: a planar EKF and the localisation component."""

from vehicle_nodes.fusion.ekf import FilterConfig, PlanarEkf, UpdateResult
from vehicle_nodes.fusion.errors import ConfigError, FusionError
from vehicle_nodes.fusion.localizer import Estimate, FixKind, Localizer, LocalizerConfig, Outcome
from vehicle_nodes.fusion.skid import Skid, SkidConfig

__all__ = [
    'ConfigError',
    'Estimate',
    'FilterConfig',
    'FixKind',
    'FusionError',
    'Localizer',
    'LocalizerConfig',
    'Outcome',
    'PlanarEkf',
    'Skid',
    'SkidConfig',
    'UpdateResult',
]

"""The rigid transform of a roadside sensor into the map frame, applied to object arrays.

The lidar's pose in ``map`` is a translation and roll/pitch/yaw (static axes x, y, z, REP 103)
as surveyed at installation. Objects are transformed as whole numpy arrays: positions,
velocities, body yaw and the [x, y, vx, vy] covariance (J C Jᵀ with the planar block of the
rotation), plus the calibration uncertainty on the position.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import transforms3d

from rsu_nodes.georef.errors import ExtrinsicsError

FloatArray = np.ndarray


_UNKNOWN_COV = np.diag([-1.0, -1.0, -1.0, -1.0])  # the -1 diagonal of "unknown"


@dataclass(frozen=True)
class SensorPose:
    """Pose of a sensor in the map frame; ``position_sigma_m`` is the survey accuracy."""

    translation_m: tuple[float, float, float]
    rpy_rad: tuple[float, float, float]
    position_sigma_m: float = 0.0
    yaw_sigma_rad: float = 0.0
    rotation: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = (*self.translation_m, *self.rpy_rad, self.position_sigma_m, self.yaw_sigma_rad)
        if len(self.translation_m) != 3 or len(self.rpy_rad) != 3:
            raise ExtrinsicsError(
                f'extrinsics: expected translation_m and rpy_rad of 3 values, got '
                f'{len(self.translation_m)} and {len(self.rpy_rad)}'
            )
        if not all(math.isfinite(v) for v in values):
            raise ExtrinsicsError(f'extrinsics: expected finite values, got {values}')
        rot = transforms3d.euler.euler2mat(*self.rpy_rad, axes='sxyz')
        rot.setflags(write=False)
        object.__setattr__(self, 'rotation', rot)

    @classmethod
    def from_lists(
        cls,
        translation_m: Sequence[float],
        rpy_rad: Sequence[float],
        position_sigma_m: float = 0.0,
        yaw_sigma_rad: float = 0.0,
    ) -> SensorPose:
        return cls(
            tuple(float(v) for v in translation_m),  # type: ignore[arg-type]
            tuple(float(v) for v in rpy_rad),  # type: ignore[arg-type]
            float(position_sigma_m),
            float(yaw_sigma_rad),
        )

    def points_to_map(self, xyz: FloatArray) -> FloatArray:
        """(n, 3) sensor-frame points → map frame."""
        return xyz @ self.rotation.T + np.asarray(self.translation_m)

    def points_to_sensor(self, xyz: FloatArray) -> FloatArray:
        """(n, 3) map-frame points → sensor frame (the inverse of ``points_to_map``)."""
        return (xyz - np.asarray(self.translation_m)) @ self.rotation

    def vectors_to_map(self, v: FloatArray) -> FloatArray:
        """(n, 3) free vectors (velocities) → map frame."""
        return v @ self.rotation.T

    def yaw_to_map(self, yaw_rad: FloatArray) -> FloatArray:
        """Body yaw in the sensor frame → yaw of the rotated body x axis in the map frame."""
        yaw = np.asarray(yaw_rad, float)
        axis = np.stack([np.cos(yaw), np.sin(yaw), np.zeros_like(yaw)], axis=-1)
        rotated = axis @ self.rotation.T
        return np.arctan2(rotated[..., 1], rotated[..., 0])

    def covariance_to_map(self, cov: FloatArray) -> FloatArray:
        """(n, 4, 4) covariances of [x, y, vx, vy] → map frame; unknown (-1 diagonal) stays.

        The planar block of the rotation carries the xy part (exact for a level sensor, the
        usual roadside mounting; pitch/roll only mix in the unmodelled z variance).
        """
        cov = np.asarray(cov, float).reshape(-1, 4, 4)
        r2 = self.rotation[:2, :2]
        jac = np.zeros((4, 4))
        jac[:2, :2] = r2
        jac[2:, 2:] = r2
        out = jac @ cov @ jac.T
        out[:, 0, 0] += self.position_sigma_m**2
        out[:, 1, 1] += self.position_sigma_m**2
        unknown = (np.diagonal(cov, axis1=1, axis2=2) < 0.0).any(axis=1)
        if unknown.any():  # detections (velocity unknown); tracks never
            out[unknown] = _UNKNOWN_COV
        return out

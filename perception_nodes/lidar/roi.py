"""Region of interest: a BEV polygon plus a height band, rasterised once for O(1) point tests."""

from __future__ import annotations

import numpy as np

from perception_nodes.lidar.errors import LidarConfigError
from perception_nodes.lidar.geometry import polygon_area, polygon_raster
from perception_nodes.lidar.grid import BevGrid


class RegionOfInterest:
    """Keeps points whose (x, y) fall in ``polygon`` and whose z lies in [z_min_m, z_max_m].

    The polygon is rasterised at ``cell_m`` on construction, so a frame costs one grid lookup
    per point instead of an edge loop; the boundary is exact to ``cell_m``.
    """

    def __init__(
        self, polygon_xy_m: np.ndarray, *, z_min_m: float, z_max_m: float, cell_m: float = 0.1
    ) -> None:
        poly = np.asarray(polygon_xy_m, dtype=np.float64).reshape(-1, 2)
        if len(poly) < 3 or abs(polygon_area(poly)) <= 0.0 or not np.isfinite(poly).all():
            raise LidarConfigError(
                f'roi polygon: expected >= 3 finite vertices enclosing an area, got {poly.tolist()}'
            )
        if not z_min_m < z_max_m:
            raise LidarConfigError(f'roi z range: expected z_min < z_max, got {z_min_m}, {z_max_m}')
        self.polygon = poly
        self.z_min_m, self.z_max_m = float(z_min_m), float(z_max_m)
        lo, hi = poly.min(axis=0), poly.max(axis=0)
        self.grid = BevGrid.covering(lo[0], lo[1], hi[0], hi[1], cell_m)
        self.mask_flat = polygon_raster(poly, *self.grid.axes()).ravel()
        # a rectangle filling its grid (the usual ROI): the grid bounds alone decide
        self._whole_grid = bool(self.mask_flat.all())

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        lo, hi = self.polygon.min(axis=0), self.polygon.max(axis=0)
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])

    def mask(self, xyz_m: np.ndarray) -> np.ndarray:
        """Boolean mask of the points inside the region."""
        z = xyz_m[:, 2]
        if self._whole_grid:
            inside = self.grid.contains(xyz_m)
            inside &= z >= self.z_min_m
            inside &= z <= self.z_max_m
            return inside
        ix, iy, inside = self.grid.indices(xyz_m)
        inside &= z >= self.z_min_m
        inside &= z <= self.z_max_m
        idx = np.flatnonzero(inside)  # index arrays: far cheaper than boolean masks here
        flat = self.grid.flat_index(ix[idx], iy[idx])  # only where inside: fewer to compute
        keep = np.zeros(xyz_m.shape[0], dtype=bool)
        keep[idx[self.mask_flat[flat]]] = True
        return keep

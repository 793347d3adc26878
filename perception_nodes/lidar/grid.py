"""A fixed BEV grid (origin, cell size, shape) shared by the ROI, ground and clustering steps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BevGrid:
    """Cells of ``cell_m`` from ``(x0_m, y0_m)``; ``nx`` along x, ``ny`` along y."""

    x0_m: float
    y0_m: float
    cell_m: float
    nx: int
    ny: int

    @classmethod
    def covering(
        cls, x_min: float, y_min: float, x_max: float, y_max: float, cell_m: float
    ) -> BevGrid:
        """The grid of ``cell_m`` cells that covers the given rectangle."""
        nx = max(1, int(np.ceil((x_max - x_min) / cell_m)))
        ny = max(1, int(np.ceil((y_max - y_min) / cell_m)))
        return cls(float(x_min), float(y_min), float(cell_m), nx, ny)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.nx, self.ny)

    def indices(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cell (ix, iy) of each point and a mask of the points inside the grid."""
        inv = np.float32(1.0 / self.cell_m)
        ix = np.floor((xy[:, 0] - np.float32(self.x0_m)) * inv).astype(np.int32)
        iy = np.floor((xy[:, 1] - np.float32(self.y0_m)) * inv).astype(np.int32)
        # negative indices seen as uint32 are huge: one comparison checks both bounds
        inside = (ix.view(np.uint32) < self.nx) & (iy.view(np.uint32) < self.ny)
        return ix, iy, inside

    def flat(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat cell index (``ix * ny + iy``, -1 outside) and the inside mask."""
        ix, iy, inside = self.indices(xy)
        flat = ix * np.int32(self.ny)
        flat += iy
        flat[~inside] = -1
        return flat, inside

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y of every cell centre, each (nx, ny)."""
        xs = self.x0_m + (np.arange(self.nx) + 0.5) * self.cell_m
        ys = self.y0_m + (np.arange(self.ny) + 0.5) * self.cell_m
        return np.meshgrid(xs, ys, indexing='ij')

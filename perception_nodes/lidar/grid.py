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

    def cells(self, coord: np.ndarray, axis: int, out: np.ndarray | None = None) -> np.ndarray:
        """``(coord - origin) / cell_m`` along ``axis`` (0: x, 1: y) in float32 arithmetic,
        the position in cells that every index below is taken from (into ``out`` if given)."""
        q = np.subtract(coord, np.float32(self.x0_m if axis == 0 else self.y0_m), out=out)
        q *= np.float32(1.0 / self.cell_m)
        return q

    def indices(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cell (ix, iy) of each point and a mask of the points inside the grid."""
        ix = np.floor(self.cells(xy[:, 0], 0)).astype(np.int32)
        iy = np.floor(self.cells(xy[:, 1], 1)).astype(np.int32)
        # negative indices seen as uint32 are huge: one comparison checks both bounds
        inside = (ix.view(np.uint32) < self.nx) & (iy.view(np.uint32) < self.ny)
        return ix, iy, inside

    def contains(self, xy: np.ndarray) -> np.ndarray:
        """``indices``' inside mask without the cell indices: with q = ``cells``,
        ``0 <= floor(q) < n`` is ``0 <= q < n``, so the floor, the int casts and their
        temporaries go (the ROI tests every point of every frame)."""
        q = self.cells(xy[:, 0], 0)
        inside = q >= 0.0
        inside &= q < self.nx
        q = self.cells(xy[:, 1], 1, out=q)
        inside &= q >= 0.0
        inside &= q < self.ny
        return inside

    def flat(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat cell index (``ix * ny + iy``, -1 outside) and the inside mask."""
        ix, iy, inside = self.indices(xy)
        flat = self.flat_index(ix, iy)
        flat[~inside] = -1
        return flat, inside

    def flat_index(self, ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
        """``ix * ny + iy`` (int32) of cell indices (of ``indices``, where inside)."""
        flat = ix * np.int32(self.ny)
        flat += iy
        return flat

    def clamped_flat(self, xy: np.ndarray) -> np.ndarray:
        """Flat cell index of each point, off-grid points in the nearest edge cell.

        Truncation instead of floor (they differ only below 0, which the clip sends to cell 0
        either way) and in-place arithmetic: the ground height of every point of every frame
        is looked up by it.
        """
        ix = self.cells(xy[:, 0], 0).astype(np.int32)
        iy = self.cells(xy[:, 1], 1).astype(np.int32)
        np.clip(ix, 0, self.nx - 1, out=ix)
        np.clip(iy, 0, self.ny - 1, out=iy)
        ix *= np.int32(self.ny)
        ix += iy
        return ix

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """x of the cell centres along x (nx,) and y along y (ny,)."""
        xs = self.x0_m + (np.arange(self.nx) + 0.5) * self.cell_m
        ys = self.y0_m + (np.arange(self.ny) + 0.5) * self.cell_m
        return xs, ys

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y of every cell centre, each (nx, ny)."""
        return np.meshgrid(*self.axes(), indexing='ij')

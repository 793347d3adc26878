"""Background model for a static lidar: voxel occupancy learned over frames, forgotten slowly.

Each voxel counts the update frames in which it held at least one point. A point is background
when its voxel (or the one above or below it, which absorbs range noise on floors and roofs)
was occupied in at least ``occupied_fraction`` of those frames. The first ``learn_frames``
frames all update the model; after that every ``update_every``-th frame does, and the counts
are halved whenever the frame count reaches ``2 * window_updates``, so something that stays put
for about ``occupied_fraction * window_updates`` updates (a parked car, new road works) becomes
background, and something that leaves stops being background after a similar time.

Learning ends with a consolidation: a voxel occupied in fewer than ``occupied_fraction`` of
the learning frames (traffic passing) is forgotten, the others keep their share, and the
counts are rescaled as if the learning window had lasted ``window_updates`` updates. Without
it the 20 learning frames weighed like 20 later updates, so a young model absorbed anything
that stood still for ``k / (20 + k) >= occupied_fraction`` updates (5 updates, 5 s at the
shipped schedule) - a car waiting at the first red after start-up. Now a young model forgets
and absorbs as slowly as a mature one.

Range noise moves a return along its beam, and a return that sits near a voxel face then lands
now in one voxel, now in the next; the rarer of the two stays under the threshold, so the point
leaks as foreground whenever it falls there. A wall met at grazing incidence is made of such
returns (a few cm of range noise run along the wall), and its leaked points cluster into thin
lines along the line of sight. So a point not explained by its own voxel is also looked up
``range_tolerance_m`` nearer and farther along its beam (the sensor is at the origin: points
are in the sensor frame); before this a roadside lidar two metres off a building corner saw
~430 wall fragments in 48 s, one of them taken for a cyclist (issue 9, seed 5).

Queries cost one gather per point and its two vertical neighbours, plus two more of each for
the few points left as foreground; nothing is recomputed over the whole grid except the rare
halving.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception_nodes.lidar.errors import LidarConfigError
from perception_nodes.lidar.rows import take_rows


@dataclass(frozen=True)
class BackgroundConfig:
    """Voxel sizes (m), learning length and the slow-update schedule."""

    voxel_xy_m: float = 0.3
    voxel_z_m: float = 0.2
    learn_frames: int = 20
    occupied_fraction: float = 0.2
    update_every: int = 10
    window_updates: int = 600
    range_tolerance_m: float = 0.1  # ~3-5 sigma of a lidar's range noise; 0: off

    def __post_init__(self) -> None:
        if not (self.voxel_xy_m > 0 and self.voxel_z_m > 0):
            raise LidarConfigError(
                f'background voxel: expected > 0, got xy {self.voxel_xy_m}, z {self.voxel_z_m}'
            )
        if self.learn_frames < 1 or self.update_every < 1 or self.window_updates < 1:
            raise LidarConfigError(
                'background learn_frames/update_every/window_updates: expected >= 1, got '
                f'{self.learn_frames}/{self.update_every}/{self.window_updates}'
            )
        if not 0.0 < self.occupied_fraction <= 1.0:
            raise LidarConfigError(
                f'background occupied_fraction: expected (0, 1], got {self.occupied_fraction}'
            )
        if not 0.0 <= self.range_tolerance_m <= 5.0:
            raise LidarConfigError(
                f'background range_tolerance_m: expected [0, 5], got {self.range_tolerance_m}'
            )


class BackgroundModel:
    """Voxel occupancy over the box [x_min, x_max] x [y_min, y_max] x [z_min, z_max] (m)."""

    def __init__(
        self, bounds_m: tuple[float, float, float, float, float, float], config: BackgroundConfig
    ) -> None:
        x_min, y_min, z_min, x_max, y_max, z_max = bounds_m
        self.config = config
        self.origin = np.array([x_min, y_min, z_min], dtype=np.float32)
        self.inv = np.array(
            [1.0 / config.voxel_xy_m, 1.0 / config.voxel_xy_m, 1.0 / config.voxel_z_m],
            dtype=np.float32,
        )
        dims = np.ceil((np.array([x_max, y_max, z_max]) - self.origin) * self.inv).astype(int)
        self.dims = np.maximum(dims, 1) + np.array([0, 0, 2])  # z padding for the neighbours
        self.hits = np.zeros(int(np.prod(self.dims)), dtype=np.uint16)
        self.updates = 0
        self.frames_seen = 0
        self.learned = False
        # voxels first occupied while learning: consolidation visits these, not the whole grid
        self._learned_voxels: list[np.ndarray] = []

    @property
    def ready(self) -> bool:
        """True once the learning frames are in."""
        return self.learned

    def _consolidate(self) -> None:
        """End of learning: drop the unstable voxels, weigh the rest like a full window."""
        c = self.config
        learn = self.updates
        # occupied voxels only: scanning the whole grid (tens of MB) took ~40 ms per RSU
        idx = np.unique(np.concatenate(self._learned_voxels))
        self._learned_voxels = []
        h = self.hits[idx]
        stable = h >= max(1, int(np.ceil(c.occupied_fraction * learn)))
        scaled = np.round(h.astype(np.float64) * (c.window_updates / learn))
        self.hits[idx] = np.where(stable, np.minimum(scaled, np.iinfo(np.uint16).max), 0)
        self.updates = c.window_updates
        self.learned = True

    def _flat(self, xyz_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat voxel index of each point and whether it lies inside the model.

        Column by column (numpy broadcasting over a trailing axis of 3 is several times
        slower), float32 and int32 throughout (far fewer than 2**31 voxels); a negative index
        seen as uint32 is huge, so one comparison per axis checks both bounds.
        """
        nx, ny, nz = (int(v) for v in self.dims)
        axes = []
        for axis in range(3):
            q = xyz_m[:, axis] - self.origin[axis]
            q *= self.inv[axis]
            np.floor(q, out=q)
            axes.append(q.astype(np.int32))
        ix, iy, iz = axes
        inside = ix.view(np.uint32) < nx
        inside &= iy.view(np.uint32) < ny
        inside &= iz.view(np.uint32) < nz - 2
        flat = ix * np.int32(ny)
        flat += iy
        flat *= np.int32(nz)
        flat += iz
        flat += 1  # the padding slice below
        return flat, inside

    def observe(self, xyz_m: np.ndarray) -> bool:
        """Count a frame when the schedule says so; returns True when the model was updated."""
        self.frames_seen += 1
        learning = not self.learned
        if not learning and self.frames_seen % self.config.update_every:
            return False
        flat, inside = self._flat(xyz_m)
        voxels = flat[np.flatnonzero(inside)]
        if learning:
            self._learned_voxels.append(voxels[self.hits[voxels] == 0])
        # fancy ``+=`` adds once per distinct voxel: exactly "occupied in this frame"
        self.hits[voxels] += 1
        self.updates += 1
        if learning:
            if self.updates >= self.config.learn_frames:
                self._consolidate()
            return True
        if self.updates >= 2 * self.config.window_updates:
            self.hits >>= 1
            self.updates //= 2
        return True

    def foreground_mask(self, xyz_m: np.ndarray) -> np.ndarray:
        """True for points not explained by the background (all True before any update)."""
        if self.updates == 0:
            return np.ones(xyz_m.shape[0], dtype=bool)
        threshold = max(1, int(np.ceil(self.config.occupied_fraction * self.updates)))
        flat, inside = self._flat(xyz_m)
        fg = ~self._explained(flat, inside, threshold)
        tol = self.config.range_tolerance_m
        if tol > 0.0:
            idx = np.flatnonzero(fg)  # usually a few % of the points
            pts = take_rows(xyz_m, idx)
            own = flat[idx]
            rng = np.sqrt(np.einsum('ij,ij->i', pts, pts))
            step = (tol / np.maximum(rng, tol)).astype(pts.dtype)[:, None]
            along = np.zeros(idx.size, dtype=bool)
            for shifted in (pts * (1.0 - step), pts * (1.0 + step)):
                f, ins = self._flat(shifted)
                # the grid reads are cache misses: skip shifts that stay in the point's voxel
                ins &= f != own
                along |= self._explained(f, ins, threshold)
            fg[idx[along]] = False
        return fg

    def _explained(self, flat: np.ndarray, inside: np.ndarray, threshold: int) -> np.ndarray:
        """True where a point's voxel (``_flat``), or the one above or below, is background."""
        idx = np.flatnonzero(inside)  # index arrays: cheaper than boolean masks here
        f = flat[idx]
        bg = self.hits[f] >= threshold
        bg |= self.hits[f - 1] >= threshold
        bg |= self.hits[f + 1] >= threshold
        out = np.zeros(flat.shape[0], dtype=bool)
        out[idx[bg]] = True
        return out

"""Synthetic roadside lidar scenes with known boxes, for tests, benchmarks and tuning.

A spinning lidar on a pole at a crossroads casts rays at a sloped, cambered, curved and noisy
road surface, at buildings and poles, and at boxes of cars, trucks, cyclists and pedestrians.
Each ray returns its first hit only, so objects occlude each other as they do in a real scan.
Coordinates are in the sensor frame (origin at the lidar, z up, REP 103).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from perception_nodes.lidar.classify import ObjectClass

GROUND_ID = -1
STATIC_ID = -2

# length, width, height (m) ranges per class
CLASS_SIZES: dict[
    ObjectClass, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]
] = {
    ObjectClass.CAR: ((3.9, 5.0), (1.7, 1.95), (1.4, 1.75)),
    ObjectClass.TRUCK: ((7.0, 12.0), (2.4, 2.55), (2.8, 3.6)),
    ObjectClass.CYCLIST: ((1.6, 1.9), (0.55, 0.75), (1.6, 1.85)),
    ObjectClass.PEDESTRIAN: ((0.45, 0.7), (0.45, 0.65), (1.55, 1.9)),
}


@dataclass(frozen=True)
class Terrain:
    """Road surface height below the sensor origin: grade, vertical curve and crown camber."""

    mount_height_m: float = 5.5
    grade_x: float = 0.02
    grade_y: float = -0.01
    curve_per_m: float = 1.5e-4
    camber: float = 0.025
    road_half_width_m: float = 14.0
    noise_m: float = 0.02

    def height(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        x, y = np.asarray(x_m), np.asarray(y_m)
        crown = np.minimum(np.minimum(np.abs(x), np.abs(y)), self.road_half_width_m)
        return (
            -self.mount_height_m
            + self.grade_x * x
            + self.grade_y * y
            + self.curve_per_m * (x * x + y * y)
            - self.camber * crown
        )


@dataclass(frozen=True)
class SceneBox:
    """An upright oriented box standing at ``z_bottom_m``; ``cls`` None for static structures."""

    x_m: float
    y_m: float
    yaw_rad: float
    length_m: float
    width_m: float
    height_m: float
    z_bottom_m: float
    cls: ObjectClass | None = None

    def as_bev(self) -> np.ndarray:
        return np.array([self.x_m, self.y_m, self.length_m, self.width_m, self.yaw_rad])


@dataclass(frozen=True)
class LidarModel:
    """Beams spread denser towards the horizon, as roadside lidars are built."""

    n_beams: int = 128
    n_azimuth: int = 1800
    elevation_max_deg: float = 3.0
    elevation_min_deg: float = -50.0
    max_range_m: float = 120.0
    range_noise_m: float = 0.02
    dropout: float = 0.01

    def directions(self) -> np.ndarray:
        """Unit ray directions (n_azimuth * n_beams, 3), azimuth-major."""
        u = np.arange(self.n_beams) / max(self.n_beams - 1, 1)
        elev = np.deg2rad(
            self.elevation_max_deg - (self.elevation_max_deg - self.elevation_min_deg) * u**2
        )
        az = np.arange(self.n_azimuth) * (2.0 * np.pi / self.n_azimuth) - np.pi
        ce, se = np.cos(elev), np.sin(elev)
        d = np.empty((self.n_azimuth, self.n_beams, 3))
        d[..., 0] = np.cos(az)[:, None] * ce[None, :]
        d[..., 1] = np.sin(az)[:, None] * ce[None, :]
        d[..., 2] = se[None, :]
        return d.reshape(-1, 3)


@dataclass
class Frame:
    """One scan and its truth: ``hit_id`` is the object index, GROUND_ID or STATIC_ID per point."""

    xyz_m: np.ndarray
    intensity: np.ndarray
    hit_id: np.ndarray
    objects: list[SceneBox]
    visible_points: np.ndarray
    alone_points: np.ndarray

    def visible_fraction(self) -> np.ndarray:
        return self.visible_points / np.maximum(self.alone_points, 1)


@dataclass
class Scene:
    """A crossroads: terrain, static structures and a lidar at the origin."""

    terrain: Terrain = field(default_factory=Terrain)
    lidar: LidarModel = field(default_factory=LidarModel)
    statics: list[SceneBox] = field(default_factory=list)

    @classmethod
    def crossroads(cls, rng: np.random.Generator, *, lidar: LidarModel | None = None) -> Scene:
        """Buildings in the four corners, poles along the kerbs, random slope and camber."""
        terrain = Terrain(
            grade_x=float(rng.uniform(-0.05, 0.05)),
            grade_y=float(rng.uniform(-0.03, 0.03)),
            curve_per_m=float(rng.uniform(-2e-4, 2e-4)),
            camber=float(rng.uniform(0.015, 0.03)),
        )
        scene = cls(terrain=terrain, lidar=lidar or LidarModel())
        half = terrain.road_half_width_m
        for sx in (-1, 1):
            for sy in (-1, 1):
                x0, y0 = sx * (half + 2.0), sy * (half + 2.0)
                length, width = 60.0, 60.0
                cx, cy = x0 + sx * length / 2, y0 + sy * width / 2
                scene.statics.append(scene._standing(cx, cy, 0.0, (length, width, 15.0)))
        for d in np.arange(-60.0, 61.0, 20.0):
            if abs(d) < 1.0:
                continue
            for side in (-1.0, 1.0):
                scene.statics.append(scene._standing(d, side * (half - 0.5), 0.0, (0.3, 0.3, 6.0)))
                scene.statics.append(scene._standing(side * (half - 0.5), d, 0.0, (0.3, 0.3, 6.0)))
        return scene

    def _standing(
        self,
        x: float,
        y: float,
        yaw: float,
        size_m: tuple[float, float, float],
        cls: ObjectClass | None = None,
    ) -> SceneBox:
        length, width, height = size_m
        z = float(self.terrain.height(x, y))
        return SceneBox(x, y, yaw, length, width, height, z, cls)

    def roi_polygon(self, arm_m: float = 80.0) -> np.ndarray:
        """The crossroads' road surface (both arms, sidewalks included) as a CCW polygon."""
        h = self.terrain.road_half_width_m
        a = arm_m
        return np.array(
            [
                [a, -h],
                [a, h],
                [h, h],
                [h, a],
                [-h, a],
                [-h, h],
                [-a, h],
                [-a, -h],
                [-h, -h],
                [-h, -a],
                [h, -a],
                [h, -h],
            ]
        )

    def random_objects(
        self,
        rng: np.random.Generator,
        n: int,
        *,
        max_range_m: float = 65.0,
        mix: dict[ObjectClass, float] | None = None,
        gap_m: float = 2.0,
    ) -> list[SceneBox]:
        """``n`` non-overlapping objects on the road arms (at least ``gap_m`` apart)."""
        mix = mix or {
            ObjectClass.CAR: 0.5,
            ObjectClass.TRUCK: 0.1,
            ObjectClass.CYCLIST: 0.15,
            ObjectClass.PEDESTRIAN: 0.25,
        }
        classes = list(mix)
        probs = np.array([mix[c] for c in classes], dtype=float)
        probs /= probs.sum()
        half = self.terrain.road_half_width_m
        placed: list[SceneBox] = []
        radii: list[float] = []
        for _ in range(n * 200):
            if len(placed) == n:
                break
            cls = classes[int(rng.choice(len(classes), p=probs))]
            (l0, l1), (w0, w1), (h0, h1) = CLASS_SIZES[cls]
            length, width, height = rng.uniform(l0, l1), rng.uniform(w0, w1), rng.uniform(h0, h1)
            limit = 40.0 if cls is ObjectClass.PEDESTRIAN else max_range_m
            along = rng.uniform(3.0, limit)
            lateral_max = half - 1.0 if cls is ObjectClass.PEDESTRIAN else half - 3.0
            lateral = rng.uniform(-lateral_max, lateral_max)
            arm = int(rng.integers(4))
            axis_yaw = arm * np.pi / 2.0
            x = along * np.cos(axis_yaw) - lateral * np.sin(axis_yaw)
            y = along * np.sin(axis_yaw) + lateral * np.cos(axis_yaw)
            if cls is ObjectClass.PEDESTRIAN:
                yaw = rng.uniform(-np.pi, np.pi)
            else:
                yaw = axis_yaw + rng.normal(0.0, 0.15) + (np.pi if rng.random() < 0.5 else 0.0)
            radius = 0.5 * float(np.hypot(length, width))
            if np.hypot(x, y) - radius < 2.0:
                continue
            ok = all(
                np.hypot(x - b.x_m, y - b.y_m) > radius + r + gap_m
                for b, r in zip(placed, radii, strict=True)
            ) and all(
                np.hypot(x - s.x_m, y - s.y_m)
                > radius + 0.5 * np.hypot(s.length_m, s.width_m) + gap_m
                for s in self.statics
                if s.length_m < 5.0
            )
            if ok:
                yaw = float(np.arctan2(np.sin(yaw), np.cos(yaw)))
                placed.append(self._standing(x, y, yaw, (length, width, height), cls))
                radii.append(radius)
        return placed

    def scan(
        self, rng: np.random.Generator, objects: list[SceneBox] | None = None, *, alone: bool = True
    ) -> Frame:
        """Cast every ray; first hit wins. ``alone`` also counts each object's unoccluded hits."""
        objects = objects or []
        dirs = self.lidar.directions()
        n = dirs.shape[0]
        nb = self.lidar.n_beams
        t_ground = self._ground_range(dirs)
        t = t_ground.copy()
        hit = np.full(n, GROUND_ID, dtype=np.int32)
        for box in self.statics:
            self._cast_box(dirs, nb, box, t=t, hit=hit, ident=STATIC_ID)
        for k, box in enumerate(objects):
            self._cast_box(dirs, nb, box, t=t, hit=hit, ident=k)
        keep = np.isfinite(t) & (t < self.lidar.max_range_m)
        keep &= rng.random(n) >= self.lidar.dropout
        t_noisy = t[keep] + rng.normal(0.0, self.lidar.range_noise_m, keep.sum())
        xyz = (dirs[keep] * t_noisy[:, None]).astype(np.float32)
        hit = hit[keep]
        ground = hit == GROUND_ID
        xyz[ground, 2] += rng.normal(0.0, self.terrain.noise_m, ground.sum()).astype(np.float32)
        intensity = np.where(ground, rng.uniform(5, 30, hit.size), rng.uniform(30, 120, hit.size))
        visible = np.bincount(hit[hit >= 0], minlength=len(objects))[: len(objects)]
        alone_counts = np.zeros(len(objects), dtype=np.int64)
        if alone:
            for k, box in enumerate(objects):
                tk = t_ground.copy()
                hk = np.full(n, GROUND_ID, dtype=np.int32)
                self._cast_box(dirs, nb, box, t=tk, hit=hk, ident=k)
                alone_counts[k] = int(np.count_nonzero(hk == k))
        return Frame(xyz, intensity.astype(np.float32), hit, list(objects), visible, alone_counts)

    def _ground_range(self, dirs: np.ndarray) -> np.ndarray:
        """Ray length to the terrain (Newton on z(t) - ground(t)); inf where it is not met."""
        t = np.full(dirs.shape[0], np.inf)
        down = dirs[:, 2] < -1e-3
        d = dirs[down]
        tt = self.terrain.mount_height_m / -d[:, 2]
        for _ in range(8):
            x, y = tt * d[:, 0], tt * d[:, 1]
            f = tt * d[:, 2] - self.terrain.height(x, y)
            eps = 1e-3
            g2 = self.terrain.height(x + eps * d[:, 0], y + eps * d[:, 1])
            slope = (g2 - self.terrain.height(x, y)) / eps
            tt = tt - f / (d[:, 2] - slope)
        x, y = tt * d[:, 0], tt * d[:, 1]
        converged = np.abs(tt * d[:, 2] - self.terrain.height(x, y)) < 1e-3
        t[down] = np.where((tt > 0) & converged, tt, np.inf)
        return t

    @staticmethod
    def _cast_box(
        dirs: np.ndarray, n_beams: int, box: SceneBox, *, t: np.ndarray, hit: np.ndarray, ident: int
    ) -> None:
        """Slab test of the rays against one box, restricted to its azimuth span."""
        n_az = dirs.shape[0] // n_beams
        corners_ang = []
        c, s = np.cos(box.yaw_rad), np.sin(box.yaw_rad)
        for lx, ly in ((1, 1), (-1, 1), (-1, -1), (1, -1)):
            px = box.x_m + c * lx * box.length_m / 2 - s * ly * box.width_m / 2
            py = box.y_m + s * lx * box.length_m / 2 + c * ly * box.width_m / 2
            corners_ang.append(np.arctan2(py, px))
        ang = np.unwrap(np.array(corners_ang))
        lo, hi = ang.min(), ang.max()
        if hi - lo > np.pi:  # the sensor is inside or beside the box: test every ray
            idx = np.arange(dirs.shape[0])
        else:  # rays are azimuth-major from -pi in equal steps: take the covered columns
            step = 2.0 * np.pi / n_az
            a0 = int(np.floor((lo + np.pi) / step)) - 1
            a1 = int(np.ceil((hi + np.pi) / step)) + 1
            cols = np.arange(a0, a1 + 1) % n_az
            idx = (cols[:, None] * n_beams + np.arange(n_beams)[None, :]).ravel()
        if idx.size == 0:
            return
        d = dirs[idx]
        # ray origin 0 in box frame
        ox, oy = -box.x_m, -box.y_m
        lx0 = c * ox + s * oy
        ly0 = -s * ox + c * oy
        dx = c * d[:, 0] + s * d[:, 1]
        dy = -s * d[:, 0] + c * d[:, 1]
        dz = d[:, 2]
        bounds = (
            (lx0, dx, -box.length_m / 2, box.length_m / 2),
            (ly0, dy, -box.width_m / 2, box.width_m / 2),
            (0.0, dz, box.z_bottom_m, box.z_bottom_m + box.height_m),
        )
        t_near = np.zeros(idx.size)
        t_far = np.full(idx.size, np.inf)
        with np.errstate(divide='ignore', invalid='ignore'):
            for o, dd, a, b in bounds:
                t1 = (a - o) / dd
                t2 = (b - o) / dd
                near = np.fmin(t1, t2)
                far = np.fmax(t1, t2)
                parallel = dd == 0
                outside = parallel & ((o < a) | (o > b))
                near = np.where(parallel, -np.inf, near)
                far = np.where(parallel, np.inf, far)
                far = np.where(outside, -np.inf, far)
                t_near = np.maximum(t_near, near)
                t_far = np.minimum(t_far, far)
        hits = (t_near <= t_far) & (t_far > 0) & (t_near < t[idx])
        sel = idx[hits]
        t[sel] = t_near[hits]
        hit[sel] = ident

"""Onboard lidars: a ray-cast scan per revolution for every vehicle whose scenario entry has
``lidar:`` (the cost is paid only where a scenario asks for it).

Topics: in ``/sim/ground_truth`` (v2x_stack/msg/ParticipantArray); out
``/<vehicle>/lidar/points`` (sensor_msgs/msg/PointCloud2: x, y, z, intensity float32, frame
``lidar``). The sensor sits ``mount_height_m`` above the vehicle's reference point (the point
its GNSS fix and odometry describe), x forward along the vehicle's heading: so the car
stack's ``EgoMotionCompensation`` takes ``sensor_mount: [0, 0, 0]`` and the detector's ground
lies at ``-mount_height_m``. The vehicle's own box is left out of the scan (a roof lidar
barely sees its own roof; the detector's ``ego_box_m`` would cut it anyway).
Parameters: scenario, sets, seed.

Unlike a roadside lidar the sensor moves, so the static scene cannot be cast once: each scan
casts every ray against one scene holding ground, buildings and the other actors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import open3d as o3d

from sim_nodes.scenarios.schema import LidarConfig
from sim_nodes.scenarios.shared import declare_scenario_parameters
from sim_nodes.sensors.lidar_component import point_cloud, static_scene, walkers
from sim_nodes.sensors.raycast import REFLECTIVITY, BeamLayout, StaticScene, box_meshes
from sim_nodes.world.component import GROUND_TRUTH
from sim_nodes.world.truth_msgs import participants_arrays
from v2x_runtime import QOS_SENSOR, Component, ComponentContext

SENSOR_FRAME = 'lidar'


@dataclass(frozen=True)
class OnboardLidar:
    """One vehicle's lidar: its beam layout and mount height."""

    vehicle: str
    layout: BeamLayout
    mount_height_m: float

    @classmethod
    def from_config(cls, vehicle: str, cfg: LidarConfig) -> OnboardLidar:
        return cls(vehicle, BeamLayout.of(cfg), cfg.mount_height_m)


class MovingCaster:
    """Casts one onboard lidar from a pose (x, y, yaw) against static scene + actor boxes."""

    def __init__(self, lidar: OnboardLidar, static: StaticScene) -> None:
        self.lidar = lidar
        self.local_dirs = lidar.layout.directions().astype(np.float32)
        self.static = [(v, t, kind) for v, t, kind in static.meshes if len(t)]

    def scan(
        self,
        pose: tuple[float, float, float],
        boxes: tuple[np.ndarray, np.ndarray, np.ndarray],
        walker: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """(P, 4) float32 x, y, z, intensity in the sensor frame."""
        x, y, yaw = pose
        c, s = np.cos(yaw), np.sin(yaw)
        rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], np.float32)
        dirs = self.local_dirs @ rot.T
        origin = np.array([x, y, self.lidar.mount_height_m], np.float32)
        rays = np.hstack([np.broadcast_to(origin, dirs.shape), dirs]).astype(np.float32)
        scene = o3d.t.geometry.RaycastingScene()
        refl = []
        for verts, tris, kind in self.static:
            scene.add_triangles(o3d.core.Tensor(verts), o3d.core.Tensor(tris))
            refl.append(REFLECTIVITY[kind])
        actor_geom = len(refl)
        if len(boxes[0]):
            verts, tris = box_meshes(*boxes)
            scene.add_triangles(o3d.core.Tensor(verts), o3d.core.Tensor(tris))
        hits = scene.cast_rays(o3d.core.Tensor(rays))
        t = hits['t_hit'].numpy()
        geom = hits['geometry_ids'].numpy().astype(np.int64)
        prim = hits['primitive_ids'].numpy().astype(np.int64)
        normals = hits['primitive_normals'].numpy()
        reflectivity = np.zeros(len(t), np.float32)
        for g, r in enumerate(refl):
            reflectivity[geom == g] = r
        actor = geom == actor_geom
        if actor.any():
            is_walker = walker[prim[actor] // 12]
            reflectivity[actor] = np.where(
                is_walker, REFLECTIVITY['walker'], REFLECTIVITY['vehicle']
            )
        lay = self.lidar.layout
        keep = np.isfinite(t) & (t >= lay.min_range_m) & (t <= lay.max_range_m)
        if lay.dropout > 0:
            keep &= rng.random(len(keep), dtype=np.float32) >= lay.dropout
        t = np.where(keep, t, 0.0).astype(np.float32)
        if lay.range_noise_m > 0:
            t = t + rng.standard_normal(len(t), dtype=np.float32) * np.float32(lay.range_noise_m)
        cos_inc = np.abs((normals * dirs).sum(axis=1))
        out = np.empty((int(keep.sum()), 4), np.float32)
        out[:, :3] = self.local_dirs[keep] * t[keep, None]
        out[:, 3] = (reflectivity * (0.3 + 0.7 * cos_inc))[keep]
        return out


class VehicleLidars(Component):
    """Casts every onboard lidar of the scenario at its rate against the latest ground truth."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.built = declare_scenario_parameters(ctx)
        static = static_scene(self.built)
        self.truth: dict[str, np.ndarray] | None = None
        for v in self.built.scenario.vehicles:
            if v.lidar is None:
                continue
            caster = MovingCaster(OnboardLidar.from_config(v.name, v.lidar), static)
            pub = ctx.create_publisher(
                f'/{v.name}/lidar/points', 'sensor_msgs/msg/PointCloud2', QOS_SENSOR
            )
            ctx.create_timer(1.0 / v.lidar.rate_hz, lambda c=caster, p=pub: self.scan(c, p))
        if self.built.scenario.vehicles and any(v.lidar for v in self.built.scenario.vehicles):
            ctx.create_subscription(
                GROUND_TRUTH, 'v2x_stack/msg/ParticipantArray', self.on_truth, QOS_SENSOR
            )

    def on_truth(self, msg: Any) -> None:
        self.truth = participants_arrays(msg)

    def scan(self, caster: MovingCaster, pub: Any) -> None:
        truth = self.truth
        if truth is None:
            return
        me = np.flatnonzero(truth['names'] == caster.lidar.vehicle)
        if me.size == 0:  # not spawned yet, or gone: no sensor
            return
        i = int(me[0])
        others = np.arange(len(truth['names'])) != i
        boxes = (truth['xyz'][others], truth['yaw'][others], truth['size'][others])
        walker = walkers(truth['klass'][others])
        pose = (float(truth['xyz'][i, 0]), float(truth['xyz'][i, 1]), float(truth['yaw'][i]))
        points = caster.scan(pose, boxes, walker, self.ctx.random)
        pub.publish(point_cloud(points, self.ctx.now_ns(), SENSOR_FRAME))
        self.ctx.diagnostics.count('scans')
        self.ctx.diagnostics.observe('points', float(len(points)))

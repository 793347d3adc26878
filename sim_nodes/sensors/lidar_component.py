"""Roadside lidars: one ray-cast scan per revolution for every RSU of the scenario with a lidar.

Topics: in ``/sim/ground_truth`` (v2x_stack/msg/ParticipantArray); out ``/<rsu>/lidar/points``
(sensor_msgs/msg/PointCloud2: x, y, z, intensity float32, frame ``<rsu>_lidar``, sensor
frame at the mount position with yaw ``lidar.yaw_rad``). Parameters: scenario, sets, seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim_nodes.scenarios.shared import declare_scenario_parameters
from sim_nodes.sensors.raycast import BeamLayout, LidarCaster, StaticScene
from sim_nodes.world.component import GROUND_TRUTH
from sim_nodes.world.truth_msgs import participants_arrays
from v2x_runtime import QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m

POINT_STEP = 16
WALKER_CLASSES = (4, 5)


def walkers(klass: np.ndarray) -> np.ndarray:
    """Which participant classes are walkers (cyclist, pedestrian): their lidar reflectivity."""
    return (klass == WALKER_CLASSES[0]) | (klass == WALKER_CLASSES[1])  # np.isin: ~30 us


def point_cloud(points: np.ndarray, stamp_ns: int, frame_id: str) -> Any:
    """PointCloud2 (x, y, z, intensity float32, little endian, one row) from (P, 4) float32."""
    field = m.msg_class('sensor_msgs/msg/PointField')
    fields = [field(name=n, offset=4 * i, datatype=7, count=1) for i, n in enumerate('xyz')]
    fields.append(field(name='intensity', offset=12, datatype=7, count=1))
    data = np.ascontiguousarray(points, dtype='<f4').view(np.uint8).ravel()
    return m.new(
        'sensor_msgs/msg/PointCloud2',
        header=m.header(stamp_ns, frame_id),
        height=1,
        width=len(points),
        fields=fields,
        is_bigendian=False,
        point_step=POINT_STEP,
        row_step=POINT_STEP * len(points),
        data=data,
        is_dense=True,
    )


def static_scene(built: Any) -> StaticScene:
    """Ground and buildings of a built scenario, with 50 m of ground beyond its lanes."""
    net = built.network
    extent = max(
        (float(np.abs(lane.centreline).max()) for lane in net.lanes.values()), default=100.0
    )
    return StaticScene(extent + 50.0, net.buildings, net.building_height_m)


class RoadsideLidars(Component):
    """Casts every configured roadside lidar at its rate against the latest ground truth."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.built = declare_scenario_parameters(ctx)
        self.static = static_scene(self.built)
        self.truth: dict[str, np.ndarray] | None = None
        self.casters: list[tuple[str, LidarCaster, Any]] = []
        ctx.create_subscription(
            GROUND_TRUTH, 'v2x_stack/msg/ParticipantArray', self.on_truth, QOS_SENSOR
        )
        for rsu in self.built.scenario.rsus:
            if rsu.lidar is None:
                continue
            cfg = rsu.lidar
            caster = LidarCaster(
                np.array(rsu.position_m), cfg.yaw_rad, BeamLayout.of(cfg), self.static
            )
            pub = ctx.create_publisher(
                f'/{rsu.name}/lidar/points', 'sensor_msgs/msg/PointCloud2', QOS_SENSOR
            )
            self.casters.append((rsu.name, caster, pub))
            ctx.create_timer(
                1.0 / cfg.rate_hz, lambda c=caster, p=pub, n=rsu.name: self.scan(n, c, p)
            )

    def on_truth(self, msg: Any) -> None:
        self.truth = participants_arrays(msg)

    def scan(self, name: str, caster: LidarCaster, pub: Any) -> None:
        truth = self.truth
        if truth is None:
            boxes = (np.zeros((0, 3)), np.zeros(0), np.zeros((0, 3)))
            walker = np.zeros(0, bool)
        else:
            boxes = (truth['xyz'], truth['yaw'], truth['size'])
            walker = walkers(truth['klass'])
        points = caster.scan(boxes, walker, self.ctx.random)
        pub.publish(point_cloud(points, self.ctx.now_ns(), f'{name}_lidar'))
        self.ctx.diagnostics.count('scans')
        self.ctx.diagnostics.observe('points', float(len(points)))

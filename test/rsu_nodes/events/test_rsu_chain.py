"""Georeferencer → EventDetector: debris seen in the lidar frame becomes an obstacle event at
its map position, with its geodetic coordinates, in one embedded runtime."""

import math

import numpy as np
import pytest

from geo import LocalFrame
from rsu_nodes.events.node import EventDetector
from rsu_nodes.georef.extrinsics import SensorPose
from rsu_nodes.georef.node import Georeferencer
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

ORIGIN = (31.2837, 121.1638, 0.0)
POSE = ((-20.0, -20.0, 6.0), (0.0, 0.03, math.radians(30.0)))


def cloud_objects(t_s: float, pose: SensorPose) -> object:
    ns = round(t_s * 1e9)
    debris = pose.points_to_sensor(np.array([[100.0, 1.75, 0.2]]))[0]
    return m.new(
        'v2x_stack/msg/ParticipantArray',
        header=m.header(ns, 'rsu_1_lidar'),
        participants=[
            m.new(
                'v2x_stack/msg/Participant',
                header=m.header(ns, 'rsu_1_lidar'),
                id=4,
                participant_class=6,
                position=m.new('geometry_msgs/msg/Point', x=debris[0], y=debris[1], z=debris[2]),
                velocity=m.new('geometry_msgs/msg/Vector3', x=0.0, y=0.0, z=0.0),
                covariance=np.diag([0.04, 0.04, 0.01, 0.01]).ravel(),
            )
        ],
    )


def test_lidar_debris_becomes_a_georeferenced_obstacle_event():
    pose = SensorPose(*POSE)
    rt = EmbeddedRuntime(seed=1)
    origin = {'origin_lat_deg': ORIGIN[0], 'origin_lon_deg': ORIGIN[1]}
    rt.add_component(Georeferencer, name='georef', parameters={
        'sensor_frame': 'rsu_1_lidar', 'translation_m': list(POSE[0]),
        'rpy_rad': list(POSE[1]), **origin})  # fmt: skip
    rt.add_component(EventDetector, name='events', parameters=origin)
    out: list = []
    rt.subscribe('/rsu/events', 'v2x_stack/msg/RoadEventArray', out.append)
    for k in range(80):
        rt.publish('/perception/objects', cloud_objects(k / 10, pose), at_ns=k * 100_000_000)
    rt.run(duration_s=8.0)
    rt.close()
    (event,) = out[-1].events
    assert 'obstacle' in event.description
    assert (event.position.x, event.position.y) == pytest.approx((100.0, 1.75), abs=1e-6)
    lat, lon, _ = LocalFrame(*ORIGIN).to_geodetic(100.0, 1.75, 0.2)
    assert event.latitude_deg == pytest.approx(float(lat), abs=1e-9)
    assert event.longitude_deg == pytest.approx(float(lon), abs=1e-9)
    # Raised 5 s after the first sighting, not before.
    first = min(m.to_ns(a.header.stamp) for a in out if a.events)
    assert 5e9 <= first <= 5.6e9

"""The onboard lidar model (sim_nodes/sensors/vehicle_lidar.py): real ray casting from a
moving pose, own box left out, occlusion by other actors; and its scenario fields."""

from __future__ import annotations

import numpy as np
import pytest

from sim_nodes.errors import ScenarioError
from sim_nodes.scenarios import load_scenario
from sim_nodes.scenarios.parse import parse_scenario
from sim_nodes.scenarios.schema import LidarConfig
from sim_nodes.sensors.raycast import StaticScene
from sim_nodes.sensors.vehicle_lidar import MovingCaster, OnboardLidar

LIDAR = OnboardLidar.from_config(
    'ego',
    LidarConfig(rings=16, azimuth_steps=720, vertical_fov_deg=(-15.0, 5.0), range_noise_m=0.0),
)


def _boxes(rows):
    a = np.array(rows, float).reshape(-1, 7)  # x, y, z, yaw, l, w, h
    return (a[:, :3], a[:, 3], a[:, 4:7])


def _hits_near(points, pose, xy, radius=1.5):
    """Points (sensor frame) that land within ``radius`` of ``xy`` in the map."""
    x, y, yaw = pose
    c, s = np.cos(yaw), np.sin(yaw)
    mx = x + c * points[:, 0] - s * points[:, 1]
    my = y + s * points[:, 0] + c * points[:, 1]
    above = points[:, 2] > -LIDAR.mount_height_m + 0.2  # not the ground
    return int(np.sum(above & (np.hypot(mx - xy[0], my - xy[1]) < radius)))


def test_scan_from_a_moving_pose_sees_what_is_ahead_and_not_what_is_hidden():
    caster = MovingCaster(LIDAR, StaticScene(200.0, [], 10.0))
    rng = np.random.default_rng(0)
    pose = (10.0, 5.0, np.pi / 2)  # heading north
    car = [10.0, 25.0, 0.75, np.pi / 2, 4.6, 1.9, 1.5]  # 20 m ahead
    truck = [14.0, 15.0, 1.75, np.pi / 2, 10.0, 2.5, 3.5]  # right, ahead
    ped_hidden = [15.5, 22.0, 0.9, 0.0, 0.5, 0.5, 1.75]  # behind the truck
    boxes = _boxes([car, truck, ped_hidden])
    points = caster.scan(pose, boxes, np.array([False, False, True]), rng)
    assert points.dtype == np.float32 and points.shape[1] == 4
    assert _hits_near(points, pose, (10.0, 25.0), radius=3.0) > 20  # the car (rear face)
    assert _hits_near(points, pose, (15.5, 22.0), radius=0.4) == 0  # hidden by the truck
    no_truck = caster.scan(pose, _boxes([car, ped_hidden]), np.array([False, True]), rng)
    assert _hits_near(no_truck, pose, (15.5, 22.0), radius=0.4) > 3  # seen without it
    # turning the sensor does not change what the world looks like from there
    rotated = caster.scan((10.0, 5.0, 0.3), boxes, np.array([False, False, True]), rng)
    assert _hits_near(rotated, (10.0, 5.0, 0.3), (10.0, 25.0), radius=3.0) > 20
    # x forward: the car 20 m ahead of a north-heading sensor is at +x in the sensor frame
    ahead = points[(points[:, 2] > -1.5) & (np.abs(points[:, 1]) < 1.0)]
    assert np.median(ahead[:, 0]) == pytest.approx(20.0 - 2.3, abs=0.5)


def test_scenario_vehicle_lidar_fields_and_perception_expectations(tmp_path):
    scenario = load_scenario('perception/blind_intersection')
    ego = scenario.vehicles[0]
    assert ego.lidar is not None and ego.lidar.rings == 16 and ego.lidar.mount_height_m == 2.0
    assert scenario.expect.perception[0].target == 'hidden_car'
    base = {
        'map': {'kind': 'four_arm'},
        'vehicles': [{'name': 'ego', 'route': ['south_in_1'], 'connected': True}],
    }
    with pytest.raises(ScenarioError, match=r'vehicles\[0\].lidar.mount_height_m'):
        parse_scenario(
            {**base, 'vehicles': [{**base['vehicles'][0], 'lidar': {'mount_height_m': 50}}]},
            tmp_path / 'x.yaml',
        )
    with pytest.raises(ScenarioError, match=r'vehicles\[0\].lidar.yaw_rad'):
        parse_scenario(
            {**base, 'vehicles': [{**base['vehicles'][0], 'lidar': {'yaw_rad': 1.0}}]},
            tmp_path / 'x.yaml',
        )
    with pytest.raises(ScenarioError, match=r'expect.perception\[0\].target'):
        parse_scenario(
            {**base, 'expect': {'perception': [{'vehicle': 'ego', 'target': 'ghost'}]}},
            tmp_path / 'x.yaml',
        )
    with pytest.raises(ScenarioError, match=r'expect.perception\[0\].vehicle'):
        parse_scenario(
            {**base, 'expect': {'perception': [{'vehicle': 'nobody', 'target': 'ego'}]}},
            tmp_path / 'x.yaml',
        )

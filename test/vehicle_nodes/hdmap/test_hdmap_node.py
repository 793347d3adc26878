"""MapMatcher in the embedded runtime, alone and behind the LocalizationFilter."""

import math

import numpy as np
import pytest

from geo import LocalFrame
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.fusion.localizer import Estimate
from vehicle_nodes.fusion.node import LocalizationFilter
from vehicle_nodes.fusion.ros_conversions import estimate_to_odometry
from vehicle_nodes.hdmap import HdMapError, MapParseError
from vehicle_nodes.hdmap.generate import INTERSECTION_ORIGIN
from vehicle_nodes.hdmap.node import MapMatcher
from vehicle_nodes.hdmap.trajectory import drive

NS = '/car1'


def ns(t):
    return round(t * 1e9)


def odometry(t, x, y, yaw, speed, sigma=0.05, frame='map'):
    cov = np.diag([sigma**2, sigma**2, 0.01**2, 0.1, 0.01, 1e-6])
    est = Estimate(t, x, y, yaw, speed, 0.0, 0.0, 0.0, cov, 0.0)
    return estimate_to_odometry(est, frame, 'base_link')


def routes_from_east(hd):
    g = hd.routing
    start = hd.nearest_lanelet(150.0, 5.25)  # east arm, straight lane, far section
    first = hd.nearest_lanelet(150.0, 1.75)  # east arm, left-turn lane
    third = hd.nearest_lanelet(150.0, 8.75)  # east arm, right-turn lane
    out = []
    for k in (first, start, third):
        route = [k]
        while g.following(route[-1]):
            route.append(g.following(route[-1])[0])
        out.append(route)
    return out


@pytest.fixture
def runtime():
    rt = EmbeddedRuntime(seed=1)
    yield rt
    rt.close()


def test_lane_positions_from_odometry(runtime, intersection, maps_dir):
    node = runtime.add_component(
        MapMatcher,
        name='map_matcher',
        namespace=NS,
        parameters={'map_file': str(maps_dir / 'intersection.osm')},
    )
    lanes = []
    runtime.subscribe(f'{NS}/localization/lane', 'v2x_stack/msg/LanePosition', lanes.append)
    route = routes_from_east(intersection)[0]
    d = drive(intersection, route, speed_mps=10.0, dt_s=0.1)
    for i, t in enumerate(d.t_s):
        x, y = d.xy_m[i]
        runtime.publish(
            f'{NS}/localization/odometry', odometry(t, x, y, d.yaw_rad[i], 10.0), at_ns=ns(t)
        )
    runtime.publish(
        f'{NS}/localization/odometry',
        odometry(d.t_s[-1] + 0.1, math.nan, 0.0, 0.0, 0.0),
        at_ns=ns(d.t_s[-1] + 0.1),
    )
    runtime.publish(
        f'{NS}/localization/odometry',
        odometry(d.t_s[-1] + 0.2, 0.0, 0.0, 0.0, 0.0, frame='odom'),
        at_ns=ns(d.t_s[-1] + 0.2),
    )
    runtime.run(duration_s=float(d.t_s[-1]) + 1.0)
    assert len(lanes) == len(d.t_s)
    hits = sum(
        msg.lanelet_id == intersection.lanelets[int(k)].id
        for msg, k in zip(lanes, d.key, strict=True)
    )
    assert hits >= 0.99 * len(lanes)
    first = lanes[0]
    assert m.to_ns(first.header.stamp) == 0 and first.header.frame_id == 'map'
    assert first.signal_group == 1 and first.intersection_id == 1  # east arm, left turn
    assert first.stop_line_distance_m == pytest.approx(160.0 - 16.0, abs=0.1)
    counters = node.ctx.diagnostics.counters
    assert counters['rejected.not_finite'] == 1
    assert counters['rejected.wrong_frame'] == 1
    assert counters['matched'] == len(lanes)


def test_broken_map_fails_at_start_naming_file_and_element(runtime, tmp_path, maps_dir):
    text = (maps_dir / 'intersection.osm').read_text()
    broken = tmp_path / 'broken.osm'
    broken.write_text(text.replace('role="right"', 'role="middle"', 1))
    with pytest.raises(MapParseError, match=r'broken.osm: relation \d+: a lanelet needs one left'):
        runtime.add_component(MapMatcher, name='mm', parameters={'map_file': str(broken)})
    with pytest.raises(HdMapError, match='map_file is empty and use_v2x_map is false'):
        runtime.add_component(MapMatcher, name='mm2', parameters={'use_v2x_map': False})
    with pytest.raises(HdMapError, match='projection origin needs'):
        runtime.add_component(
            MapMatcher,
            name='mm3',
            parameters={'map_file': str(maps_dir / 'intersection.osm'), 'projection': 'origin'},
        )


def test_filter_and_matcher_chain_through_the_junction(runtime, intersection, maps_dir):
    """IMU + RTK GNSS + wheel speed → LocalizationFilter → MapMatcher ('origin' projection),
    three cars at once: left, straight and right from the east arm."""
    frame = LocalFrame(*INTERSECTION_ORIGIN)
    origin = {'origin_lat_deg': INTERSECTION_ORIGIN[0], 'origin_lon_deg': INTERSECTION_ORIGIN[1]}
    rng = np.random.default_rng(3)
    lanes = {}
    truth = {}
    # From 40 m before the stop line to 40 m past the junction.
    for car, route in enumerate(r[1:-1] for r in routes_from_east(intersection)):
        name = f'/car{car}'
        runtime.add_component(
            LocalizationFilter,
            name='localization',
            namespace=name,
            parameters={**origin, 'imu_rate_hz': 50.0},
        )
        runtime.add_component(
            MapMatcher,
            name='map_matcher',
            namespace=name,
            parameters={
                'map_file': str(maps_dir / 'intersection.osm'),
                'projection': 'origin',
                **origin,
            },
        )
        lanes[car] = []
        runtime.subscribe(
            f'{name}/localization/lane', 'v2x_stack/msg/LanePosition', lanes[car].append
        )
        d = drive(intersection, route, speed_mps=10.0, dt_s=0.02)
        truth[car] = (d.t_s, np.array([intersection.lanelets[int(k)].id for k in d.key]))
        yaw = np.unwrap(d.yaw_rad)
        rate = np.gradient(yaw, d.t_s)
        for i, t in enumerate(d.t_s):
            vec = lambda **kw: m.new('geometry_msgs/msg/Vector3', **kw)  # noqa: E731
            imu = m.new(
                'sensor_msgs/msg/Imu',
                header=m.header(ns(t), 'base_link'),
                angular_velocity=vec(z=rate[i] + rng.normal(0, 0.005)),
                linear_acceleration=vec(x=rng.normal(0, 0.05)),
            )
            runtime.publish(f'{name}/imu/data', imu, at_ns=ns(t) + 1)
            st = m.new(
                'v2x_stack/msg/VehicleStatus',
                header=m.header(ns(t), 'base_link'),
                speed_mps=10.0 + rng.normal(0, 0.03),
            )
            runtime.publish(f'{name}/vehicle/status', st, at_ns=ns(t) + 1)
            if i % 5:
                continue
            x, y = d.xy_m[i] + rng.normal(0, 0.02, 2)
            lat, lon, alt = frame.to_geodetic(x, y, 0.0)
            fix = m.new(
                'sensor_msgs/msg/NavSatFix',
                header=m.header(ns(t), 'gnss'),
                status=m.new('sensor_msgs/msg/NavSatStatus', status=2),
                latitude=float(lat),
                longitude=float(lon),
                altitude=float(alt),
                position_covariance=np.diag([4e-4, 4e-4, 1e-3]).reshape(9),
                position_covariance_type=2,
            )
            cov = np.zeros(36)
            cov[0] = cov[7] = 0.03**2
            twist = m.new(
                'geometry_msgs/msg/Twist',
                linear=vec(x=10.0 * math.cos(yaw[i]), y=10.0 * math.sin(yaw[i])),
            )
            vel = m.new(
                'geometry_msgs/msg/TwistWithCovarianceStamped',
                header=m.header(ns(t), 'gnss'),
                twist=m.new('geometry_msgs/msg/TwistWithCovariance', twist=twist, covariance=cov),
            )
            runtime.publish(f'{name}/localization/gnss/fix', fix, at_ns=ns(t) + 2)
            runtime.publish(f'{name}/localization/gnss/velocity', vel, at_ns=ns(t) + 2)
    runtime.run(duration_s=max(float(t_s[-1]) for t_s, _ in truth.values()) + 0.5)
    for car, msgs in lanes.items():
        times, ids = truth[car]
        hits = 0
        for msg in msgs:
            j = int(np.argmin(np.abs(times - m.to_ns(msg.header.stamp) * 1e-9)))
            hits += msg.lanelet_id == ids[j]
        assert len(msgs) > 0.9 * 50 * times[-1]
        assert hits / len(msgs) >= 0.97, (car, hits / len(msgs))

"""Georeferencing: extrinsics round trips, surveyed coordinates via pyproj, the component."""

import math

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import Datum, LocalFrame
from rsu_nodes.georef.errors import ExtrinsicsError
from rsu_nodes.georef.extrinsics import SensorPose
from rsu_nodes.georef.node import Georeferencer
from v2x_runtime import ParameterError
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

ARRAY = 'v2x_stack/msg/ParticipantArray'
ORIGIN = (31.2837, 121.1638, 12.0)
angle = st.floats(-math.pi, math.pi)
small = st.floats(-0.2, 0.2)
coord = st.floats(-300.0, 300.0)


@settings(max_examples=200, deadline=None)
@given(coord, coord, st.floats(-5, 15), small, small, angle, coord, coord, st.floats(-5, 5))
def test_sensor_map_round_trip_below_1_cm(tx, ty, tz, roll, pitch, yaw, x, y, z):
    pose = SensorPose((tx, ty, tz), (roll, pitch, yaw))
    pts = np.array([[x, y, z]])
    back = pose.points_to_sensor(pose.points_to_map(pts))
    assert np.max(np.abs(back - pts)) < 0.01


@settings(max_examples=200, deadline=None)
@given(st.floats(-2000, 2000), st.floats(-2000, 2000), st.floats(-20, 60),
       st.sampled_from(list(Datum)))  # fmt: skip
def test_map_geodetic_round_trip_below_1_cm(e, n, u, datum):
    frame = LocalFrame(*ORIGIN, datum)
    lat, lon, h = frame.to_geodetic(e, n, u)
    e2, n2, u2 = frame.to_enu(lat, lon, h)
    assert math.dist((float(e2), float(n2), float(u2)), (e, n, u)) < 0.01


@settings(max_examples=100, deadline=None)
@given(angle, small, small, angle)
def test_yaw_and_velocity_rotate_together(yaw_s, roll, pitch, body_yaw):
    pose = SensorPose((0.0, 0.0, 0.0), (roll, pitch, yaw_s))
    v = np.array([[math.cos(body_yaw), math.sin(body_yaw), 0.0]])
    vm = pose.vectors_to_map(v)[0]
    assert math.isclose(
        float(pose.yaw_to_map(np.array([body_yaw]))[0]), math.atan2(vm[1], vm[0]), abs_tol=1e-9
    )


def test_covariance_rotates_and_unknown_stays_unknown():
    pose = SensorPose((0.0, 0.0, 0.0), (0.0, 0.0, math.pi / 2), position_sigma_m=0.1)
    cov = np.diag([4.0, 1.0, 9.0, 0.25])
    out = pose.covariance_to_map(cov)[0]
    np.testing.assert_allclose(np.diag(out), [1.0 + 0.01, 4.0 + 0.01, 0.25, 9.0], atol=1e-12)
    unknown = pose.covariance_to_map(np.diag([-1.0, -1.0, -1.0, -1.0]))[0]
    np.testing.assert_array_equal(np.diag(unknown), [-1.0] * 4)


def test_bad_extrinsics_fail_with_the_field():
    with pytest.raises(ExtrinsicsError, match='finite'):
        SensorPose((0.0, math.nan, 0.0), (0.0, 0.0, 0.0))
    rt = EmbeddedRuntime(seed=1)
    with pytest.raises(ParameterError, match='translation_m'):
        rt.add_component(Georeferencer, name='g', parameters={'translation_m': [1.0, 2.0]})


def survey_enu(lat0, lon0, h0, lat, lon, h):
    """ENU of a point, computed independently: pyproj geodetic → ECEF, then the ENU rotation."""
    to_ecef = pyproj.Transformer.from_crs('EPSG:4979', 'EPSG:4978', always_xy=True)
    x0, y0, z0 = to_ecef.transform(lon0, lat0, h0)
    x, y, z = to_ecef.transform(lon, lat, h)
    la, lo = math.radians(lat0), math.radians(lon0)
    rot = np.array([
        [-math.sin(lo), math.cos(lo), 0.0],
        [-math.sin(la) * math.cos(lo), -math.sin(la) * math.sin(lo), math.cos(la)],
        [math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)],
    ])  # fmt: skip
    return rot @ np.array([x - x0, y - y0, z - z0])


def participant(pid, xyz, vel=(0.0, 0.0, 0.0), yaw=0.0, stamp_ns=0, frame='lidar'):
    return m.new(
        'v2x_stack/msg/Participant',
        header=m.header(stamp_ns, frame),
        id=pid,
        participant_class=1,
        position=m.new('geometry_msgs/msg/Point', x=xyz[0], y=xyz[1], z=xyz[2]),
        velocity=m.new('geometry_msgs/msg/Vector3', x=vel[0], y=vel[1], z=vel[2]),
        heading_rad=yaw,
        covariance=np.diag([0.04, 0.01, 0.25, 0.09]).ravel(),
        heading_variance=0.01,
    )


def run_georef(params, arrays):
    rt = EmbeddedRuntime(seed=1)
    node = rt.add_component(Georeferencer, name='georef', parameters=params)
    out = []
    rt.subscribe('/rsu/participants', ARRAY, out.append)
    for at_ns, msg in arrays:
        rt.publish('/perception/objects', msg, at_ns=at_ns)
    rt.run(duration_s=max(a for a, _ in arrays) / 1e9 + 0.5)
    rt.close()
    return node, out


# A lidar on a pole at the NE corner of the example junction, surveyed in WGS84, and three
# surveyed targets (stop line marks and a pole), all as geodetic coordinates.
POLE = (31.28385, 121.16395, 18.5)
TARGETS = [(31.28371, 121.16380, 12.1), (31.28360, 121.16410, 12.3), (31.28402, 121.16366, 12.0)]


@pytest.mark.parametrize('datum', ['WGS84', 'CGCS2000'])
def test_surveyed_targets_come_out_at_their_coordinates(datum):
    rpy = (0.01, -0.02, math.radians(200.0))
    t = survey_enu(*ORIGIN, *POLE)
    rot = SensorPose((0.0, 0.0, 0.0), rpy).rotation
    sensor_pts = [rot.T @ (survey_enu(*ORIGIN, *tgt) - t) for tgt in TARGETS]
    msg = m.new(ARRAY, header=m.header(10**9, 'lidar'),
                participants=[participant(i + 1, p, stamp_ns=10**9)
                              for i, p in enumerate(sensor_pts)])  # fmt: skip
    params = {
        'translation_m': [float(v) for v in t],
        'rpy_rad': list(rpy),
        'origin_lat_deg': ORIGIN[0],
        'origin_lon_deg': ORIGIN[1],
        'origin_alt_m': ORIGIN[2],
        'datum': datum,
    }
    _, out = run_georef(params, [(10**9, msg)])
    assert len(out) == 1 and out[0].header.frame_id == 'map'
    geod = pyproj.Geod(ellps='WGS84')
    for p, (lat, lon, h) in zip(out[0].participants, TARGETS, strict=True):
        # Same ellipsoid for origin and output, so the datum choice must not move the target.
        _, _, dist = geod.inv(lon, lat, p.longitude_deg, p.latitude_deg)
        assert dist < 0.01
        assert abs(p.altitude_m - h) < 0.01
        e, n, u = survey_enu(*ORIGIN, lat, lon, h)
        assert math.dist((p.position.x, p.position.y, p.position.z), (e, n, u)) < 0.01


def test_motion_and_covariance_are_rotated():
    params = {'translation_m': [10.0, 5.0, 6.0], 'rpy_rad': [0.0, 0.0, math.pi / 2]}
    one = participant(7, (20.0, 0.0, -6.0), (10.0, 0.0, 0.0), 0.0, 10**9)
    msg = m.new(ARRAY, header=m.header(10**9, 'lidar'), participants=[one])
    _, out = run_georef(params, [(10**9, msg)])
    p = out[0].participants[0]
    assert (p.position.x, p.position.y) == pytest.approx((10.0, 25.0))
    assert (p.velocity.x, p.velocity.y) == pytest.approx((0.0, 10.0), abs=1e-9)
    assert p.heading_rad == pytest.approx(math.pi / 2)
    cov = p.covariance.reshape(4, 4)
    assert cov[0, 0] == pytest.approx(0.01 + 0.02**2) and cov[1, 1] == pytest.approx(0.04 + 0.02**2)
    assert cov[2, 2] == pytest.approx(0.09) and cov[3, 3] == pytest.approx(0.25)
    assert p.heading_variance == pytest.approx(0.01 + 0.002**2)
    assert math.isfinite(p.latitude_deg) and math.isfinite(p.longitude_deg)


def test_bad_input_is_counted_and_the_node_goes_on():
    good = participant(1, (1.0, 2.0, 0.0), stamp_ns=2 * 10**9)
    nan = participant(2, (math.nan, 2.0, 0.0), stamp_ns=2 * 10**9)
    arrays = [
        (2 * 10**9, m.new(ARRAY, header=m.header(2 * 10**9, 'lidar'), participants=[good, nan])),
        (21 * 10**8, m.new(ARRAY, header=m.header(15 * 10**8, 'lidar'), participants=[good])),
        (3 * 10**9, m.new(ARRAY, header=m.header(2 * 10**9, 'lidar'), participants=[good])),
        (4 * 10**9, m.new(ARRAY, header=m.header(4 * 10**9, 'camera'), participants=[good])),
        (5 * 10**9, m.new(ARRAY, header=m.header(5 * 10**9, 'lidar'), participants=[good])),
    ]
    node, out = run_georef({}, arrays)
    c = node.ctx.diagnostics.counters
    assert c['rejected.nan_position'] == 1
    assert c['rejected.time_backwards'] == 1
    assert c['rejected.stale'] == 1
    assert c['rejected.wrong_frame'] == 1
    assert [len(a.participants) for a in out] == [1, 1]
    assert m.to_ns(out[-1].header.stamp) == 5 * 10**9


wild = st.one_of(st.floats(-1e3, 1e3), st.sampled_from([math.nan, math.inf, -math.inf, 1e308]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(wild, wild, wild, wild, wild), max_size=20))
def test_arbitrary_objects_never_crash_and_bad_ones_are_counted(rows):
    objs = [
        participant(i + 1, r[:3], (r[3], r[4], 0.0), stamp_ns=10**9) for i, r in enumerate(rows)
    ]
    msg = m.new(ARRAY, header=m.header(10**9, 'lidar'), participants=objs)
    node, out = run_georef({'rpy_rad': [0.1, 0.0, 1.0]}, [(10**9, msg)])
    nan = sum(not all(math.isfinite(v) for v in r[:3]) for r in rows)
    huge = sum(all(math.isfinite(v) for v in r[:3]) and max(map(abs, r[:3])) > 1e5 for r in rows)
    c = node.ctx.diagnostics.counters
    assert (c['rejected.nan_position'], c['rejected.out_of_range']) == (nan, huge)
    assert len(out[0].participants) == len(rows) - nan - huge
    assert all(math.isfinite(p.latitude_deg) for p in out[0].participants)

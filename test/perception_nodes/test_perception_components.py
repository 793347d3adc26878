"""LidarDetector and ObjectTracker in the embedded runtime: real messages, simulated clock."""

import numpy as np
import pytest

from perception_nodes.lidar.classify import ObjectClass
from perception_nodes.lidar.cloud import cloud_to_msg
from perception_nodes.lidar.synthetic import LidarModel, Scene, SceneBox
from perception_nodes.lidar_detector import LidarDetector
from perception_nodes.object_tracker import ObjectTracker
from v2x_runtime import ParameterError
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

ARRAY = 'v2x_stack/msg/ParticipantArray'
MARKERS = 'visualization_msgs/msg/MarkerArray'
NS = 1_000_000_000
LEARN = 5


@pytest.fixture(scope='module')
def scene():
    rng = np.random.default_rng(21)
    return Scene.crossroads(rng, lidar=LidarModel(n_beams=96, n_azimuth=1200))


def _car(scene, x, y, yaw):
    return SceneBox(x, y, yaw, 4.5, 1.85, 1.5, float(scene.terrain.height(x, y)), ObjectClass.CAR)


def _runtime(scene, **detector_params):
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    params = {
        'roi_polygon_m': [float(v) for v in scene.roi_polygon().ravel()],
        'background_frames': LEARN,
        **detector_params,
    }
    det = rt.add_component(LidarDetector, name='lidar_detector', parameters=params)
    trk = rt.add_component(ObjectTracker, name='object_tracker')
    got = {'det': [], 'obj': [], 'markers': []}
    rt.subscribe('/perception/detections', ARRAY, got['det'].append)
    rt.subscribe('/perception/objects', ARRAY, got['obj'].append)
    rt.subscribe('/perception/markers', MARKERS, got['markers'].append)
    return rt, det, trk, got


def test_moving_cars_tracked_end_to_end(scene):
    rng = np.random.default_rng(5)
    rt, det, _, got = _runtime(scene)
    frames = 25
    for k in range(LEARN + frames):
        t = k * 0.1
        cars = []
        if k >= LEARN:
            tt = (k - LEARN) * 0.1
            cars = [
                _car(scene, -40 + 10 * tt, -5.0, 0.0),
                _car(scene, 6.0, 45 - 8 * tt, -np.pi / 2),
            ]
        xyz = scene.scan(rng, cars, alone=False).xyz_m
        msg = cloud_to_msg(xyz, stamp_ns=round(t * NS), frame_id='lidar_front')
        rt.publish(
            '/lidar/points',
            m.deserialize(m.serialize(msg), 'sensor_msgs/msg/PointCloud2'),
            at_ns=round(t * NS) + 20_000_000,
        )
    rt.run(duration_s=(LEARN + frames) * 0.1 + 0.5)
    diag = det.ctx.diagnostics.counters
    assert diag['learning_frames'] == LEARN and diag['received'] == LEARN + frames
    assert len(got['det']) == frames
    assert all(a.header.frame_id == 'lidar_front' for a in got['det'])
    assert all(len(a.participants) == 2 for a in got['det'])
    assert all(p.source == 6 and p.participant_class == 1 for p in got['det'][-1].participants)
    assert len(got['markers']) == frames // 5  # markers_period_s 0.5 at 10 Hz
    final = got['obj'][-1]
    assert len(final.participants) == 2
    ids = {p.id for a in got['obj'][5:] for p in a.participants}
    assert len(ids) == 2, 'stable ids'
    by_vx = sorted(final.participants, key=lambda p: p.velocity.x)
    south, east = by_vx[0], by_vx[1]
    assert east.velocity.x == pytest.approx(10.0, abs=1.0)
    assert south.velocity.y == pytest.approx(-8.0, abs=1.0)
    assert east.heading_rad == pytest.approx(0.0, abs=0.1)
    assert south.heading_rad == pytest.approx(-np.pi / 2, abs=0.1)
    for p in final.participants:
        cov = p.covariance.reshape(4, 4)
        assert (np.diag(cov) > 0).all() and np.allclose(cov, cov.T)
        assert 0 < p.heading_variance < 0.1
        assert p.size.x == pytest.approx(4.5, abs=0.6)


def _good_cloud(scene, rng, t):
    xyz = scene.scan(rng, [_car(scene, 20.0, 3.0, 0.0)], alone=False).xyz_m
    return cloud_to_msg(xyz, stamp_ns=round(t * NS))


def test_bad_clouds_are_counted_and_the_node_goes_on(scene):
    rng = np.random.default_rng(6)
    rt, det, _, got = _runtime(
        scene, max_points=300_000, background_frames=1, timeout_s=0.5, time_reset_s=2.0
    )
    rt.publish('/lidar/points', cloud_to_msg(scene.scan(rng, [], alone=False).xyz_m, stamp_ns=0))
    rt.run(duration_s=0.05)
    bad = []
    bad.append(cloud_to_msg(np.zeros((0, 3), np.float32), stamp_ns=round(0.1 * NS)))
    bad.append(cloud_to_msg(np.full((100, 3), np.nan, np.float32), stamp_ns=round(0.2 * NS)))
    wrong = cloud_to_msg(np.ones((10, 3), np.float32), stamp_ns=round(0.3 * NS))
    wrong.fields = wrong.fields[1:]  # no x
    bad.append(wrong)
    bad.append(cloud_to_msg(np.zeros((300_001, 3), np.float32), stamp_ns=round(0.4 * NS)))
    for msg in bad:
        rt.publish('/lidar/points', msg)
        rt.run(duration_s=0.01)
    rt.publish('/lidar/points', _good_cloud(scene, rng, 0.5))
    rt.run(duration_s=0.01)
    rt.publish('/lidar/points', _good_cloud(scene, rng, 0.45))  # older than the last
    rt.run(duration_s=0.01)
    rt.run(duration_s=1.5)  # the lidar stops
    counters = det.ctx.diagnostics.counters
    assert counters['rejected.empty'] == 2  # empty, all-NaN
    assert counters['nonfinite_points'] == 100
    assert counters['rejected.wrong_fields'] == 1
    assert counters['rejected.oversized'] == 1
    assert counters['rejected.time_backwards'] == 1
    assert counters['lidar_silent'] == 1
    assert det.ctx.diagnostics.level == 1
    assert len(got['det']) == 1 and len(got['det'][0].participants) == 1
    rt.publish('/lidar/points', _good_cloud(scene, rng, 3.0))
    rt.run(duration_s=0.01)
    assert det.ctx.diagnostics.level == 0 and len(got['det']) == 2
    # a replay loop: stamps jump back by more than time_reset_s, a new timeline starts
    rt.publish('/lidar/points', _good_cloud(scene, rng, 0.6))
    rt.run(duration_s=0.01)
    assert counters['time_reset'] == 1 and len(got['det']) == 3


def test_tracker_rejects_bad_arrays_and_goes_on():
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    trk = rt.add_component(
        ObjectTracker, name='object_tracker', parameters={'max_detections': 5, 'confirm_hits': 1}
    )
    out = []
    rt.subscribe('/perception/objects', ARRAY, out.append)

    def array(t, xs, frame='lidar'):
        parts = [
            m.new(
                'v2x_stack/msg/Participant',
                id=i + 1,
                participant_class=5,
                position=m.new('geometry_msgs/msg/Point', x=x, y=1.0, z=0.0),
                size=m.new('geometry_msgs/msg/Vector3', x=0.6, y=0.5, z=1.7),
                confidence=0.8,
            )
            for i, x in enumerate(xs)
        ]
        return m.new(ARRAY, header=m.header(round(t * NS), frame), participants=parts)

    for msg in (
        array(0.0, [1.0, 5.0]),
        array(0.1, [1.1, float('nan')]),
        array(0.05, [1.0]),
        array(0.2, [1.0] * 6),
        array(0.3, [1.3], frame='map'),
        array(10.0, [1.3], frame='map'),
        array(1.0, [1.3], frame='map'),
    ):
        rt.publish('/perception/objects_in', msg)  # unrelated topic: ignored
        rt.publish('/perception/detections', msg)
        rt.run(duration_s=0.01)
    c = trk.ctx.diagnostics.counters
    assert c['rejected.nonfinite_participant'] == 1
    assert c['rejected.time_backwards'] == 1
    assert c['rejected.oversized'] == 1
    assert c['rejected.frame_changed'] == 1
    assert c['handler_exceptions'] == 0, dict(c)
    assert c['received'] == 5
    assert c['time_reset'] == 1  # 10.0 s -> 1.0 s: a new timeline, tracks reset
    # the missed one coasts as LOST; after the reset a new track id starts
    assert [len(a.participants) for a in out] == [2, 2, 1, 1, 1]
    assert out[-1].participants[0].id > out[-2].participants[0].id
    assert out[-1].header.frame_id == 'map'


@pytest.mark.parametrize(
    ('params', 'match'),
    [
        ({'roi_polygon_m': [0.0, 0.0, 1.0]}, 'roi_polygon_m'),
        ({'roi_polygon_m': [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]}, 'roi polygon'),
        ({'class_car_size_m': [1.0, 2.0]}, 'class_car_size_m'),
        ({'class_car_size_m': [5.0, 2.0, 1.0, 2.0, 1.0, 2.0]}, 'car.length'),
        ({'ground_window_m': 0.2}, 'ground cell/window'),
        ({'ego_box_m': [1.0, 2.0, 3.0]}, 'ego_box_m: expected 4 numbers'),
        ({'ego_box_m': [1.0, -1.0, 0.0, 1.0]}, 'ego_box_m'),
    ],
)
def test_detector_config_errors_name_the_field(params, match):
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    with pytest.raises(ParameterError, match=match):
        rt.add_component(LidarDetector, name='lidar_detector', parameters=params)


def test_vehicle_configuration_detects_from_the_first_frame(scene):
    rng = np.random.default_rng(8)
    rt, det, _, got = _runtime(scene, use_background=False, ego_box_m=[-2.0, 2.0, -1.0, 1.0])
    rt.publish('/lidar/points', _good_cloud(scene, rng, 0.0))
    rt.run(duration_s=0.05)
    assert det.ctx.diagnostics.counters['learning_frames'] == 0
    assert len(got['det']) == 1
    cars = [p for p in got['det'][0].participants if p.participant_class == 1]
    assert any(abs(p.position.x - 20.0) < 1.0 and abs(p.position.y - 3.0) < 1.0 for p in cars)


TOPOLOGY = """
description: roadside lidar perception
namespace: rsu
processes:
  perception:
    components:
      lidar_detector:
        plugin: perception_nodes.lidar_detector:LidarDetector
        parameters:
          roi_polygon_m: [5.0, -14.0, 80.0, -14.0, 80.0, 14.0, 5.0, 14.0]
          background_frames: 20
      object_tracker:
        plugin: perception_nodes.object_tracker:ObjectTracker
"""


def test_components_load_from_a_topology_file(tmp_path):
    from v2x_runtime import TopologyError
    from v2x_runtime.topology import load_topology

    good = tmp_path / 'perception.yaml'
    good.write_text(TOPOLOGY, encoding='utf-8')
    topology = load_topology(good)
    assert topology is not None
    bad = tmp_path / 'bad.yaml'
    bad.write_text(
        TOPOLOGY.replace('background_frames: 20', 'background_frames: 0'), encoding='utf-8'
    )
    with pytest.raises((TopologyError, ParameterError), match='background_frames'):
        load_topology(bad)

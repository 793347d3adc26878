"""Detection quality on synthetic crossroads scenes with known boxes, on fixed seeds.

Thresholds from issue 7: precision and recall >= 0.95 at BEV IoU 0.5 for cars within 60 m and
>= 0.9 for pedestrians within 40 m (scoring rules in detection_eval.py).
"""

import numpy as np
import pytest
from detection_eval import ClassScore, score_frame

from perception_nodes.lidar.background import BackgroundConfig
from perception_nodes.lidar.classify import ObjectClass
from perception_nodes.lidar.errors import LidarConfigError
from perception_nodes.lidar.pipeline import DetectionPipeline, PipelineConfig
from perception_nodes.lidar.synthetic import Scene, SceneBox

SEEDS = (101, 202)
FRAMES_PER_SEED = 3
LEARN_FRAMES = 8


@pytest.fixture(scope='module')
def scores():
    car, ped = ClassScore(), ClassScore()
    n_objects = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        scene = Scene.crossroads(rng)
        pipeline = DetectionPipeline(
            PipelineConfig(
                roi_polygon_m=tuple(map(tuple, scene.roi_polygon())),
                background=BackgroundConfig(learn_frames=LEARN_FRAMES),
            )
        )
        for _ in range(LEARN_FRAMES):
            out = pipeline.process(scene.scan(rng, [], alone=False).xyz_m)
            assert out.learning and len(out) == 0
        for k in range(FRAMES_PER_SEED):
            n = (5, 30, 60)[k]
            objects = scene.random_objects(rng, n)
            n_objects.append(len(objects))
            frame = scene.scan(rng, objects)
            det = pipeline.process(frame.xyz_m)
            assert not det.learning
            score_frame(frame, det, ObjectClass.CAR, 60.0, car)
            score_frame(frame, det, ObjectClass.PEDESTRIAN, 40.0, ped)
    return car, ped, n_objects


def test_scenes_hold_5_to_60_objects(scores):
    *_, n_objects = scores
    assert min(n_objects) == 5 and max(n_objects) >= 55


def test_car_precision_recall(scores):
    car, _, _ = scores
    print(
        f'cars: tp {car.tp} fn {car.fn} fp {car.fp} recall {car.recall:.3f} '
        f'precision {car.precision:.3f}'
    )
    assert car.tp + car.fn >= 60, 'too few cars to measure'
    assert car.recall >= 0.95, car.misses
    assert car.precision >= 0.95


def test_pedestrian_precision_recall(scores):
    _, ped, _ = scores
    print(
        f'pedestrians: tp {ped.tp} fn {ped.fn} fp {ped.fp} recall {ped.recall:.3f} '
        f'precision {ped.precision:.3f}'
    )
    assert ped.tp + ped.fn >= 30, 'too few pedestrians to measure'
    assert ped.recall >= 0.9, ped.misses
    assert ped.precision >= 0.9


def test_vehicle_mode_without_background():
    """Moving-lidar set-up: no background model, ground estimated per frame, ego box cut out."""
    rng = np.random.default_rng(7)
    scene = Scene.crossroads(rng)
    pipeline = DetectionPipeline(
        PipelineConfig(
            roi_polygon_m=tuple(map(tuple, scene.roi_polygon())),
            use_background=False,
            ego_box_m=(-1.0, 1.0, -1.0, 1.0),
        )
    )
    car = ClassScore()
    for _ in range(2):
        objects = scene.random_objects(rng, 30, mix={ObjectClass.CAR: 1.0})
        frame = scene.scan(rng, objects)
        det = pipeline.process(frame.xyz_m)
        assert not det.learning
        score_frame(frame, det, ObjectClass.CAR, 60.0, car)
    # static poles and building corners inside the ROI are not background here, so only
    # recall is held to the roadside bound
    assert car.recall >= 0.9, car.misses


def test_empty_and_tiny_frames():
    pipeline = DetectionPipeline(PipelineConfig(use_background=False))
    assert len(pipeline.process(np.zeros((0, 3), np.float32))) == 0
    assert len(pipeline.process(np.ones((3, 3), np.float32))) == 0


def test_config_errors_name_the_field():
    with pytest.raises(LidarConfigError, match='ego_box_m'):
        PipelineConfig(ego_box_m=(1.0, -1.0, 0.0, 1.0))
    with pytest.raises(LidarConfigError, match='roi z range'):
        DetectionPipeline(PipelineConfig(roi_z_min_m=2.0, roi_z_max_m=1.0))


def test_background_learned_with_traffic_present():
    """Real roadside units learn while traffic flows: moving objects in the learning frames
    occupy each voxel too briefly to become background."""
    rng = np.random.default_rng(33)
    scene = Scene.crossroads(rng)
    learn = 20
    pipeline = DetectionPipeline(
        PipelineConfig(
            roi_polygon_m=tuple(map(tuple, scene.roi_polygon())),
            background=BackgroundConfig(learn_frames=learn),
        )
    )
    traffic = scene.random_objects(rng, 30)
    speed = rng.uniform(3.0, 12.0, len(traffic))
    for k in range(learn):
        moved = []
        for o, v in zip(traffic, speed, strict=True):
            x = o.x_m + np.cos(o.yaw_rad) * v * k * 0.5
            y = o.y_m + np.sin(o.yaw_rad) * v * k * 0.5
            z = float(scene.terrain.height(x, y))
            moved.append(SceneBox(x, y, o.yaw_rad, o.length_m, o.width_m, o.height_m, z, o.cls))
        pipeline.process(scene.scan(rng, moved, alone=False).xyz_m)
    car, ped = ClassScore(), ClassScore()
    for _ in range(3):
        frame = scene.scan(rng, scene.random_objects(rng, 40))
        det = pipeline.process(frame.xyz_m)
        score_frame(frame, det, ObjectClass.CAR, 60.0, car)
        score_frame(frame, det, ObjectClass.PEDESTRIAN, 40.0, ped)
    assert car.recall >= 0.9 and car.precision >= 0.95, car.misses
    assert ped.recall >= 0.9 and ped.precision >= 0.9, ped.misses

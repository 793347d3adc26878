"""Vehicle-mode detection on synthetic clouds (issue 10): walls and building corners are not
objects, a car seen only by its rear face is a car box centred where the car is."""

from __future__ import annotations

import numpy as np
import pytest

from perception_nodes.lidar.classify import ObjectClass
from perception_nodes.lidar.pipeline import DetectionPipeline, PipelineConfig

MOUNT_M = 2.0  # sensor above the road, as config/scenarios/perception/*.yaml


def _pipeline(**kw) -> DetectionPipeline:
    return DetectionPipeline(
        PipelineConfig(
            use_background=False,
            ego_box_m=(-2.6, 2.6, -1.1, 1.1),
            roi_polygon_m=((-40.0, -40.0), (60.0, -40.0), (60.0, 40.0), (-40.0, 40.0)),
            **kw,
        )
    )


def _ground(rng) -> np.ndarray:
    xy = rng.uniform([-39.0, -39.0], [59.0, 39.0], size=(40000, 2))
    return np.column_stack([xy, np.full(len(xy), -MOUNT_M) + rng.normal(0, 0.01, len(xy))])


def _plane(rng, a_xy, b_xy, z_lo, z_hi, n) -> np.ndarray:
    """Points on the vertical face from ``a_xy`` to ``b_xy`` between heights (above ground)."""
    t = rng.uniform(0.0, 1.0, n)
    xy = np.asarray(a_xy) + t[:, None] * (np.asarray(b_xy) - np.asarray(a_xy))
    z = rng.uniform(z_lo, z_hi, n) - MOUNT_M
    return np.column_stack([xy + rng.normal(0, 0.02, (n, 2)), z])


def _detect(pipeline, *parts) -> tuple:
    det = pipeline.process(np.concatenate(parts))
    return det, det.boxes


@pytest.mark.parametrize(
    ('wall', 'passed_before'),
    [
        # a building corner seen as an L: 15 m along the road, 11 m back (area ~165 m2)
        ([((20.0, 12.0), (35.0, 12.0)), ((20.0, 12.0), (20.0, 23.0))], True),
        # a wall seen edge-on at grazing incidence: a thin column a few points wide
        ([((25.0, -15.0), (25.05, -15.0))], True),
        # a 25 m facade along the road: the length bound (20 m) had it already
        ([((5.0, 14.0), (30.0, 14.0))], False),
    ],
)
def test_walls_and_building_corners_are_not_objects(wall, passed_before):
    rng = np.random.default_rng(1)
    pipeline = _pipeline()
    faces = [_plane(rng, a, b, 0.0, 5.5, 1500 if b != (25.05, -15.0) else 8) for a, b in wall]
    det, _ = _detect(pipeline, _ground(rng), *faces)
    assert len(det) == 0, det.boxes.bev()
    assert det.counts['static_dropped'] >= 1
    # the length bound alone let the corner and the column through
    old = _pipeline(max_box_area_m2=1e9, max_slender_height_m=1e9)
    assert (len(old.process(np.concatenate([_ground(rng), *faces]))) >= 1) == passed_before


def _rear_face(rng, centre_x, centre_y, yaw_los=0.0) -> np.ndarray:
    """A 1.9 m wide, 1.5 m tall car seen from straight behind: its rear face only."""
    half = 0.95
    c, s = np.cos(yaw_los), np.sin(yaw_los)
    face_x = centre_x - 2.3 * c  # rear face of a 4.6 m car
    face_y = centre_y - 2.3 * s
    a = (face_x + half * s, face_y - half * c)
    b = (face_x - half * s, face_y + half * c)
    return _plane(rng, a, b, 0.3, 1.5, 400)


@pytest.mark.parametrize('centre', [(14.3, 0.0), (22.3, 1.5), (10.0, -10.0)])
def test_rear_face_is_a_car_centred_half_a_car_behind_the_face(centre):
    rng = np.random.default_rng(2)
    los = np.arctan2(centre[1], centre[0])
    pipeline = _pipeline()
    det, boxes = _detect(pipeline, _ground(rng), _rear_face(rng, *centre, yaw_los=los))
    assert len(det) == 1
    assert det.class_id[0] == ObjectClass.CAR
    assert det.counts['faces'] == 1
    # centre within 0.4 m of the car's (the face is at 2.3 m, the typical car half-length 2.25)
    assert np.hypot(*(boxes.center_m[0, :2] - centre)) < 0.4
    assert boxes.length_m[0] == pytest.approx(4.5, abs=0.1)
    # length along the line of sight
    assert abs(np.sin(boxes.yaw_rad[0] - los)) < 0.2
    # without the face rule the same cloud is a cyclist-sized box at the face, ~2 m off
    plain = _pipeline(face_rule=None).process(
        np.concatenate([_ground(rng), _rear_face(rng, *centre, yaw_los=los)])
    )
    assert plain.class_id[0] == ObjectClass.CYCLIST
    assert np.hypot(*(plain.boxes.center_m[0, :2] - centre)) > 1.5


def test_crossing_cyclist_stays_a_cyclist():
    """A cyclist broadside to the sensor is as wide as a rear face but its rider is taller."""
    rng = np.random.default_rng(3)
    side = _plane(rng, (15.0, -0.9), (15.0, 0.9), 0.0, 1.85, 300)  # 1.8 m long, across LOS
    det, _ = _detect(_pipeline(), _ground(rng), side)
    assert len(det) == 1 and det.class_id[0] == ObjectClass.CYCLIST

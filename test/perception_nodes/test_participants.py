"""Conversions: detections ↔ ParticipantArray through CDR bytes, tracks → Participants, markers."""

import math

import numpy as np
import pytest

from perception_nodes.lidar.boxes import Boxes
from perception_nodes.lidar.pipeline import Detections
from perception_nodes.markers import participant_markers
from perception_nodes.participants import (
    detection_set_from_msg,
    detections_to_msg,
    tracks_to_msg,
)
from perception_nodes.tracking import DetectionSet, MultiObjectTracker
from v2x_runtime import messages as m

ARRAY = 'v2x_stack/msg/ParticipantArray'


def _detections():
    boxes = Boxes(
        center_m=np.array([[10.0, 2.0, -4.5], [20.0, -3.0, -5.0]]),
        length_m=np.array([4.5, 0.6]),
        width_m=np.array([1.8, 0.5]),
        height_m=np.array([1.5, 1.7]),
        yaw_rad=np.array([0.3, -1.0]),
        n_points=np.array([300, 40]),
        centroid_m=np.array([[10.0, 2.0], [20.0, -3.0]]),
    )
    return Detections(
        boxes, np.array([1, 5], np.uint8), np.array([0.9, 0.7], np.float32), False, {}, {}
    )


def test_detections_round_trip_through_cdr():
    det = _detections()
    msg = detections_to_msg(det, stamp_ns=1_500_000_000, frame_id='lidar')
    back = m.deserialize(m.serialize(msg), ARRAY)
    assert back.header.frame_id == 'lidar' and m.to_ns(back.header.stamp) == 1_500_000_000
    p = back.participants[0]
    assert (p.id, p.source, p.participant_class) == (1, 6, 1)
    assert math.isnan(p.latitude_deg) and p.heading_variance == -1.0
    cov = p.covariance.reshape(4, 4)
    assert cov[0, 0] == pytest.approx((0.15 + 0.004 * math.hypot(10.0, 2.0)) ** 2)
    assert cov[2, 2] == -1.0 and cov[3, 3] == -1.0
    ds, bad = detection_set_from_msg(back)
    assert bad == []
    np.testing.assert_allclose(ds.xyz_m, det.boxes.center_m)
    np.testing.assert_allclose(ds.size_m[:, 0], det.boxes.length_m)
    np.testing.assert_allclose(ds.yaw_rad, det.boxes.yaw_rad)
    assert ds.class_id.tolist() == [1, 5]
    np.testing.assert_allclose(ds.confidence, [0.9, 0.7], rtol=1e-6)
    np.testing.assert_allclose(ds.position_var_m2[0], cov[0, 0])


def test_nonfinite_participants_are_named_and_left_out():
    msg = detections_to_msg(_detections(), stamp_ns=0, frame_id='lidar')
    msg.participants[1].size.y = float('inf')
    ds, bad = detection_set_from_msg(msg)
    assert len(ds) == 1 and len(bad) == 1 and 'participant 2' in bad[0]


def test_tracks_to_participants_carry_velocity_covariance_heading():
    tracker = MultiObjectTracker()
    for k in range(8):
        xy = np.array([[5.0 + k, 1.0]])
        tracks = tracker.step(
            k * 0.1,
            DetectionSet(
                np.column_stack([xy, [0.0]]),
                np.array([[4.5, 1.8, 1.5]]),
                np.zeros(1),
                np.ones(1, np.uint8),
                np.ones(1, np.float32),
            ),
        )
    msg = m.deserialize(
        m.serialize(tracks_to_msg(tracks, stamp_ns=700_000_000, frame_id='map', source_id='rsu1')),
        ARRAY,
    )
    (p,) = msg.participants
    (t,) = tracks
    assert p.id == t.track_id and p.source_id == 'rsu1'
    assert p.velocity.x == pytest.approx(t.vx_mps)
    np.testing.assert_allclose(p.covariance.reshape(4, 4), t.covariance)
    assert p.heading_variance == pytest.approx(t.heading_variance)
    assert 0 < p.confidence <= 1


def test_markers_cube_per_object_arrow_when_moving():
    msg = detections_to_msg(_detections(), stamp_ns=0, frame_id='lidar')
    msg.participants[0].velocity.x = 3.0
    markers = participant_markers(msg, namespace='test').markers
    assert markers[0].action == 3  # DELETEALL first
    kinds = sorted((mk.type, mk.id) for mk in markers[1:])
    assert kinds == [(0, 3), (1, 2), (1, 4)]
    cube = next(mk for mk in markers if mk.type == 1 and mk.id == 2)
    assert cube.scale.x == pytest.approx(4.5)
    assert cube.pose.orientation.z == pytest.approx(math.sin(0.15))
    m.serialize(m.new('visualization_msgs/msg/MarkerArray', markers=markers))

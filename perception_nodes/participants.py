"""Conversions between the pipeline/tracker values and ParticipantArray messages.

In pairs where both directions exist: ``detections_to_msg`` / ``detection_set_from_msg`` and
``tracks_to_msg``; the views for RViz/Foxglove are built by ``perception_nodes.markers``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from perception_nodes.lidar.pipeline import Detections
from perception_nodes.tracking.tracker import DetectionSet, Track, TrackStatus
from v2x_runtime import messages as m

PARTICIPANT = 'v2x_stack/msg/Participant'
PARTICIPANT_ARRAY = 'v2x_stack/msg/ParticipantArray'
POINT = 'geometry_msgs/msg/Point'
VECTOR3 = 'geometry_msgs/msg/Vector3'
SOURCE_LIDAR = 6


def detections_to_msg(
    det: Detections,
    *,
    stamp_ns: int,
    frame_id: str,
    position_std_m: float = 0.15,
    position_std_per_m: float = 0.004,
) -> Any:
    """One frame's boxes as Participants (ids 1..K within the frame; velocity unknown).

    The position standard deviation grows with the range from the sensor (the frame's origin):
    ``position_std_m + position_std_per_m * range``; velocity entries are -1 (unknown).
    """
    header = m.header(stamp_ns, frame_id)
    b = det.boxes
    point, vector = m.msg_class(POINT), m.msg_class(VECTOR3)
    centres = b.center_m.tolist()  # Python floats in one call, not float() per value
    variances = []
    for x, y, _ in centres:
        std = position_std_m + position_std_per_m * math.hypot(x, y)
        variances.append(std * std)
    cov = np.zeros((len(centres), 16))  # each row: diag(var, var, -1, -1)
    cov[:, 0] = cov[:, 5] = variances
    cov[:, 10] = cov[:, 15] = -1.0
    parts = [
        m.new(
            PARTICIPANT,
            header=header,
            id=k + 1,
            participant_class=cls,
            source=SOURCE_LIDAR,
            position=point(x=x, y=y, z=z),
            latitude_deg=math.nan,
            longitude_deg=math.nan,
            altitude_m=math.nan,
            heading_rad=yaw,
            velocity=vector(x=0.0, y=0.0, z=0.0),
            size=vector(x=length, y=width, z=height),
            covariance=cov[k],
            heading_variance=-1.0,  # box yaw: ambiguous by pi
            confidence=conf,
        )
        for k, ((x, y, z), cls, yaw, length, width, height, conf) in enumerate(
            zip(
                centres,
                det.class_id.tolist(),
                b.yaw_rad.tolist(),
                b.length_m.tolist(),
                b.width_m.tolist(),
                b.height_m.tolist(),
                det.confidence.tolist(),
                strict=True,
            )
        )
    ]
    return m.new(PARTICIPANT_ARRAY, header=header, participants=parts)


def detection_set_from_msg(msg: Any) -> tuple[DetectionSet, list[str]]:
    """Participants → arrays for the tracker; participants with NaN/inf are left out and named."""
    rows, bad = [], []
    for p in msg.participants:
        vals = (
            p.position.x,
            p.position.y,
            p.position.z,
            p.size.x,
            p.size.y,
            p.size.z,
            p.heading_rad,
        )
        if not m.finite(*vals):
            bad.append(f'participant {p.id}: non-finite position/size/heading {vals}')
            continue
        cov = p.covariance
        var = 0.5 * (float(cov[0]) + float(cov[5])) if len(cov) == 16 else -1.0  # var(x), var(y)
        rows.append((*vals, p.participant_class, p.confidence, var))
    arr = np.array(rows, dtype=np.float64).reshape(-1, 10)
    det = DetectionSet(
        xyz_m=arr[:, 0:3],
        size_m=arr[:, 3:6],
        yaw_rad=arr[:, 6],
        class_id=arr[:, 7].astype(np.uint8),
        confidence=np.clip(arr[:, 8], 0.0, 1.0),
        position_var_m2=arr[:, 9],
    )
    return det, bad


def tracks_to_msg(
    tracks: list[Track],
    *,
    stamp_ns: int,
    frame_id: str,
    source: int = SOURCE_LIDAR,
    source_id: str = '',
) -> Any:
    """Tracks as Participants with velocity, [x, y, vx, vy] covariance and heading variance."""
    header = m.header(stamp_ns, frame_id)
    point, vector = m.msg_class(POINT), m.msg_class(VECTOR3)
    parts = []
    for t in tracks:
        existence = 1.0 if t.status is TrackStatus.CONFIRMED else 0.5
        parts.append(
            m.new(
                PARTICIPANT,
                header=header,
                id=t.track_id,
                participant_class=t.object_class,
                source=source,
                source_id=source_id,
                position=point(x=t.x_m, y=t.y_m, z=t.z_m),
                latitude_deg=math.nan,
                longitude_deg=math.nan,
                altitude_m=math.nan,
                heading_rad=t.heading_rad,
                velocity=vector(x=t.vx_mps, y=t.vy_mps, z=0.0),
                size=vector(x=t.length_m, y=t.width_m, z=t.height_m),
                covariance=np.asarray(t.covariance, dtype=np.float64).ravel().copy(),
                heading_variance=t.heading_variance,
                confidence=float(existence * t.class_confidence),
            )
        )
    return m.new(PARTICIPANT_ARRAY, header=header, participants=parts)

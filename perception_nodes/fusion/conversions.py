"""Fused objects → ParticipantArray / MarkerArray, and object reports → ParticipantArray.

``reports_to_msg`` is the inverse of ``reports.report_from_participant`` (used to drive the
component with synthetic sources and in the round-trip tests).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from perception_nodes.fusion.engine import FusedObject
from perception_nodes.fusion.reports import ObjectReport, SourceKind
from perception_nodes.participants import MARKER, MARKER_ARRAY, participant_markers
from v2x_runtime import messages as m

PARTICIPANT = 'v2x_stack/msg/Participant'
PARTICIPANT_ARRAY = 'v2x_stack/msg/ParticipantArray'
POINT = 'geometry_msgs/msg/Point'
POSE = 'geometry_msgs/msg/Pose'
VECTOR3 = 'geometry_msgs/msg/Vector3'
SOURCE_SELF, SOURCE_LIDAR, SOURCE_FUSED = 1, 6, 7
MARKER_TEXT = 9
_SOURCE_OF_KIND = {
    SourceKind.ONBOARD: SOURCE_LIDAR,
    SourceKind.ROADSIDE: SOURCE_LIDAR,
    SourceKind.V2V: SOURCE_SELF,
}


def member_label(key: tuple[int, str, int]) -> str:
    """'onboard', 'rsu:<id>' or 'v2v:<id>' for a fused object's source bookkeeping."""
    kind, source_id, _ = key
    if kind == SourceKind.ONBOARD:
        return 'onboard'
    return f'{"rsu" if kind == SourceKind.ROADSIDE else "v2v"}:{source_id}'


def sources_label(obj: FusedObject) -> str:
    """The sources that see ``obj``, sorted and joined by '+' (a fused object's source_id)."""
    if len(obj.members) == 1:  # most objects: one source
        return member_label(obj.members[0])
    return '+'.join(sorted({member_label(k) for k in obj.members}))


def _vec(x: float, y: float, z: float = 0.0) -> Any:
    return m.new('geometry_msgs/msg/Vector3', x=float(x), y=float(y), z=float(z))


def _participant(header: Any, **fields: Any) -> Any:
    return m.new(
        PARTICIPANT,
        header=header,
        latitude_deg=math.nan,
        longitude_deg=math.nan,
        altitude_m=math.nan,
        **fields,
    )


def fused_to_msg(objects: Sequence[FusedObject], stamp_ns: int, frame_id: str) -> Any:
    """The fused objects as a ParticipantArray (source SOURCE_FUSED, covariance filled).

    Built with the message classes directly (every field given): this runs every cycle for
    hundreds of objects.
    """
    header = m.header(stamp_ns, frame_id)
    part, point, vec = m.msg_class(PARTICIPANT), m.msg_class(POINT), m.msg_class(VECTOR3)
    nan = math.nan
    parts = []
    for o in objects:
        x, y, vx, vy = o.state.tolist()
        parts.append(
            part(
                header=header,
                id=o.fused_id,
                participant_class=o.participant_class,
                source=SOURCE_FUSED,
                source_id=sources_label(o),
                trust=o.trust,
                position=point(x=x, y=y, z=0.0),
                latitude_deg=nan,
                longitude_deg=nan,
                altitude_m=nan,
                heading_rad=float(o.heading_rad),
                velocity=vec(x=vx, y=vy, z=0.0),
                size=vec(x=o.size_m[0], y=o.size_m[1], z=o.size_m[2]),
                covariance=np.asarray(o.cov, dtype=np.float64).ravel(),
                heading_variance=float(o.heading_variance),
                confidence=float(o.confidence),
            )
        )
    return m.new(PARTICIPANT_ARRAY, header=header, participants=parts)


def fused_markers(msg: Any, *, lifetime_s: float = 0.3) -> Any:
    """Boxes and velocity arrows (the tracker's markers) plus a label 'id: sources' each.

    The labels are built with the message classes directly, every field given, and share
    their constant parts (orientation, scale, colour, lifetime, the empty texture and mesh)
    within the array: ``m.new`` filling the defaults of a Marker was half the cost.
    """
    out = participant_markers(msg, namespace='fused', lifetime_s=lifetime_s)
    sec = int(lifetime_s)
    life = m.new(
        'builtin_interfaces/msg/Duration', sec=sec, nanosec=round((lifetime_s - sec) * 1e9)
    )
    marker, pose, point = m.msg_class(MARKER), m.msg_class(POSE), m.msg_class(POINT)
    header = msg.header
    orientation = m.new('geometry_msgs/msg/Quaternion')
    scale = _vec(0.0, 0.0, 0.8)
    color = m.new('std_msgs/msg/ColorRGBA', r=1.0, g=1.0, b=1.0, a=0.9)
    texture = m.new('sensor_msgs/msg/CompressedImage')
    mesh = m.new('visualization_msgs/msg/MeshFile')
    for p in msg.participants:
        position, size = p.position, p.size
        out.markers.append(
            marker(
                header=header,
                ns='fused_label',
                id=int(p.id),
                type=MARKER_TEXT,
                action=0,
                pose=pose(
                    position=point(
                        x=position.x, y=position.y, z=position.z + max(size.z, 1.0) + 0.5
                    ),
                    orientation=orientation,
                ),
                scale=scale,
                color=color,
                lifetime=life,
                frame_locked=False,
                points=[],
                colors=[],
                texture_resource='',
                texture=texture,
                uv_coordinates=[],
                text=f'{p.id}: {p.source_id}',
                mesh_resource='',
                mesh_file=mesh,
                mesh_use_embedded_materials=False,
            )
        )
    return m.new(MARKER_ARRAY, markers=out.markers)


def reports_to_msg(reports: Sequence[ObjectReport], stamp_ns: int, frame_id: str) -> Any:
    """Object reports as a ParticipantArray, as a source would send them."""
    header = m.header(stamp_ns, frame_id)
    parts = [
        _participant(
            m.header(r.stamp_ns, frame_id),
            id=r.object_id,
            participant_class=r.participant_class,
            source=_SOURCE_OF_KIND[r.kind],
            source_id=r.source_id,
            trust=r.trust,
            position=m.new('geometry_msgs/msg/Point', x=float(r.state[0]), y=float(r.state[1])),
            heading_rad=float(r.heading_rad),
            velocity=_vec(r.state[2], r.state[3]),
            size=_vec(*r.size_m),
            covariance=np.asarray(r.cov, dtype=np.float64).ravel().copy(),
            heading_variance=float(r.heading_variance),
            confidence=float(r.confidence),
        )
        for r in reports
    ]
    return m.new(PARTICIPANT_ARRAY, header=header, participants=parts)

"""Fused objects → ParticipantArray / MarkerArray, and object reports → ParticipantArray.

``reports_to_msg`` is the inverse of ``reports.report_from_participant`` (used to drive the
component with synthetic sources and in the round-trip tests).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from perception_nodes.fusion.engine import FusedObject
from perception_nodes.fusion.reports import ObjectReport, SourceKind
from perception_nodes.participants import (
    CLASS_COLOURS,
    MARKER,
    MARKER_ARRAY,
    MARKER_ARROW,
    MARKER_CUBE,
    MARKER_DELETEALL,
)
from v2x_runtime import messages as m

PARTICIPANT = 'v2x_stack/msg/Participant'
PARTICIPANT_ARRAY = 'v2x_stack/msg/ParticipantArray'
POINT = 'geometry_msgs/msg/Point'
POSE = 'geometry_msgs/msg/Pose'
QUATERNION = 'geometry_msgs/msg/Quaternion'
COLOR = 'std_msgs/msg/ColorRGBA'
IMAGE = 'sensor_msgs/msg/CompressedImage'
MESH = 'visualization_msgs/msg/MeshFile'
DURATION = 'builtin_interfaces/msg/Duration'
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


_LABELS: dict[tuple[int, str], str] = {}  # (kind, source id) -> member_label: a few senders


def sources_label(obj: FusedObject) -> str:
    """The sources that see ``obj``, sorted and joined by '+' (a fused object's source_id)."""
    members = obj.members
    if len(members) == 1:  # most objects: one source, its label remembered (a fresh f-string
        kind, source_id, _ = members[0]  # for every object of every cycle before)
        label = _LABELS.get((kind, source_id))
        if label is None:
            if len(_LABELS) >= 4096:
                _LABELS.clear()
            label = _LABELS[(kind, source_id)] = member_label(members[0])
        return label
    return '+'.join(sorted({member_label(k) for k in members}))


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


# Fields of the classes the hot loops construct positionally (half the cost of keywords), in
# their message definition's order; ``positional`` checks it when a class is first used.
_POSITIONAL = {
    PARTICIPANT: (
        'header', 'id', 'participant_class', 'source', 'source_id', 'trust', 'position',
        'latitude_deg', 'longitude_deg', 'altitude_m', 'heading_rad', 'velocity', 'size',
        'covariance', 'heading_variance', 'confidence',
    ),
    POINT: ('x', 'y', 'z'),
    VECTOR3: ('x', 'y', 'z'),
    QUATERNION: ('x', 'y', 'z', 'w'),
    POSE: ('position', 'orientation'),
    COLOR: ('r', 'g', 'b', 'a'),
    MARKER: (
        'header', 'ns', 'id', 'type', 'action', 'pose', 'scale', 'color', 'lifetime',
        'frame_locked', 'points', 'colors', 'texture_resource', 'texture', 'uv_coordinates',
        'text', 'mesh_resource', 'mesh_file', 'mesh_use_embedded_materials',
    ),
}  # fmt: skip


@functools.cache
def positional(msgtype: str) -> Any:
    """The message class of ``msgtype``, checked to take the fields of ``_POSITIONAL`` first,
    in that order (so that positional arguments land in the fields they are meant for)."""
    cls = m.msg_class(msgtype)
    names = _POSITIONAL[msgtype]
    got = tuple(f.name for f in dataclasses.fields(cls))[: len(names)]
    if got != names:
        raise TypeError(f'{msgtype}: fields {got}, the positional construction expects {names}')
    return cls


def fused_to_msg(objects: Sequence[FusedObject], stamp_ns: int, frame_id: str) -> Any:
    """The fused objects as a ParticipantArray (source SOURCE_FUSED, covariance filled).

    Built with the message classes directly (every field given, positionally): this runs
    every cycle for hundreds of objects.
    """
    header = m.header(stamp_ns, frame_id)
    part, point, vec = positional(PARTICIPANT), positional(POINT), positional(VECTOR3)
    nan = math.nan
    parts = []
    for o in objects:
        x, y, vx, vy = o.state.tolist()
        size = o.size_m
        parts.append(
            part(
                header,
                o.fused_id,
                o.participant_class,
                SOURCE_FUSED,
                sources_label(o),
                o.trust,
                point(x, y, 0.0),
                nan,
                nan,
                nan,
                float(o.heading_rad),
                vec(vx, vy, 0.0),
                vec(size[0], size[1], size[2]),
                np.asarray(o.cov, dtype=np.float64).ravel(),
                float(o.heading_variance),
                float(o.confidence),
            )
        )
    return m.new(PARTICIPANT_ARRAY, header=header, participants=parts)


class _Markers:
    """Markers of one MarkerArray, built with the message classes directly, every field given.

    ``m.new`` makes a Marker's nested defaults afresh for every marker; here the parts that are
    the same for every marker of the array (header, lifetime, the empty texture and mesh, a
    class's colour) are made once and shared: a message is never changed once built. With 15
    objects (45 markers) 280-370 µs against 810-920 µs for the same array made with ``m.new``.
    The result serialises exactly as ``participant_markers`` plus labels built with ``m.new``
    (tested).
    """

    def __init__(self, header: Any, lifetime_s: float) -> None:
        self.header = header
        sec = int(lifetime_s)
        self.life = m.msg_class(DURATION)(sec=sec, nanosec=round((lifetime_s - sec) * 1e9))
        self.marker = positional(MARKER)
        self.pose, self.point = positional(POSE), positional(POINT)
        self.vec, self.quat = positional(VECTOR3), positional(QUATERNION)
        self.rgba = positional(COLOR)
        self.texture = m.msg_class(IMAGE)(
            header=m.header(0), format='', data=np.zeros(0, dtype=np.uint8)
        )
        self.mesh = m.msg_class(MESH)(filename='', data=np.zeros(0, dtype=np.uint8))
        self.colours: dict[int, Any] = {}

    def colour(self, participant_class: int) -> Any:
        out = self.colours.get(participant_class)
        if out is None:
            r, g, b = CLASS_COLOURS.get(participant_class, CLASS_COLOURS[0])
            out = self.colours[participant_class] = self.rgba(r=r, g=g, b=b, a=0.6)
        return out

    def yaw(self, yaw_rad: float) -> Any:
        return self.quat(0.0, 0.0, math.sin(yaw_rad / 2), math.cos(yaw_rad / 2))

    def __call__(
        self,
        ns: str,
        marker_id: int,
        marker_type: int,
        *,
        pose: Any,
        scale: Any,
        color: Any,
        text: str = '',
        lifetime: Any = None,
        action: int = 0,
    ) -> Any:
        return self.marker(  # every field, positionally (``positional``)
            self.header,
            ns,
            marker_id,
            marker_type,
            action,
            pose,
            scale,
            color,
            self.life if lifetime is None else lifetime,
            False,
            [],
            [],
            '',
            self.texture,
            [],
            text,
            '',
            self.mesh,
            False,
        )


def fused_markers(msg: Any, *, lifetime_s: float = 0.3) -> Any:
    """The tracker's markers (``participant_markers``: a box coloured by class, a velocity
    arrow above 0.5 m/s) plus a text label 'id: sources' per object."""
    make = _Markers(msg.header, lifetime_s)
    zero = make.vec(x=0.0, y=0.0, z=0.0)
    markers = [  # every field but the action at its default, as m.new would make it
        make(
            'fused',
            0,
            0,
            pose=make.pose(
                position=make.point(x=0.0, y=0.0, z=0.0),
                orientation=make.quat(x=0.0, y=0.0, z=0.0, w=0.0),
            ),
            scale=zero,
            color=make.rgba(r=0.0, g=0.0, b=0.0, a=0.0),
            lifetime=m.msg_class(DURATION)(sec=0, nanosec=0),
            action=MARKER_DELETEALL,
        )
    ]
    array = m.msg_class(MARKER_ARRAY)
    if not msg.participants:
        return array(markers=markers)
    labels = []
    label_scale = make.vec(x=0.0, y=0.0, z=0.8)
    label_colour = make.rgba(r=1.0, g=1.0, b=1.0, a=0.9)
    no_turn = make.quat(x=0.0, y=0.0, z=0.0, w=0.0)
    for p in msg.participants:
        position, size, velocity = p.position, p.size, p.velocity
        pid = int(p.id)
        colour = make.colour(int(p.participant_class))
        box = make.vec(max(size.x, 0.1), max(size.y, 0.1), max(size.z, 0.1))
        pose = make.pose(position, make.yaw(p.heading_rad))
        markers.append(make('fused', 2 * pid, MARKER_CUBE, pose=pose, scale=box, color=colour))
        speed = math.hypot(velocity.x, velocity.y)
        if speed > 0.5:
            arrow = make.pose(position, make.yaw(math.atan2(velocity.y, velocity.x)))
            scale = make.vec(speed, 0.2, 0.2)
            markers.append(
                make('fused', 2 * pid + 1, MARKER_ARROW, pose=arrow, scale=scale, color=colour)
            )
        above = make.point(position.x, position.y, position.z + max(size.z, 1.0) + 0.5)
        labels.append(
            make(
                'fused_label',
                pid,
                MARKER_TEXT,
                pose=make.pose(above, no_turn),
                scale=label_scale,
                color=label_colour,
                text=f'{p.id}: {p.source_id}',
            )
        )
    return array(markers=markers + labels)


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

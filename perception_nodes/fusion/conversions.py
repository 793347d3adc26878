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
from perception_nodes.markers import participant_markers
from v2x_runtime import messages as m
from v2x_runtime.identity_memo import IdentityMemo
from v2x_runtime.positional import PARTICIPANT, POINT, VECTOR3, positional

PARTICIPANT_ARRAY = 'v2x_stack/msg/ParticipantArray'
SOURCE_SELF, SOURCE_LIDAR, SOURCE_FUSED = 1, 6, 7
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
_MERGED_LABELS: IdentityMemo[str] = IdentityMemo(4096)  # members tuple -> its label


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
    # a fused object's members tuple is shared by the fusions of a process that fused the same
    # reports at the same time (``engine.FusionEngine._merged``): its label is made once
    label = _MERGED_LABELS.get(members)
    if label is None:
        label = _MERGED_LABELS.put(members, '+'.join(sorted({member_label(k) for k in members})))
    return label


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


def fused_markers(msg: Any, *, lifetime_s: float = 0.3) -> Any:
    """The tracker's markers (``participant_markers``: a box coloured by class, a velocity
    arrow above 0.5 m/s) in namespace 'fused', plus a text label 'id: sources' per object."""
    return participant_markers(
        msg, namespace='fused', lifetime_s=lifetime_s, label_namespace='fused_label'
    )


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

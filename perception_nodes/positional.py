"""Message classes constructed positionally, for the loops that build many messages a cycle.

Positional arguments cost half of keywords, and every field is given, so none of the nested
defaults that ``m.new`` makes afresh for every message is made. ``positional`` checks on first
use that the class's fields start with the ones listed here, in this order, so a positional
argument always lands in the field it is meant for.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from v2x_runtime import messages as m

PARTICIPANT = 'v2x_stack/msg/Participant'
POINT = 'geometry_msgs/msg/Point'
VECTOR3 = 'geometry_msgs/msg/Vector3'
QUATERNION = 'geometry_msgs/msg/Quaternion'
POSE = 'geometry_msgs/msg/Pose'
COLOR = 'std_msgs/msg/ColorRGBA'
MARKER = 'visualization_msgs/msg/Marker'

# the fields of each class in their message definition's order
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
    in that order (so that positional arguments land in the fields they are meant for).

    :raises TypeError: the message definition's fields differ from the expected order.
    """
    cls = m.msg_class(msgtype)
    names = _POSITIONAL[msgtype]
    got = tuple(f.name for f in dataclasses.fields(cls))[: len(names)]
    if got != names:
        raise TypeError(f'{msgtype}: fields {got}, the positional construction expects {names}')
    return cls

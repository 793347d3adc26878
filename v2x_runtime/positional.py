"""Message classes constructed positionally, for the loops that build many messages a cycle.

Positional arguments cost half of keywords (a third on the receive path), and every field is
given, so none of the nested defaults that ``messages.new`` makes afresh is made. The catch is
the field order: ``positional`` checks on first use that the class's fields start with the
ones listed here, in this order, so that a reordered ``.msg`` fails loudly rather than filling
the wrong fields.
"""

from __future__ import annotations

import functools
from typing import Any

from v2x_runtime import messages as m

TIME = 'builtin_interfaces/msg/Time'
HEADER = 'std_msgs/msg/Header'
COLOR = 'std_msgs/msg/ColorRGBA'
POINT = 'geometry_msgs/msg/Point'
VECTOR3 = 'geometry_msgs/msg/Vector3'
QUATERNION = 'geometry_msgs/msg/Quaternion'
POSE = 'geometry_msgs/msg/Pose'
MARKER = 'visualization_msgs/msg/Marker'
PARTICIPANT = 'v2x_stack/msg/Participant'

# the leading fields of each class in their message definition's order: what callers pass
FIELDS = {
    TIME: ('sec', 'nanosec'),
    HEADER: ('stamp', 'frame_id'),
    COLOR: ('r', 'g', 'b', 'a'),
    POINT: ('x', 'y', 'z'),
    VECTOR3: ('x', 'y', 'z'),
    QUATERNION: ('x', 'y', 'z', 'w'),
    POSE: ('position', 'orientation'),
    MARKER: (
        'header', 'ns', 'id', 'type', 'action', 'pose', 'scale', 'color', 'lifetime',
        'frame_locked', 'points', 'colors', 'texture_resource', 'texture', 'uv_coordinates',
        'text', 'mesh_resource', 'mesh_file', 'mesh_use_embedded_materials',
    ),
    PARTICIPANT: (
        'header', 'id', 'participant_class', 'source', 'source_id', 'trust', 'position',
        'latitude_deg', 'longitude_deg', 'altitude_m', 'heading_rad', 'velocity', 'size',
        'covariance', 'heading_variance', 'confidence',
    ),
}  # fmt: skip


@functools.cache
def positional(msgtype: str) -> Any:
    """The message class of ``msgtype``, checked to take the fields of ``FIELDS`` first, in
    that order.

    :raises TypeError: the message definition's fields differ from the expected order.
    """
    names = FIELDS[msgtype]
    got = tuple(m.field_names(msgtype))[: len(names)]
    if got != names:
        raise TypeError(f'{msgtype}: fields {got}, the positional construction expects {names}')
    return m.msg_class(msgtype)

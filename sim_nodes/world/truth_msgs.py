"""World state → messages: ground truth (ParticipantArray), signals (IntersectionState).

The truth is built straight from the snapshot's columns (~1 µs of Python per actor), and
those columns are kept with the message they made: ``participants_arrays`` of that very
message (every sensor model, in the same process) returns them instead of walking the
participants again. A message from elsewhere (deserialized under ROS 2) is read field by
field, to the same arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rsu_nodes.signals.plan import GroupState
from sim_nodes.world.world import Snapshot
from v2x_runtime import messages as m

_NAN = math.nan
_COV = np.zeros(16)  # ground truth: exact; one shared read-only array (messages are immutable)
_COV.setflags(write=False)
_KEPT = 2  # the last truths whose columns are kept (a truth is read at the step it is sent)
_columns: list[tuple[Any, dict[str, np.ndarray]]] = []


def _read_only(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    for array in columns.values():
        array.setflags(write=False)
    return columns


def ground_truth(snap: Snapshot, stamp_ns: int) -> Any:
    """ParticipantArray in ``map``; source_id is the actor's name, id its stable number."""
    point_cls = m.msg_class('geometry_msgs/msg/Point')
    vector_cls = m.msg_class('geometry_msgs/msg/Vector3')
    header = m.header(stamp_ns, 'map')
    proto = m.new(
        'v2x_stack/msg/Participant',
        header=header,
        latitude_deg=_NAN,
        longitude_deg=_NAN,
        altitude_m=_NAN,
        covariance=_COV,
        confidence=1.0,
    )
    cls, shared = type(proto), proto.__dict__
    allocate = object.__new__
    point_state = m.new('geometry_msgs/msg/Point').__dict__
    vector_state = m.new('geometry_msgs/msg/Vector3').__dict__
    out = []
    for name, ident, klass, (x, y, z), yaw, (vx, vy), (sl, sw, sh) in snap.rows:
        # hot: every actor of every step; the dataclasses' __init__ is skipped (as in
        # messages.new): the states are the fields, nothing else
        position = allocate(point_cls)
        position.__dict__.update(point_state, x=x, y=y, z=z)
        velocity = allocate(vector_cls)
        velocity.__dict__.update(vector_state, x=vx, y=vy, z=0.0)
        size = allocate(vector_cls)
        size.__dict__.update(vector_state, x=sl, y=sw, z=sh)
        participant = allocate(cls)
        participant.__dict__.update(
            shared,
            id=ident,
            participant_class=klass,
            source_id=name,
            position=position,
            heading_rad=yaw,
            velocity=velocity,
            size=size,
        )
        out.append(participant)
    msg = m.new('v2x_stack/msg/ParticipantArray', header=header, participants=out)
    columns = {
        'names': np.array(snap.names, dtype=object).reshape(-1),
        'ids': snap.ids.astype(np.int64),
        'klass': snap.klass.astype(np.int64),
        'xyz': snap.xyz.astype(float).reshape(-1, 3),
        'yaw': snap.yaw.astype(float),
        'vel': snap.vel.astype(float).reshape(-1, 2),
        'size': snap.size.astype(float).reshape(-1, 3),
    }
    _columns.append((msg, _read_only(columns)))
    del _columns[:-_KEPT]
    return msg


def participants_arrays(msg: Any) -> dict[str, np.ndarray]:
    """A ParticipantArray as column arrays (names in ``source_id``) for sensor models.

    Read-only arrays, shared by every reader of the same message."""
    for made, columns in _columns:
        if made is msg:
            return columns
    ps = msg.participants
    return _read_only(
        {
            'names': np.array([p.source_id for p in ps], dtype=object),
            'ids': np.array([p.id for p in ps], dtype=np.int64),
            'klass': np.array([p.participant_class for p in ps], dtype=np.int64),
            'xyz': np.array([[p.position.x, p.position.y, p.position.z] for p in ps]).reshape(
                -1, 3
            ),
            'yaw': np.array([p.heading_rad for p in ps], dtype=float),
            'vel': np.array([[p.velocity.x, p.velocity.y] for p in ps]).reshape(-1, 2),
            'size': np.array([[p.size.x, p.size.y, p.size.z] for p in ps]).reshape(-1, 3),
        }
    )


def intersection_state(iid: int, states: dict[int, GroupState], stamp_ns: int) -> Any:
    phase = m.msg_class('v2x_stack/msg/SignalPhase')
    phases = [
        phase(
            phase_id=g,
            light=int(s.light),
            start_s=s.start_s,
            min_end_s=s.min_end_s,
            max_end_s=s.max_end_s,
            likely_end_s=s.likely_end_s,
            confidence=s.confidence,
            next_start_s=s.next_start_s,
            next_duration_s=s.next_duration_s,
        )
        for g, s in sorted(states.items())
    ]
    return m.new(
        'v2x_stack/msg/IntersectionState',
        header=m.header(stamp_ns, 'map'),
        intersection_id=iid,
        status=64,  # STATUS_FIXED_TIME
        phases=phases,
    )

"""World state → messages: ground truth (ParticipantArray), signals (IntersectionState)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rsu_nodes.signals.plan import GroupState
from sim_nodes.world.world import Snapshot
from v2x_runtime import messages as m

_NAN = math.nan
_COV = np.diag([0.0, 0.0, 0.0, 0.0]).ravel()  # ground truth: exact


def ground_truth(snap: Snapshot, stamp_ns: int) -> Any:
    """ParticipantArray in ``map``; source_id is the actor's name, id its stable number."""
    participant = m.msg_class('v2x_stack/msg/Participant')
    point = m.msg_class('geometry_msgs/msg/Point')
    vector = m.msg_class('geometry_msgs/msg/Vector3')
    header = m.header(stamp_ns, 'map')
    out = []
    for i, name in enumerate(snap.names):
        x, y, z = snap.xyz[i]
        out.append(
            participant(
                header=header,
                id=int(snap.ids[i]),
                participant_class=int(snap.klass[i]),
                source=0,
                source_id=name,
                trust=0,
                position=point(x=float(x), y=float(y), z=float(z)),
                latitude_deg=_NAN,
                longitude_deg=_NAN,
                altitude_m=_NAN,
                heading_rad=float(snap.yaw[i]),
                velocity=vector(x=float(snap.vel[i, 0]), y=float(snap.vel[i, 1]), z=0.0),
                size=vector(
                    x=float(snap.size[i, 0]), y=float(snap.size[i, 1]), z=float(snap.size[i, 2])
                ),
                covariance=_COV.copy(),
                heading_variance=0.0,
                confidence=1.0,
            )
        )
    return m.new('v2x_stack/msg/ParticipantArray', header=header, participants=out)


def participants_arrays(msg: Any) -> dict[str, np.ndarray]:
    """A ParticipantArray as column arrays (names in ``source_id``) for sensor models."""
    ps = msg.participants
    return {
        'names': np.array([p.source_id for p in ps], dtype=object),
        'ids': np.array([p.id for p in ps], dtype=np.int64),
        'klass': np.array([p.participant_class for p in ps], dtype=np.int64),
        'xyz': np.array([[p.position.x, p.position.y, p.position.z] for p in ps]).reshape(-1, 3),
        'yaw': np.array([p.heading_rad for p in ps], dtype=float),
        'vel': np.array([[p.velocity.x, p.velocity.y] for p in ps]).reshape(-1, 2),
        'size': np.array([[p.size.x, p.size.y, p.size.z] for p in ps]).reshape(-1, 3),
    }


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

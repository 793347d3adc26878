"""JSON payloads the RSU sends to the centre (documented in docs/uplink.md).

Geodetic positions in degrees, speeds in m/s, headings in degrees clockwise from north (the
convention of the centre's maps); times in ns since the epoch. Each payload carries the RSU id
and a sequence number for de-duplication.
"""

from __future__ import annotations

import math
from typing import Any

from v2x_runtime import messages as m
from v2x_runtime.json_values import PARTICIPANT_CLASSES, compact_json, number


def _bearing_deg(heading_rad: float) -> float | None:
    """ENU yaw (east = 0, counter-clockwise) → bearing (north = 0, clockwise)."""
    if not math.isfinite(heading_rad):
        return None
    return round((90.0 - math.degrees(heading_rad)) % 360.0, 2)


def _dump(body: dict[str, Any]) -> bytes:
    return compact_json(body).encode()


def participants(msg: Any, rsu_id: str, seq: int) -> bytes:
    return _dump(
        {
            'rsu_id': rsu_id,
            'seq': seq,
            'stamp_ns': m.to_ns(msg.header.stamp),
            'participants': [
                {
                    'id': int(p.id),
                    'class': PARTICIPANT_CLASSES[p.participant_class]
                    if p.participant_class < len(PARTICIPANT_CLASSES)
                    else 'unknown',
                    'lat': number(p.latitude_deg, 8),
                    'lon': number(p.longitude_deg, 8),
                    'x': number(p.position.x),
                    'y': number(p.position.y),
                    'speed_mps': number(math.hypot(p.velocity.x, p.velocity.y)),
                    'bearing_deg': _bearing_deg(p.heading_rad),
                    'size_m': [number(p.size.x), number(p.size.y), number(p.size.z)],
                    'confidence': number(p.confidence),
                }
                for p in msg.participants
            ],
        }
    )


def events(msg: Any, rsu_id: str, seq: int) -> bytes:
    return _dump(
        {
            'rsu_id': rsu_id,
            'seq': seq,
            'stamp_ns': m.to_ns(msg.header.stamp),
            'events': [
                {
                    'id': int(e.id),
                    'event_type': int(e.event_type),
                    'sign_type': int(e.sign_type),
                    'lat': number(e.latitude_deg, 8),
                    'lon': number(e.longitude_deg, 8),
                    'radius_m': number(e.radius_m),
                    'priority': int(e.priority),
                    'start_ns': m.to_ns(e.start_time),
                    'end_ns': m.to_ns(e.end_time),
                    'description': e.description,
                }
                for e in msg.events
            ],
        }
    )


def health(statuses: list[Any], rsu_id: str, seq: int, stamp_ns: int) -> bytes:
    return _dump(
        {
            'rsu_id': rsu_id,
            'seq': seq,
            'stamp_ns': stamp_ns,
            'components': [
                {
                    'name': s.name,
                    'level': int(s.level),
                    'message': s.message,
                    'values': {kv.key: kv.value for kv in s.values},
                }
                for s in statuses
            ],
        }
    )

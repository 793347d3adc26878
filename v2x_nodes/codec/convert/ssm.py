"""SensorSharingMsg (T/CSAE 157) <-> ParticipantArray, obstacles included.

Participants of class OBSTACLE travel as DetectedObstacleData, all others as DetectedPTCData
(ParticipantData plus the detected type and its confidence). Decoding gives back one array
with both, obstacles as CLASS_OBSTACLE participants.
"""

from __future__ import annotations

from typing import Any

from geo import LocalFrame
from v2x_nodes.codec import units
from v2x_nodes.codec.convert.common import (
    CLASS_CAR,
    CLASS_CYCLIST,
    CLASS_EMERGENCY,
    CLASS_MOTORCYCLE,
    CLASS_OBSTACLE,
    CLASS_PEDESTRIAN,
    CLASS_TRUCK,
    CLASS_UNKNOWN,
    cls,
    header,
    id_bytes,
    motion_confidence,
    participant_data,
    participant_from_data,
    participant_from_wire,
    wire_common,
)
from v2x_nodes.codec.errors import ConversionError
from v2x_nodes.codec.offsets import GeoPoint
from v2x_runtime import messages as m

MAX_PARTICIPANTS = 512
MAX_OBSTACLES = 64
_PTC_TYPE_OF = {
    CLASS_UNKNOWN: 'unknown',
    CLASS_CAR: 'car',
    CLASS_TRUCK: 'truck',
    CLASS_MOTORCYCLE: 'motorcyclist',
    CLASS_CYCLIST: 'cyclist',
    CLASS_PEDESTRIAN: 'pedestrian',
    CLASS_EMERGENCY: 'car',
}
_CLASS_OF_PTC_TYPE = {
    'car': CLASS_CAR,
    'van': CLASS_CAR,
    'truck': CLASS_TRUCK,
    'bus': CLASS_TRUCK,
    'cyclist': CLASS_CYCLIST,
    'tricyclist': CLASS_CYCLIST,
    'motorcyclist': CLASS_MOTORCYCLE,
    'pedestrian': CLASS_PEDESTRIAN,
}


def _obstacle(p: Any, ref: GeoPoint) -> dict[str, Any]:
    motion = motion_confidence(p.covariance, p.heading_variance)
    value: dict[str, Any] = {
        'obsType': 'unknown',
        'obsId': int(p.id) & 0xFFFF,
        **wire_common(p, ref),
        'size': {
            'width': units.decimetre_to_wire(p.size.y, 1023),
            'length': units.decimetre_to_wire(p.size.x, 1023),
        },
        'objTypeConfidence': units.confidence_to_wire(p.confidence),
    }
    height = units.decimetre_to_wire(p.size.z, 1023)
    if height:
        value['size']['height'] = height
    if 'speedCfd' in motion:
        value['speedCfd'] = motion['speedCfd']
    if 'headingCfd' in motion:
        value['headingCfd'] = motion['headingCfd']
    return value


def ssm_from_participants(
    array: Any,
    *,
    sender_id: str,
    sensor_pos: GeoPoint,
    equipment: str = 'rsu',
    msg_count: int = 0,
) -> dict[str, Any]:
    """The SSM value of a perception cycle (participants + obstacles).

    :raises ConversionError: too many objects or one without a position (index named).
    """
    ptcs, obstacles = [], []
    for i, p in enumerate(array.participants):
        try:
            if int(p.participant_class) == CLASS_OBSTACLE:
                obstacles.append(_obstacle(p, sensor_pos))
            else:
                data = {
                    'ptc': participant_data(p, sensor_pos),
                    'detectedPTCType': _PTC_TYPE_OF.get(int(p.participant_class), 'unknown'),
                    'typeConfidence': units.confidence_to_wire(p.confidence),
                }
                ptcs.append(data)
        except ConversionError as err:
            raise ConversionError(f'participants[{i}].{err.field}', err.reason) from None
    if len(ptcs) > MAX_PARTICIPANTS or len(obstacles) > MAX_OBSTACLES:
        raise ConversionError(
            'participants',
            f'SSM carries <= 512 participants and <= 64 obstacles, got '
            f'{len(ptcs)} and {len(obstacles)}',
        )
    value: dict[str, Any] = {
        'msgCnt': msg_count % 128,
        'id': id_bytes(sender_id, 'sender_id'),
        'equipmentType': equipment,
        'secMark': units.dsecond_from_ns(m.to_ns(array.header.stamp)),
        'sensorPos': sensor_pos.to_position3d(),
    }
    if ptcs:
        value['participants'] = ptcs
    if obstacles:
        value['obstacles'] = obstacles
    return value


def _participant_from_obstacle(
    value: dict[str, Any],
    ref: GeoPoint,
    *,
    ref_ns: int,
    frame_id: str,
    source_id: str,
    origin: LocalFrame | None,
) -> Any:
    size = value['size']
    return participant_from_wire(
        value,
        ref,
        ident=value['obsId'],
        participant_class=CLASS_OBSTACLE,
        size_m=(size['length'] / 10.0, size['width'] / 10.0, size.get('height', 0) / 10.0),
        motion={k: value[k] for k in ('speedCfd', 'headingCfd') if k in value},
        confidence=units.confidence_from_wire(value.get('objTypeConfidence', 200)),
        ref_ns=ref_ns,
        frame_id=frame_id,
        source_id=source_id,
        origin=origin,
    )


def participants_from_ssm(
    value: dict[str, Any], ref_ns: int, *, frame_id: str = 'map', origin: LocalFrame | None = None
) -> Any:
    """ParticipantArray of an SSM (participants, then obstacles); source_id = sender id."""
    ref = GeoPoint.from_position3d(value['sensorPos'])
    sender = bytes(value['id']).hex()
    out = []
    for item in value.get('participants', []):
        p = participant_from_data(
            item['ptc'], ref, ref_ns=ref_ns, frame_id=frame_id, source_id=sender, origin=origin
        )
        detected = item.get('detectedPTCType')
        if detected in _CLASS_OF_PTC_TYPE and p.participant_class != CLASS_EMERGENCY:
            p.participant_class = _CLASS_OF_PTC_TYPE[detected]
        if 'typeConfidence' in item:
            p.confidence = units.confidence_from_wire(item['typeConfidence'])
        out.append(p)
    for item in value.get('obstacles', []):
        out.append(
            _participant_from_obstacle(
                item, ref, ref_ns=ref_ns, frame_id=frame_id, source_id=sender, origin=origin
            )
        )
    stamp = units.ns_from_dsecond(value['secMark'], ref_ns) or ref_ns
    return cls('v2x_stack/msg/ParticipantArray')(header=header(stamp, frame_id), participants=out)

"""RoadsideSafetyMessage <-> ParticipantArray (participants seen by a roadside unit).

Positions travel as PositionOffsetLLV from the RSU reference point, the variant chosen by
distance (see ``geodesy.offset_llv``); ``ptcId`` is the low 16 bits of ``Participant.id``.
"""

from __future__ import annotations

from typing import Any

from geo import LocalFrame
from v2x_nodes.codec.convert.common import cls, header, id_bytes, participant_data
from v2x_nodes.codec.convert.common import participant_from_data as _from_data
from v2x_nodes.codec.errors import ConversionError
from v2x_nodes.codec.offsets import GeoPoint
from v2x_runtime import messages as m

MAX_PARTICIPANTS = 16  # ParticipantList (SIZE (1..16))


def rsm_from_participants(
    array: Any, *, rsu_id: str, ref: GeoPoint, msg_count: int = 0
) -> dict[str, Any]:
    """The RSM value for 1..16 participants; callers split larger arrays.

    :raises ConversionError: no participant, more than 16, or one without a position.
    """
    count = len(array.participants)
    if not 1 <= count <= MAX_PARTICIPANTS:
        raise ConversionError('participants', f'an RSM carries 1..16 participants, got {count}')
    participants = []
    for i, p in enumerate(array.participants):
        try:
            participants.append(participant_data(p, ref))
        except ConversionError as err:
            raise ConversionError(f'participants[{i}].{err.field}', err.reason) from None
    return {
        'msgCnt': msg_count % 128,
        'id': id_bytes(rsu_id, 'rsu_id'),
        'refPos': ref.to_position3d(),
        'participants': participants,
    }


def participants_from_rsm(
    value: dict[str, Any], ref_ns: int, *, frame_id: str = 'map', origin: LocalFrame | None = None
) -> Any:
    """ParticipantArray of an RSM; ``source_id`` of each participant is the RSU id."""
    ref = GeoPoint.from_position3d(value['refPos'])
    rsu = bytes(value['id']).hex()
    participants = [
        _from_data(p, ref, ref_ns=ref_ns, frame_id=frame_id, source_id=rsu, origin=origin)
        for p in value['participants']
    ]
    stamp = max((m.to_ns(p.header.stamp) for p in participants), default=ref_ns)
    return cls('v2x_stack/msg/ParticipantArray')(
        header=header(stamp, frame_id), participants=participants
    )

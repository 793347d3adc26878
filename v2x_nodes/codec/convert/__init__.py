"""Conversions between the message set's values (asn1tools dicts) and the project's ROS
messages. All unit conversion of the V2X edge happens here and in ``codec.units``.

| msg | to the wire | from the wire |
|---|---|---|
| BSM | ``bsm_from_state``, ``bsm_from_participant`` | ``state_from_bsm``, ``participant_from_bsm``|
| RSM | ``rsm_from_participants`` | ``participants_from_rsm`` |
| SSM | ``ssm_from_participants`` | ``participants_from_ssm`` |
| SPAT | ``spat_from_intersections`` | ``intersections_from_spat`` |
| RSI | ``rsi_from_events`` | ``events_from_rsi`` |
| MapData | ``map_from_intersections`` | ``intersections_from_map`` |
"""

from v2x_nodes.codec.convert.bsm import (
    OwnVehicleState,
    bsm_from_participant,
    bsm_from_state,
    participant_from_bsm,
    state_from_bsm,
)
from v2x_nodes.codec.convert.mapdata import intersections_from_map, map_from_intersections
from v2x_nodes.codec.convert.rsi import events_from_rsi, rsi_from_events
from v2x_nodes.codec.convert.rsm import participants_from_rsm, rsm_from_participants
from v2x_nodes.codec.convert.spat import intersections_from_spat, spat_from_intersections
from v2x_nodes.codec.convert.ssm import participants_from_ssm, ssm_from_participants
from v2x_nodes.codec.offsets import GeoPoint

__all__ = [
    'GeoPoint',
    'OwnVehicleState',
    'bsm_from_participant',
    'bsm_from_state',
    'events_from_rsi',
    'intersections_from_map',
    'intersections_from_spat',
    'map_from_intersections',
    'participant_from_bsm',
    'participants_from_rsm',
    'participants_from_ssm',
    'rsi_from_events',
    'rsm_from_participants',
    'spat_from_intersections',
    'ssm_from_participants',
    'state_from_bsm',
]

"""The websocket protocol: JSON text frames from the server to the page (docs/hmi.md).

``map`` is sent once when a page connects (and again if the map changes); ``state`` on every
update. Non-finite numbers (NaN, inf) become ``null``: JSON has no NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v2x_nodes.hmi.scene import LaneGeometry, Scene, Target
from v2x_runtime.json_values import PARTICIPANT_CLASSES, compact_json, number

PROTOCOL_VERSION = 1
SOURCE_SELF = 1  # Participant.SOURCE_SELF
LIGHT_NAMES = (
    'unavailable',
    'dark',
    'flashing_red',
    'red',
    'flashing_green',
    'permissive_green',
    'protected_green',
    'yellow',
    'flashing_yellow',
)


def _points(xy: np.ndarray) -> list[list[float]]:
    return np.round(np.asarray(xy, dtype=float), 2).tolist()


def _name(names: tuple[str, ...], index: int) -> str:
    return names[index] if 0 <= index < len(names) else str(index)


def map_message(lanes: LaneGeometry, frame_id: str) -> dict[str, Any]:
    return {
        'type': 'map',
        'version': PROTOCOL_VERSION,
        'frame_id': frame_id,
        'source': lanes.source,
        'bounds': _points(lanes.bounds_xy),
        'lanes': [
            {'id': lid, 'left': _points(left), 'right': _points(right)}
            for lid, left, right in lanes.lanes
        ],
        'boundaries': [_points(b) for b in lanes.boundaries],
        'stop_lines': [
            {
                'lanelet': s.lanelet_id,
                'signal_group': s.signal_group,
                'points': _points(s.points_xy),
            }
            for s in lanes.stop_lines
        ],
    }


def state_message(scene: Scene, seq: int) -> dict[str, Any]:
    ego = scene.ego
    warning, advice = scene.warning, scene.advice
    return {
        'type': 'state',
        'version': PROTOCOL_VERSION,
        'seq': seq,
        't': number(scene.t_s),
        'ego': None
        if ego is None
        else {
            'x': number(ego.x_m),
            'y': number(ego.y_m),
            'yaw': number(ego.yaw_rad, 4),
            'speed': number(ego.speed_mps),
            'length': number(ego.length_m),
            'width': number(ego.width_m),
        },
        'targets': [
            {
                'key': t.key,
                'id': t.id,
                'source_id': t.source_id,
                'class': _name(PARTICIPANT_CLASSES, t.participant_class),
                'x': number(t.x_m),
                'y': number(t.y_m),
                'yaw': number(t.yaw_rad, 4),
                'speed': number(t.speed_mps),
                'length': number(t.length_m),
                'width': number(t.width_m),
                'trust': t.trust,
                'warned': warning is not None and is_warned(t, warning.target_id),
            }
            for t in scene.targets
        ],
        'signals': [
            {
                'region': s.region,
                'intersection_id': s.intersection_id,
                'status': s.status,
                'phases': [
                    {
                        'id': p.phase_id,
                        'light': _name(LIGHT_NAMES, p.light),
                        'remaining': number(p.remaining_s, 1),
                        'min_remaining': number(p.min_remaining_s, 1),
                        'max_remaining': number(p.max_remaining_s, 1),
                    }
                    for p in s.phases
                ],
            }
            for s in scene.signals
        ],
        'warning': None
        if warning is None
        else {
            'application': warning.application,
            'level': warning.level,
            'level_name': warning.level_name,
            'target_id': warning.target_id,
            'ttc': number(warning.time_to_collision_s, 2),
            'distance': number(warning.distance_m, 1),
            'text': warning.text,
        },
        'advice': None
        if advice is None
        else {
            'application': advice.application,
            'min_speed': number(advice.min_speed_mps, 2),
            'max_speed': number(advice.max_speed_mps, 2),
            'recommended_speed': number(advice.recommended_speed_mps, 2),
            'stop': advice.stop,
            'distance': number(advice.distance_m, 1),
            'phase_id': advice.phase_id,
            'text': advice.text,
        },
    }


def is_warned(target: Target, target_id: str) -> bool:
    """Does a warning's ``target_id`` name this target?

    It does when it equals the target's key (``source_id:id``, the applications' form), its
    bare id, or, for a vehicle describing itself (BSM, ``SOURCE_SELF``), the sender's id.
    """
    if not target_id:
        return False
    if target_id in (target.key, str(target.id)):
        return True
    return target.source == SOURCE_SELF and target_id == target.source_id


def encode(message: dict[str, Any]) -> str:
    """Compact JSON; raises ValueError if a NaN slipped through (a bug, not bad input)."""
    return compact_json(message)

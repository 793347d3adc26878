"""The websocket protocol: JSON text frames from the server to the page (docs/hmi.md).

``map`` is sent once when a page connects (and again if the map changes); ``state`` on every
update. Non-finite numbers (NaN, inf) become ``null``: JSON has no NaN.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from v2x_nodes.hmi.scene import LaneGeometry, Scene, Target

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
CLASS_NAMES = (
    'unknown',
    'car',
    'truck',
    'motorcycle',
    'cyclist',
    'pedestrian',
    'obstacle',
    'emergency',
)


def _num(value: float, digits: int = 3) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


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
        't': _num(scene.t_s),
        'ego': None
        if ego is None
        else {
            'x': _num(ego.x_m),
            'y': _num(ego.y_m),
            'yaw': _num(ego.yaw_rad, 4),
            'speed': _num(ego.speed_mps),
            'length': _num(ego.length_m),
            'width': _num(ego.width_m),
        },
        'targets': [
            {
                'key': t.key,
                'id': t.id,
                'source_id': t.source_id,
                'class': _name(CLASS_NAMES, t.participant_class),
                'x': _num(t.x_m),
                'y': _num(t.y_m),
                'yaw': _num(t.yaw_rad, 4),
                'speed': _num(t.speed_mps),
                'length': _num(t.length_m),
                'width': _num(t.width_m),
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
                        'remaining': _num(p.remaining_s, 1),
                        'min_remaining': _num(p.min_remaining_s, 1),
                        'max_remaining': _num(p.max_remaining_s, 1),
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
            'ttc': _num(warning.time_to_collision_s, 2),
            'distance': _num(warning.distance_m, 1),
            'text': warning.text,
        },
        'advice': None
        if advice is None
        else {
            'application': advice.application,
            'min_speed': _num(advice.min_speed_mps, 2),
            'max_speed': _num(advice.max_speed_mps, 2),
            'recommended_speed': _num(advice.recommended_speed_mps, 2),
            'stop': advice.stop,
            'distance': _num(advice.distance_m, 1),
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
    return json.dumps(message, separators=(',', ':'), allow_nan=False)

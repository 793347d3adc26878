"""SPAT <-> IntersectionState (one per intersection).

Each SignalPhase becomes a Phase with one PhaseState in the counting-down form (TimeMark
tenths of a second from the message time); a light that already started has startTime 0, so
``start_s`` reads back as 0 (the standard cannot say how long ago it started). Decoding takes
the state that is active now (startTime 0, else the first) and reads utcTiming too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from v2x_nodes.codec import units
from v2x_nodes.codec.convert.common import cls, header
from v2x_nodes.codec.schema import enum_index, enum_names
from v2x_runtime import messages as m


def _node_ref(region: int, ident: int) -> dict[str, int]:
    return {'region': region, 'id': ident} if region else {'id': ident}


def _timing(phase: Any) -> tuple[str, dict[str, Any]]:
    counting: dict[str, Any] = {
        'startTime': units.timemark_from_seconds(max(phase.start_s, 0.0)),
        'likelyEndTime': units.timemark_from_seconds(phase.likely_end_s),
    }
    optional = (
        ('minEndTime', phase.min_end_s),
        ('maxEndTime', phase.max_end_s),
        ('nextStartTime', phase.next_start_s),
        ('nextDuration', phase.next_duration_s),
    )
    for key, seconds in optional:
        if not math.isnan(seconds):
            counting[key] = units.timemark_from_seconds(seconds)
    if math.isfinite(phase.confidence):
        counting['timeConfidence'] = units.confidence_to_wire(phase.confidence)
    return 'counting', counting


def spat_from_intersections(states: list[Any], *, msg_count: int = 0) -> dict[str, Any]:
    """The SPAT value of 1..32 IntersectionState messages (times from each header stamp)."""
    lights = enum_names('LightState')
    intersections = []
    for state in states:
        stamp_ns = m.to_ns(state.header.stamp)
        phases = [
            {
                'id': int(p.phase_id),
                'phaseStates': [{'light': lights[int(p.light)], 'timing': _timing(p)}],
            }
            for p in state.phases
        ]
        intersections.append(
            {
                'intersectionId': _node_ref(int(state.region), int(state.intersection_id)),
                'status': units.int_to_bits(int(state.status), 16),
                'moy': units.moy_from_ns(stamp_ns),
                'timeStamp': units.dsecond_from_ns(stamp_ns),
                'phases': phases,
            }
        )
    value: dict[str, Any] = {'msgCnt': msg_count % 128, 'intersections': intersections}
    if states:
        first_ns = m.to_ns(states[0].header.stamp)
        value['moy'] = units.moy_from_ns(first_ns)
        value['timeStamp'] = units.dsecond_from_ns(first_ns)
    return value


def _stamp(moy: int | None, dsecond: int | None, ref_ns: int) -> int:
    if moy is not None:
        minute = units.ns_from_moy(moy, ref_ns)
        if minute is not None:
            ms = dsecond if dsecond is not None and dsecond < 60000 else 0
            return minute + ms * units.NS_PER_MS
    if dsecond is not None:
        return units.ns_from_dsecond(dsecond, ref_ns) or ref_ns
    return ref_ns


def _seconds(kind: str, mark: int | None, stamp_ns: int) -> float:
    if mark is None:
        return math.nan
    if kind == 'counting':
        return units.timemark_to_seconds(mark)
    absolute = units.ns_from_timemark(mark, stamp_ns)
    if absolute is None:
        return units.timemark_to_seconds(mark)
    return (absolute - stamp_ns) / units.NS_PER_S


_KEYS = {
    'counting': ('startTime', 'minEndTime', 'maxEndTime', 'likelyEndTime', 'nextStartTime'),
    'utcTiming': (
        'startUTCTime',
        'minEndUTCTime',
        'maxEndUTCTime',
        'likelyEndUTCTime',
        'nextStartUTCTime',
    ),
}


def _signal_phase(phase: dict[str, Any], stamp_ns: int) -> Any:
    states = phase['phaseStates']
    current = states[0]
    for state in states:
        timing = state.get('timing')
        if timing and timing[0] == 'counting' and timing[1]['startTime'] == 0:
            current = state
            break
    light = enum_index('LightState').get(current['light'], 0)
    times = [math.nan] * 5
    confidence, duration = math.nan, math.nan
    timing = current.get('timing')
    if timing and timing[0] in _KEYS:
        kind, body = timing
        times = [_seconds(kind, body.get(key), stamp_ns) for key in _KEYS[kind]]
        if kind == 'counting':
            duration = units.timemark_to_seconds(body.get('nextDuration'))
        elif 'nextEndUTCTime' in body and not math.isnan(times[4]):
            duration = _seconds(kind, body['nextEndUTCTime'], stamp_ns) - times[4]
        if 'timeConfidence' in body:
            confidence = units.confidence_from_wire(body['timeConfidence'])
    start, min_end, max_end, likely_end, next_start = times
    return cls('v2x_stack/msg/SignalPhase')(
        phase_id=phase['id'],
        light=light,
        start_s=start,
        min_end_s=min_end,
        max_end_s=max_end,
        likely_end_s=likely_end,
        confidence=np.float32(confidence),
        next_start_s=next_start,
        next_duration_s=duration,
    )


def intersections_from_spat(value: dict[str, Any], ref_ns: int, *, frame_id: str = '') -> list[Any]:
    """IntersectionState messages of a SPAT; ``ref_ns`` resolves the minute/millisecond stamps."""
    out = []
    for item in value['intersections']:
        stamp_ns = _stamp(
            item.get('moy', value.get('moy')), item.get('timeStamp', value.get('timeStamp')), ref_ns
        )
        node = item['intersectionId']
        out.append(
            cls('v2x_stack/msg/IntersectionState')(
                header=header(stamp_ns, frame_id),
                region=node.get('region', 0),
                intersection_id=node['id'],
                status=units.bits_to_int(item['status']),
                phases=[_signal_phase(p, stamp_ns) for p in item['phases']],
            )
        )
    return out

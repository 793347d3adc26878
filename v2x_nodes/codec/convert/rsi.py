"""RoadSideInformation <-> RoadEventArray (road traffic events and signs of one RSU).

An event with ``event_type != 0`` travels as RTEData, otherwise as RTSData (a sign). Event
positions are offsets from the RSU reference point; the reference path needs a ``geo.LocalFrame``
of the events' frame to turn its ENU points into offsets (and back).
"""

from __future__ import annotations

import math
from typing import Any

from geo import LocalFrame
from v2x_nodes.codec import units
from v2x_nodes.codec.convert.common import cls, header, id_bytes, point
from v2x_nodes.codec.errors import ConversionError
from v2x_nodes.codec.offsets import GeoPoint, absolute_from_llv, enu, geodetic, offset_llv
from v2x_nodes.codec.schema import enum_index, enum_names
from v2x_runtime import messages as m

MAX_RTES = 8
MAX_RTSS = 16
MAX_PATH_POINTS = 32


def _description(text: str, field: str) -> tuple[str, Any]:
    if text.isascii():
        if len(text) > 512:
            raise ConversionError(field, f'at most 512 characters, got {len(text)}')
        return 'textString', text
    try:
        raw = text.encode('gb2312')
    except UnicodeEncodeError:
        raise ConversionError(field, 'text has characters outside GB2312') from None
    if len(raw) > 512:
        raise ConversionError(field, f'at most 512 GB2312 bytes, got {len(raw)}')
    return 'textGB2312', raw


def _time_details(event: Any) -> dict[str, Any] | None:
    details = {}
    for key, stamp in (('startTime', event.start_time), ('endTime', event.end_time)):
        ns = m.to_ns(stamp)
        if ns:
            details[key] = units.moy_from_ns(ns)
    return details or None


def _common(event: Any, ref: GeoPoint, origin: LocalFrame | None, field: str) -> dict[str, Any]:
    value: dict[str, Any] = {}
    lat, lon, alt = event.latitude_deg, event.longitude_deg, event.altitude_m
    if not math.isfinite(lat) and origin is not None and math.isfinite(event.position.x):
        lat, lon, alt = geodetic(origin, event.position.x, event.position.y, event.position.z)
    if math.isfinite(lat) and math.isfinite(lon):
        value['pos'] = offset_llv(ref, lat, lon, alt)
    if event.description:
        value['description'] = _description(event.description, f'{field}.description')
    details = _time_details(event)
    if details:
        value['timeDetails'] = details
    value['priority'] = bytes([(int(event.priority) & 0x7) << 5])
    if len(event.path):
        if origin is None:
            raise ConversionError(f'{field}.path', 'a reference path needs the map origin')
        if len(event.path) > MAX_PATH_POINTS:
            raise ConversionError(f'{field}.path', f'at most 32 points, got {len(event.path)}')
        points = [offset_llv(ref, *geodetic(origin, p.x, p.y, p.z)) for p in event.path]
        radius = min(max(round(event.path_radius_m * 10.0), 0), 65535)
        value['referencePaths'] = [{'activePath': points, 'pathRadius': radius}]
    return value


def rsi_from_events(
    array: Any, *, rsu_id: str, ref: GeoPoint, origin: LocalFrame | None = None, msg_count: int = 0
) -> dict[str, Any]:
    """The RSI value of a RoadEventArray.

    :raises ConversionError: too many events/signs, bad text, a path without a map origin.
    """
    rtes, rtss = [], []
    for i, event in enumerate(array.events):
        field = f'events[{i}]'
        common = _common(event, ref, origin, field)
        if int(event.event_type):
            rte: dict[str, Any] = {
                'rteId': int(event.id) & 0xFF,
                'eventType': int(event.event_type),
                'eventSource': enum_names('EventSource')[min(int(event.source), 5)],
            }
            if 'pos' in common:
                rte['eventPos'] = common.pop('pos')
            if event.radius_m > 0:
                rte['eventRadius'] = min(round(event.radius_m * 10.0), 65535)
            rte.update(common)
            rtes.append(rte)
        else:
            rts: dict[str, Any] = {'rtsId': int(event.id) & 0xFF, 'signType': int(event.sign_type)}
            if 'pos' in common:
                rts['signPos'] = common.pop('pos')
            rts.update(common)
            rtss.append(rts)
    if len(rtes) > MAX_RTES or len(rtss) > MAX_RTSS:
        raise ConversionError(
            'events', f'an RSI carries <= 8 events and <= 16 signs, got {len(rtes)}, {len(rtss)}'
        )
    value: dict[str, Any] = {
        'msgCnt': msg_count % 128,
        'moy': units.moy_from_ns(m.to_ns(array.header.stamp)),
        'id': id_bytes(rsu_id, 'rsu_id'),
        'refPos': ref.to_position3d(),
    }
    if rtes:
        value['rtes'] = rtes
    if rtss:
        value['rtss'] = rtss
    return value


def _time(moy: int | None, ref_ns: int) -> Any:
    ns = units.ns_from_moy(moy, ref_ns) if moy is not None else None
    return m.stamp(ns or 0)


def _event(
    item: dict[str, Any],
    *,
    is_rte: bool,
    ref: GeoPoint,
    stamp_ns: int,
    frame_id: str,
    origin: LocalFrame | None,
) -> Any:
    pos = item.get('eventPos' if is_rte else 'signPos')
    lat = lon = alt = math.nan
    if pos is not None:
        lat, lon, alt = absolute_from_llv(ref, pos)
    x = y = z = math.nan
    if origin is not None and math.isfinite(lat):
        x, y, z = enu(origin, lat, lon, alt)
    path, path_radius = [], 0.0
    paths = item.get('referencePaths')
    if paths and origin is not None:
        path = [point(*enu(origin, *absolute_from_llv(ref, p))) for p in paths[0]['activePath']]
        path_radius = paths[0]['pathRadius'] / 10.0
    text = ''
    if 'description' in item:
        kind, body = item['description']
        text = body if kind == 'textString' else bytes(body).decode('gb2312', errors='replace')
    details = item.get('timeDetails', {})
    priority = item.get('priority', b'\x00')
    return cls('v2x_stack/msg/RoadEvent')(
        header=header(stamp_ns, frame_id),
        id=item['rteId'] if is_rte else item['rtsId'],
        event_type=item['eventType'] if is_rte else 0,
        sign_type=0 if is_rte else item['signType'],
        source=enum_index('EventSource').get(item.get('eventSource', 'unknown'), 0),
        position=point(x, y, z),
        latitude_deg=lat,
        longitude_deg=lon,
        altitude_m=alt,
        radius_m=item.get('eventRadius', 0) / 10.0,
        path=path,
        path_radius_m=path_radius,
        start_time=_time(details.get('startTime'), stamp_ns),
        end_time=_time(details.get('endTime'), stamp_ns),
        priority=priority[0] >> 5,
        description=text,
    )


def events_from_rsi(
    value: dict[str, Any], ref_ns: int, *, frame_id: str = 'map', origin: LocalFrame | None = None
) -> Any:
    """RoadEventArray of an RSI (events, then signs); ``source_id`` = RSU id in hex."""
    ref = GeoPoint.from_position3d(value['refPos'])
    stamp_ns = ref_ns
    if 'moy' in value:
        stamp_ns = units.ns_from_moy(value['moy'], ref_ns) or ref_ns
    kwargs = {'ref': ref, 'stamp_ns': stamp_ns, 'frame_id': frame_id, 'origin': origin}
    events = [_event(item, is_rte=True, **kwargs) for item in value.get('rtes', [])]
    events += [_event(item, is_rte=False, **kwargs) for item in value.get('rtss', [])]
    return cls('v2x_stack/msg/RoadEventArray')(
        header=header(stamp_ns, frame_id), source_id=bytes(value['id']).hex(), events=events
    )

"""Event kinds and their RSI codes (EventType of the GB/T 29100 table used by T/CSAE 53,
SignType of GB 5768.2), priorities and zones. See docs/rsu.md for the table and its sources.

Codes are parameters (``codes_<kind>: [event_type, sign_type]``) because the code table must
match what the deployment's receivers expect; the defaults below are what we could source.
A pair needs at least one non-zero member: an event with both 0 would travel as an RTS with
no sign, which no receiver can show (GB 5768.2 sign numbers start at 1).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from rsu_nodes.events.errors import EventConfigError


class EventKind(enum.Enum):
    STOPPED_VEHICLE = 'stopped_vehicle'
    WRONG_WAY = 'wrong_way'
    CONGESTION = 'congestion'
    PEDESTRIAN = 'pedestrian'
    OBSTACLE = 'obstacle'
    SPEEDING = 'speeding'


@dataclass(frozen=True)
class EventCode:
    event_type: int  # EventType (RTEData); 0: the event travels as a sign (RTSData)
    sign_type: int  # SignType (RTSData); 0: none
    priority: int  # RSIPriority 0..7
    radius_m: float  # zone radius around the position (congestion uses a path instead)
    text: str


DEFAULT_CODES: dict[EventKind, EventCode] = {
    # 900 异常车况 (abnormal vehicle condition)
    EventKind.STOPPED_VEHICLE: EventCode(900, 0, 5, 15.0, 'stopped vehicle in lane'),
    # 900 异常车况: no finer wrong-way code was found; the description says which
    EventKind.WRONG_WAY: EventCode(900, 0, 7, 100.0, 'wrong-way vehicle'),
    # 707 道路拥堵 (traffic jam), class 异常路况
    EventKind.CONGESTION: EventCode(707, 0, 3, 0.0, 'congestion'),
    # sign 10 注意行人 (GB 5768 warning sign "watch for pedestrians") sent as RTSData
    EventKind.PEDESTRIAN: EventCode(0, 10, 6, 10.0, 'pedestrian on the carriageway'),
    # sign 36 注意障碍物 (GB 5768.2 warning sign "obstacle") sent as RTSData; no GB/T 29100
    # obstacle/debris event code could be confirmed
    EventKind.OBSTACLE: EventCode(0, 36, 5, 10.0, 'obstacle on the carriageway'),
    # 901 车辆超速 (vehicle over speed)
    EventKind.SPEEDING: EventCode(901, 0, 4, 30.0, 'speeding vehicle'),
}


def code_with(kind: EventKind, values: list[int]) -> EventCode:
    """The default code of ``kind`` with [event_type, sign_type] from a parameter."""
    if len(values) != 2 or not all(0 <= v <= 65535 for v in values):
        raise EventConfigError(
            f'codes_{kind.value}: expected [event_type, sign_type] in 0..65535, got {values}'
        )
    if values[0] == 0 and values[1] == 0:
        raise EventConfigError(
            f'codes_{kind.value}: expected an event_type or a sign_type > 0, got {values} '
            '(an RSI entry needs one of them)'
        )
    base = DEFAULT_CODES[kind]
    return EventCode(int(values[0]), int(values[1]), base.priority, base.radius_m, base.text)

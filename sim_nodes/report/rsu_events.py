"""RSU road events in a run: raised at each RSU (``rsu/events``) and received by the cars
(``v2x/events``, decoded from the RSI they heard over the channel).

An event's kind is read from its codes with the RSU's own code table (the EventDetector's
``codes``, whatever a deployment configured) when that pair belongs to one kind only, else
from its description (stopped vehicle and wrong way share the abnormal-vehicle EventType;
the description travels in the RSI). Only events present in an array count: an array is the
RSU's complete current list, so an event is "raised" from the first array that carries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from v2x_runtime import messages as m

EVENTS_TYPE = 'v2x_stack/msg/RoadEventArray'
RSU_TOPIC = 'rsu/events'
CAR_TOPIC = 'v2x/events'
KEYWORDS = (
    ('wrong-way', 'wrong_way'),
    ('stopped vehicle', 'stopped_vehicle'),
    ('congestion', 'congestion'),
    ('pedestrian', 'pedestrian'),
    ('obstacle', 'obstacle'),
    ('speeding', 'speeding'),
)


def unique_codes(codes: Mapping[Any, Any]) -> dict[tuple[int, int], str]:
    """(event_type, sign_type) → kind, for the pairs that only one kind uses."""
    seen: dict[tuple[int, int], list[str]] = {}
    for kind, code in codes.items():
        name = getattr(kind, 'value', str(kind))
        seen.setdefault((int(code.event_type), int(code.sign_type)), []).append(name)
    return {pair: kinds[0] for pair, kinds in seen.items() if len(kinds) == 1 and pair != (0, 0)}


def event_kind(event: Any, codes: Mapping[tuple[int, int], str]) -> str:
    kind = codes.get((int(event.event_type), int(event.sign_type)))
    if kind is not None:
        return kind
    text = str(event.description).lower()
    for word, name in KEYWORDS:
        if word in text:
            return name
    return f'code_{int(event.event_type)}_{int(event.sign_type)}'


@dataclass
class RsuEventLog:
    """First appearance of each event kind per RSU and per receiving vehicle."""

    codes: dict[tuple[int, int], str] = field(default_factory=dict)
    stations: dict[str, str] = field(default_factory=dict)  # station id hex -> RSU name
    raised: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    received: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    raised_count: dict[str, int] = field(default_factory=dict)
    samples: list[tuple[str, float, str]] = field(default_factory=list)  # (who, t, kind)

    def attach(self, runtime: Any, rsus: list[str], vehicles: list[str]) -> list[str]:
        """Subscribe to every RSU's and car's event topic that exists; returns the topics."""
        topics = []
        for rsu in sorted(rsus):
            for name, comp in runtime.components.items():
                if name.startswith(f'/{rsu}/') and isinstance(getattr(comp, 'codes', None), dict):
                    self.codes.update(unique_codes(comp.codes))
            topic = f'/{rsu}/{RSU_TOPIC}'
            if topic in runtime.topics:
                topics.append(topic)
                runtime.subscribe(topic, EVENTS_TYPE, lambda msg, r=rsu: self.on_rsu(r, msg))
        for car in sorted(vehicles):
            topic = f'/{car}/{CAR_TOPIC}'
            if topic in runtime.topics:
                topics.append(topic)
                runtime.subscribe(topic, EVENTS_TYPE, lambda msg, c=car: self.on_car(c, msg))
        return topics

    def on_rsu(self, rsu: str, msg: Any) -> None:
        t = m.to_ns(msg.header.stamp) / 1e9
        mine = self.raised.setdefault(rsu, {})
        for e in msg.events:
            kind = event_kind(e, self.codes)
            self.samples.append((rsu, t, kind))
            if kind not in mine:
                mine[kind] = _entry(e, t)
                self.raised_count[kind] = self.raised_count.get(kind, 0) + 1
            mine[kind]['ids'] = sorted({*mine[kind]['ids'], int(e.id)})

    def on_car(self, car: str, msg: Any) -> None:
        t = m.to_ns(msg.header.stamp) / 1e9
        mine = self.received.setdefault(car, {})
        for e in msg.events:
            kind = event_kind(e, self.codes)
            self.samples.append((car, t, kind))
            if kind not in mine:
                mine[kind] = {
                    **_entry(e, t),
                    'rsu': self.stations.get(msg.source_id, msg.source_id),
                }

    def metrics(self) -> dict[str, Any]:
        return {'raised': self.raised, 'received': self.received}


def _entry(e: Any, t: float) -> dict[str, Any]:
    return {
        'first_t_s': round(t, 3),
        'ids': [],
        'event_type': int(e.event_type),
        'sign_type': int(e.sign_type),
        'x_m': round(float(e.position.x), 2),
        'y_m': round(float(e.position.y), 2),
        'description': str(e.description),
    }

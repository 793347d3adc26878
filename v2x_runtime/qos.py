"""QoS profiles a component declares, in the three shapes DESIGN.md fixes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Reliability(Enum):
    RELIABLE = 'reliable'
    BEST_EFFORT = 'best_effort'


class Durability(Enum):
    VOLATILE = 'volatile'
    TRANSIENT_LOCAL = 'transient_local'


@dataclass(frozen=True)
class QosProfile:
    """Keep-last history of ``depth`` with the given reliability and durability."""

    reliability: Reliability = Reliability.RELIABLE
    durability: Durability = Durability.VOLATILE
    depth: int = 10


QOS_SENSOR = QosProfile(Reliability.BEST_EFFORT, Durability.VOLATILE, 5)
"""Sensor streams: newest data wins, losses are acceptable."""
QOS_RELIABLE = QosProfile(Reliability.RELIABLE, Durability.VOLATILE, 10)
"""Commands and events: every message matters."""
QOS_LATCHED = QosProfile(Reliability.RELIABLE, Durability.TRANSIENT_LOCAL, 1)
"""Maps and configuration: late joiners get the last value."""

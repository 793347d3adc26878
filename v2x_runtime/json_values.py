"""Values for the JSON the stack hands to the outside world (HMI page, the centre's uplink).

JSON has no NaN or infinity: a non-finite number becomes ``null``, and encoding refuses any
that slipped through. Numbers are rounded to what the reader needs, which keeps frames short.
"""

from __future__ import annotations

import json
import math
from typing import Any

# Participant.CLASS_* (msg/Participant.msg), indexed by value: the names JSON readers see.
PARTICIPANT_CLASSES = (
    'unknown',
    'car',
    'truck',
    'motorcycle',
    'cyclist',
    'pedestrian',
    'obstacle',
    'emergency',
)


def number(value: float, digits: int = 3) -> float | None:
    """``value`` rounded to ``digits`` decimals, or None (JSON null) when it is not finite."""
    return round(float(value), digits) if math.isfinite(value) else None


def compact_json(body: dict[str, Any]) -> str:
    """Compact JSON; raises ValueError if a NaN slipped through (a bug, not bad input)."""
    return json.dumps(body, separators=(',', ':'), allow_nan=False)

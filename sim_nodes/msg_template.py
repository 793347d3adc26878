"""Fast construction of many similar messages: a template's constant fields plus the changes.

``dataclasses.replace`` introspects the class on every call; the simulator builds tens of
thousands of messages per run, so the field values are captured once. Messages are immutable
once published, so the constant parts (covariances, nested defaults) are shared safely.
"""

from __future__ import annotations

import dataclasses
from typing import Any


class Template:
    def __init__(self, message: Any) -> None:
        self.cls = type(message)
        self.base = {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}

    def __call__(self, **changes: Any) -> Any:
        return self.cls(**{**self.base, **changes})

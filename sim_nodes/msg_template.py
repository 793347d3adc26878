"""Fast construction of many similar messages: a template's constant fields plus the changes.

The simulator builds tens of thousands of messages per run from a few templates; each is a
shallow copy of the template (``messages.replace``), so the constant parts (covariances, nested
defaults) are shared: messages are immutable once published.
"""

from __future__ import annotations

from typing import Any

from v2x_runtime import messages as m


class Template:
    def __init__(self, message: Any) -> None:
        self.prototype = message

    def __call__(self, **changes: Any) -> Any:
        return m.replace(self.prototype, **changes)

"""Values computed from an object, found again by the object itself.

Messages do not hash, and within one process the simulator hands the same message object to
many subscribers (a broadcast's payload, a decoded roadside participant): a value made from
such an object can be looked up by its ``id``. An entry holds its object, so the id is not
reused while the entry lives, and the object is compared too. Published messages are not
changed afterwards (the runtime's rule), so the value stays right. The table is bounded and
emptied all at once when full: what is kept is what the current instant's subscribers need.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

V = TypeVar('V')


class IdentityMemo(Generic[V]):
    """At most ``max_entries`` values by the identity of the object each was made from."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: dict[int, tuple[Any, V]] = {}

    def get(self, obj: Any) -> V | None:
        """The value kept for ``obj`` itself, or None."""
        entry = self._entries.get(id(obj))
        if entry is not None and entry[0] is obj:
            return entry[1]
        return None

    def put(self, obj: Any, value: V) -> V:
        """Keep ``value`` for ``obj`` (first emptying a full table); returns ``value``."""
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[id(obj)] = (obj, value)
        return value

    def __len__(self) -> int:
        return len(self._entries)

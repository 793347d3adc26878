"""Frozen dataclass instances made without the frozen ``__init__``, for the per-fix records.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (its own
``__setattr__`` refuses): a few µs for the estimate, lane match and pose records the car makes
at every fix. The fields live in the instance ``__dict__``, so filling it makes the very same
instance (equal, same repr, still frozen) at a fraction of the cost.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar('T')


def assemble(cls: type[T], **fields: Any) -> T:
    """An instance of the frozen dataclass ``cls``; give every field by name (no defaults are
    applied and ``__post_init__`` does not run: only for classes that have neither)."""
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj

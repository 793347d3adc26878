"""Frozen dataclass instances made without the frozen ``__init__``, for hot loops.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (it must get
past its own ``__setattr__``, which refuses): 9-13 µs for the 11-12 fields of a fused object
or a report, a few µs for a car's per-fix estimate, lane match and pose. A frozen dataclass
keeps its fields in the instance ``__dict__``, so filling that dictionary makes the very same
instance (equal, same repr, still frozen) in a third of the time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar('T')


def assemble(cls: type[T], **fields: Any) -> T:
    """An instance of the frozen dataclass ``cls``; give every field by name (no defaults are
    applied and ``__post_init__`` does not run: only for classes that have neither)."""
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


def assemble_values(cls: type[T], names: tuple[str, ...], values: Iterable[Any]) -> T:
    """``assemble`` with the fields given as ``values`` in the order of ``names`` (a row)."""
    obj = object.__new__(cls)
    obj.__dict__.update(zip(names, values, strict=True))
    return obj

"""Typed reading of a parsed YAML mapping, every error naming the file and the field path."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sim_nodes.errors import ScenarioError

_MISSING = object()


class Fields:
    """A mapping at ``path`` inside ``file``; ``take_*`` read fields, ``done`` rejects extras."""

    def __init__(self, data: Any, file: str, path: str = '') -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ScenarioError(file, path or '(top level)', 'a mapping', type(data).__name__)
        self.data = data
        self.file = file
        self.path = path
        self._used: set[str] = set()

    def at(self, key: str | int) -> str:
        if isinstance(key, int):
            return f'{self.path}[{key}]'
        return f'{self.path}.{key}' if self.path else key

    def fail(self, key: str | int, expected: str, got: object = None) -> ScenarioError:
        return ScenarioError(self.file, self.at(key), expected, got)

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        self._used.add(key)
        if key not in self.data:
            if default is _MISSING:
                raise self.fail(key, 'a value (the field is required)')
            return default
        return self.data[key]

    def take_float(
        self, key: str, default: Any = _MISSING, *, lo: float = -math.inf, hi: float = math.inf
    ) -> float:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, 'a number', value)
        if not (lo <= float(value) <= hi):
            raise self.fail(key, f'a number in [{lo:g}, {hi:g}]', value)
        return float(value)

    def take_int(
        self, key: str, default: Any = _MISSING, *, lo: int = -(2**62), hi: int = 2**62
    ) -> int:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, 'an integer', value)
        if not (lo <= value <= hi):
            raise self.fail(key, f'an integer in [{lo}, {hi}]', value)
        return int(value)

    def take_bool(self, key: str, default: Any = _MISSING) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, 'true or false', value)
        return value

    def take_str(self, key: str, default: Any = _MISSING, *, choices: Sequence[str] = ()) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise self.fail(key, 'a string', value)
        if choices and value not in choices:
            raise self.fail(key, f'one of {", ".join(choices)}', value)
        return value

    def take_list(self, key: str, default: Any = _MISSING) -> list[Any]:
        value = self.raw(key, default)
        if not isinstance(value, list):
            raise self.fail(key, 'a list', value)
        return value

    def take_floats(self, key: str, n: int, default: Any = _MISSING) -> tuple[float, ...]:
        value = self.raw(key, default)
        ok = isinstance(value, list | tuple) and len(value) == n
        if not ok or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            raise self.fail(key, f'a list of {n} numbers', value)
        return tuple(float(v) for v in value)

    def child(self, key: str, default: Any = _MISSING) -> Fields:
        return Fields(
            self.raw(key, default if default is not _MISSING else _MISSING), self.file, self.at(key)
        )

    def items(self, key: str) -> list[Fields]:
        """The mappings of a list field, each with its indexed path (``vehicles[3]``)."""
        values = self.take_list(key, [])
        return [Fields(v, self.file, f'{self.at(key)}[{i}]') for i, v in enumerate(values)]

    def done(self) -> None:
        unknown = sorted(set(self.data) - self._used)
        if unknown:
            allowed = ', '.join(sorted(self._used))
            raise self.fail(unknown[0], f'a known field ({allowed})', unknown[0])

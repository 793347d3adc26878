"""Typed parameter declarations and their validation, shared by both runtimes."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from v2x_runtime.errors import ParameterError

ParameterValue = bool | int | float | str | list[bool] | list[int] | list[float] | list[str]

_SCALARS = (bool, int, float, str)


@dataclass(frozen=True)
class ParameterSpec:
    """One declared parameter: its type comes from the default value.

    ``range`` bounds numbers (inclusive; element-wise for lists), ``choices`` restricts strings.
    ``dynamic`` parameters may change while running; ``on_change`` then receives the new value.
    """

    name: str
    default: ParameterValue
    description: str
    range: tuple[float, float] | None = None
    choices: tuple[str, ...] | None = None
    dynamic: bool = False
    on_change: Callable[[Any], None] | None = None

    @property
    def kind(self) -> type:
        """bool, int, float or str; for lists, the element type."""
        if isinstance(self.default, list):
            return _list_kind(self.name, self.default)
        return type(self.default)

    @property
    def is_list(self) -> bool:
        return isinstance(self.default, list)

    def validate(self, value: Any) -> ParameterValue:
        """Return ``value`` coerced to the declared type, or raise ParameterError saying why."""
        if self.is_list:
            if not isinstance(value, list | tuple):
                raise ParameterError(f'{self.name}: expected a list, got {value!r}')
            return [self._scalar(v) for v in value]
        return self._scalar(value)

    def _scalar(self, value: Any) -> Any:
        kind = self.kind
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ParameterError(
                f'{self.name}: expected {kind.__name__}, got {type(value).__name__} {value!r}'
            )
        if kind is float and not math.isfinite(value):
            raise ParameterError(f'{self.name}: expected a finite number, got {value!r}')
        if self.range is not None and kind in (int, float):
            low, high = self.range
            if not low <= value <= high:
                raise ParameterError(f'{self.name}: {value!r} is outside [{low}, {high}]')
        if self.choices is not None and value not in self.choices:
            raise ParameterError(
                f'{self.name}: {value!r} is not one of {", ".join(map(repr, self.choices))}'
            )
        return value


def _list_kind(name: str, default: Sequence[Any]) -> type:
    kinds = {type(v) for v in default}
    if kinds == {int, float}:
        return float
    if len(kinds) == 1 and next(iter(kinds)) in _SCALARS:
        return next(iter(kinds))
    if not default:
        raise ParameterError(f'{name}: an empty list default needs an element type (use [0.0][:0])')
    raise ParameterError(f'{name}: list default mixes types {sorted(k.__name__ for k in kinds)}')


def make_spec(
    name: str,
    default: ParameterValue,
    description: str,
    *,
    range: tuple[float, float] | None = None,
    choices: Sequence[str] | None = None,
    dynamic: bool = False,
    on_change: Callable[[Any], None] | None = None,
) -> ParameterSpec:
    """Build and check a declaration (the default must satisfy its own constraints)."""
    if not name or not name.replace('_', 'a').replace('.', 'a').isalnum() or name != name.lower():
        raise ParameterError(f'{name!r}: parameter names are lower_snake_case')
    if not isinstance(default, (*_SCALARS, list)):
        raise ParameterError(f'{name}: unsupported default type {type(default).__name__}')
    spec = ParameterSpec(
        name, default, description, range, tuple(choices) if choices else None, dynamic, on_change
    )
    spec.validate(default)
    return spec

"""How an application is described: its parameters (with ranges and sources) and evaluator.

Applications are table rows (``AppSpec``): the component layer declares each parameter as
``<app>_<name>`` (e.g. ``fcw_ttc_warning_s``), runs the evaluator on every cycle's
``Scene`` and applies the hysteresis. Adding an application is adding a row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from v2x_nodes.applications.hysteresis import Finding
from v2x_nodes.applications.scene import Scene

LEVEL_NONE = 0
LEVEL_INFO = 1
LEVEL_CAUTION = 2
LEVEL_WARNING = 3
LEVEL_CRITICAL = 4

Params = Mapping[str, Any]
Evaluator = Callable[[Scene, Params], list[Finding]]
Advisor = Callable[[Scene, Params], dict[str, Any] | None]


@dataclass(frozen=True)
class Param:
    """One threshold: default, description (with its source) and allowed range."""

    name: str
    default: float | int | bool
    description: str
    range: tuple[float, float] | None = None


@dataclass(frozen=True)
class AppSpec:
    """One T/CSAE 53 application: short name, evaluator, thresholds, hysteresis defaults."""

    name: str  # FCW, ICW, ...
    title: str
    evaluate: Evaluator
    params: tuple[Param, ...]
    clear_margin: float  # in the unit of the findings' margin
    margin_unit: str  # 's', 'm', 'm/s', 'm/s2'
    hold_s: float = 1.0
    advise: Advisor | None = None  # produces SpeedAdvice fields (GLOSA, SLW)
    inputs: tuple[str, ...] = field(default=('targets',))

    def all_params(self) -> tuple[Param, ...]:
        common = (
            Param('enabled', True, f'Run {self.name}'),
            Param('clear_margin', self.clear_margin,
                  'Hysteresis: the finding must exceed the trigger by this much '
                  f'({self.margin_unit}) before the warning may clear', (0.0, 1000.0)),
            Param('hold_s', self.hold_s, 'Hysteresis: the clear condition must hold this long, s',
                  (0.0, 30.0)),
        )  # fmt: skip
        return common + self.params

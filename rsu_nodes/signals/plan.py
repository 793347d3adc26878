"""Fixed-time signal plans: cycle, stages, offset, pedestrian phases → per-group light + timing.

A plan is a cycle of stages. Each stage gives green to some vehicle signal groups and some
pedestrian groups for ``green_s``, then yellow (vehicles) for ``yellow_s``, then all-red for
``all_red_s``. Pedestrian groups show flashing green for the last ``ped_clearance_s`` of
their green (the Chinese signal convention) and are red otherwise. A group may be green in
several consecutive stages; its greens are merged, also across the cycle boundary.

``SignalPlan.state(t_s)`` returns, for every group, the current light and the SPAT timing
(T/CSAE 53 ``TimeCountingDown``): start, min/max/likely end, next green start and duration,
all in seconds relative to ``t_s``. For a fixed-time plan min = max = likely end.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class PlanError(ValueError):
    """A signal plan that cannot run (negative durations, a group that is never green...)."""


class Light(enum.IntEnum):
    """T/CSAE 53 LightState values (the same numbers as SignalPhase.LIGHT_*)."""

    UNAVAILABLE = 0
    DARK = 1
    FLASHING_RED = 2
    RED = 3
    FLASHING_GREEN = 4
    PERMISSIVE_GREEN = 5
    PROTECTED_GREEN = 6
    YELLOW = 7
    FLASHING_YELLOW = 8

    @property
    def is_green(self) -> bool:
        return self in (Light.FLASHING_GREEN, Light.PERMISSIVE_GREEN, Light.PROTECTED_GREEN)


@dataclass(frozen=True)
class Stage:
    """One stage of the cycle: which groups get green, and the interval lengths in seconds."""

    green_s: float
    vehicle_groups: tuple[int, ...] = ()
    pedestrian_groups: tuple[int, ...] = ()
    yellow_s: float = 3.0
    all_red_s: float = 2.0
    ped_clearance_s: float = 5.0
    permissive: bool = False  # vehicle green is permissive (must yield) instead of protected

    @property
    def duration_s(self) -> float:
        return self.green_s + self.yellow_s + self.all_red_s


@dataclass(frozen=True)
class GroupState:
    """The state of one signal group at a time t; times are seconds from t (NaN = unknown)."""

    group: int
    light: Light
    start_s: float
    min_end_s: float
    max_end_s: float
    likely_end_s: float
    next_start_s: float
    next_duration_s: float
    confidence: float = 1.0


@dataclass
class SignalPlan:
    """A fixed-time plan of one intersection. Build it with ``plan_from_dict`` or directly."""

    stages: tuple[Stage, ...]
    offset_s: float = 0.0
    intersection_id: int = 1
    _timeline: dict[int, list[tuple[float, float, Light]]] = field(default_factory=dict, init=False)
    _runs: dict[int, list[tuple[float, float]]] = field(default_factory=dict, init=False)
    _cycle_s: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if not self.stages:
            raise PlanError('a signal plan needs at least one stage')
        for i, stage in enumerate(self.stages):
            if stage.green_s <= 0 or stage.yellow_s < 0 or stage.all_red_s < 0:
                raise PlanError(
                    f'stages[{i}]: expected green_s > 0 and yellow_s, all_red_s >= 0, got '
                    f'{stage.green_s}, {stage.yellow_s}, {stage.all_red_s}'
                )
            if not 0 <= stage.ped_clearance_s <= stage.green_s:
                raise PlanError(
                    f'stages[{i}]: expected 0 <= ped_clearance_s <= green_s, got '
                    f'{stage.ped_clearance_s}'
                )
        # the world asks for lights every step: the cycle is summed once (stages are frozen)
        self._cycle_s = sum(s.duration_s for s in self.stages)
        self._timeline = self._build_timeline()
        self._runs = {g: self._green_runs(iv) for g, iv in self._timeline.items()}

    @property
    def cycle_s(self) -> float:
        return self._cycle_s

    @property
    def groups(self) -> list[int]:
        return sorted(self._timeline)

    def pedestrian_groups(self) -> set[int]:
        return {g for s in self.stages for g in s.pedestrian_groups}

    def _one_cycle(self) -> dict[int, list[tuple[float, float, Light]]]:
        vehicle = {g for s in self.stages for g in s.vehicle_groups}
        ped = self.pedestrian_groups()
        if vehicle & ped:
            raise PlanError(f'groups {sorted(vehicle & ped)} are both vehicle and pedestrian')
        out: dict[int, list[tuple[float, float, Light]]] = {g: [] for g in vehicle | ped}
        t = 0.0
        for stage in self.stages:
            g_end = t + stage.green_s
            y_end = g_end + stage.yellow_s
            s_end = y_end + stage.all_red_s
            green = Light.PERMISSIVE_GREEN if stage.permissive else Light.PROTECTED_GREEN
            for g in vehicle:
                if g in stage.vehicle_groups:
                    out[g] += [(t, g_end, green), (g_end, y_end, Light.YELLOW)]
                    out[g].append((y_end, s_end, Light.RED))
                else:
                    out[g].append((t, s_end, Light.RED))
            for g in ped:
                if g in stage.pedestrian_groups:
                    flash = g_end - stage.ped_clearance_s
                    out[g] += [(t, flash, Light.PROTECTED_GREEN)]
                    out[g] += [(flash, g_end, Light.FLASHING_GREEN), (g_end, s_end, Light.RED)]
                else:
                    out[g].append((t, s_end, Light.RED))
            t = s_end
        return out

    def _build_timeline(self) -> dict[int, list[tuple[float, float, Light]]]:
        """Three cycles of merged intervals [-cycle, 2 cycle), so queries never hit an edge."""
        cycle = self.cycle_s
        one = self._one_cycle()
        timeline: dict[int, list[tuple[float, float, Light]]] = {}
        for g, intervals in one.items():
            merged: list[tuple[float, float, Light]] = []
            for k in (-1, 0, 1):
                for a0, b0, light in intervals:
                    if b0 <= a0:
                        continue
                    a, b = a0 + k * cycle, b0 + k * cycle
                    if merged and merged[-1][2] == light and math.isclose(merged[-1][1], a):
                        merged[-1] = (merged[-1][0], b, light)
                    else:
                        merged.append((a, b, light))
            if not any(light.is_green for _, _, light in merged):
                raise PlanError(f'signal group {g} is never green')
            timeline[g] = merged
        return timeline

    def state(self, t_s: float) -> dict[int, GroupState]:
        """Every group's light and timing at simulated time ``t_s`` (seconds)."""
        cycle = self.cycle_s
        tc = self._cycle_time(t_s)
        return {g: self._group_state(g, tc, cycle) for g in self._timeline}

    def _cycle_time(self, t_s: float) -> float:
        """Time into the cycle in [0, cycle); float modulo can round up to the cycle itself."""
        cycle = self._cycle_s
        tc = (t_s - self.offset_s) % cycle
        return 0.0 if tc >= cycle else tc

    def light(self, t_s: float, group: int) -> Light:
        tc = self._cycle_time(t_s)
        for a, b, light in self._timeline[group]:
            if a <= tc < b:
                return light
        return Light.UNAVAILABLE

    def _group_state(self, g: int, tc: float, cycle: float) -> GroupState:
        intervals = self._timeline[g]
        a, b, light = next(iv for iv in intervals if iv[0] <= tc < iv[1])
        runs = self._runs[g]
        current = next((r for r in runs if r[0] <= tc < r[1]), None)
        after = current[1] if current is not None else tc
        nxt = next(((s, e) for s, e in runs if s >= after - 1e-9 and s > tc), None)
        if nxt is None:  # only when a group is green nearly all cycle: wrap once
            nxt = (runs[0][0] + 2 * cycle, runs[0][1] + 2 * cycle)
        return GroupState(g, light, a - tc, b - tc, b - tc, b - tc, nxt[0] - tc, nxt[1] - nxt[0])

    @staticmethod
    def _green_runs(intervals: Sequence[tuple[float, float, Light]]) -> list[tuple[float, float]]:
        """Contiguous green (protected, permissive, flashing) stretches of a timeline."""
        runs: list[tuple[float, float]] = []
        for a, b, light in intervals:
            if not light.is_green:
                continue
            if runs and math.isclose(runs[-1][1], a):
                runs[-1] = (runs[-1][0], b)
            else:
                runs.append((a, b))
        return runs


def plan_from_dict(data: Mapping[str, Any], *, where: str = 'signal plan') -> SignalPlan:
    """Build a plan from a config mapping ``{offset_s, intersection_id, stages: [...]}``."""
    try:
        stages = tuple(
            Stage(
                green_s=float(s['green_s']),
                vehicle_groups=tuple(int(g) for g in s.get('vehicle_groups', ())),
                pedestrian_groups=tuple(int(g) for g in s.get('pedestrian_groups', ())),
                yellow_s=float(s.get('yellow_s', 3.0)),
                all_red_s=float(s.get('all_red_s', 2.0)),
                ped_clearance_s=float(s.get('ped_clearance_s', min(5.0, float(s['green_s'])))),
                permissive=bool(s.get('permissive', False)),
            )
            for s in data['stages']
        )
        return SignalPlan(
            stages,
            offset_s=float(data.get('offset_s', 0.0)),
            intersection_id=int(data.get('intersection_id', 1)),
        )
    except PlanError as err:
        raise PlanError(f'{where}: {err}') from None
    except (KeyError, TypeError, ValueError) as err:
        raise PlanError(f'{where}: expected stages with green_s and group lists: {err}') from None

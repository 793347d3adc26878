"""Actuated signal control: stages that skip, extend and rest on detector calls → SPAT timing.

A plan is a ring of stages, as the fixed-time plan (``plan.py``), but each stage has a
minimum and a maximum green, a passage (unit extension) time, detection zones that call and
extend it, a recall mode and optional pedestrian groups with a walk and a clearance time:

- a stage is *called* when a participant of the zone's classes is in one of its zones while
  the stage is not green (the call is latched until the stage is served) or by its recall
  (``min``: always called; ``max``: always called and never gaps out; ``ped``: its
  pedestrian walk is always called);
- a green lasts at least ``min_green_s`` (longer when the walk is served: ``walk_s +
  ped_clearance_s``); every cycle with a participant in its zones extends it to ``passage_s``
  after that actuation (gap-out) and it never exceeds ``max_green_s`` from its start (max-out);
  it ends only when another stage is called (with no demand elsewhere the green rests);
- yellow and all-red follow, then the next called stage in ring order (uncalled ones are
  skipped);
- pedestrian groups of a stage walk (protected green) for ``walk_s`` and flash for
  ``ped_clearance_s``, only on a pedestrian call: from the start of the green when the call
  was latched before, or at once when it comes during the green and the walk still fits
  before the max green ("late walk"); otherwise it waits for the next service, and such a
  pending call also ends a resting green (the stage is served again after the clearance).

``ActuatedController.update(t_s, presence)`` advances the state to ``t_s``; transitions land
at their exact instants (a gap-out at ``last actuation + passage``), so timing does not depend
on the tick phase. ``state(t_s)`` gives each group's light and T/CSAE 53 counting-down timing,
computed by projecting the stage sequence forward three ways: earliest (current calls, every
stage at its minimum, the asked group's stage called now), latest (every stage called, every
green at its maximum) and likely (current calls, greens at minimum or the time the vehicles
now in the zones need). An end that is unbounded (a resting green, a stage nobody calls) is
NaN = unknown, which the SPAT codec sends as "unknown"/omits. The plan and its file format:
``rsu_nodes.signals.actuated_plan``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rsu_nodes.signals.actuated_plan import ActuatedPlan, Recall
from rsu_nodes.signals.plan import GroupState, Light


class Interval(enum.Enum):
    GREEN = 'green'
    YELLOW = 'yellow'
    ALL_RED = 'all_red'


@dataclass
class _Run:
    """One projected green of a stage: [start, end) in seconds (end NaN = unbounded)."""

    stage: int
    start_s: float
    end_s: float
    walk: bool


@dataclass(frozen=True)
class _Projection:
    earliest: list[_Run]
    latest: list[_Run]
    likely: list[_Run]


@dataclass
class ActuatedController:
    """The stage state machine of one intersection; time in seconds on the caller's clock."""

    plan: ActuatedPlan
    stage: int = 0
    interval: Interval = Interval.GREEN
    interval_start_s: float = math.nan
    last_actuation_s: float = math.nan
    walk: bool = False  # the current green serves its pedestrian walk
    walk_start_s: float = math.nan
    calls: set[int] = field(default_factory=set)
    ped_calls: set[int] = field(default_factory=set)
    queue: dict[int, int] = field(default_factory=dict)  # stage -> participants in its zones
    red_since: dict[int, float] = field(default_factory=dict)  # stage -> vehicle groups red
    ped_red_since: dict[int, float] = field(default_factory=dict)  # stage -> walk ended
    now_s: float = math.nan

    def start(self, t_s: float) -> None:
        """Begin with stage 0 green at ``t_s`` (its walk when its recall asks for it)."""
        self.stage, self.interval, self.interval_start_s = 0, Interval.GREEN, t_s
        self.last_actuation_s = t_s
        self.walk = self.plan.stages[0].recall is Recall.PED
        self.walk_start_s = t_s
        self.now_s = t_s
        self.red_since = dict.fromkeys(range(len(self.plan.stages)), t_s)
        self.ped_red_since = dict(self.red_since)

    # --- demand ------------------------------------------------------------------------------
    def _called(self, j: int) -> bool:
        s = self.plan.stages[j]
        return j in self.calls or j in self.ped_calls or s.recall is not Recall.NONE

    def _walk_called(self, j: int) -> bool:
        s = self.plan.stages[j]
        return bool(s.pedestrian_groups) and (j in self.ped_calls or s.recall is Recall.PED)

    def _other_demand(self) -> bool:
        """Demand that ends the current green: another stage, or a walk it could not serve."""
        if self.stage in self.ped_calls:
            return True
        return any(self._called(j) for j in range(len(self.plan.stages)) if j != self.stage)

    def _min_end(self) -> float:
        """Earliest end of the current green by its minimum and its walk."""
        s = self.plan.stages[self.stage]
        end = self.interval_start_s + s.min_green_s
        if self.walk:
            end = max(end, self.walk_start_s + s.walk_s + s.ped_clearance_s)
        return end

    # --- advancing ---------------------------------------------------------------------------
    def update(self, t_s: float, presence: Mapping[str, int]) -> None:
        """Advance to ``t_s`` with ``presence`` (zone name → participants in it) seen at t_s.

        :raises ValueError: when ``t_s`` is before the last update (the caller counts it).
        """
        if math.isnan(self.now_s):
            self.start(t_s)
        if t_s < self.now_s:
            raise ValueError(f'time went back from {self.now_s} to {t_s}')
        # transitions due before this observation happen first, at their own instants
        self._advance(t_s)
        self.now_s = t_s
        for j, s in enumerate(self.plan.stages):
            n = sum(presence.get(z, 0) for z in s.detectors)
            self.queue[j] = n
            green_now = j == self.stage and self.interval is Interval.GREEN
            if n:
                if green_now:
                    self.last_actuation_s = t_s
                else:
                    self.calls.add(j)
            if any(presence.get(z, 0) for z in s.ped_detectors):
                if not green_now:
                    self.ped_calls.add(j)
                elif not self.walk:
                    fits = (
                        t_s + s.walk_s + s.ped_clearance_s <= self.interval_start_s + s.max_green_s
                    )
                    if fits and s.pedestrian_groups and s.recall is not Recall.MAX:
                        self.walk, self.walk_start_s = True, t_s  # late walk
                    else:
                        self.ped_calls.add(j)
                elif t_s >= self.walk_start_s + s.walk_s:  # walk over: the next service
                    self.ped_calls.add(j)
        self._advance(t_s)

    def _green_end(self) -> float:
        """When the current green ends given what is known now (NaN: resting, no demand)."""
        s = self.plan.stages[self.stage]
        start = self.interval_start_s
        if not self._other_demand():
            return math.nan
        max_end = start + s.max_green_s
        if s.recall is Recall.MAX:
            return max_end
        gap = max(self._min_end(), self.last_actuation_s + s.passage_s)
        return min(gap, max_end)

    def _advance(self, t_s: float) -> None:
        for _ in range(4 * len(self.plan.stages) + 4):  # bounded: each pass moves one interval
            s = self.plan.stages[self.stage]
            if self.interval is Interval.GREEN:
                end = self._green_end()
                if math.isnan(end) or end > t_s:
                    return
                if self.walk:
                    self.ped_red_since[self.stage] = self.walk_start_s + s.walk_s
                    self.ped_red_since[self.stage] += s.ped_clearance_s
                self.interval, self.interval_start_s = Interval.YELLOW, end
            elif self.interval is Interval.YELLOW:
                end = self.interval_start_s + s.yellow_s
                if end > t_s:
                    return
                self.red_since[self.stage] = end
                self.interval, self.interval_start_s = Interval.ALL_RED, end
            else:
                end = self.interval_start_s + s.all_red_s
                if end > t_s:
                    return
                nxt = self._next_called(self.stage)
                self.calls.discard(nxt)
                self.walk = self._walk_called(nxt)
                self.walk_start_s = end
                self.ped_calls.discard(nxt)
                self.stage, self.interval, self.interval_start_s = nxt, Interval.GREEN, end
                self.last_actuation_s = end

    def _next_called(self, k: int) -> int:
        n = len(self.plan.stages)
        for step in range(1, n + 1):
            j = (k + step) % n
            if self._called(j):
                return j
        return k

    # --- timing ------------------------------------------------------------------------------
    def _project(self, mode: str, called: set[int], walks: set[int]) -> list[_Run]:
        """Greens from the current one on, for ~two rounds of the ring; ``mode`` min/max/likely."""
        stages = self.plan.stages
        n = len(stages)
        s = stages[self.stage]
        runs: list[_Run] = []
        if self.interval is Interval.GREEN:
            start = self.interval_start_s
            earliest = max(self._min_end(), self.last_actuation_s + s.passage_s)
            latest = start + s.max_green_s
            if s.recall is Recall.MAX:
                earliest = latest
            earliest = min(earliest, latest)
            others = self.stage in self.ped_calls or any(
                j in called for j in range(n) if j != self.stage
            )
            if mode == 'min':
                end = earliest
            elif not others:
                end = math.nan
            elif mode == 'max':
                end = latest
            else:
                need = self.now_s + self.queue.get(self.stage, 0) * self.plan.headway_s
                end = min(latest, max(earliest, need))
            runs.append(_Run(self.stage, start, end, self.walk))
            t = end + s.clearance_s
        elif self.interval is Interval.YELLOW:
            t = self.interval_start_s + s.clearance_s
        else:
            t = self.interval_start_s + s.all_red_s
        k = self.stage
        for _ in range(2 * n):
            if math.isnan(t):
                break
            k = (k + 1) % n
            if k not in called and not (k == self.stage and k in self.ped_calls):
                continue
            st = stages[k]
            walk = k in walks
            if mode == 'max' or st.recall is Recall.MAX:
                length = st.max_green_s
            elif mode == 'min':
                length = st.min_with_walk(walk)
            else:
                queued = self.queue.get(k, 0) * self.plan.headway_s
                length = min(st.max_green_s, max(st.min_with_walk(walk), queued))
            runs.append(_Run(k, t, t + length, walk))
            t += length + st.clearance_s
        return runs

    def state(self) -> dict[int, GroupState]:
        """Every group's light and timing at the time of the last update (seconds from it)."""
        n = len(self.plan.stages)
        called = {j for j in range(n) if self._called(j)}
        walks = {j for j in range(n) if self._walk_called(j)}
        likely = self._project('likely', called, walks)
        latest = self._project(
            'max', set(range(n)), {j for j in range(n) if self.plan.stages[j].pedestrian_groups}
        )
        out: dict[int, GroupState] = {}
        for j, s in enumerate(self.plan.stages):
            earliest = self._project(
                'min', called | {j}, walks | ({j} if s.pedestrian_groups else set())
            )
            proj = _Projection(earliest, latest, likely)
            for g in s.vehicle_groups:
                out[g] = self._vehicle(j, g, proj, j in called)
            for g in s.pedestrian_groups:
                out[g] = self._pedestrian(j, g, proj, j in walks)
        return out

    def _first(self, runs: Sequence[_Run], j: int, after: float) -> _Run | None:
        return next((r for r in runs if r.stage == j and r.start_s > after + 1e-9), None)

    def _vehicle(self, j: int, g: int, p: _Projection, called: bool) -> GroupState:
        earliest, latest, likely = p.earliest, p.latest, p.likely
        s = self.plan.stages[j]
        now = self.now_s
        nan = math.nan
        green_light = Light.PERMISSIVE_GREEN if s.permissive else Light.PROTECTED_GREEN
        if j == self.stage and self.interval is Interval.GREEN:
            e, lt, lk = earliest[0].end_s, latest[0].end_s, likely[0].end_s
            if not self._other_demand():
                lt = lk = nan
            nxt = self._first(likely, j, self.interval_start_s)
            conf = 1.0 if e == lt else 0.5
            return GroupState(
                g, green_light, self.interval_start_s - now, e - now, lt - now, lk - now,
                _rel(nxt.start_s if nxt else nan, now), _dur(nxt), conf,
            )  # fmt: skip
        if j == self.stage and self.interval is Interval.YELLOW:
            end = self.interval_start_s + s.yellow_s
            nxt = self._first(likely, j, now)
            return GroupState(
                g, Light.YELLOW, self.interval_start_s - now, end - now, end - now, end - now,
                _rel(nxt.start_s if nxt else nan, now), _dur(nxt),
            )  # fmt: skip
        # red: it ends when the stage's next green starts
        red_start = self.red_since.get(j, math.nan)
        first_e = self._first(earliest, j, now - 1e9)
        first_l = self._first(latest, j, now - 1e9) if called else None
        first_k = self._first(likely, j, now - 1e9) if called else None
        e = first_e.start_s if first_e else nan
        lt = first_l.start_s if first_l else nan
        lk = first_k.start_s if first_k else nan
        conf = 1.0 if e == lt else 0.5
        return GroupState(
            g, Light.RED, red_start - now, _rel(e, now), _rel(lt, now), _rel(lk, now),
            _rel(lk, now), _dur(first_k), conf,
        )  # fmt: skip

    def _pedestrian(self, j: int, g: int, p: _Projection, called: bool) -> GroupState:
        earliest, latest, likely = p.earliest, p.latest, p.likely
        s = self.plan.stages[j]
        now = self.now_s
        nan = math.nan
        if j == self.stage and self.interval is Interval.GREEN and self.walk:
            start = self.walk_start_s
            walk_end = start + s.walk_s
            flash_end = walk_end + s.ped_clearance_s
            nxt = self._first(likely, j, self.interval_start_s)
            nxt_start = _rel(nxt.start_s if nxt else nan, now)
            nxt_dur = s.walk_s + s.ped_clearance_s if nxt else nan
            if now < walk_end:
                rel = walk_end - now
                return GroupState(
                    g, Light.PROTECTED_GREEN, start - now, rel, rel, rel, nxt_start, nxt_dur
                )
            if now < flash_end:
                rel = flash_end - now
                return GroupState(
                    g, Light.FLASHING_GREEN, walk_end - now, rel, rel, rel, nxt_start, nxt_dur
                )
        red_start = self.ped_red_since.get(j, math.nan)
        if j == self.stage and self.interval is Interval.GREEN and self.walk:
            red_start = self.walk_start_s + s.walk_s + s.ped_clearance_s
        first_e = self._first(earliest, j, now - 1e9)
        first_l = next((r for r in latest if r.stage == j and r.walk and r.start_s > now), None)
        first_k = self._first(likely, j, now - 1e9) if called else None
        if first_e is not None and first_e.start_s <= now:  # walk not served this green
            first_e = self._first(earliest, j, now)
        if first_k is not None and first_k.start_s <= now:
            first_k = self._first(likely, j, now)
        e = first_e.start_s if first_e else nan
        lt = first_l.start_s if (first_l and called) else nan
        lk = first_k.start_s if first_k else nan
        dur = s.walk_s + s.ped_clearance_s
        conf = 1.0 if e == lt else 0.5
        return GroupState(
            g, Light.RED, red_start - now, _rel(e, now), _rel(lt, now), _rel(lk, now),
            _rel(lk, now), dur if first_k else nan, conf,
        )  # fmt: skip


def _rel(t: float, now: float) -> float:
    return t - now if math.isfinite(t) else math.nan


def _dur(run: _Run | None) -> float:
    if run is None or not math.isfinite(run.end_s):
        return math.nan
    return run.end_s - run.start_s

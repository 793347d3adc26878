"""The world: lane network, signal plans, vehicles and pedestrians, stepped together.

Pure simulation state, no components: ``WorldComponent`` publishes it, tests step it
directly. Collisions (oriented-box overlap; walkers do not collide with each other, they
sidestep) and red-light violations are recorded as events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from rsu_nodes.signals.plan import GroupState, Light, SignalPlan
from sim_nodes.world.lanes import LaneNetwork
from sim_nodes.world.pedestrians import Crowd, PedestrianSpec
from sim_nodes.world.vehicles import VehicleFleet, VehicleSpec

MOVING_MPS, STOPPED_MPS = 2.0, 0.3  # a stop: below 0.3 m/s after having driven above 2 m/s


@dataclass(frozen=True)
class WorldEvent:
    t_s: float
    kind: str  # 'collision' | 'red_light_violation'
    actors: tuple[str, ...]
    detail: str = ''


@dataclass
class Snapshot:
    """Every active actor at one instant (arrays of equal length)."""

    names: list[str]
    ids: np.ndarray
    klass: np.ndarray
    xyz: np.ndarray  # (M, 3) box centre
    yaw: np.ndarray
    vel: np.ndarray  # (M, 2)
    size: np.ndarray  # (M, 3) length, width, height
    is_vehicle: np.ndarray

    @cached_property
    def rows(self) -> list[tuple[Any, ...]]:
        """Each actor as Python values: (name, id, class, [x, y, z], yaw, [vx, vy], [length,
        width, height]). The ground truth and the actor markers of a step both walk them."""
        return list(
            zip(
                self.names,
                self.ids.tolist(),
                self.klass.tolist(),
                self.xyz.tolist(),
                self.yaw.tolist(),
                self.vel.tolist(),
                self.size.tolist(),
                strict=True,
            )
        )


@dataclass
class World:
    network: LaneNetwork
    plans: Mapping[int, SignalPlan]
    vehicle_specs: Sequence[VehicleSpec]
    pedestrian_specs: Sequence[PedestrianSpec]
    t_s: float = 0.0
    events: list[WorldEvent] = field(default_factory=list)
    stops: list[tuple[float, str]] = field(default_factory=list)  # (t, vehicle): a mover halts

    def __post_init__(self) -> None:
        self.signal_keys = signal_keys(self.network)
        self._key_list = list(self.signal_keys)
        self.fleet = VehicleFleet(self.network, self.vehicle_specs, self.signal_keys)
        self._moving = np.zeros(self.fleet.n, dtype=bool)  # above MOVING_MPS since last stop
        self.crowd = Crowd(self.pedestrian_specs)
        self._collided: set[tuple[int, int]] = set()
        self._steps = 0
        self._snapshot: tuple[int, Snapshot] | None = None
        self._states: tuple[float, dict[int, dict[int, GroupState]]] | None = None
        self.names = [s.name for s in self.vehicle_specs] + [s.name for s in self.pedestrian_specs]
        self.lights = self._lights_now()
        self.fleet.spawn(self.t_s)
        self.crowd.step(self.t_s, 1e-9, self.lights)

    def signal_states(self) -> dict[int, dict[int, GroupState]]:
        """Every plan's group states now (worked out once per instant: the step reads its
        lights from them and the world component publishes them)."""
        cached = self._states
        if cached is not None and cached[0] == self.t_s:
            return cached[1]
        states = {iid: plan.state(self.t_s) for iid, plan in self.plans.items()}
        self._states = (self.t_s, states)
        return states

    def _lights_now(self) -> np.ndarray:
        """The Light code of every signal key now (key 0: no signal, always green; a group no
        plan has: UNAVAILABLE), from the signal states of the instant."""
        states = self.signal_states()
        out = np.full(len(self._key_list), int(Light.UNAVAILABLE), dtype=np.int64)
        out[0] = int(Light.PROTECTED_GREEN)
        for i, (iid, group) in enumerate(self._key_list[1:], start=1):
            state = states.get(iid, {}).get(group)
            if state is not None:
                out[i] = int(state.light)
        return out

    def step(self, dt: float) -> None:
        self.t_s += dt
        self._steps += 1
        self.lights = self._lights_now()
        self.fleet.spawn(self.t_s)
        self.crowd.step(self.t_s, dt, self.lights)
        crowd = self.crowd
        for i, lane in self.fleet.step(self.t_s, dt, self.lights, crowd.obstacles(),
                                       crowd.crossings()):  # fmt: skip
            spec = self.vehicle_specs[i]
            self.events.append(
                WorldEvent(self.t_s, 'red_light_violation', (spec.name,), spec.route[lane])
            )
        self._stops()
        self._collisions()

    def _stops(self) -> None:
        f = self.fleet
        self._moving |= f.active & (f.v > MOVING_MPS)
        halted = np.flatnonzero(self._moving & f.active & (f.v < STOPPED_MPS))
        self._moving[halted] = False
        for i in halted:
            self.stops.append((self.t_s, self.vehicle_specs[i].name))

    def snapshot(self) -> Snapshot:
        """Every active actor now (cached until the next step)."""
        cached = self._snapshot
        if cached is not None and cached[0] == self._steps:
            return cached[1]
        snap = self._take_snapshot()
        self._snapshot = (self._steps, snap)
        return snap

    def _take_snapshot(self) -> Snapshot:
        f, c = self.fleet, self.crowd
        va, pa = np.flatnonzero(f.active), np.flatnonzero(c.active)
        vx, vy = f.velocity()
        names = [self.names[i] for i in va] + [self.names[f.n + i] for i in pa]
        zeros = np.zeros(pa.size)
        return Snapshot(
            names=names,
            ids=np.concatenate([va + 1, f.n + pa + 1]).astype(np.uint32),
            klass=np.concatenate([f.klass[va], c.klass[pa]]),
            xyz=np.column_stack(
                [
                    np.concatenate([f.x[va], c.x[pa]]),
                    np.concatenate([f.y[va], c.y[pa]]),
                    np.concatenate([f.height[va], c.height[pa]]) / 2,
                ]
            ),
            yaw=np.concatenate([f.yaw[va], c.yaw[pa]]),
            vel=np.column_stack(
                [
                    np.concatenate([vx[va], c.v[pa] * np.cos(c.yaw[pa]) + zeros]),
                    np.concatenate([vy[va], c.v[pa] * np.sin(c.yaw[pa])]),
                ]
            ),
            size=np.column_stack(
                [
                    np.concatenate([f.length[va], c.length[pa]]),
                    np.concatenate([f.width[va], c.width[pa]]),
                    np.concatenate([f.height[va], c.height[pa]]),
                ]
            ),
            is_vehicle=np.concatenate([np.ones(va.size, bool), np.zeros(pa.size, bool)]),
        )

    def _collisions(self) -> None:
        snap = self.snapshot()
        m = len(snap.names)
        if m < 2:
            return
        xy = snap.xyz[:, :2]
        radius = 0.5 * np.hypot(snap.size[:, 0], snap.size[:, 1])
        delta = xy[:, None] - xy[None]
        d = np.sqrt((delta * delta).sum(-1))  # np.linalg.norm(delta, axis=-1), as it does it
        vehicle = snap.is_vehicle
        any_vehicle = vehicle[:, None] | vehicle[None, :]  # walkers sidestep each other
        close = np.argwhere((d < radius[:, None] + radius[None]) & any_vehicle)
        close = close[close[:, 0] < close[:, 1]]  # each pair once, in the same (row) order
        for a, b in close:
            ids = (int(snap.ids[a]), int(snap.ids[b]))
            if ids in self._collided:
                continue
            if boxes_overlap(
                xy[a], snap.yaw[a], snap.size[a, :2], xy[b], snap.yaw[b], snap.size[b, :2]
            ):
                self._collided.add(ids)
                self.events.append(
                    WorldEvent(self.t_s, 'collision', (snap.names[a], snap.names[b]))
                )
                for idx in ids:
                    if idx <= self.fleet.n:
                        self.fleet.crashed[idx - 1] = True
                    else:
                        self.crowd.crashed[idx - 1 - self.fleet.n] = True

    def count(self, kind: str) -> int:
        return sum(1 for e in self.events if e.kind == kind)


def signal_keys(network: LaneNetwork) -> dict[tuple[int, int], int]:
    """(intersection, group) → index in the light array; index 0 means unsignalised."""
    keys: dict[tuple[int, int], int] = {(-1, 0): 0}
    pairs = {(lane.intersection_id, lane.signal_group) for lane in network.lanes.values()}
    pairs |= {(cw.intersection_id, cw.signal_group) for cw in network.crosswalks.values()}
    for pair in sorted(p for p in pairs if p[1] > 0):
        keys[pair] = len(keys)
    return keys


def boxes_overlap(  # noqa: PLR0917 (two boxes, three values each)
    c1: np.ndarray, yaw1: float, size1: np.ndarray, c2: np.ndarray, yaw2: float, size2: np.ndarray
) -> bool:
    """Separating-axis test of two oriented rectangles (centre, yaw, length×width)."""

    def corners(c: np.ndarray, yaw: float, size: np.ndarray) -> np.ndarray:
        ax = np.array([np.cos(yaw), np.sin(yaw)]) * size[0] / 2
        ay = np.array([-np.sin(yaw), np.cos(yaw)]) * size[1] / 2
        return np.array([c + ax + ay, c + ax - ay, c - ax - ay, c - ax + ay])

    p, q = corners(c1, yaw1, size1), corners(c2, yaw2, size2)
    for yaw in (yaw1, yaw2):
        for axis in (np.array([np.cos(yaw), np.sin(yaw)]), np.array([-np.sin(yaw), np.cos(yaw)])):
            a, b = p @ axis, q @ axis
            if a.max() < b.min() or b.max() < a.min():
                return False
    return True

"""A scripted world for the application tests: ego and targets on known trajectories.

Movers follow polylines (lane centre lines of the example maps) with a speed profile
(constant speed, then optional braking); the world pre-schedules, on the embedded runtime's
simulated clock, what the car's inputs would be: odometry and vehicle status at 10 Hz
(through the real map matcher for the lane position), one ParticipantArray per BSM for
remote vehicles, RSM-like arrays for roadside participants, SPAT and RSI. Packet loss and
position noise are drawn from a seeded generator. Ground truth (collision time) comes from
the movers directly, independently of the applications' prediction code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.hdmap import load_map
from vehicle_nodes.hdmap.node import MapMatcher

ROOT = Path(__file__).resolve().parents[2]
INTERSECTION = ROOT / 'config' / 'maps' / 'intersection.osm'
ROAD = ROOT / 'config' / 'maps' / 'road_segment.osm'
NS = '/car'
START_NS = 100_000_000_000
CLASS_CAR, CLASS_PEDESTRIAN, CLASS_EMERGENCY = 1, 5, 7
TRUST_VERIFIED, TRUST_UNVERIFIED, TRUST_MISBEHAVING = 1, 2, 3


def lane_path(map_path: Path, keys: list[int]) -> np.ndarray:
    """Centre line through the lanelets ``keys`` of a map (one polyline)."""
    hd = load_map(map_path)
    parts = [hd.lanelets[keys[0]].centre_xy] + [hd.lanelets[k].centre_xy[1:] for k in keys[1:]]
    return np.concatenate(parts)


def line(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y1]], dtype=float)


@dataclass
class Mover:
    """Moves along ``path`` from arc ``start_m``: speed, optional accel and braking phase."""

    path: np.ndarray
    speed_mps: float
    start_m: float = 0.0
    accel_mps2: float = 0.0
    brake_at_s: float = math.inf
    brake_mps2: float = 0.0
    heading_offset: Callable[[float], float] | None = None  # body yaw - course (skids)

    def __post_init__(self) -> None:
        seg = np.diff(self.path, axis=0)
        self._s = np.concatenate(([0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))))

    def kinematics(self, t: float) -> tuple[float, float, float]:
        """(distance travelled, speed, acceleration) at ``t``."""

        def phase(v0: float, a: float, dt: float) -> tuple[float, float]:
            if a < 0 and v0 + a * dt < 0:
                return v0 * v0 / (-2 * a), 0.0
            return v0 * dt + 0.5 * a * dt * dt, max(v0 + a * dt, 0.0)

        if t <= self.brake_at_s:
            s, v = phase(self.speed_mps, self.accel_mps2, t)
            return s, v, self.accel_mps2 if v > 0 else 0.0
        s1, v1 = phase(self.speed_mps, self.accel_mps2, self.brake_at_s)
        s2, v2 = phase(v1, self.brake_mps2, t - self.brake_at_s)
        return s1 + s2, v2, self.brake_mps2 if v2 > 0 else 0.0

    def state(self, t: float) -> tuple[float, float, float, float, float]:
        """(x, y, course, speed, accel) at ``t``; beyond the path's end it goes straight."""
        s, v, a = self.kinematics(t)
        s += self.start_m
        i = int(np.clip(np.searchsorted(self._s, s, side='right') - 1, 0, len(self._s) - 2))
        d = self.path[i + 1] - self.path[i]
        seg_len = float(np.hypot(*d))
        u = (s - self._s[i]) / seg_len
        x, y = self.path[i] + u * d
        return float(x), float(y), math.atan2(d[1], d[0]), v, a

    def heading(self, t: float) -> float:
        course = self.state(t)[2]
        return course + (self.heading_offset(t) if self.heading_offset else 0.0)


@dataclass
class Actor:
    id: int
    mover: Mover
    cls: int = CLASS_CAR
    length_m: float = 4.5
    width_m: float = 1.8
    trust: int = TRUST_VERIFIED
    roadside: bool = False  # RSM participant instead of BSM sender
    latency_s: float = 0.05
    until_s: float = math.inf  # stops sending after this


@dataclass
class Ego:
    mover: Mover
    lights: Callable[[float], int] = lambda t: 0
    length_m: float = 4.6
    width_m: float = 1.85


def _box_overlap(a: tuple[float, float, float, float, float],
                 b: tuple[float, float, float, float, float]) -> bool:  # fmt: skip
    """Separating-axis test of two oriented boxes (x, y, yaw, length, width)."""
    corners = []
    for x, y, yaw, length, width in (a, b):
        c, s = math.cos(yaw), math.sin(yaw)
        pts = [(x + c * dl - s * dw, y + s * dl + c * dw)
               for dl in (-length / 2, length / 2) for dw in (-width / 2, width / 2)]  # fmt: skip
        corners.append((np.array(pts), yaw))
    for _, yaw in corners:
        for axis in (np.array([math.cos(yaw), math.sin(yaw)]),
                     np.array([-math.sin(yaw), math.cos(yaw)])):  # fmt: skip
            pa = corners[0][0] @ axis
            pb = corners[1][0] @ axis
            if pa.max() < pb.min() or pb.max() < pa.min():
                return False
    return True


def conflict_time(ego: Ego, actor: Actor, horizon_s: float, step_s: float = 0.01) -> float:
    """Ground truth: first time the two bodies overlap (inf when they never do)."""
    for t in np.arange(0.0, horizon_s, step_s):
        ex, ey, ec, _, _ = ego.mover.state(t)
        ax, ay, _, _, _ = actor.mover.state(t)
        if _box_overlap(
            (ex, ey, ec, ego.length_m, ego.width_m),
            (ax, ay, actor.mover.heading(t), actor.length_m, actor.width_m),
        ):
            return float(t)
    return math.inf


@dataclass
class World:
    ego: Ego
    actors: list[Actor] = field(default_factory=list)
    spat: Callable[[float], Any] | None = None  # t → IntersectionState (or None)
    events: list[Any] = field(default_factory=list)  # RoadEvents sent at 1 Hz
    loss: float = 0.0
    noise_m: float = 0.0
    seed: int = 0
    rate_hz: float = 10.0


@dataclass
class Run:
    runtime: EmbeddedRuntime
    warnings: list[Any]
    advice: list[Any]
    commands: list[Any]

    def first(self, app: str, min_level: int = 1) -> float:
        """Time (s from start) of the first raised warning of ``app``; inf when none."""
        times = [(m.to_ns(w.header.stamp) - START_NS) * 1e-9 for w in self.warnings
                 if w.application == app and w.level >= min_level]  # fmt: skip
        return min(times) if times else math.inf

    def raised(self, app: str) -> list[Any]:
        return [w for w in self.warnings if w.application == app and w.level > 0]

    def episodes(self, app: str) -> dict[str, int]:
        """Raise episodes per target (a clear ends one); a flicker shows as several."""
        out: dict[str, int] = {}
        active: set[str] = set()
        for w in self.warnings:
            if w.application != app:
                continue
            if w.level > 0 and w.target_id not in active:
                active.add(w.target_id)
                out[w.target_id] = out.get(w.target_id, 0) + 1
            elif w.level == 0:
                active.discard(w.target_id)
        return out

    def counter(self, component: str, key: str) -> int:
        ctx = next(c for c in self.runtime.contexts if c.name == component)
        return int(ctx.diagnostics.counters.get(key, 0))


def odometry(t_ns: int, x: float, y: float, yaw: float, speed: float) -> Any:
    cov = np.zeros(36)
    cov[0] = cov[7] = 0.01
    cov[35] = 0.001
    q = m.new('geometry_msgs/msg/Quaternion', z=math.sin(yaw / 2), w=math.cos(yaw / 2))
    pose = m.new('geometry_msgs/msg/Pose', position=m.new('geometry_msgs/msg/Point', x=x, y=y),
                 orientation=q)  # fmt: skip
    twist = m.new('geometry_msgs/msg/Twist', linear=m.new('geometry_msgs/msg/Vector3', x=speed))
    return m.new('nav_msgs/msg/Odometry', header=m.header(t_ns, 'map'), child_frame_id='base_link',
                 pose=m.new('geometry_msgs/msg/PoseWithCovariance', pose=pose, covariance=cov),
                 twist=m.new('geometry_msgs/msg/TwistWithCovariance', twist=twist))  # fmt: skip


def participant(t_ns: int, a: Actor, state: tuple[float, ...], heading: float, x: float,
                y: float) -> Any:  # fmt: skip
    _, _, course, v, _ = state
    vel = m.new('geometry_msgs/msg/Vector3', x=v * math.cos(course), y=v * math.sin(course))
    return m.new(
        'v2x_stack/msg/Participant', header=m.header(t_ns, 'map'), id=a.id,
        participant_class=a.cls, source=2 if not a.roadside else 6,
        source_id='' if a.roadside else f'{a.id:08x}', trust=a.trust,
        position=m.new('geometry_msgs/msg/Point', x=x, y=y), heading_rad=heading, velocity=vel,
        size=m.new('geometry_msgs/msg/Vector3', x=a.length_m, y=a.width_m, z=1.5),
        latitude_deg=math.nan, longitude_deg=math.nan, altitude_m=math.nan,
    )  # fmt: skip


def run(world: World, components: list[tuple[type, dict[str, Any]]], duration_s: float,
        *, map_path: Path | None) -> Run:  # fmt: skip
    """Build the runtime (map matcher + the components under /car), schedule the inputs,
    run ``duration_s`` and return what the components published."""
    rt = EmbeddedRuntime(seed=world.seed, start_ns=START_NS)
    if map_path is not None:
        rt.add_component(MapMatcher, name='map_matcher', namespace=NS,
                         parameters={'map_file': str(map_path)})  # fmt: skip
    for i, (cls, params) in enumerate(components):
        p = dict(params)
        if map_path is not None:
            p.setdefault('map_file', str(map_path))
        rt.add_component(cls, name=f'app{i}', namespace=NS, parameters=p)
    out = Run(rt, [], [], [])
    rt.subscribe(f'{NS}/v2x/warnings', 'v2x_stack/msg/Warning', out.warnings.append)
    rt.subscribe(f'{NS}/v2x/speed_advice', 'v2x_stack/msg/SpeedAdvice', out.advice.append)
    rt.subscribe(f'{NS}/control/command', 'v2x_stack/msg/ControlCommand', out.commands.append)
    schedule(rt, world, duration_s)
    rt.run(duration_s=duration_s)
    return out


def schedule(rt: EmbeddedRuntime, world: World, duration_s: float) -> None:
    rng = np.random.default_rng(world.seed)
    step = 1.0 / world.rate_hz
    for k in range(round(duration_s / step) + 1):
        t = k * step
        t_ns = START_NS + round(t * 1e9)
        ex, ey, ec, ev, ea = world.ego.mover.state(t)
        nx, ny = rng.normal(0.0, world.noise_m, 2) if world.noise_m else (0.0, 0.0)
        rt.publish(f'{NS}/localization/odometry', odometry(t_ns, ex + nx, ey + ny, ec, ev),
                   at_ns=t_ns)  # fmt: skip
        status = m.new('v2x_stack/msg/VehicleStatus', header=m.header(t_ns, 'base_link'),
                       speed_mps=ev, acceleration_mps2=ea, lights=world.ego.lights(t),
                       gear=4)  # fmt: skip
        rt.publish(f'{NS}/vehicle/status', status, at_ns=t_ns)
        roadside = []
        for a in world.actors:
            if t > a.until_s:
                continue
            st = a.mover.state(t)
            nx, ny = rng.normal(0.0, world.noise_m, 2) if world.noise_m else (0.0, 0.0)
            p = participant(t_ns, a, st, a.mover.heading(t), st[0] + nx, st[1] + ny)
            if a.roadside:
                roadside.append(p)
                continue
            if world.loss and rng.random() < world.loss:
                continue
            arr = m.new('v2x_stack/msg/ParticipantArray', header=m.header(t_ns, 'map'),
                        participants=[p])  # fmt: skip
            rt.publish(f'{NS}/v2x/remote_vehicles', arr, at_ns=t_ns + round(a.latency_s * 1e9))
        if roadside and not (world.loss and rng.random() < world.loss):
            arr = m.new('v2x_stack/msg/ParticipantArray', header=m.header(t_ns, 'map'),
                        participants=roadside)  # fmt: skip
            rt.publish(f'{NS}/v2x/roadside_participants', arr, at_ns=t_ns + 50_000_000)
        if world.spat is not None:
            state = world.spat(t)
            if state is not None and not (world.loss and rng.random() < world.loss):
                rt.publish(f'{NS}/v2x/spat', state, at_ns=t_ns + 20_000_000)
        if world.events and k % int(world.rate_hz) == 0:
            arr = m.new('v2x_stack/msg/RoadEventArray', header=m.header(t_ns, 'map'),
                        source_id='rsu1', events=world.events)  # fmt: skip
            rt.publish(f'{NS}/v2x/events', arr, at_ns=t_ns + 20_000_000)


def signal(t: float, *, phase_id: int, light: int, end_s: float, next_light: int,
           intersection_id: int = 1, next_duration_s: float = 30.0) -> Any:  # fmt: skip
    """SPAT of one phase: ``light`` until ``end_s`` (from the start), then ``next_light``."""
    t_ns = START_NS + round(t * 1e9)
    if t < end_s:
        cur, end = light, end_s - t
        green_next = end if next_light in (4, 5, 6) else math.nan
    else:
        cur, end, green_next = next_light, math.nan, math.nan
    phase = m.new('v2x_stack/msg/SignalPhase', phase_id=phase_id, light=cur, start_s=0.0,
                  min_end_s=end, max_end_s=end, likely_end_s=end, confidence=1.0,
                  next_start_s=green_next, next_duration_s=next_duration_s)  # fmt: skip
    return m.new('v2x_stack/msg/IntersectionState', header=m.header(t_ns, 'map'),
                 intersection_id=intersection_id, phases=[phase])  # fmt: skip


def road_event(event_id: int, x: float, y: float, *, radius_m: float = 20.0, event_type: int = 0,
               sign_type: int = 0, description: str = '') -> Any:  # fmt: skip
    return m.new('v2x_stack/msg/RoadEvent', header=m.header(START_NS, 'map'), id=event_id,
                 event_type=event_type, sign_type=sign_type,
                 position=m.new('geometry_msgs/msg/Point', x=x, y=y), radius_m=radius_m,
                 latitude_deg=math.nan, longitude_deg=math.nan, altitude_m=math.nan,
                 description=description)  # fmt: skip

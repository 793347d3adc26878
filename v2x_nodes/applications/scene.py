"""One evaluation cycle's picture: ego state, targets classified on the map, ego prediction.

``World`` collects the latest inputs (the component's subscriptions feed it); ``World.scene``
turns them into a ``Scene`` that every application of the cycle reads, so the shared work
(map lookup of all targets, classification, ego path and prediction) is done once.

Relations (``Rel``), from lanelet ids where the map knows both lanes, else from geometry:
SAME lane (ahead when ``lon > 0``), LEFT / RIGHT adjacent same-direction lane, ONCOMING
(course differs by more than 135°), CROSSING (45°..135°), OTHER.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np

from v2x_nodes.applications.kinematics import EgoTrack, FloatArray, ego_along_path, member, wrap
from v2x_nodes.applications.lanes import (
    SIDE_LEFT,
    SIDE_NONE,
    SIDE_RIGHT,
    SIDE_SAME,
    LaneIndex,
    unit_step,
)
from v2x_nodes.applications.same_vehicle import SameVehicleGate, match_same_vehicle
from v2x_nodes.applications.targets import (
    VRU_CLASSES,
    Counter,
    FilterConfig,
    Origin,
    Targets,
    TargetTable,
    extrapolate,
)
from v2x_runtime import messages as m

LIGHT_LEFT_TURN = 1
LIGHT_RIGHT_TURN = 2
SAME_DIRECTION_RAD = math.radians(45.0)
ONCOMING_RAD = math.radians(135.0)
# A roadside vehicle whose centre lies this close to ours is us as the RSU sees us (RSM
# carries every participant, the receiver included; its box heading may be off by 90° in a
# turn): another vehicle there would overlap our body.
SELF_LON_M = 4.0
SELF_LAT_M = 1.5
# Or one moving with our velocity whose centre is nearer than a lane width to ours: in and
# after a turn our own position estimate lags by 2-3 m (RSM reports where we really are),
# outside the box above, but another vehicle that close would be beside us in our lane.
SELF_NEAR_M = 3.0
SELF_DV_MPS = 2.0


class Rel(IntEnum):
    OTHER = 0
    SAME = 1
    LEFT = 2
    RIGHT = 3
    ONCOMING = 4
    CROSSING = 5


_REL_OF_SIDE = np.zeros(4, dtype=np.int64)
_REL_OF_SIDE[[SIDE_SAME, SIDE_LEFT, SIDE_RIGHT]] = Rel.SAME, Rel.LEFT, Rel.RIGHT


@dataclass
class Ego:
    """The own vehicle (odometry + vehicle status + lane position), REP 103."""

    x: float = math.nan
    y: float = math.nan
    yaw: float = 0.0
    speed: float = 0.0
    accel: float = 0.0
    yaw_rate: float = 0.0
    length: float = 4.6
    width: float = 1.85
    stamp_ns: int = 0
    lights: int = 0
    brake: bool = False
    lane_id: int = -1
    lane_s: float = math.nan
    lane_heading: float = math.nan
    lane_width: float = 3.5
    speed_limit: float = math.nan
    stop_line_m: float = math.inf
    signal_group: int = 0
    intersection_id: int = -1
    indicator_yaw: float = math.nan  # own yaw when the indicator last came on (NaN: off)

    @property
    def turn(self) -> str:
        if self.lights & LIGHT_LEFT_TURN and not self.lights & LIGHT_RIGHT_TURN:
            return 'left'
        if self.lights & LIGHT_RIGHT_TURN and not self.lights & LIGHT_LEFT_TURN:
            return 'right'
        return ''


@dataclass(frozen=True)
class Scene:
    now_ns: int
    ego: Ego
    heading: float  # reference direction of the ego lane (or yaw)
    targets: Targets
    x: FloatArray  # target positions extrapolated to now
    y: FloatArray
    lon: FloatArray  # in the ego lane frame, m
    lat: FloatArray
    distance: FloatArray  # from the ego position, m
    dpsi: FloatArray  # target course - ego heading, wrapped
    rel: np.ndarray  # Rel per target
    lane_key: np.ndarray  # lanelet key per target (0: off the lanes or no map)
    eligible: np.ndarray  # usable for triggering (trust, repetition, on the map)
    path_xy: FloatArray
    track: EgoTrack
    path_keys: list[int]
    path_turn: str  # turn of the first turning lanelet on the path ahead ('' if none)
    spat: list[tuple[int, Any]] = field(default_factory=list)  # (receive ns, IntersectionState)
    events: list[tuple[int, Any]] = field(default_factory=list)  # (receive ns, RoadEvent)
    lanes: LaneIndex | None = None
    cache: dict[Any, Any] = field(default_factory=dict, compare=False)  # shared per-cycle work


@dataclass(frozen=True)
class Prediction:
    horizon_s: float = 6.0
    step_s: float = 0.1
    min_path_m: float = 60.0


FEW_TARGETS = 96  # up to this many (a car's cycle, dense traffic too): relations in floats


def relations(
    adpsi: FloatArray, lat: FloatArray, half: float, key: np.ndarray, side: np.ndarray | None
) -> np.ndarray:
    """``Rel`` per target from |course - heading|, lateral offset, lane half width and, where
    the map knows the target's lane (``side``: SIDE_* of its lanelet key), the lane relation."""
    rel = np.zeros(len(adpsi), dtype=np.int64)  # Rel.OTHER
    same_dir = adpsi < SAME_DIRECTION_RAD
    geo_same = same_dir & (np.abs(lat) < half)
    rel[same_dir & (lat >= half) & (lat < 3 * half)] = Rel.LEFT
    rel[same_dir & (lat <= -half) & (lat > -3 * half)] = Rel.RIGHT
    rel[geo_same] = Rel.SAME
    rel[adpsi > ONCOMING_RAD] = Rel.ONCOMING
    rel[(adpsi >= SAME_DIRECTION_RAD) & (adpsi <= ONCOMING_RAD)] = Rel.CROSSING
    if side is not None:
        known = same_dir & (key != 0)
        rel = np.where(known, np.where(side == SIDE_NONE, rel, _REL_OF_SIDE[side]), rel)
        # On a known lane that is none of these: not beside us after all.
        rel[known & (side == SIDE_NONE) & (np.abs(lat) > half)] = Rel.OTHER
    return rel


_OTHER, _SAME, _LEFT, _RIGHT = int(Rel.OTHER), int(Rel.SAME), int(Rel.LEFT), int(Rel.RIGHT)
_ONCOMING, _CROSSING = int(Rel.ONCOMING), int(Rel.CROSSING)
_ROADSIDE = int(Origin.ROADSIDE)  # (an enum member in an array comparison costs a look-up)
_REMOTE = int(Origin.REMOTE_VEHICLE)
_REL_OF_SIDE_LIST = [int(r) for r in _REL_OF_SIDE]


def relations_few(
    adpsi: list[float], lat: list[float], half: float, key: list[int] | None,
    side: list[int] | None,
) -> list[int]:  # fmt: skip
    """``relations`` target by target in floats: the same comparisons of the same numbers
    (NaN fails every one of them, as in the array version), without some twenty numpy calls
    on arrays of a handful of elements."""
    out = []
    for i, a in enumerate(adpsi):
        la = lat[i]
        if a > ONCOMING_RAD:
            r = _ONCOMING
        elif a >= SAME_DIRECTION_RAD:  # and <= ONCOMING_RAD
            r = _CROSSING
        elif a < SAME_DIRECTION_RAD:
            if abs(la) < half:
                r = _SAME
            elif la >= half and la < 3 * half:
                r = _LEFT
            elif la <= -half and la > -3 * half:
                r = _RIGHT
            else:
                r = _OTHER
            if side is not None and key is not None and key[i] != 0:
                if side[i] != SIDE_NONE:
                    r = _REL_OF_SIDE_LIST[side[i]]
                elif abs(la) > half:
                    r = _OTHER
        else:  # NaN
            r = _OTHER
        out.append(r)
    return out


class World:
    """The latest inputs of the applications."""

    def __init__(
        self, lanes: LaneIndex | None, filters: FilterConfig, prediction: Prediction,
        same_vehicle: SameVehicleGate | None = None,
    ) -> None:  # fmt: skip
        self.lanes = lanes
        self.same_vehicle = same_vehicle or SameVehicleGate()
        self.table = TargetTable(filters)
        self.prediction = prediction
        self.ego = Ego()
        self.status_ns = 0
        self.spat: dict[tuple[int, int], tuple[int, Any]] = {}
        self.events: dict[str, tuple[int, Any]] = {}
        self.t = np.arange(prediction.step_s, prediction.horizon_s + 1e-9, prediction.step_s)

    # --- inputs -------------------------------------------------------------------
    def on_odometry(self, msg: Any) -> bool:
        p = msg.pose.pose
        q = p.orientation
        yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
        v = msg.twist.twist.linear
        if not all(math.isfinite(a) for a in (p.position.x, p.position.y, yaw, v.x, v.y)):
            return False
        e = self.ego
        e.x, e.y, e.yaw = p.position.x, p.position.y, yaw
        e.speed = math.hypot(v.x, v.y)
        e.stamp_ns = m.to_ns(msg.header.stamp)
        return True

    def on_status(self, msg: Any) -> bool:
        if not math.isfinite(msg.acceleration_mps2):
            return False
        e = self.ego
        e.accel = float(msg.acceleration_mps2)
        e.yaw_rate = float(msg.yaw_rate_radps) if math.isfinite(msg.yaw_rate_radps) else 0.0
        turn = e.turn
        e.lights = int(msg.lights)
        if e.turn != turn:  # switched on, off or over: where the car was heading then
            e.indicator_yaw = e.yaw if e.turn and e.stamp_ns else math.nan
        e.brake = bool(msg.brake_applied)
        self.status_ns = m.to_ns(msg.header.stamp)
        return True

    def on_lane(self, msg: Any) -> None:
        e = self.ego
        e.lane_id = int(msg.lanelet_id)
        e.lane_s = float(msg.arc_length_m)
        e.lane_heading = float(msg.lane_heading_rad)
        e.lane_width = float(msg.lane_width_m) if msg.lane_width_m > 0 else 3.5
        e.speed_limit = float(msg.speed_limit_mps)
        e.stop_line_m = float(msg.stop_line_distance_m)
        e.signal_group = int(msg.signal_group)
        e.intersection_id = int(msg.intersection_id)

    def on_participants(self, msg: Any, origin: Origin, diag: Counter) -> None:
        self.table.ingest(msg, origin, diag)

    def on_spat(self, msg: Any, now_ns: int) -> None:
        self.spat[(int(msg.region), int(msg.intersection_id))] = (now_ns, msg)

    def on_events(self, msg: Any, now_ns: int) -> None:
        for ev in msg.events:
            self.events[f'{msg.source_id}:{ev.id}'] = (now_ns, ev)

    # --- one cycle ----------------------------------------------------------------
    def ego_path(self) -> tuple[FloatArray, list[int], float]:
        """Path ahead of the ego vehicle, its lanelet keys, and the lane heading."""
        e = self.ego
        length = max(self.prediction.min_path_m, e.speed * self.prediction.horizon_s + 20.0)
        key = 0
        if self.lanes is not None and e.lane_id >= 0:
            key = self.lanes.key_of(e.lane_id, e.lane_heading)
        if key:
            s = self.lanes.project(key, e.x, e.y) if self.lanes else 0.0
            keys = self.lanes.path_keys(key, s, length, e.turn)
            lane, d = self.lanes.lane_part(keys, s)  # (the samples and their last step's
            heading = e.lane_heading if math.isfinite(e.lane_heading) else e.yaw  # direction)
            start = np.array([[e.x, e.y]])
            last = lane[-1] if len(lane) else start[0]
            if len(lane) == 1:  # the last step is the one from us
                d = unit_step(start[0], last)
            if d is None:
                d = np.array([math.cos(heading), math.sin(heading)])
            # straight on beyond
            path = np.concatenate((start, lane, (last + d * length)[None]))
            return path, keys, heading
        ahead = np.array(
            [[e.x, e.y], [e.x + length * math.cos(e.yaw), e.y + length * math.sin(e.yaw)]]
        )
        return ahead, [], e.yaw

    def path_turn(self, keys: list[int], within_m: float = 80.0) -> str:
        """Turn direction of the first turning lanelet on the path within ``within_m``."""
        if self.lanes is None:
            return ''
        covered = 0.0
        for k in keys:
            ll = self.lanes.map.lanelets[k]
            if ll.turn_direction in ('left', 'right'):
                return ll.turn_direction
            covered += self.lanes.length[k]
            if covered > within_m:
                break
        return ''

    def _drop_roadside_bsm_senders(
        self, t: Targets, x: FloatArray, y: FloatArray, *, roadside: np.ndarray,
        eligible: np.ndarray, diag: Counter,
    ) -> None:  # fmt: skip
        """Roadside vehicles that are a BSM sender of this cycle (``same_vehicle``) are no
        targets of their own: the sender's target stands for both (``eligible`` updated)."""
        bsm = (eligible & (t.origin == _REMOTE)).nonzero()[0]
        if not len(bsm):
            return
        pairs = match_same_vehicle(
            x, y, t.speed, t.course, t.pos_var, t.speed_var, t.age_s, t.cls, bsm,
            (eligible & roadside).nonzero()[0], self.same_vehicle,
        )  # fmt: skip
        if pairs:
            diag.count('roadside_same_as_bsm', len(pairs))
            eligible[[r for _, r in pairs]] = False

    def scene(self, now_ns: int, diag: Counter) -> Scene:
        e = self.ego
        t = self.table.snapshot(now_ns, diag)
        x, y = extrapolate(t)
        path, keys, heading = self.ego_path()
        dx, dy = x - e.x, y - e.y
        ch, sh = math.cos(heading), math.sin(heading)
        lon = dx * ch + dy * sh
        lat = -dx * sh + dy * ch
        dpsi = wrap(t.course - heading)
        adpsi = np.abs(dpsi)
        half = 0.5 * e.lane_width
        vru = member(t.cls, VRU_CLASSES)
        eligible = t.usable.copy()
        roadside = (t.origin == _ROADSIDE) & ~vru
        if np.count_nonzero(roadside):  # else nothing can be ourselves: skip the velocities
            age = max(now_ns - e.stamp_ns, 0) * 1e-9  # our position moved on since the odometry
            vex, vey = e.speed * math.cos(e.yaw), e.speed * math.sin(e.yaw)
            near = np.hypot(x - e.x - vex * age, y - e.y - vey * age) < SELF_NEAR_M
            same_v = np.hypot(t.speed * np.cos(t.course) - vex, t.speed * np.sin(t.course) - vey)
            itself = roadside & (
                ((np.abs(lon) < SELF_LON_M) & (np.abs(lat) < SELF_LAT_M))
                | (near & (same_v < SELF_DV_MPS))
            )
            n_self = int(np.count_nonzero(itself))
            if n_self:
                diag.count('self_in_roadside', n_self)
                eligible &= ~itself
        key = np.zeros(len(t), dtype=np.int64)
        side = None
        cache: dict[Any, Any] = {}
        if self.lanes is not None and len(t):
            key, _, *near = self.lanes.match_near(x, y, t.course, ~vru)
            cache['lane_near'] = near  # the stop lines' nearest samples start from these
            off = (key == 0) & ~vru
            n_off = int(np.count_nonzero(off))
            if n_off:
                diag.count('off_map_targets', n_off)
                eligible &= ~off
            if keys:
                side = self.lanes.lane_sets(keys).side_of(key)
        if np.count_nonzero(roadside):
            self._drop_roadside_bsm_senders(
                t, x, y, roadside=roadside, eligible=eligible, diag=diag
            )
        if len(t) <= FEW_TARGETS:
            rel = np.array(
                relations_few(
                    adpsi.tolist(), lat.tolist(), half,
                    None if side is None else key.tolist(),
                    None if side is None else side.tolist(),
                ),
                dtype=np.int64,
            )  # fmt: skip
        else:
            rel = relations(adpsi, lat, half, key, side)
        accel = min(max(e.accel, -9.0), 2.0) if now_ns - self.status_ns < 1_000_000_000 else 0.0
        # the own state is as old as its odometry: predict from then, report from now
        age_s = max(now_ns - e.stamp_ns, 0) * 1e-9
        track = ego_along_path(path, e.speed, accel, self.t + age_s, report_t_s=self.t)
        return Scene(
            now_ns=now_ns, ego=e, heading=heading, targets=t, x=x, y=y, lon=lon, lat=lat,
            distance=np.hypot(lon, lat),
            dpsi=dpsi, rel=rel, lane_key=key, eligible=eligible, path_xy=path, track=track,
            path_keys=keys,
            path_turn=self.path_turn(keys),
            spat=list(self.spat.values()), events=list(self.events.values()), lanes=self.lanes,
            cache=cache,
        )  # fmt: skip

"""Vehicles: IDM car following, stop lines, pedestrian yielding, kinematic bicycle, all batched.

Longitudinal: the Intelligent Driver Model (Treiber, Hennecke, Helbing 2000) against the
nearest obstacle ahead along the own route: a vehicle on a lane of the route, a stop line
whose light forbids entry, a pedestrian on the path. Lateral: pure pursuit on the route's
centre line driving a kinematic bicycle (rear-axle reference, wheelbase = 0.6 length).
Every quantity is a numpy array over all vehicles; one ``step`` has no per-vehicle loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rsu_nodes.signals.plan import Light
from sim_nodes.world.batch import PolylineBatch
from sim_nodes.world.lane_change import LaneChanges
from sim_nodes.world.lanes import LaneNetwork, route_path
from sim_nodes.world.manoeuvres import SKID_DECEL_MPS2, Manoeuvres
from vehicle_nodes.hdmap.geometry import segment_crossings

# the kinematic bicycle's wheelbase as a share of the length, axles symmetric about the centre
WHEELBASE_SHARE = 0.6
# green (a vehicle may pass the stop line) by Light code: one table look-up a step (np.isin
# costs ~30 us a call)
GREEN_BY_CODE = np.array([Light(code).is_green for code in range(max(Light) + 1)])
_FAR = 1.0e4


@dataclass(frozen=True)
class _Moving:
    """The vehicles on the road at the start of a step and their values that the step's rules
    share (each gathered once: ~1 us a gather, most were made three or four times)."""

    act: np.ndarray  # vehicle indices
    idx: np.ndarray  # 0..A-1
    k: np.ndarray  # route lane index
    s: np.ndarray  # arc length of the centre along the route
    length: np.ndarray
    front: np.ndarray  # s + length / 2
    v: np.ndarray
    start: np.ndarray  # (A, R+1) route lane start arc lengths
    b_comf: np.ndarray
    min_gap: np.ndarray


@dataclass(frozen=True)
class VehicleSpec:
    """One vehicle of a scenario (already validated)."""

    name: str
    route: tuple[str, ...]  # expanded lane chain
    speed_mps: float = 12.0  # desired speed
    spawn_s: float = 0.0
    start_m: float = 0.0  # arc length along the route where it appears
    connected: bool = False
    obey_signals: bool = True
    yield_to_pedestrians: bool = True
    attentive: bool = True  # false: does not react to vehicles ahead
    length_m: float = 4.6
    width_m: float = 1.9
    height_m: float = 1.5
    participant_class: int = 1  # Participant.CLASS_*
    headway_s: float = 1.4
    min_gap_m: float = 2.0
    max_accel_mps2: float = 1.8
    comfort_decel_mps2: float = 2.5
    brake_at_s: float = float('inf')  # scripted hard brake (EBW/FCW scenarios)
    brake_decel_mps2: float = 6.0
    # scripted lane changes: (time s, new lane chain from the target lane on), in time order
    lane_changes: tuple[tuple[float, tuple[str, ...]], ...] = ()
    lane_change_s: float = 3.5  # duration of the lateral move
    overtakes: tuple[tuple[float, float], ...] = ()  # (at_s, duration_s) in the lane to the left
    skid_at_s: float = float('inf')  # loses control: spins and slides to a stop
    skid_yaw_rate_radps: float = 1.2
    follow_advice: bool = False  # follows SpeedAdvice (advice_mps set by the world component)
    by_wire: bool = False  # the gated ControlCommand (command_mps2) replaces the driver


class VehicleFleet:
    """State of every vehicle of a scenario, spawned or not."""

    MAX_DECEL = 8.0
    YIELD_MAX_DECEL = 4.0  # firm: a driver brakes this hard for a walker stepping out

    def __init__(
        self,
        network: LaneNetwork,
        specs: Sequence[VehicleSpec],
        signal_keys: dict[tuple[int, int], int],
    ) -> None:
        self.specs = list(specs)
        self.network = network
        self.signal_keys = signal_keys
        n = self.n = len(specs)
        self.lane_codes = {lid: i for i, lid in enumerate(sorted(network.lanes))}
        self.route_paths = [route_path(network, s.route) for s in specs]
        self.set_routes()
        f = np.array
        self.length = f([s.length_m for s in specs], dtype=float)
        self.width = f([s.width_m for s in specs], dtype=float)
        self.height = f([s.height_m for s in specs], dtype=float)
        self.wheelbase = WHEELBASE_SHARE * self.length
        self.v0 = f([s.speed_mps for s in specs], dtype=float)
        self.headway = f([s.headway_s for s in specs], dtype=float)
        self.min_gap = f([s.min_gap_m for s in specs], dtype=float)
        self.a_max = f([s.max_accel_mps2 for s in specs], dtype=float)
        self.b_comf = f([s.comfort_decel_mps2 for s in specs], dtype=float)
        self.obey = f([s.obey_signals for s in specs], dtype=bool)
        self.yields = f([s.yield_to_pedestrians for s in specs], dtype=bool)
        self.attentive = f([s.attentive for s in specs], dtype=bool)
        self.spawn_s = f([s.spawn_s for s in specs], dtype=float)
        self.brake_at = f([s.brake_at_s for s in specs], dtype=float)
        self.brake_decel = f([s.brake_decel_mps2 for s in specs], dtype=float)
        self.klass = f([s.participant_class for s in specs], dtype=np.uint8)
        # dynamic state
        self.active = np.zeros(n, dtype=bool)
        self.done = np.zeros(n, dtype=bool)
        self.crashed = np.zeros(n, dtype=bool)
        self.s = f([s.start_m for s in specs], dtype=float) + self.length / 2
        self.x = np.zeros(n)
        self.y = np.zeros(n)
        self.yaw = np.zeros(n)
        self.v = np.zeros(n)
        self.accel = np.zeros(n)
        self.steer = np.zeros(n)
        self.yaw_rate = np.zeros(n)
        self.lane_index = np.zeros(n, dtype=np.int64)
        self.committed = np.full(n, -1, dtype=np.int64)  # route lane it decided to enter
        self._next_spawn_s = -np.inf  # no vehicle waits to enter before this time
        self.lane_changes = LaneChanges(self)
        self.manoeuvres = Manoeuvres(self)

    def set_routes(self) -> None:
        """(Re)build the batched route arrays from ``route_paths`` (at start, lane changes)."""
        paths, n = self.route_paths, self.n
        self.paths = PolylineBatch([p.points for p in paths], [p.s for p in paths])
        r = max((len(p.lane_ids) for p in paths), default=1)
        self.route_start = np.full((n, r + 1), np.inf)
        self.route_group = np.zeros((n, r), dtype=np.int64)
        self.route_limit = np.full((n, r), 50.0)
        self.route_code = np.full((n, r), -1, dtype=np.int64)
        self.route_key = np.zeros((n, r), dtype=np.int64)  # index into signal_keys
        for i, path in enumerate(paths):
            for k, lid in enumerate(path.lane_ids):
                lane = self.network.lanes[lid]
                self.route_start[i, k] = path.lane_start_s[k]
                self.route_group[i, k] = lane.signal_group
                self.route_limit[i, k] = lane.speed_limit_mps
                self.route_code[i, k] = self.lane_codes[lid]
                key = (lane.intersection_id, lane.signal_group) if lane.signal_group else (-1, 0)
                self.route_key[i, k] = self.signal_keys[key]
        self.route_length = np.array([p.length_m for p in paths]) if n else np.zeros(0)

    # --- queries ----------------------------------------------------------------------
    def current_lane_index(self) -> np.ndarray:
        return np.maximum((self.route_start <= self.s[:, None]).sum(axis=1) - 1, 0)

    def velocity(self) -> tuple[np.ndarray, np.ndarray]:
        course = self.manoeuvres.heading_of_motion(self)  # the yaw, unless skidding
        return self.v * np.cos(course), self.v * np.sin(course)

    # --- spawning ---------------------------------------------------------------------
    def spawn(self, t_s: float) -> None:
        if t_s < self._next_spawn_s:
            return  # nobody is due (the arc lengths have not changed since the last step)
        waiting = ~self.active & ~self.done
        due = np.flatnonzero(waiting & (self.spawn_s <= t_s))
        if due.size:
            self._enter(due)
        self.lane_index = self.current_lane_index()
        still = waiting & ~self.active
        self._next_spawn_s = float(self.spawn_s[still].min()) if still.any() else np.inf

    def _enter(self, due: np.ndarray) -> None:
        """Put the due vehicles on the road, in order, where their entry is clear. Blocked
        ones retry every step (dozens in a dense scenario): the entry poses and the distances
        to the vehicles already on the road are computed at once, those that enter in this
        call are added one by one (the same hypot and min as one vehicle at a time)."""
        entry, entry_heading = self.paths.at(due, self.s[due])
        on_road = np.flatnonzero(self.active)
        dist = np.hypot(
            self.x[on_road][None, :] - entry[:, 0:1], self.y[on_road][None, :] - entry[:, 1:2]
        )
        entered: list[int] = []
        for k, i in enumerate(due.tolist()):
            d = dist[k]
            if entered:
                new = np.array(entered)
                d = np.concatenate(
                    [d, np.hypot(self.x[new] - entry[k, 0], self.y[new] - entry[k, 1])]
                )
            clear = float(d.min()) - self.length[i] if d.size else _FAR
            if clear < self.min_gap[i] + 1.0:
                continue  # entry blocked: try again next step
            speed = min(self.v0[i], np.sqrt(max(0.0, 2 * self.b_comf[i] * (clear - 5.0))))
            self.active[i] = True
            self.x[i], self.y[i], self.yaw[i] = entry[k, 0], entry[k, 1], entry_heading[k]
            self.v[i] = speed
            entered.append(i)

    # --- one step ---------------------------------------------------------------------
    def step(
        self, t_s: float, dt: float, signal_lights: np.ndarray, peds: np.ndarray,
        crossings: np.ndarray | None = None,
    ) -> list[tuple[int, int]]:  # fmt: skip
        """Advance ``dt`` seconds. ``signal_lights[key]`` is the Light code of each signal key,
        ``peds`` the pedestrians as (x, y, predicted x, predicted y, radius) rows,
        ``crossings`` the walkers crossing at crosswalks (``Crowd.crossings``).

        Returns (vehicle, route lane index) for every signalised lane entered on red.
        """
        if self.lane_changes.apply(self, t_s):
            self.lane_index = self.current_lane_index()  # new routes, new arc lengths
        act = np.flatnonzero(self.active)
        if act.size == 0:
            return []
        k = self.lane_index[act]
        s = self.s[act]
        length = self.length[act]
        front = s + length / 2
        mv = _Moving(act, np.arange(act.size), k, s, length, front, self.v[act],
                     self.route_start[act], self.b_comf[act], self.min_gap[act])  # fmt: skip
        gap, lead_v = self._leaders(mv)
        passing = self.manoeuvres.overtake_share(act, np.full(act.size, t_s)) > 0.3
        gap = np.where(self.attentive[act] & ~passing, gap, _FAR)
        stop_gap = self._stop_lines(mv, signal_lights)
        use_stop = stop_gap < gap
        gap = np.where(use_stop, stop_gap, gap)
        lead_v = np.where(use_stop, 0.0, lead_v)
        if peds.size:
            ped_gap = self._pedestrians(act, front, peds)
            if crossings is not None and len(crossings):
                ped_gap = np.minimum(ped_gap, self._crosswalks(act, front, crossings))
            use_ped = ped_gap < gap
            gap = np.where(use_ped, ped_gap, gap)
            lead_v = np.where(use_ped, 0.0, lead_v)
        accel = self._idm(mv, gap, lead_v)
        braking = t_s >= self.brake_at[act]
        accel = np.where(braking, -self.brake_decel[act], accel)
        accel = self.manoeuvres.external_accel(self, act, accel)
        skid = self.manoeuvres.skid(self, act, t_s)
        accel = np.where(skid, -SKID_DECEL_MPS2, accel)
        accel = np.where(self.crashed[act], -self.MAX_DECEL, accel)
        v_old = mv.v
        v_new = np.maximum(v_old + accel * dt, 0.0)
        accel = (v_new - v_old) / dt
        v_mid = 0.5 * (v_old + v_new)
        sk = act[skid]
        before = self.x[sk], self.y[sk], self.yaw[sk]
        self._steer_and_move(act, s, v_mid, dt, t_s)
        if sk.size:
            self.manoeuvres.slide(self, sk, *before, v_mid[skid], dt)
        self.v[act], self.accel[act] = v_new, accel
        new_s = s + v_mid * dt
        self.s[act] = new_s
        k_new = np.maximum((mv.start <= new_s[:, None]).sum(axis=1) - 1, 0)
        violations = []
        entered = np.flatnonzero(k_new > k)
        for j in entered:
            i, lane = act[j], k_new[j]
            key = self.route_key[i, lane]
            if self.route_group[i, lane] and signal_lights[key] == int(Light.RED):
                violations.append((int(i), int(lane)))
        finished = act[new_s + length / 2 >= self.route_length[act]]
        self.active[finished] = False
        self.done[finished] = True
        # only the moved vehicles' arc lengths changed: their lane is k_new (the same sum as
        # current_lane_index over every vehicle)
        lane_index = self.lane_index.copy()
        lane_index[act] = k_new
        self.lane_index = lane_index
        return violations

    def _leaders(self, mv: _Moving) -> tuple[np.ndarray, np.ndarray]:
        """Bumper gap to the nearest vehicle ahead on the own route (and its speed)."""
        k = mv.k
        codes = self.route_code[mv.act]  # (A, R)
        lane_of = codes[mv.idx, k]  # (A,)
        s_lane = mv.s - mv.start[mv.idx, k]
        rear = s_lane - mv.length / 2
        r_idx = np.arange(codes.shape[1])
        match = (codes[:, None, :] == lane_of[None, :, None]) & (
            r_idx[None, None, :] >= k[:, None, None]
        )
        starts = mv.start[:, :-1]
        starts = np.where(np.isfinite(starts), starts, 0.0)
        pos = starts[:, None, :] + rear[None, :, None]  # (A, A, R): rear of j along i's route
        gap = np.where(match, pos - mv.front[:, None, None], np.inf)
        ahead_centre = np.where(match, starts[:, None, :] + s_lane[None, :, None], -np.inf)
        gap = np.where(ahead_centre > mv.s[:, None, None], gap, np.inf).min(axis=2)
        np.fill_diagonal(gap, np.inf)
        j = np.argmin(gap, axis=1)
        best = gap[mv.idx, j]
        found = np.isfinite(best)
        return np.where(found, best, _FAR), np.where(found, mv.v[j], 0.0)

    def _stop_lines(self, mv: _Moving, lights: np.ndarray) -> np.ndarray:
        act = mv.act
        groups = self.route_group[act]
        r_idx = np.arange(groups.shape[1])
        ahead = (groups > 0) & (r_idx[None, :] > mv.k[:, None])
        has = ahead.any(axis=1)
        r = np.argmax(ahead, axis=1)
        dist = np.where(has, mv.start[mv.idx, r] - mv.front, _FAR)
        light = lights[self.route_key[act, r]]
        green = GREEN_BY_CODE[light]
        v = mv.v
        comfy = dist >= v**2 / (2 * mv.b_comf) - 1.0
        possible = dist >= v**2 / (2 * self.MAX_DECEL) - 0.5
        yellow = light == int(Light.YELLOW)
        stop = has & ~green & self.obey[act] & (self.committed[act] != r)
        stop &= np.where(yellow, comfy, possible) | (v < 0.5)
        go_on = has & ~green & ~stop & (dist < 30.0)
        self.committed[act[go_on]] = r[go_on]
        # stop half a metre before the line: IDM keeps min_gap to the obstacle
        return np.where(stop, dist + mv.min_gap - 0.5, _FAR)

    def _pedestrians(self, act: np.ndarray, front: np.ndarray, peds: np.ndarray) -> np.ndarray:
        """Gap to the nearest walker on (or about to step onto) the path ahead."""
        rows = act[self.yields[act]]
        out = np.full(act.size, _FAR)
        if rows.size == 0:
            return out
        m = len(peds)
        s_proj, dist = self.paths.project(np.vstack([peds[:, 0:2], peds[:, 2:4]]), rows)  # (B, 2M)
        s_proj = np.minimum(s_proj[:, :m], s_proj[:, m:])
        reach = self.width[rows][:, None] / 2 + peds[:, 4][None, :] + 0.8
        near = (dist[:, :m] < reach) | (dist[:, m:] < reach)
        pos = np.searchsorted(act, rows)
        gap = s_proj - front[pos][:, None]
        near &= (gap > -1.0) & (gap < 40.0)
        blocked = np.where(near, np.maximum(gap, 0.0) + self.min_gap[rows][:, None] - 1.0, _FAR)
        out[pos] = blocked.min(axis=1)
        return out

    def _crosswalks(self, act: np.ndarray, front: np.ndarray, crossings: np.ndarray) -> np.ndarray:
        """Yielding at crosswalks, as an attentive driver does (and the law asks: Road Traffic
        Safety Law of the PRC art. 47): for a walker crossing whose remaining way over the
        crosswalk crosses the own path ahead, stop before the crosswalk's near edge, unless
        that needs more than ``YIELD_MAX_DECEL`` (then drive on; ``_pedestrians`` still
        brakes for a walker in the way). The gap (IDM obstacle) to that stop, else far."""
        rows = act[self.yields[act]]
        out = np.full(act.size, _FAR)
        if rows.size == 0:
            return out
        p0, ab, _, _, s0 = self.paths.segments()
        # (B, K-1, 1, 2): path segments against walkers' ways (W)
        p0, ab, s0 = p0[rows], ab[rows], s0[rows]
        a = crossings[None, None, :, 0:2]  # (1, 1, W, 2)
        hit, t, sin, seg_len = segment_crossings(p0, ab, a, crossings[None, None, :, 2:4] - a)
        s_cross = s0 + np.where(hit, t, 0.0) * seg_len
        edge = s_cross - crossings[None, None, :, 4] / np.maximum(sin, 0.5)
        pos = np.searchsorted(act, rows)
        gap = edge - front[pos][:, None, None]
        v = self.v[rows][:, None, None]
        can_stop = gap >= v * v / (2.0 * self.YIELD_MAX_DECEL) - 0.5
        gap = np.where(hit & (gap >= 0.0) & (gap < 60.0) & can_stop, gap, _FAR)
        best = gap.min(axis=(1, 2))
        # IDM keeps min_gap to its obstacle: stop half a metre before the edge
        out[pos] = np.where(best < _FAR, best + self.min_gap[rows] - 0.5, _FAR)
        return out

    def _idm(self, mv: _Moving, gap: np.ndarray, lead_v: np.ndarray) -> np.ndarray:
        act, v = mv.act, mv.v
        limits = self.route_limit[act]
        starts = mv.start[:, :-1]
        r_idx = np.arange(limits.shape[1])
        dist = np.maximum(starts - mv.front[:, None], 0.0)
        anticip = np.sqrt(limits**2 + 2 * mv.b_comf[:, None] * dist)
        anticip = np.where((r_idx[None, :] >= mv.k[:, None]) & np.isfinite(starts), anticip, np.inf)
        v0 = np.minimum(self.v0[act], anticip.min(axis=1))
        v0 = np.maximum(v0, 0.1)
        a, b = self.a_max[act], mv.b_comf
        s_star = mv.min_gap + np.maximum(
            0.0, v * self.headway[act] + v * (v - lead_v) / (2 * np.sqrt(a * b))
        )
        acc = a * (1 - (v / v0) ** 4 - (s_star / np.maximum(gap, 0.1)) ** 2)
        return np.minimum(np.maximum(acc, -self.MAX_DECEL), a)  # np.clip, without its wrappers

    def _steer_and_move(
        self, act: np.ndarray, s: np.ndarray, v: np.ndarray, dt: float, t_s: float
    ) -> None:
        """Pure pursuit on the route's centre line driving a kinematic bicycle (rear axle)."""
        look = np.maximum(4.0, 0.9 * v)
        target, heading = self.paths.at(act, s + look)
        ahead_s = t_s + look / np.maximum(v, 1.0)
        target += self.lane_changes.target_shift(act, ahead_s)
        target += self.manoeuvres.target_shift(act, ahead_s, heading)
        x, y, yaw, wb = self.x[act], self.y[act], self.yaw[act], self.wheelbase[act]
        rear_x, rear_y = x - np.cos(yaw) * wb / 2, y - np.sin(yaw) * wb / 2
        alpha = np.arctan2(target[:, 1] - rear_y, target[:, 0] - rear_x) - yaw
        alpha = (alpha + np.pi) % (2 * np.pi) - np.pi
        dist = np.maximum(np.hypot(target[:, 0] - rear_x, target[:, 1] - rear_y), 1.0)
        steer = np.minimum(np.maximum(np.arctan2(2 * wb * np.sin(alpha), dist), -0.6), 0.6)
        yaw_rate = v / wb * np.tan(steer)
        new_yaw = yaw + yaw_rate * dt
        mid = yaw + 0.5 * yaw_rate * dt
        rear_x = rear_x + v * np.cos(mid) * dt
        rear_y = rear_y + v * np.sin(mid) * dt
        self.x[act] = rear_x + np.cos(new_yaw) * wb / 2
        self.y[act] = rear_y + np.sin(new_yaw) * wb / 2
        self.yaw[act] = (new_yaw + np.pi) % (2 * np.pi) - np.pi
        self.steer[act], self.yaw_rate[act] = steer, yaw_rate

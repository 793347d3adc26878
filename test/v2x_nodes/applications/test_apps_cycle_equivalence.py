"""The cycle-time restructurings against the straightforward computations they replace.

Each vectorised or cached step of the applications' cycle must give exactly what the
per-target loop gave (same floats, same lights), on random scenes of the example
intersection: targets on and beside its lanes, at every signal state, with the real suite's
target table and scene building in front.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v2x_nodes.applications import ApplicationSuite, collision
from v2x_nodes.applications import lanes as lanes_mod
from v2x_nodes.applications.collision import MIN_TURN_RADIUS_M, time_to_collision
from v2x_nodes.applications.kinematics import (
    CollisionParams,
    EgoTrack,
    ego_along_path,
    first_collision,
    member,
    predict_ctra,
    time_to_reach,
    travelled,
)
from v2x_nodes.applications.lanes import LaneIndex
from v2x_nodes.applications.scene import (
    FEW_TARGETS,
    ONCOMING_RAD,
    SAME_DIRECTION_RAD,
    Prediction,
    Scene,
    World,
    relations,
    relations_few,
)
from v2x_nodes.applications.signals import find_phase, is_red_at
from v2x_nodes.applications.targets import VRU_CLASSES, FilterConfig
from v2x_nodes.applications.traffic_rules import (
    MAX_STOP_LINE_M,
    expected_to_stop,
    stop_line_distances,
    waiting,
)
from v2x_nodes.applications.turning import MIN_TURN_SPEED_MPS, conflict_times, lta_conflict_ttc
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.hdmap import load_map

MAP = Path(__file__).resolve().parents[3] / 'config' / 'maps' / 'intersection.osm'
START_NS = 100_000_000_000
SEEDS = range(12)


# --- the straightforward versions (as the applications computed them before) ----------
def ref_stop_line_distances(scene: Scene, idx: np.ndarray) -> tuple[np.ndarray, list]:
    dist = np.full(len(idx), math.inf)
    lights: list = [None] * len(idx)
    lanes = scene.lanes
    for j, i in enumerate(idx):
        key = int(scene.lane_key[i])
        if not key:
            continue
        s = lanes.project(key, float(scene.x[i]), float(scene.y[i]))
        ahead = lanes.map.next_stop_line(key, s, horizon_m=MAX_STOP_LINE_M)
        dist[j], lights[j] = ahead.distance_m, ahead.light
    return dist, lights


def ref_expected_to_stop(scene: Scene, idx: np.ndarray, stop_decel: float, max_age: float):
    out = np.zeros(len(idx), dtype=bool)
    if not len(idx) or not scene.spat:
        return out
    t = scene.targets
    dist, lights = ref_stop_line_distances(scene, idx)
    for j, i in enumerate(idx):
        light, d = lights[j], float(dist[j])
        if light is None or not math.isfinite(d) or light.signal_group <= 0:
            continue
        inter = light.intersection_id if light.intersection_id >= 0 else scene.ego.intersection_id
        ph = find_phase(scene.spat, inter, light.signal_group, scene.now_ns, max_age)
        if ph is None:
            continue
        v, a = float(t.speed[i]), float(t.accel[i])
        arrival = float(time_to_reach(d, v, max(a, 0.0)))
        if not math.isfinite(arrival) or not is_red_at(ph, arrival):
            continue
        need = v * v / (2.0 * max(d, 0.1))
        out[j] = need <= stop_decel or -a >= need
    return out


def ref_waiting(scene: Scene, idx: np.ndarray, gap: float, slow_mps: float) -> np.ndarray:
    """The queue rule written recursively: a slow vehicle waits when it is held at its stop
    line or the next slow vehicle ahead in its lane, within the gap, waits."""
    t = scene.targets
    slow = np.flatnonzero((t.speed <= slow_mps) & ~member(t.cls, VRU_CLASSES))
    half = 0.5 * scene.ego.lane_width

    def waits(i: int) -> bool:
        if float(ref_stop_line_distances(scene, np.array([i]))[0][0]) <= gap:
            return True
        ahead = scene.lon[slow] - scene.lon[i]
        beside = np.abs(scene.lat[slow] - scene.lat[i]) < half
        near = (ahead > 0.0) & (ahead <= gap) & beside
        return bool(near.any()) and waits(int(slow[near][np.argmin(ahead[near])]))

    return np.array([waits(int(i)) for i in idx], dtype=bool)


def ref_lta_conflict_ttc(path_xy, ego_speed, x, y, course, speed, horizon_s, gap_s):
    reach = np.maximum(speed, 0.1) * horizon_s
    s_ego, r = conflict_times(path_xy, x, y, course, reach)
    t_rv = r / np.maximum(speed, 0.1)
    v = max(ego_speed, 0.1)
    t_fast = s_ego / v
    t_slow = s_ego / max(0.5 * v, min(v, MIN_TURN_SPEED_MPS))
    overlap = (t_rv + gap_s >= t_fast) & (t_rv - gap_s <= t_slow) & np.isfinite(s_ego)
    return np.where(overlap, t_rv, np.inf)


def ref_ttc_on(scene: Scene, idx: np.ndarray, cp: CollisionParams, track: EgoTrack):
    """VRUCW's search against another own track: every target that can reach us predicted,
    the rows of ``idx`` searched."""
    t = scene.targets
    reach = (scene.ego.speed + t.speed) * float(scene.track.t_s[-1]) + 10.0 + 0.5 * t.length
    near = np.flatnonzero(scene.distance <= reach)
    rows = np.full(len(t), -1)
    rows[near] = np.arange(len(near))
    # a vehicle turns no faster than its speed allows (walkers and riders as reported)
    bound = np.array([np.inf if c in VRU_CLASSES else v / MIN_TURN_RADIUS_M
                      for c, v in zip(t.cls[near], t.speed[near], strict=True)])  # fmt: skip
    tx, ty, tc = predict_ctra(scene.x[near], scene.y[near], course_rad=t.course[near],
                              speed_mps=t.speed[near], accel_mps2=t.accel[near],
                              yaw_rate_radps=np.clip(t.yaw_rate[near], -bound, bound),
                              t_s=scene.track.t_s)  # fmt: skip
    r = rows[idx]
    ok = r >= 0
    out = np.full(len(idx), np.inf)
    r = r[ok]
    speed = np.broadcast_to(t.speed[idx[ok]][:, None], tx[r].shape)
    out[ok], _ = first_collision(track, ego_length_m=scene.ego.length,
                                 ego_width_m=scene.ego.width, tx=tx[r], ty=ty[r], tcourse=tc[r],
                                 tspeed=speed, length_m=t.length[idx[ok]],
                                 width_m=t.width[idx[ok]], params=cp)  # fmt: skip
    return out


def ref_ego_along_path(path_xy, speed_mps, accel_mps2, t_s) -> EgoTrack:
    s = travelled(np.asarray(speed_mps), np.asarray(accel_mps2), t_s)
    seg = np.diff(path_xy, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    keep = seg_len > 1e-9
    seg, seg_len = seg[keep], seg_len[keep]
    table = np.concatenate(([0.0], np.cumsum(seg_len)))
    i = np.clip(np.searchsorted(table, s, side='right') - 1, 0, len(seg) - 1)
    u = (s - table[i]) / seg_len[i]
    start = path_xy[:-1][keep]
    return EgoTrack(np.asarray(t_s, float), start[i, 0] + u * seg[i, 0],
                    start[i, 1] + u * seg[i, 1], np.arctan2(seg[i, 1], seg[i, 0]), s)  # fmt: skip


def test_ego_along_path_is_the_array_version() -> None:
    """The own prediction's scalar stop time and single clip give the same track."""
    rng = np.random.default_rng(5)
    t = np.arange(0.1, 6.0001, 0.1) + 0.037
    for _ in range(300):
        path = np.cumsum(rng.normal(0, 4, (int(rng.integers(2, 40)), 2)), axis=0)
        path[rng.random(len(path)) < 0.1] = path[0]  # repeated vertices: zero-length segments
        if not (np.hypot(*np.diff(path, axis=0).T) > 1e-9).any():
            continue
        v = float(rng.choice([0.0, rng.uniform(0, 40)]))
        a = float(rng.choice([0.0, -9.0, 2.0, rng.uniform(-9, 2)]))
        got, want = ego_along_path(path, v, a, t), ref_ego_along_path(path, v, a, t)
        for name in ('t_s', 'x_m', 'y_m', 'heading_rad', 's_m'):
            assert np.array_equal(getattr(got, name), getattr(want, name)), name


# --- random scenes of the example intersection -----------------------------------------
def _participant(t_ns: int, pid: int, x: float, y: float, yaw: float, v: float, cls: int):
    return m.new('v2x_stack/msg/Participant', header=m.header(t_ns, 'map'), id=pid,
                 participant_class=cls, source_id=f'{pid:08x}', trust=1,
                 position=m.new('geometry_msgs/msg/Point', x=x, y=y), heading_rad=yaw,
                 velocity=m.new('geometry_msgs/msg/Vector3', x=v * math.cos(yaw),
                                y=v * math.sin(yaw)),
                 size=m.new('geometry_msgs/msg/Vector3', x=4.5, y=1.8))  # fmt: skip


def random_scene(seed: int, n: int = 120) -> Scene:
    """Two reports per target (so they accelerate or brake), the own car on the west
    approach, SPAT for every signal group of the map."""
    rng = np.random.default_rng(seed)
    rt = EmbeddedRuntime(start_ns=START_NS)
    suite = rt.add_component(ApplicationSuite, name='apps', parameters={'map_file': str(MAP)})
    hd = load_map(MAP)
    keys = [k for k, ll in hd.lanelets.items() if ll.drivable]
    lanes = [hd.lanelets[k] for k in rng.choice(keys, n)]
    s0 = np.array([rng.uniform(0, ll.length_m) for ll in lanes])
    on_sample = rng.random(n) < 0.2  # exactly on a centre-line sample (also shared ends)
    speed = np.where(rng.random(n) < 0.3, rng.uniform(0, 1.5, n), rng.uniform(0, 15, n))
    accel = rng.uniform(-6, 2, n)
    side = rng.normal(0, 1.0, n)
    vru = rng.random(n) < 0.15
    ego_x = rng.uniform(-120, -15)
    for k, dt in enumerate((0.0, 0.1)):
        t_ns = START_NS + round(dt * 1e9)
        parts = []
        for i, ll in enumerate(lanes):
            s = min((s0[i] + (speed[i] + 0.5 * accel[i] * dt) * dt) % ll.length_m, ll.length_m)
            if on_sample[i]:
                x, y = ll.centre_xy[int(np.searchsorted(ll.s_m, s)) % len(ll.centre_xy)]
            else:
                x, y = ll.point_at(s)
            h = ll.heading_at(s)
            x, y = x - side[i] * math.sin(h), y + side[i] * math.cos(h)
            v = max(speed[i] + accel[i] * dt, 0.0)
            parts.append(_participant(t_ns, i, x, y, h, v, 5 if vru[i] else 1))
        suite.on_remote(m.new('v2x_stack/msg/ParticipantArray', header=m.header(t_ns, 'map'),
                              participants=parts))  # fmt: skip
        suite.world.table.flush(suite.ctx.diagnostics)
        odom = m.new('nav_msgs/msg/Odometry', header=m.header(t_ns, 'map'))
        odom.pose.pose.position.x, odom.pose.pose.position.y = ego_x + 12.0 * dt, -5.25
        odom.pose.pose.orientation.w = 1.0
        odom.twist.twist.linear.x = 12.0
        suite.on_odometry(odom)
        if k == 0:
            suite.world.on_lane(m.new('v2x_stack/msg/LanePosition', lanelet_id=1133,
                                      lane_heading_rad=0.0, lane_width_m=3.5,
                                      speed_limit_mps=13.9, stop_line_distance_m=-ego_x - 15,
                                      signal_group=8, intersection_id=1))  # fmt: skip
    groups = sorted({lt.signal_group for lt in hd.traffic_lights.values()})
    phases = [m.new('v2x_stack/msg/SignalPhase', phase_id=g, light=int(rng.choice([3, 6, 7])),
                    likely_end_s=float(rng.uniform(0.5, 15)), min_end_s=math.nan,
                    next_start_s=float(rng.uniform(0.5, 20)), next_duration_s=20.0)
              for g in groups]  # fmt: skip
    t_ns = START_NS + 100_000_000
    suite.world.on_spat(m.new('v2x_stack/msg/IntersectionState', header=m.header(t_ns, 'map'),
                              intersection_id=1, phases=phases), t_ns)  # fmt: skip
    return suite.world.scene(t_ns + 50_000_000, suite.ctx.diagnostics)


@pytest.fixture(scope='module')
def scenes() -> list[Scene]:
    return [random_scene(seed) for seed in SEEDS]


def test_nearest_samples_are_project_per_point() -> None:
    lanes = LaneIndex(load_map(MAP))
    rng = np.random.default_rng(7)
    drivable = np.array([k for k, ll in lanes.map.lanelets.items() if ll.drivable])
    keys = rng.choice(drivable, 3000)
    g = rng.integers(0, len(lanes.points), 3000)
    x, y = lanes.points[g, 0].copy(), lanes.points[g, 1].copy()
    x[:1000] += rng.uniform(-40, 40, 1000)  # anywhere near
    y[:1000] += rng.uniform(-40, 40, 1000)
    x[1000:2000] += 0.5  # on a sample or half-way between two: ties
    got = lanes.nearest_samples(keys, x, y)
    assert np.array_equal(lanes.owner[got], keys)
    want = [lanes.project(int(k), float(a), float(b)) for k, a, b in zip(keys, x, y, strict=True)]
    assert np.array_equal(lanes.sample_s[got], want)


def test_stop_lines_are_the_maps_per_target(scenes: list[Scene]) -> None:
    rng = np.random.default_rng(3)
    for scene in scenes:
        n = len(scene.targets)
        for size in (5, n // 3, n):  # overlapping asks: the cycle's cache answers again
            idx = rng.choice(n, size, replace=False)
            dist, lights = stop_line_distances(scene, idx)
            want_d, want_l = ref_stop_line_distances(scene, idx)
            assert np.array_equal(dist, want_d)
            assert all(a is b for a, b in zip(lights, want_l, strict=True))
    assert any(np.isfinite(stop_line_distances(s, np.arange(len(s.targets)))[0]).sum() > 20
               for s in scenes)  # fmt: skip


@pytest.mark.parametrize('stop_decel', [1.0, 3.5, 8.0])
def test_expected_to_stop_is_the_per_target_rule(scenes: list[Scene], stop_decel: float) -> None:
    stopping = 0
    for scene in scenes:
        idx = np.arange(len(scene.targets))
        got = expected_to_stop(scene, idx, stop_decel_mps2=stop_decel, spat_max_age_s=1.0)
        assert np.array_equal(got, ref_expected_to_stop(scene, idx, stop_decel, 1.0))
        stopping += int(got.sum())
    assert stopping > 0


def test_waiting_is_the_queue_walk(scenes: list[Scene]) -> None:
    held = 0
    for scene in scenes:
        t = scene.targets
        idx = np.flatnonzero((t.speed <= 1.5) & ~member(t.cls, VRU_CLASSES))
        for gap in (5.0, 20.0):
            got = waiting(scene, idx, queue_gap_m=gap, slow_mps=1.5)
            assert np.array_equal(got, ref_waiting(scene, idx, gap, 1.5))
            held += int(got.sum())
    assert held > 0


def test_lta_conflict_search_on_the_cut_path(scenes: list[Scene]) -> None:
    rng = np.random.default_rng(11)
    found = 0
    for scene in scenes:
        t = scene.targets
        for ego_speed, gap in ((0.0, 1.0), (4.0, 0.0), (12.0, 1.0), (25.0, 3.0)):
            args = (scene.path_xy, ego_speed, scene.x, scene.y, t.course, t.speed, 6.0, gap)
            got = lta_conflict_ttc(*args)
            assert np.array_equal(got, ref_lta_conflict_ttc(*args))
            found += int(np.isfinite(got).sum())
        # a path with repeated vertices and a crossing exactly at a vertex
        path = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 0.0], [20.0, 0.0], [20.0, 30.0]])
        x, y = rng.uniform(-5, 25, 50), rng.uniform(-20, 20, 50)
        x[:5] = 10.0
        course = np.where(y < 0, np.pi / 2, -np.pi / 2)
        speed = rng.uniform(0, 15, 50)
        args = (path, 8.0, x, y, course, speed, 6.0, 1.0)
        assert np.array_equal(lta_conflict_ttc(*args), ref_lta_conflict_ttc(*args))
    assert found > 0


def test_search_against_another_track_predicts_only_the_asked(scenes: list[Scene]) -> None:
    cp = CollisionParams(lat_margin_m=0.3, lat_growth_mps=0.3, time_gap_s=0.5)
    hits = 0
    for scene in scenes:
        tr = scene.track
        for slow in (1.0, 0.5):  # the own car braking along the same path
            track = EgoTrack(tr.t_s, tr.x_m[0] + slow * (tr.x_m - tr.x_m[0]),
                             tr.y_m[0] + slow * (tr.y_m - tr.y_m[0]), tr.heading_rad,
                             slow * tr.s_m)  # fmt: skip
            idx = np.flatnonzero(scene.distance < 60.0)
            got = time_to_collision(scene, idx, cp, track=track)
            assert np.array_equal(got, ref_ttc_on(scene, idx, cp, track))
            hits += int(np.isfinite(got).sum())
    assert hits > 0


def test_one_shared_prediction_is_each_applications_own(
    scenes: list[Scene], monkeypatch: pytest.MonkeyPatch
) -> None:
    """All reachable targets predicted once a scene, or each search predicting its own
    targets: the same collision times for the subsets FCW, ICW, LTA and VRUCW ask."""
    cp = CollisionParams(lat_margin_m=0.3, lat_growth_mps=0.3, time_gap_s=1.0)
    rng = np.random.default_rng(13)
    hits = 0
    for scene in scenes:
        asks = [rng.choice(len(scene.targets), k, replace=False) for k in (1, 3, 10, 40)]
        asks = [np.sort(a) for a in asks]
        found = {}
        for shared in (10**6, 0):
            monkeypatch.setattr(collision, 'SHARED_PREDICTION', shared)
            scene.cache.clear()
            found[shared] = [time_to_collision(scene, a, cp) for a in asks]
        for a, b in zip(found[10**6], found[0], strict=True):
            assert a.tobytes() == b.tobytes()
            hits += int(np.isfinite(a).sum())
    assert hits > 0


def test_relations_of_a_few_targets_are_the_array_version(scenes: list[Scene]) -> None:
    """Target by target in floats or in arrays: the same relation for every target,
    thresholds hit exactly, NaN course or offset, off-map keys and every lane side."""
    rng = np.random.default_rng(17)
    marks = [SAME_DIRECTION_RAD, ONCOMING_RAD, math.pi, 0.0, math.nan]
    for _ in range(3000):
        n = int(rng.integers(0, 12))
        half = float(rng.choice([1.75, rng.uniform(0.5, 3.0)]))
        adpsi = np.abs(rng.uniform(-math.pi, math.pi, n))
        lat = rng.uniform(-4 * half, 4 * half, n)
        pick = rng.random(n) < 0.3
        adpsi[pick] = rng.choice(marks, int(pick.sum()))
        pick = rng.random(n) < 0.3
        lat[pick] = rng.choice([half, -half, 3 * half, -3 * half, 0.0, math.nan], int(pick.sum()))
        key = np.where(rng.random(n) < 0.3, 0, rng.integers(1, 50, n)).astype(np.int64)
        side = rng.integers(0, 4, n) if rng.random() < 0.8 else None
        want = relations(adpsi, lat, half, key, side)
        got = relations_few(adpsi.tolist(), lat.tolist(), half,
                            None if side is None else key.tolist(),
                            None if side is None else side.tolist())  # fmt: skip
        assert np.array_equal(np.array(got, dtype=np.int64), want)
    for scene in scenes:  # the map's own keys and sides, more targets than FEW_TARGETS
        half = 0.5 * scene.ego.lane_width
        adpsi, lat = np.abs(scene.dpsi), scene.lat
        side = scene.lanes.lane_sets(scene.path_keys).side_of(scene.lane_key)
        got = relations_few(adpsi.tolist(), lat.tolist(), half, scene.lane_key.tolist(),
                            side.tolist())  # fmt: skip
        assert len(scene.rel) > FEW_TARGETS
        assert np.array_equal(np.array(got, dtype=np.int64), scene.rel)


def test_path_xy_slice_is_the_mask() -> None:
    """The first lanelet's samples beyond s + 0.5 m by searchsorted: the boolean mask's rows,
    for every lanelet of the map and arcs on, between and beyond its samples."""
    lanes = LaneIndex(load_map(MAP))
    for key, ll in lanes.map.lanelets.items():
        assert lanes.length[key] == ll.length_m
        arcs = np.concatenate((ll.s_m, ll.s_m - 0.5, np.linspace(-5, ll.length_m + 5, 40)))
        for s in arcs.tolist():
            want = np.concatenate(([[1.0, 2.0]], ll.centre_xy[ll.s_m > s + 0.5]))
            assert np.array_equal(lanes.path_xy([key], s, 1.0, 2.0), want)


def ref_ego_path(world: World) -> tuple[np.ndarray, list[int], float]:
    """``World.ego_path`` as it was: the path built by concatenation every cycle."""
    e, lanes = world.ego, world.lanes
    length = max(world.prediction.min_path_m, e.speed * world.prediction.horizon_s + 20.0)
    key = lanes.key_of(e.lane_id, e.lane_heading) if e.lane_id >= 0 else 0
    if not key:
        return world.ego_path()  # (the straight line: not changed)
    s = lanes.project(key, e.x, e.y)
    keys = lanes.path_keys(key, s, length, e.turn)
    first = lanes.map.lanelets[keys[0]]
    path = np.concatenate([np.array([[e.x, e.y]]), first.centre_xy[first.s_m > s + 0.5],
                           *[lanes.map.lanelets[k].centre_xy[1:] for k in keys[1:]]])  # fmt: skip
    heading = e.lane_heading if math.isfinite(e.lane_heading) else e.yaw
    d = path[-1] - path[-2] if len(path) > 1 else np.zeros(2)
    norm = float(np.hypot(*d))
    d = d / norm if norm > 1e-6 else np.array([math.cos(heading), math.sin(heading)])
    return np.concatenate((path, (path[-1] + d * length)[None])), keys, heading


def test_ego_path_from_kept_lane_parts() -> None:
    """The kept lane samples and last-step direction give the path the concatenation gave:
    every lanelet of the map, the own car on, beside and past its samples (the lanes' ends:
    no or one sample left ahead), at rest and fast, with either indicator."""
    lanes = LaneIndex.of(load_map(MAP))
    world = World(lanes, FilterConfig(), Prediction())
    rng = np.random.default_rng(11)
    ends = set()
    for ll in lanes.map.lanelets.values():
        if not ll.drivable:
            continue
        last = len(ll.centre_xy) - 1
        picks = np.concatenate((rng.integers(0, len(ll.centre_xy), 6), [last - 1, last]))
        for j in picks.tolist():
            e = world.ego
            e.x, e.y = (ll.centre_xy[j] + rng.normal(0, 0.6, 2) * (rng.random() < 0.7)).tolist()
            e.lane_id, e.lane_heading = ll.id, float(ll.heading_rad[min(j, len(ll.s_m) - 2)])
            e.speed = float(rng.choice([0.0, rng.uniform(0, 20)]))
            e.lights = int(rng.choice([0, 1, 2]))
            for _ in range(2):  # the second ask is answered from the kept parts
                got, want = world.ego_path(), ref_ego_path(world)
                assert np.array_equal(got[0], want[0]) and got[1:] == want[1:]
            ends.add(min(len(got[0]), 4))  # start + lane samples + the straight-on point
    assert ends == {2, 3, 4}  # no lane sample left ahead, one, more


# --- answers kept between cycles and cars (LaneIndex.nearest_samples) ---------------------
# In the simulator every connected car asks about the same extrapolated roadside points: the
# kept answers must be exactly the searched ones, in any order, batch and repetition.
_LANES = LaneIndex(load_map(MAP))  # its own index (not the process's shared one)
_DRIVABLE = sorted(k for k, ll in _LANES.map.lanelets.items() if ll.drivable)

offset = st.one_of(st.floats(-30.0, 30.0), st.sampled_from([0.0, -0.0, 0.5, math.nan]))
point = st.tuples(st.sampled_from(_DRIVABLE), st.integers(0, len(_LANES.points) - 1), offset,
                  offset)  # fmt: skip


def _columns(points: list[tuple[int, int, float, float]]):
    keys = np.array([p[0] for p in points], dtype=np.int64)
    g = np.array([p[1] for p in points], dtype=np.int64)
    x = _LANES.points[g, 0] + np.array([p[2] for p in points])
    y = _LANES.points[g, 1] + np.array([p[3] for p in points])
    return keys, x, y


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(point, min_size=1, max_size=30), min_size=1, max_size=6),
       st.integers(0, 2**31))  # fmt: skip
def test_kept_nearest_samples_are_the_searched(batches: list[list], seed: int) -> None:
    """Batches with repeated points (exactly, reordered, ±0.0, NaN) against a fresh search
    of each batch."""
    rng = np.random.default_rng(seed)
    _LANES._nearest.clear()
    every = [p for points in batches for p in points]
    shuffled = [every[i] for i in rng.permutation(len(every))]
    for points in [*batches, shuffled]:
        keys, x, y = _columns(points)
        want = _LANES._nearest_samples(keys, x, y)
        got = _LANES.nearest_samples(keys, x, y)
        assert got.dtype == want.dtype and np.array_equal(got, want)


def test_kept_nearest_samples_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kept answers are emptied when full (a long run asks about new points for ever)."""
    _LANES._nearest.clear()
    keys, x, y = _columns([(_DRIVABLE[0], 0, float(i), 0.0) for i in range(50)])
    monkeypatch.setattr(lanes_mod, 'MEMO_MAX', 60)
    _LANES.nearest_samples(keys, x, y)
    assert len(_LANES._nearest) == 50
    _LANES.nearest_samples(keys, x + 0.25, y)  # 50 more: over the bound, emptied first
    assert len(_LANES._nearest) == 50
    assert np.array_equal(_LANES.nearest_samples(keys, x, y), _LANES._nearest_samples(keys, x, y))


course = st.one_of(st.floats(-math.pi, math.pi), st.sampled_from([0.0, math.pi, math.nan]))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(point, course, st.booleans()), min_size=1, max_size=40),
       st.booleans())  # fmt: skip
def test_nearest_samples_from_the_matchs_near_samples(points: list, own_keys: bool) -> None:
    """``nearest_of_near`` (the stop lines' samples from the lane match's nearest samples of
    the map) gives the searched ``nearest_samples``: for the lanelets the match chose (the
    cycle's case: on samples, between them, at lanelet ends shared by several lanelets) and
    for any other drivable lanelet (searched where the near samples do not decide), NaN too."""
    keys, x, y = _columns([p for p, _, _ in points])
    c = np.array([h for _, h, _ in points])
    use = np.array([u for _, _, u in points])
    matched, _, near, near_d = _LANES.match_near(x, y, c, use)
    if own_keys:  # the match's lanelets (what the scene asks about: key != 0)
        on = matched != 0
        keys, x, y, near, near_d = matched[on], x[on], y[on], near[on], near_d[on]
    got = _LANES.nearest_of_near(keys, x, y, near, near_d)
    want = _LANES._nearest_samples(keys, x, y) if len(keys) else np.zeros(0, dtype=np.int64)
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_the_near_samples_decide_most_matched_points(monkeypatch: pytest.MonkeyPatch) -> None:
    """On and about the centre lines (targets on their lanes) the match's near samples decide
    nearly every point: the search runs for few."""
    rng = np.random.default_rng(11)
    g = rng.integers(0, len(_LANES.points), 2000)
    x = _LANES.points[g, 0] + rng.uniform(-1.5, 1.5, 2000)
    y = _LANES.points[g, 1] + rng.uniform(-1.5, 1.5, 2000)
    x[:300], y[:300] = _LANES.points[g[:300], 0], _LANES.points[g[:300], 1]  # on samples
    key, _, near, near_d = _LANES.match_near(x, y, _LANES.heading[g], np.ones(2000, bool))
    on = key != 0
    searched = []
    search = _LANES.nearest_samples
    monkeypatch.setattr(_LANES, 'nearest_samples', lambda k, a, b: searched.append(len(k)) or
                        search(k, a, b))  # fmt: skip
    got = _LANES.nearest_of_near(key[on], x[on], y[on], near[on], near_d[on])
    assert np.array_equal(got, _LANES._nearest_samples(key[on], x[on], y[on]))
    assert sum(searched) < 0.1 * np.count_nonzero(on), searched

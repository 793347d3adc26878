"""A connected vehicle the RSU also tracks is one target: its BSM (identity, class, data).

In the default scenario each of two cars side by side at their stop lines was warned (BSW)
twice about the other, once from its RSU track and once from its BSM. A roadside vehicle
that matches a BSM sender of the same cycle (position gate from both reports' variances,
both extrapolated to now; compatible velocity and class) is dropped, counted as
``roadside_same_as_bsm``; two distinct vehicles close together (side by side in adjacent
lanes, queued) stay two targets, and each sender takes at most one roadside participant.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from apps_cases import EAST_1, EAST_2, EAST_3
from apps_scripted import roadside, run_with
from apps_world import ROAD, START_NS, Actor, Ego, Mover, World, odometry
from hypothesis import given, settings
from hypothesis import strategies as st

from v2x_nodes.applications.apps import BlindSpotLaneChangeWarning
from v2x_nodes.applications.same_vehicle import SameVehicleGate, match_same_vehicle
from v2x_nodes.applications.scene import Prediction
from v2x_nodes.applications.scene import World as AppWorld
from v2x_nodes.applications.targets import (
    CLASS_CAR,
    CLASS_EMERGENCY,
    CLASS_TRUCK,
    TRUST_MISBEHAVING,
    FilterConfig,
    Origin,
)
from v2x_runtime import messages as m
from v2x_runtime.diagnostics import Diagnostics, ThrottledLogger

# --- the closed-loop case, scripted -------------------------------------------------------


def _rsu_track(mover: Mover, pid: int, dlon: float, duration_s: float) -> list:
    """The RSU's reports of the car driven by ``mover``, its box centre ``dlon`` ahead."""
    out = []
    for k in range(round(duration_s * 10)):
        t = 0.1 * k
        x, y, course, v, _ = mover.state(t)
        out.append((t, [roadside(t, pid, x + dlon * math.cos(course), y, v * math.cos(course),
                                 v * math.sin(course), 0.25)]))  # fmt: skip
    return out


def test_connected_car_tracked_by_the_rsu_is_warned_once() -> None:
    """A connected car in the blind spot (left lane, 3 m behind), also in RSM: one BSW target,
    the BSM sender's."""
    beside = Mover(EAST_1, 10.0, start_m=97.0)
    world = World(Ego(Mover(EAST_2, 10.0, start_m=100)), [Actor(21, beside)])
    result = run_with(world, BlindSpotLaneChangeWarning, 3.0, ROAD,
                      _rsu_track(beside, 321, 0.4, 3.0))  # fmt: skip
    assert set(result.episodes('BSW')) == {'00000015:21'}, result.episodes('BSW')
    assert result.counter('app0', 'roadside_same_as_bsm') > 0
    # the same RSU track without the BSM is warned (from the roadside track)
    alone = run_with(World(Ego(Mover(EAST_2, 10.0, start_m=100))), BlindSpotLaneChangeWarning,
                     3.0, ROAD, _rsu_track(beside, 321, 0.4, 3.0))  # fmt: skip
    assert set(alone.episodes('BSW')) == {'rsu1:321'}


def test_cars_in_both_adjacent_lanes_stay_two_targets() -> None:
    """A connected car in the left blind spot and an unconnected one in the right (7 m
    apart, both in RSM): two BSW targets, the BSM sender's and the roadside one."""
    left, right = Mover(EAST_1, 10.0, start_m=97.0), Mover(EAST_3, 10.0, start_m=97.0)
    world = World(Ego(Mover(EAST_2, 10.0, start_m=100)), [Actor(21, left)])
    pairs = zip(_rsu_track(left, 321, 0.4, 3.0), _rsu_track(right, 322, 0.4, 3.0), strict=True)
    tracks = [(t, a + b) for (t, a), (_, b) in pairs]
    result = run_with(world, BlindSpotLaneChangeWarning, 3.0, ROAD, tracks)
    assert set(result.episodes('BSW')) == {'00000015:21', 'rsu1:322'}, result.episodes('BSW')


# --- the scene's matching, cycle by cycle -------------------------------------------------

NOW_NS = START_NS + 1_000_000_000


def _diag() -> Diagnostics:
    return Diagnostics('t', ThrottledLogger(logging.getLogger('test_apps_same_vehicle'), lambda: 0))


def _part(pid: int, x: float, y: float, vx: float, *, source: str = '', cls: int = CLASS_CAR,
          age_s: float = 0.0, pos_var: float = 0.25, trust: int = 1) -> object:  # fmt: skip
    cov = np.zeros(16)
    cov[0] = cov[5] = pos_var
    cov[10] = cov[15] = 0.25
    return m.new(
        'v2x_stack/msg/Participant', header=m.header(NOW_NS - round(age_s * 1e9), 'map'), id=pid,
        participant_class=cls, source_id=source, trust=trust, heading_rad=0.0,
        position=m.new('geometry_msgs/msg/Point', x=x, y=y), covariance=cov,
        velocity=m.new('geometry_msgs/msg/Vector3', x=vx), latitude_deg=math.nan,
        longitude_deg=math.nan, altitude_m=math.nan,
        size=m.new('geometry_msgs/msg/Vector3', x=4.5, y=1.8, z=1.5),
    )  # fmt: skip


def _scene(bsm: list, rsm: list, gate: SameVehicleGate | None = None) -> tuple[dict, int]:
    """{target key: eligible} of one cycle with the ego at the origin, and the counter."""
    world = AppWorld(None, FilterConfig(), Prediction(), gate)
    world.on_odometry(odometry(NOW_NS, -50.0, -20.0, 0.0, 10.0))
    diag = _diag()
    for origin, parts in ((Origin.REMOTE_VEHICLE, bsm), (Origin.ROADSIDE, rsm)):
        if parts:
            world.on_participants(m.new('v2x_stack/msg/ParticipantArray',
                                        header=m.header(NOW_NS, 'map'), participants=parts),
                                  origin, diag)  # fmt: skip
    scene = world.scene(NOW_NS, diag)
    return (dict(zip(scene.targets.keys, scene.eligible.tolist(), strict=True)),
            int(diag.counters.get('roadside_same_as_bsm', 0)))  # fmt: skip


def test_the_rsu_track_of_a_bsm_sender_is_dropped_the_sender_kept() -> None:
    eligible, n = _scene([_part(1, 0.0, 0.0, 10.0, source='a')], [_part(7, 0.6, 0.3, 9.5)])
    assert eligible == {'a:1': True, 'roadside:7': False} and n == 1


def test_reports_of_different_age_are_compared_where_they_are_now() -> None:
    """A BSM 0.3 s old, 3 m behind the fresh RSU report of the car at 10 m/s: the same car."""
    eligible, n = _scene([_part(1, -3.0, 0.0, 10.0, source='a', age_s=0.3)],
                         [_part(7, 0.0, 0.0, 10.0)])  # fmt: skip
    assert not eligible['roadside:7'] and n == 1


def test_side_by_side_and_queued_cars_are_not_merged() -> None:
    """The RSU does not see the sender (occluded) but a car beside it, a lane away, and one
    queued behind it: neither is the sender, whatever their velocities."""
    eligible, n = _scene([_part(1, 0.0, 0.0, 5.0, source='a')],
                         [_part(7, 0.0, 3.5, 5.0), _part(8, -6.5, 0.0, 5.0)])  # fmt: skip
    assert eligible['roadside:7'] and eligible['roadside:8'] and n == 0


def test_each_sender_takes_its_own_track() -> None:
    """Two connected cars queued 6.5 m apart, both tracked: each track goes to its sender
    (the nearest pairs first), none is left as a third target."""
    bsm = [_part(1, 0.0, 0.0, 5.0, source='a'), _part(2, -6.5, 0.0, 5.0, source='b')]
    eligible, n = _scene(bsm, [_part(7, -1.2, 0.0, 5.0), _part(8, -6.0, 0.0, 5.0)])
    assert not eligible['roadside:7'] and not eligible['roadside:8'] and n == 2


def test_incompatible_velocity_or_class_or_an_unusable_sender_is_not_merged() -> None:
    near = [_part(7, 0.5, 0.0, 10.0)]
    moving_otherwise, _ = _scene([_part(1, 0.0, 0.0, 3.0, source='a')], near)
    assert moving_otherwise['roadside:7']
    misbehaving, _ = _scene([_part(1, 0.0, 0.0, 10.0, source='a', trust=TRUST_MISBEHAVING)], near)
    assert misbehaving['roadside:7']
    # a truck in RSM, an ambulance by BSM: both vehicles, the same one
    truck = [_part(7, 0.5, 0.0, 10.0, cls=CLASS_TRUCK)]
    ambulance, n = _scene([_part(1, 0.0, 0.0, 10.0, source='a', cls=CLASS_EMERGENCY)], truck)
    assert not ambulance['roadside:7'] and n == 1


def test_the_gate_follows_the_uncertainties_and_its_parameter() -> None:
    """2 m apart: beyond 3 sigma of two RTK-grade reports (0.02 m²), within it for two of 1 m²;
    a max_m of 1 m keeps them apart whatever the variances."""
    rsm = [_part(7, 2.0, 0.0, 10.0, pos_var=0.02)]
    precise, _ = _scene([_part(1, 0.0, 0.0, 10.0, source='a', pos_var=0.02)], rsm)
    assert precise['roadside:7']
    rough = [_part(7, 2.0, 0.0, 10.0, pos_var=1.0)]
    vague, _ = _scene([_part(1, 0.0, 0.0, 10.0, source='a', pos_var=1.0)], rough)
    assert not vague['roadside:7']
    narrow, _ = _scene([_part(1, 0.0, 0.0, 10.0, source='a', pos_var=1.0)], rough,
                       SameVehicleGate(max_m=1.0))  # fmt: skip
    assert narrow['roadside:7']


# --- the matching's properties ------------------------------------------------------------

coord = st.floats(-20.0, 20.0)
report = st.tuples(coord, coord, st.floats(-15.0, 15.0), st.floats(-15.0, 15.0),
                   st.sampled_from([-1.0, 0.0, 0.04, 0.25, 1.0, 9.0]),
                   st.sampled_from([-1.0, 0.0, 0.25, 25.0]), st.floats(0.0, 1.0),
                   st.sampled_from([0, CLASS_CAR, CLASS_TRUCK, 3, 5, CLASS_EMERGENCY]))  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(report, min_size=1, max_size=12), st.integers(0, 12),
       st.floats(0.5, 6.0), st.floats(0.5, 5.0))  # fmt: skip
def test_matching_stays_within_the_gate_and_one_to_one(
    reports: list, n_bsm: int, sigma: float, max_m: float
) -> None:
    x, y, vx, vy, pv, sv, age, cls = (np.array(c) for c in zip(*reports, strict=True))
    vx, vy = np.hypot(vx, vy), np.arctan2(vy, vx)  # (speed, course)
    n_bsm = min(n_bsm, len(reports))
    bsm, rsm = np.arange(n_bsm), np.arange(n_bsm, len(reports))
    gate = SameVehicleGate(gate_sigma=sigma, max_m=max_m)
    pairs = match_same_vehicle(x, y, vx, vy, pv, sv, age, cls.astype(np.int64), bsm, rsm, gate)
    senders = [b for b, _ in pairs]
    tracks = [r for _, r in pairs]
    assert len(set(senders)) == len(senders) and len(set(tracks)) == len(tracks)
    for b, r in pairs:
        assert b in bsm and r in rsm
        assert math.hypot(x[b] - x[r], y[b] - y[r]) <= max_m
    # maximal: no pair left out whose both ends are free and which passes the gate alone
    for b in sorted(set(bsm.tolist()) - set(senders)):
        for r in sorted(set(rsm.tolist()) - set(tracks)):
            one = match_same_vehicle(x, y, vx, vy, pv, sv, age, cls.astype(np.int64),
                                     np.array([b]), np.array([r]), gate)  # fmt: skip
            assert not one, (b, r)

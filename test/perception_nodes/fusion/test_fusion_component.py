"""CooperativeFusion in the embedded runtime: bad input counted, base_link inputs, trust
policies, silent sources, markers and configuration errors."""

import math

import numpy as np
import pytest

from perception_nodes.fusion.component import CooperativeFusion
from perception_nodes.fusion.conversions import reports_to_msg
from perception_nodes.fusion.evaluation import ODOM, TOPIC, odometry_msg
from perception_nodes.fusion.reports import ObjectReport, SourceKind
from perception_nodes.fusion.synthetic import Scene
from v2x_runtime import ParameterError
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

S = 1_000_000_000
ARRAY = 'v2x_stack/msg/ParticipantArray'
SCENE = Scene.scripted()


def _rep(kind, oid, stamp, xy, *, sid='', trust=1, cls=1, v=(0.0, 0.0)):
    return ObjectReport(
        kind,
        sid,
        oid,
        stamp,
        np.array([*xy, *v]),
        np.diag([0.09, 0.09, 0.25, 0.25]),
        cls,
        (4.5, 1.8, 1.5),
        0.0,
        0.01,
        0.9,
        trust,
    )


def _runtime(**params):
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    node = rt.add_component(CooperativeFusion, name='fusion', parameters=params)
    got = {'fused': [], 'markers': []}
    rt.subscribe('/perception/fused_objects', ARRAY, got['fused'].append)
    rt.subscribe(
        '/perception/fused_markers', 'visualization_msgs/msg/MarkerArray', got['markers'].append
    )
    return rt, node, got


def _send(rt, kind, reps, stamp, at, frame='map'):
    rt.publish(TOPIC[kind], reports_to_msg(reps, stamp, frame), at_ns=at)


def _diag(node):
    return dict(node.ctx.diagnostics.key_values())


def test_stale_future_duplicate_reordered_are_counted_and_dropped():
    rt, node, got = _runtime()
    t = S
    good = _rep(SourceKind.ROADSIDE, 1, t, (10, 0), sid='rsu1')
    _send(rt, SourceKind.ROADSIDE, [good], t, t)
    _send(rt, SourceKind.ROADSIDE, [good], t, t + 1000)  # repeated: benign, counted
    clash = _rep(SourceKind.ROADSIDE, 1, t, (10.5, 0), sid='rsu1')
    _send(rt, SourceKind.ROADSIDE, [clash], t, t + 1500)  # duplicate: same stamp, other state
    _send(
        rt,
        SourceKind.ROADSIDE,
        [_rep(SourceKind.ROADSIDE, 1, t - S // 10, (9, 0), sid='rsu1')],
        t - S // 10,
        t + 2000,
    )  # reordered: older than what is stored
    _send(
        rt,
        SourceKind.ROADSIDE,
        [_rep(SourceKind.ROADSIDE, 2, t - S, (20, 0), sid='rsu1')],
        t - S,
        t + 3000,
    )  # stale
    _send(
        rt,
        SourceKind.ROADSIDE,
        [_rep(SourceKind.ROADSIDE, 3, t + S, (30, 0), sid='rsu1')],
        t + S,
        t + 4000,
    )  # future
    rt.run(until_ns=t + S // 5)
    d = _diag(node)
    assert d['rejected.duplicate'] == '1'
    assert d['repeated.roadside'] == '1'
    assert d['rejected.out_of_order'] == '1'
    assert d['rejected.stale'] == '1'
    assert d['rejected.future_stamp'] == '1'
    last = got['fused'][-1]
    assert [p.id for p in last.participants] == [1]
    p = last.participants[0]
    assert p.source == 7 and p.source_id == 'rsu:rsu1' and last.header.frame_id == 'map'
    assert math.isclose(p.position.x, 10.0)
    cov = np.asarray(p.covariance).reshape(4, 4)
    assert cov[0, 0] > 0.09  # RSU position sigma folded in (default 0.3 m) + time alignment


def test_misbehaving_excluded_unverified_by_policy():
    for policy, want_ids, counter in (
        ('exclude', 0, 'rejected.unverified'),
        ('downweight', 1, 'unverified_downweighted'),
        ('accept', 1, None),
    ):
        rt, node, got = _runtime(unverified_policy=policy)
        _send(rt, SourceKind.V2V, [_rep(SourceKind.V2V, 5, S, (0, 0), sid='0a', trust=3)], S, S)
        _send(rt, SourceKind.V2V, [_rep(SourceKind.V2V, 6, S, (40, 0), sid='0b', trust=2)], S, S)
        rt.run(until_ns=S + S // 10)
        d = _diag(node)
        assert d['rejected.misbehaving'] == '1'
        assert len(got['fused'][-1].participants) == want_ids, policy
        if counter:
            assert d[counter] == '1'
        if policy != 'exclude':
            p = got['fused'][-1].participants[0]
            assert p.trust == 2  # the fused object says where it came from
            var = np.asarray(p.covariance)[0]
            assert (var > 4 * 0.09) == (policy == 'downweight')


def test_bad_objects_frames_and_odometry_are_counted():
    rt, node, got = _runtime()
    bad = reports_to_msg([_rep(SourceKind.ROADSIDE, 1, S, (1, 1), sid='r')], S, 'map')
    bad.participants[0].position.x = math.nan
    rt.publish(TOPIC[SourceKind.ROADSIDE], bad, at_ns=S)
    _send(
        rt,
        SourceKind.ROADSIDE,
        [_rep(SourceKind.ROADSIDE, 2, S, (1, 1), sid='r')],
        S,
        S,
        frame='base_link',
    )  # a roadside list in a vehicle frame
    _send(
        rt, SourceKind.ONBOARD, [_rep(SourceKind.ONBOARD, 3, S, (5, 0))], S, S, frame='base_link'
    )  # no odometry yet
    odo = odometry_msg(SCENE, 1.0)
    odo.pose.pose.position.x = math.inf
    rt.publish(ODOM, odo, at_ns=S)
    rt.run(until_ns=S + S // 10)
    d = _diag(node)
    assert d['rejected.bad_object'] == '1'
    assert d['rejected.unknown_frame'] == '1'
    assert d['rejected.no_odometry'] == '1'
    assert d['rejected.bad_odometry'] == '1'
    assert got['fused'][-1].participants == []


def test_onboard_objects_in_base_link_land_in_the_map():
    rt, _node, got = _runtime(ego_suppress_radius_m=0.0)
    for k in range(60):
        rt.publish(ODOM, odometry_msg(SCENE, k * 0.02), at_ns=round(k * 0.02 * S))
    t = S
    ego = SCENE.ego(1.0)
    # an object 20 m ahead, 2 m left, standing still: relative velocity = -ego speed
    rep = _rep(SourceKind.ONBOARD, 4, t, (20.0, 2.0), v=(-6.0, 0.0))
    _send(rt, SourceKind.ONBOARD, [rep], t, t, frame='base_link')
    rt.run(until_ns=t + S // 10)
    p = got['fused'][-1].participants[0]
    assert math.isclose(p.position.x, ego[0] + 20.0, abs_tol=1e-6)
    assert math.isclose(p.position.y, ego[1] + 2.0, abs_tol=1e-6)
    assert abs(p.velocity.x) < 1e-6 and p.source_id == 'onboard'


def test_silent_source_ages_out_and_onboard_list_replaces():
    rt, node, got = _runtime(max_age_s=0.3)
    e = 1000  # messages arrive 1 us before the cycle at 0.1 s, 0.2 s, ...
    for k in range(1, 11):  # RSU reports object 1 for 1 s, then goes silent
        t = k * S // 10 - e
        _send(rt, SourceKind.ROADSIDE, [_rep(SourceKind.ROADSIDE, 1, t, (10, 0), sid='rsu1')], t, t)
    t1, t2 = S // 10 - e, S // 5 - e
    both = [_rep(SourceKind.ONBOARD, 7, t1, (30, 5)), _rep(SourceKind.ONBOARD, 8, t1, (30, -5))]
    _send(rt, SourceKind.ONBOARD, both, t1, t1)
    _send(rt, SourceKind.ONBOARD, [_rep(SourceKind.ONBOARD, 7, t2, (30, 5))], t2, t2)
    rt.run(until_ns=2 * S)
    by_time = {m.to_ns(msg.header.stamp): len(msg.participants) for msg in got['fused']}
    assert by_time[S // 10] == 3
    assert by_time[S // 5] == 2  # object 8 left the complete onboard list at once
    assert by_time[S] == 1  # onboard 7 is older than 0.3 s by then; RSU 1 still live
    assert all(n == 0 for t, n in by_time.items() if t >= S + 4 * S // 10)  # no ghosts
    assert int(_diag(node)['expired']) == 2
    assert int(_diag(node)['dropped_by_source']) == 1


def test_markers_carry_boxes_and_source_labels():
    rt, _node, got = _runtime()
    _send(rt, SourceKind.ROADSIDE, [_rep(SourceKind.ROADSIDE, 1, S, (10, 0), sid='rsu1')], S, S)
    _send(rt, SourceKind.V2V, [_rep(SourceKind.V2V, 1, S, (10.2, 0), sid='00000001')], S, S)
    rt.run(until_ns=S + S // 10)
    markers = got['markers'][-1].markers
    labels = [mk.text for mk in markers if mk.ns == 'fused_label']
    assert labels == ['1: rsu:rsu1+v2v:00000001']
    assert any(mk.ns == 'fused' and mk.type == 1 for mk in markers)


def test_ego_seen_by_the_rsu_is_not_output():
    rt, node, got = _runtime()
    for k in range(60):
        rt.publish(ODOM, odometry_msg(SCENE, k * 0.02), at_ns=round(k * 0.02 * S))
    ego = SCENE.ego(1.0)
    _send(
        rt, SourceKind.ROADSIDE, [_rep(SourceKind.ROADSIDE, 99, S, ego[:2] + 0.4, sid='rsu1')], S, S
    )
    rt.run(until_ns=S + S // 10)
    assert got['fused'][-1].participants == []
    assert _diag(node)['ego_suppressed'] == '1'


@pytest.mark.parametrize(
    'params',
    [{'method': 'kalman'}, {'gate_chi2': -1.0}, {'unverified_policy': 'maybe'}, {'rate_hz': 0.0}],
)
def test_bad_parameters_fail_at_start(params):
    with pytest.raises(ParameterError):
        _runtime(**params)


def test_a_flagged_rsu_object_is_banned_alone_a_flagged_bsm_sender_entirely():
    rt, node, got = _runtime()
    flagged = _rep(SourceKind.ROADSIDE, 1, S, (10, 0), sid='rsu1', trust=3)
    other = _rep(SourceKind.ROADSIDE, 2, S, (30, 5), sid='rsu1')
    _send(rt, SourceKind.ROADSIDE, [flagged, other], S, S)
    later = S + S // 10
    again = _rep(SourceKind.ROADSIDE, 1, later, (10.5, 0), sid='rsu1')  # plausible now: held
    _send(
        rt,
        SourceKind.ROADSIDE,
        [again, _rep(SourceKind.ROADSIDE, 2, later, (30, 5), sid='rsu1')],
        later,
        later,
    )
    _send(rt, SourceKind.V2V, [_rep(SourceKind.V2V, 7, S, (50, 0), sid='0c', trust=3)], S, S)
    _send(rt, SourceKind.V2V, [_rep(SourceKind.V2V, 7, later, (51, 0), sid='0c')], later, later)
    rt.run(until_ns=S + S // 5)
    d = _diag(node)
    assert d['rejected.misbehaving'] == '2'
    assert d['rejected.misbehaving_sender'] == '2'  # RSU object 1 and the BSM sender 0c
    assert [p.source_id for p in got['fused'][-1].participants] == ['rsu:rsu1']  # object 2 stays


def test_reports_beyond_the_relevance_region_are_left_out_and_kept():
    """With ``relevance_radius_m`` only reports near the ego are fused; the others are counted
    and stay stored, so they are fused again once the ego comes near (here: the radius grows)."""
    rt, node, got = _runtime(relevance_radius_m=50.0, ego_suppress_radius_m=0.0)
    for k in range(60):
        rt.publish(ODOM, odometry_msg(SCENE, k * 0.02), at_ns=round(k * 0.02 * S))
    ego = SCENE.ego(1.0)[:2]
    near = _rep(SourceKind.ROADSIDE, 1, S, ego + np.array([30.0, 0.0]), sid='rsu1')
    far = _rep(SourceKind.ROADSIDE, 2, S, ego + np.array([0.0, 80.0]), sid='rsu1')
    _send(rt, SourceKind.ROADSIDE, [near, far], S, S)
    rt.run(until_ns=S + S // 10)
    (only,) = got['fused'][-1].participants
    assert abs(only.position.x - near.state[0]) < 0.5 and abs(only.position.y - ego[1]) < 0.5
    assert _diag(node)['beyond_relevance'] == '1'
    assert len(node.store) == 2  # the far report stays stored
    node.relevance_radius_m = 100.0
    rt.run(until_ns=S + 2 * S // 10)
    ys = sorted(p.position.y - ego[1] for p in got['fused'][-1].participants)
    assert len(ys) == 2 and abs(ys[0]) < 0.5 and abs(ys[1] - 80.0) < 0.5


def test_relevance_region_without_odometry_fuses_everything():
    rt, node, got = _runtime(relevance_radius_m=10.0)
    _send(rt, SourceKind.ROADSIDE, [_rep(SourceKind.ROADSIDE, 1, S, (500, 0), sid='rsu1')], S, S)
    rt.run(until_ns=S + S // 10)
    assert len(got['fused'][-1].participants) == 1
    assert 'beyond_relevance' not in _diag(node)

"""Tracker on scripted trajectories: id switches, velocity and heading errors, life cycle."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perception_nodes.tracking import (
    DetectionSet,
    MeasurementError,
    MultiObjectTracker,
    TimeOrderError,
    TrackerConfig,
    TrackerConfigError,
    TrackStatus,
    imm,
)
from perception_nodes.tracking.tracker import Track, _track

DT = 0.1


def _dets(xy, cls=1, size=(4.5, 1.8, 1.5), yaw=None):
    xy = np.asarray(xy, float).reshape(-1, 2)
    n = len(xy)
    return DetectionSet(
        xyz_m=np.column_stack([xy, np.zeros(n)]),
        size_m=np.tile(size, (n, 1)),
        yaw_rad=np.zeros(n) if yaw is None else np.asarray(yaw, float),
        class_id=np.full(n, cls, np.uint8),
        confidence=np.full(n, 0.9, np.float32),
    )


def straight(t):
    return np.array([-30 + 12.0 * t, 2.0]), np.array([12.0, 0.0])


def turning(t, w=0.35, r=20.0):
    th = -np.pi / 2 + w * t
    pos = np.array([10 + r * np.cos(th), 20 + r * np.sin(th)])
    vel = r * w * np.array([-np.sin(th), np.cos(th)])
    return pos, vel


def crossing_a(t):
    return np.array([-20 + 8.0 * t, -20 + 8.0 * t]), np.array([8.0, 8.0])


def crossing_b(t):
    """Crosses crossing_a's path at the origin 0.25 s after it: 2 m apart at the closest."""
    return np.array([-22 + 8.0 * t, 22 - 8.0 * t]), np.array([8.0, -8.0])


def _run(trajectories, seconds, noise_m=0.15, seed=0, clutter=0):
    """Track truth + noise (+ uniform clutter); returns per-step (truth index -> track id)."""
    rng = np.random.default_rng(seed)
    tracker = MultiObjectTracker()
    history, errors = [], []
    for k in range(round(seconds / DT)):
        t = k * DT
        truth = [f(t) for f in trajectories]
        xy = np.array([p for p, _ in truth]) + rng.normal(0, noise_m, (len(truth), 2))
        if clutter:
            xy = np.vstack([xy, rng.uniform(-60, 60, (clutter, 2))])
        tracks = tracker.step(t, _dets(xy))
        assigned = {}
        for i, (pos, vel) in enumerate(truth):
            near = [tr for tr in tracks if np.hypot(tr.x_m - pos[0], tr.y_m - pos[1]) < 1.5]
            if near:
                tr = min(near, key=lambda tr: np.hypot(tr.x_m - pos[0], tr.y_m - pos[1]))
                assigned[i] = tr.track_id
                if t >= 2.0:
                    errors.append(
                        (
                            np.hypot(tr.vx_mps - vel[0], tr.vy_mps - vel[1]),
                            abs(
                                np.angle(np.exp(1j * (tr.heading_rad - np.arctan2(vel[1], vel[0]))))
                            ),
                        )
                    )
        history.append(assigned)
    return tracker, history, np.array(errors)


def _id_switches(history):
    switches, last = 0, {}
    for step in history:
        for i, tid in step.items():
            if i in last and last[i] != tid:
                switches += 1
            last[i] = tid
    return switches


def test_straight_target():
    tracker, history, err = _run([straight], 5.0)
    assert _id_switches(history) == 0
    assert all(0 in h for h in history[3:]), 'confirmed by the third hit'
    assert np.percentile(err[:, 0], 95) < 0.6
    assert np.percentile(err[:, 1], 95) < np.deg2rad(4)
    (track,) = tracker.tracks(5.0)
    assert track.ct_probability < 0.5  # the straight model explains it


def test_turning_target_uses_the_turn_model():
    rng = np.random.default_rng(0)
    tracker = MultiObjectTracker()
    rates, ct, errors = [], [], []
    for k in range(80):
        pos, vel = turning(k * DT)
        (tr,) = tracker.step(k * DT, _dets(pos + rng.normal(0, 0.15, 2))) or (None,)
        if k * DT >= 3.0:
            rates.append(tr.yaw_rate_rps)
            ct.append(tr.ct_probability)
            errors.append(np.hypot(tr.vx_mps - vel[0], tr.vy_mps - vel[1]))
    assert np.mean(rates) == pytest.approx(0.35, abs=0.05)
    assert np.mean(ct) > 0.5
    assert np.percentile(errors, 95) < 1.0
    _, history, err = _run([turning], 8.0)
    assert _id_switches(history) == 0
    assert np.percentile(err[:, 1], 95) < np.deg2rad(6)


def test_crossing_targets_keep_their_ids():
    _, history, err = _run([crossing_a, crossing_b, straight], 5.0)
    assert _id_switches(history) == 0
    assert all(len(h) == 3 for h in history[3:])
    assert np.percentile(err[:, 0], 95) < 1.0


def test_clutter_does_not_make_confirmed_tracks():
    tracker, history, _ = _run([straight, turning], 4.0, clutter=10, seed=3)
    assert _id_switches(history) == 0
    confirmed = [t for t in tracker.tracks(4.0) if t.status is TrackStatus.CONFIRMED]
    assert len(confirmed) == 2


def test_lost_track_coasts_then_is_dropped_and_ids_are_not_reused():
    tracker = MultiObjectTracker(TrackerConfig(max_coast_s=0.5))
    for k in range(10):
        tracker.step(k * DT, _dets([[10.0 * k * DT, 0.0]]))
    (tr,) = tracker.tracks(0.9)
    assert tr.status is TrackStatus.CONFIRMED
    tracks = tracker.step(1.0, _dets(np.zeros((0, 2))))
    assert [t.status for t in tracks] == [TrackStatus.LOST]
    assert tracks[0].x_m == pytest.approx(10.0, abs=0.5)  # coasting on its prediction
    # re-acquired while lost: same id, confirmed again
    tracks = tracker.step(1.1, _dets([[11.0, 0.0]]))
    assert [(t.track_id, t.status) for t in tracks] == [(tr.track_id, TrackStatus.CONFIRMED)]
    for k in range(12, 20):
        tracks = tracker.step(k * DT, _dets(np.zeros((0, 2))))
    assert tracks == [] and len(tracker) == 0
    tracker.step(2.0, _dets([[0.0, 0.0]]))
    assert tracker.tracks(2.0, include_tentative=True)[0].track_id > tr.track_id


def test_standing_object_heading_from_box_and_class_vote():
    tracker = MultiObjectTracker()
    for k in range(6):
        cls = 5 if k != 2 else 4
        tracks = tracker.step(k * DT, _dets([[5.0, 5.0]], cls=cls, size=(0.6, 0.5, 1.7), yaw=[0.4]))
    (tr,) = tracks
    assert tr.speed_mps < 1.0
    assert tr.heading_rad == pytest.approx(0.4, abs=1e-6)
    assert tr.object_class == 5 and 0.5 < tr.class_confidence <= 1.0
    assert tr.length_m == pytest.approx(0.6, abs=0.01)


def test_covariance_and_heading_variance_are_consistent():
    tracker, _, _ = _run([straight], 3.0)
    (tr,) = tracker.tracks(3.0)
    cov = tr.covariance
    assert cov.shape == (4, 4)
    np.testing.assert_allclose(cov, cov.T, atol=1e-12)
    assert np.linalg.eigvalsh(cov).min() > 0
    v2 = tr.vx_mps**2 + tr.vy_mps**2
    j = np.array([-tr.vy_mps, tr.vx_mps]) / v2
    assert tr.heading_variance == pytest.approx(j @ cov[2:, 2:] @ j, rel=1e-6)


def test_two_hundred_tracks():
    rng = np.random.default_rng(9)
    grid = np.stack(np.meshgrid(np.arange(20) * 8.0, np.arange(10) * 8.0), -1).reshape(-1, 2)
    vel = rng.normal(0, 3, (200, 2))
    tracker = MultiObjectTracker()
    for k in range(15):
        tracks = tracker.step(k * DT, _dets(grid + vel * k * DT + rng.normal(0, 0.1, (200, 2))))
    assert len(tracks) == 200
    assert len({t.track_id for t in tracks}) == 200
    assert tracker.next_id == 201  # no track was lost and reborn


def test_time_going_backwards_and_bad_detections_raise():
    tracker = MultiObjectTracker()
    tracker.step(1.0, _dets([[0, 0]]))
    with pytest.raises(TimeOrderError, match=r'0\.500 s are not newer than the last at 1\.000'):
        tracker.step(0.5, _dets([[0, 0]]))
    with pytest.raises(TimeOrderError):
        tracker.step(1.0, _dets([[0, 0]]))
    bad = _dets([[np.nan, 0.0]])
    with pytest.raises(MeasurementError, match='NaN'):
        tracker.step(1.1, bad)
    short = DetectionSet(np.zeros((2, 3)), np.zeros((1, 3)), np.zeros(2), np.zeros(2), np.zeros(2))
    with pytest.raises(MeasurementError, match='disagree'):
        tracker.step(1.2, short)
    # still working after the rejects
    tracker.step(1.3, _dets([[0.1, 0]]))
    (tr,) = tracker.tracks(1.3, include_tentative=True)
    assert tr.hits == 2 and tr.track_id == 1


def test_config_errors():
    with pytest.raises(TrackerConfigError, match='gate_chi2'):
        TrackerConfig(gate_chi2=-1)
    with pytest.raises(TrackerConfigError, match='confirm_hits'):
        TrackerConfig(confirm_hits=0)


@settings(max_examples=50, deadline=None)
@given(
    vx=st.floats(-30, 30),
    vy=st.floats(-30, 30),
    w=st.floats(-1, 1),
    dt=st.floats(0.01, 1.0),
    mode=st.floats(0.01, 0.99),
)
def test_imm_predict_update_keep_covariances_symmetric_positive(vx, vy, w, dt, mode):
    x, p, mu = imm.init_state(
        np.array([[1.0, 2.0]]), np.array([0.04]), 5.0, 0.3, mode_prior=(mode, 1 - mode)
    )
    x[:, :, 2], x[:, :, 3], x[:, :, 4] = vx, vy, w
    xp, pp, c = imm.predict(x, p, mu, dt, imm.ImmParams())
    assert c.sum() == pytest.approx(1.0)
    _, pu, mu2 = imm.update(
        xp, pp, c, np.array([[1.0 + vx * dt, 2.0 + vy * dt]]), np.array([np.eye(2) * 0.04])
    )
    assert mu2.sum() == pytest.approx(1.0)
    for cov in (pp[0, 0], pp[0, 1], pu[0, 0], pu[0, 1]):
        np.testing.assert_allclose(cov, cov.T, atol=1e-9 * max(1.0, np.abs(cov).max()))
        assert np.linalg.eigvalsh(cov).min() > -1e-9
    # a coordinated turn of zero rate is the straight line
    s = np.array([[0.0, 0.0, vx, vy, 0.0]])
    np.testing.assert_allclose(imm._ct_move(s, dt)[0, :2], [vx * dt, vy * dt], atol=1e-9)


def test_detection_variance_overrides_the_range_model():
    """A detection that brings its own position variance is weighted by it."""
    sharp, vague = MultiObjectTracker(), MultiObjectTracker()
    for tracker, var in ((sharp, 0.01**2), (vague, 3.0**2)):
        for k in range(5):
            det = _dets([[10.0, 0.0]])
            det = DetectionSet(
                det.xyz_m,
                det.size_m,
                det.yaw_rad,
                det.class_id,
                det.confidence,
                position_var_m2=np.array([var]),
            )
            tracker.step(k * DT, det)
    (a,) = sharp.tracks(0.4)
    (b,) = vague.tracks(0.4)
    assert a.covariance[0, 0] < 0.001 < b.covariance[0, 0]
    # not finite or not positive: the range model applies
    fallback = MultiObjectTracker()
    det = _dets([[10.0, 0.0]])
    fallback.step(
        0.0,
        DetectionSet(
            det.xyz_m,
            det.size_m,
            det.yaw_rad,
            det.class_id,
            det.confidence,
            position_var_m2=np.array([-1.0]),
        ),
    )
    (c,) = fallback.tracks(0.0, include_tentative=True)
    expected = (TrackerConfig().position_std_m + TrackerConfig().position_std_per_m * 10.0) ** 2
    assert c.covariance[0, 0] == pytest.approx(expected)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(*[st.floats(-50, 50)] * 4, st.one_of(st.just(0.0), st.floats(-2, 2))),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from([0.05, 0.1, 0.5]),
)
def test_stacked_ct_prediction_equals_the_separate_moves(states, dt):
    """The predict step moves the states and their omega-shifted copies in one stacked call:
    the same values, bit for bit, as ``_ct_move`` and ``_ct_jacobian`` one by one."""
    s = np.array(states)
    moved, jac = imm._ct_predict(s, dt)
    np.testing.assert_array_equal(moved, imm._ct_move(s, dt))
    np.testing.assert_array_equal(jac, imm._ct_jacobian(s, dt))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_step_output_is_the_tracks_of_the_state_it_leaves(seed):
    """``step`` builds its output from the combined estimate of the heading update, extended by
    the new rows and cut by the pruned ones: bit for bit what ``tracks`` computes afresh."""
    rng = np.random.default_rng(seed)
    tracker = MultiObjectTracker(TrackerConfig(confirm_hits=2, max_coast_s=0.3))
    truth = rng.uniform(-40, 40, (12, 2))
    vel = rng.normal(0, 6, (12, 2))
    for k in range(25):
        t = k * DT
        seen = rng.random(12) < 0.7  # misses: tracks go lost, coast and are pruned
        xy = truth[seen] + vel[seen] * t + rng.normal(0, 0.2, (int(seen.sum()), 2))
        clutter = rng.uniform(-40, 40, (rng.integers(0, 3), 2))  # tentative births and drops
        out = tracker.step(t, _dets(np.concatenate([xy, clutter]), yaw=None))
        again = tracker.tracks(t)
        assert [tr.track_id for tr in out] == [tr.track_id for tr in again]
        for a, b in zip(out, again, strict=True):
            assert a.covariance.tobytes() == b.covariance.tobytes()
            assert (a.x_m, a.y_m, a.vx_mps, a.vy_mps, a.yaw_rate_rps) == (
                b.x_m, b.y_m, b.vx_mps, b.vy_mps, b.yaw_rate_rps
            )  # fmt: skip


def test_tracks_built_from_values_are_the_dataclass():
    """``_track`` fills a Track's dict directly: the same fields, equality, repr and
    immutability as ``Track(...)``."""
    cov = np.eye(4)
    values = (7, TrackStatus.LOST, 1.0, 2.0, 0.5, 3.0, -1.0, 0.1, cov, 0.3, 0.01)
    values += (4.5, 1.8, 1.5, 1, 0.8, 12, 2.5, 0.2)
    built = _track(values)
    expected = Track(*values)
    assert built == expected
    assert repr(built) == repr(expected)
    assert vars(built).keys() == vars(expected).keys()
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.x_m = 0.0


def _looks(classes, confidences, size=(1.2, 0.8, 0.5)):
    """One standing object seen once per frame with the given class and confidence."""
    tracker = MultiObjectTracker()
    for k, (cls, conf) in enumerate(zip(classes, confidences, strict=True)):
        det = dataclasses.replace(
            _dets([[5.0, 5.0]], cls=cls, size=size), confidence=np.array([conf], np.float32)
        )
        tracks = tracker.step(k * DT, det)
    (tr,) = tracks
    return tr


def test_class_vote_counts_unknown_looks():
    """Regression: an UNKNOWN detection voted with the score of the class it was refused for,
    mostly 0, so one CAR look outvoted any number of UNKNOWN ones for the track's whole life,
    and a track seen only as UNKNOWN published class confidence 0."""
    # once a car (a passing car merged with the debris), then 9 looks that fit no class
    tr = _looks([1] + [0] * 9, [0.9] + [0.0] * 9)
    assert tr.object_class == 0 and tr.class_confidence > 0.8
    # the other order: the last look alone does not make it a car either
    tr = _looks([0] * 9 + [1], [0.0] * 9 + [0.9])
    assert tr.object_class == 0 and tr.class_confidence > 0.8
    # seen only as UNKNOWN: sure of that, whatever the refused class's score was
    for score in (0.0, 0.2):
        tr = _looks([0] * 5, [score] * 5)
        assert tr.object_class == 0 and tr.class_confidence == pytest.approx(1.0)
    # a box nearly a cyclist (0.29) counts less as UNKNOWN than one that fits nothing (0.0)
    near = _looks([4, 4, 0, 0], [0.5, 0.5, 0.29, 0.29])
    none = _looks([4, 4, 0, 0], [0.5, 0.5, 0.0, 0.0])
    assert near.object_class == 0 and none.object_class == 0
    assert near.class_confidence < none.class_confidence


def test_class_vote_keeps_a_car_seen_in_part_now_and_then():
    """A car whose box is UNKNOWN in a few frames (occluded, cut by the scan) stays a car."""
    looks = [1, 1, 0, 1, 1, 1, 0, 1, 1, 1]
    tr = _looks(looks, [0.0 if c == 0 else 0.9 for c in looks], size=(4.5, 1.8, 1.5))
    assert tr.object_class == 1 and 0.6 < tr.class_confidence < 0.9

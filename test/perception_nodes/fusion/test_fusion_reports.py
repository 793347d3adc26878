"""Participant → report: covariance priors for unknown blocks, bad input, fuzzing, round trip."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perception_nodes.fusion.conversions import reports_to_msg
from perception_nodes.fusion.errors import ObjectInputError
from perception_nodes.fusion.reports import (
    CovariancePriors,
    ObjectReport,
    SourceKind,
    class_group,
    report_from_participant,
    reports_from_participants,
    scale_covariances,
    usable_covariance,
)
from v2x_runtime import messages as m

PRIORS = CovariancePriors(position_sigma_m=1.0, velocity_sigma_mps=5.0)


def _part(**fields):
    base = dict(
        header=m.header(7, 'map'),
        id=3,
        source_id='rsu1',
        position=m.new('geometry_msgs/msg/Point', x=1.0, y=2.0),
        covariance=np.diag([0.04, 0.04, 0.25, 0.25]).ravel(),
        confidence=0.8,
    )
    base.update(fields)
    return m.new('v2x_stack/msg/Participant', **base)


def test_unknown_velocity_and_position_take_the_priors():
    cov = usable_covariance(np.diag([0.04, 0.04, -1, -1]).ravel(), PRIORS, 'x')
    assert np.allclose(np.diag(cov), [0.04, 0.04, 25.0, 25.0])
    cov = usable_covariance(np.diag([-1.0, -1, -1, -1]).ravel(), PRIORS, 'x')
    assert np.allclose(np.diag(cov), [1.0, 1.0, 25.0, 25.0])
    cov = usable_covariance(np.zeros(16), PRIORS, 'x')  # zero: floored, never singular
    assert (np.linalg.eigvalsh(cov) > 0).all()


def test_bad_covariances_and_values_are_refused_with_the_object_named():
    with pytest.raises(ObjectInputError, match='rsu1/3.*non-finite'):
        report_from_participant(
            _part(position=m.new('geometry_msgs/msg/Point', x=math.nan)),
            SourceKind.ROADSIDE,
            PRIORS,
            0,
        )
    bad = np.diag([0.04, 0.04, 0.25, 0.25])
    bad[0, 1] = bad[1, 0] = 1.0  # correlation beyond 1
    with pytest.raises(ObjectInputError, match='positive semi-definite'):
        report_from_participant(_part(covariance=bad.ravel()), SourceKind.ROADSIDE, PRIORS, 0)
    inf = np.diag([0.04, 0.04, 0.25, 0.25]).ravel()
    inf[5] = math.inf
    with pytest.raises(ObjectInputError, match='covariance has non-finite'):
        report_from_participant(_part(covariance=inf), SourceKind.ROADSIDE, PRIORS, 0)


def test_stamp_falls_back_to_the_array_stamp_and_groups():
    r = report_from_participant(_part(header=m.header(0, 'map')), SourceKind.ROADSIDE, PRIORS, 99)
    assert r.stamp_ns == 99 and r.group == (1, 'rsu1') and r.key == (1, 'rsu1', 3)
    v = report_from_participant(_part(), SourceKind.V2V, PRIORS, 0)
    assert v.group == (2, '')  # every BSM sender describes only itself: one group


def test_class_groups():
    assert [class_group(c) for c in range(8)] == [0, 1, 1, 1, 2, 2, 0, 1]


def test_round_trip_through_cdr():
    rep = ObjectReport(
        SourceKind.ROADSIDE,
        'rsu9',
        12,
        1_500_000_000,
        np.array([1.0, -2.0, 3.0, 0.5]),
        np.diag([0.1, 0.2, 0.3, 0.4]),
        5,
        (0.5, 0.5, 1.7),
        0.3,
        0.01,
        0.7,
        1,
    )
    msg = m.deserialize(
        m.serialize(reports_to_msg([rep], rep.stamp_ns, 'map')), 'v2x_stack/msg/ParticipantArray'
    )
    back = report_from_participant(msg.participants[0], SourceKind.ROADSIDE, PRIORS, 0)
    assert back.key == rep.key and back.stamp_ns == rep.stamp_ns
    assert np.allclose(back.state, rep.state) and np.allclose(back.cov, rep.cov)
    assert (back.participant_class, back.size_m, back.trust) == (5, (0.5, 0.5, 1.7), 1)
    assert math.isclose(back.confidence, 0.7, rel_tol=1e-6)


floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=300, deadline=None)
@given(st.lists(floats, min_size=16, max_size=16), floats, floats, floats, floats, floats)
def test_fuzz_any_participant_gives_a_report_or_a_clear_error(cov, x, vx, conf, head, sx):
    p = _part(
        covariance=np.array(cov),
        position=m.new('geometry_msgs/msg/Point', x=x, y=1.0),
        velocity=m.new('geometry_msgs/msg/Vector3', x=vx),
        confidence=conf,
        heading_rad=head,
        size=m.new('geometry_msgs/msg/Vector3', x=sx, y=1.0, z=1.0),
    )
    try:
        r = report_from_participant(p, SourceKind.ROADSIDE, PRIORS, 0)
    except ObjectInputError:
        return
    assert np.isfinite(r.state).all() and np.isfinite(r.cov).all()
    assert np.linalg.eigvalsh(r.cov).min() > 0
    assert 0.0 <= r.confidence <= 1.0
    assert all(math.isfinite(v) and v >= 0 for v in r.size_m)


def test_a_batch_converts_each_participant_as_one_alone_would():
    bad = np.diag([0.04, 0.04, 0.25, 0.25])
    bad[0, 1] = bad[1, 0] = 1.0
    inf = np.diag([0.04, 0.04, 0.25, 0.25]).ravel()
    inf[5] = math.inf
    parts = [
        _part(id=1),
        _part(id=2, covariance=bad.ravel()),
        _part(id=3, covariance=np.diag([-1.0, -1, 0.5, 0.5]).ravel()),
        _part(id=4, position=m.new('geometry_msgs/msg/Point', x=math.nan)),
        _part(id=5, covariance=inf),
        _part(id=6, covariance=np.zeros(16), confidence=3.0),
    ]
    batch = reports_from_participants(parts, SourceKind.ROADSIDE, PRIORS, 11)
    assert [isinstance(r, ObjectInputError) for r in batch] == [0, 1, 0, 1, 1, 0]
    for p, r in zip(parts, batch, strict=True):
        try:
            alone = report_from_participant(p, SourceKind.ROADSIDE, PRIORS, 11)
        except ObjectInputError as err:
            assert str(err) == str(r)
            continue
        assert np.array_equal(alone.cov, r.cov) and np.array_equal(alone.state, r.state)
        assert (alone.key, alone.confidence) == (r.key, r.confidence)
    scaled = reports_from_participants(
        parts[:1], SourceKind.V2V, PRIORS, 0, cov_scale=np.array([4.0]), position_var_m2=0.25
    )[0]
    assert np.allclose(np.diag(scaled.cov), [4 * 0.04 + 0.25, 4 * 0.04 + 0.25, 1.0, 1.0])
    assert reports_from_participants([], SourceKind.V2V, PRIORS, 0) == []


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(0, 6),
    seed=st.integers(0, 2**16),
    scaled=st.booleans(),
    var=st.sampled_from([0.0, 0.09, 0.25]),
)
def test_scale_covariances_is_scale_then_position_variance(n, seed, scaled, var):
    """The cache and the uncached path share this: times the row's scale (1.0 or none: the
    row as it is), then ``var`` on the x and y variances, nothing else touched."""
    rng = np.random.default_rng(seed)
    covs = rng.uniform(-2.0, 2.0, (n, 4, 4))
    scale = rng.choice([1.0, 4.0, 0.5], n) if scaled else None
    want = covs * (np.ones(n) if scale is None else scale)[:, None, None]
    want[:, [0, 1], [0, 1]] += var
    scale_covariances(covs, scale, var)
    assert np.array_equal(covs, want)

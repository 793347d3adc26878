"""The fusion's fast paths give the same bits as the plain formulations they replace.

Each test holds the plain formulation (the former code, or np.linalg / m.new) next to the fast
one on generated input: the covariance cache, the constant-velocity prediction through strided
views, the gating on candidate pairs only, the batched inverse, the fused objects built with
the message classes, the pose buffer's coverage test, and the trust fast path of the component
(the markers: test_perception_markers).
"""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from perception_nodes.fusion import association
from perception_nodes.fusion.association import INFEASIBLE, gated_costs, position_distances
from perception_nodes.fusion.component import CooperativeFusion
from perception_nodes.fusion.conversions import fused_to_msg, sources_label
from perception_nodes.fusion.engine import FusionConfig, FusionEngine
from perception_nodes.fusion.errors import ObjectInputError
from perception_nodes.fusion.frames import EgoPose, PoseBuffer, _pose_from_odometry
from perception_nodes.fusion.intersection import FusionMethod, fuse_pairs
from perception_nodes.fusion.motion import predict_cv
from perception_nodes.fusion.reports import (
    TRUST_UNVERIFIED,
    CovarianceCache,
    CovariancePriors,
    ObjectReport,
    SourceKind,
    reports_from_participants,
    usable_covariances,
)
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

PRIORS = CovariancePriors(position_sigma_m=1.0, velocity_sigma_mps=5.0)
NS = 1_000_000_000

# a few quantised accuracies (as a codec makes them) plus unknown blocks and broken rows
_ROWS = [
    np.diag([0.04, 0.04, 0.25, 0.25]).ravel(),
    np.diag([-1.0, -1.0, 0.5, 0.5]).ravel(),
    np.diag([0.3, 0.3, -1.0, -1.0]).ravel(),
    np.zeros(16),
    np.array([1.0, 2.0, 0, 0, 2.0, 1.0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),  # not PSD
    np.full(16, math.nan),
    np.diag([1e11, 1.0, 1.0, 1.0]).ravel(),
]


def _part(i: int, cov: np.ndarray, trust: int = 0, x: float = 1.0) -> object:
    return m.new(
        'v2x_stack/msg/Participant',
        header=m.header(7 * NS, 'map'),
        id=i,
        source_id='rsu1',
        participant_class=1,
        position=m.new('geometry_msgs/msg/Point', x=x, y=-2.0),
        velocity=m.new('geometry_msgs/msg/Vector3', x=3.0, y=0.5),
        covariance=np.asarray(cov, dtype=float),
        trust=trust,
        confidence=0.7,
    )


@settings(max_examples=60, deadline=None)
@given(
    picks=st.lists(st.integers(0, len(_ROWS) - 1), min_size=1, max_size=12),
    scales=st.lists(st.sampled_from([1.0, 4.0]), min_size=12, max_size=12),
    var=st.sampled_from([0.0, 0.09, 0.25]),
    max_rows=st.integers(1, 8),
)
def test_covariance_cache_gives_the_batched_check_bit_for_bit(picks, scales, var, max_rows):
    cache = CovarianceCache(PRIORS, max_rows=max_rows)
    calls = [picks, picks, picks[: len(picks) // 2], [*picks[::-1], 1, 2, 3]]
    biggest = 0
    for call in calls:  # first sight, remembered, partly known (or forgotten when full)
        raw = [_ROWS[i] for i in call]
        scale = np.array((scales * 2)[: len(raw)])
        covs, errors = cache.usable(raw, scale, var)
        biggest = max(biggest, len(set(zip(call, scale.tolist(), strict=True))))
        assert len(cache) <= max(max_rows, biggest)  # one array's rows are kept whole
        plain, plain_errors = usable_covariances(np.array(raw), PRIORS)
        scaled = np.flatnonzero(scale != 1.0)
        plain[scaled] = plain[scaled] * scale[scaled, None, None]
        if var > 0:
            plain[:, 0, 0] += var
            plain[:, 1, 1] += var
        assert errors == plain_errors
        for c, p, e in zip(covs, plain, errors, strict=True):
            assert e is not None or np.array_equal(c, p)
            assert not c.flags.writeable  # shared by reports: nobody may change it


def test_reports_are_the_same_with_and_without_the_cache():
    parts = [_part(i, _ROWS[i % len(_ROWS)], trust=i % 3) for i in range(14)]
    parts.append(_part(99, _ROWS[0], x=math.inf))
    parts.append(_part(98, _ROWS[0], x=2e7))
    scale = np.where([p.trust == TRUST_UNVERIFIED for p in parts], 4.0, 1.0)
    cache = CovarianceCache(PRIORS)
    for _ in range(2):
        fast = reports_from_participants(
            parts,
            SourceKind.ROADSIDE,
            PRIORS,
            5,
            cov_scale=scale,
            position_var_m2=0.09,
            cache=cache,
        )
        plain = reports_from_participants(
            parts, SourceKind.ROADSIDE, PRIORS, 5, cov_scale=scale, position_var_m2=0.09
        )
        for a, b in zip(fast, plain, strict=True):
            if isinstance(b, ObjectReport):
                assert isinstance(a, ObjectReport) and a.key == b.key
                assert np.array_equal(a.state, b.state) and np.array_equal(a.cov, b.cov)
            else:
                assert str(a) == str(b)


def _predict_plain(x, p, dt_s, accel):
    """predict_cv as first written: one statement per entry of Q."""
    n = x.shape[0]
    dt = np.asarray(dt_s, dtype=float).reshape(n)
    q = np.broadcast_to(np.asarray(accel, dtype=float) ** 2, (n,))
    xp = x.copy()
    xp[:, 0] += dt * x[:, 2]
    xp[:, 1] += dt * x[:, 3]
    pp = p.copy()
    d = dt[:, None, None]
    pp[:, :2, :] += d * p[:, 2:, :]
    pp[:, :, :2] += d * pp[:, :, 2:]
    adt = np.abs(dt)
    q11, q12, q22 = q * adt**3 / 3.0, q * adt**2 / 2.0, q * adt
    for i in range(2):
        pp[:, i, i] += q11
        pp[:, i, i + 2] += q12
        pp[:, i + 2, i] += q12
        pp[:, i + 2, i + 2] += q22
    return xp, pp


def _random_covs(rng, n):
    a = rng.normal(size=(n, 4, 4))
    return a @ np.swapaxes(a, 1, 2) + 0.01 * np.eye(4)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 12), seed=st.integers(0, 2**31), per_object=st.booleans())
def test_prediction_through_strided_views_is_the_plain_one(n, seed, per_object):
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=50, size=(n, 4))
    p = _random_covs(rng, n)
    dt = rng.uniform(-0.5, 1.0, size=n)
    accel = rng.uniform(0.1, 3.0, size=n) if per_object else 2.0
    fast = predict_cv(x, p, dt, accel)
    plain = _predict_plain(x, p, dt, accel)
    assert np.array_equal(fast[0], plain[0]) and np.array_equal(fast[1], plain[1])


@settings(max_examples=60, deadline=None)
@given(na=st.integers(0, 9), nb=st.integers(0, 9), seed=st.integers(0, 2**31))
def test_gating_on_candidate_pairs_is_the_full_matrix(na, nb, seed):
    rng = np.random.default_rng(seed)
    xa, xb = rng.uniform(-8, 8, size=(na, 4)), rng.uniform(-8, 8, size=(nb, 4))
    pa, pb = _random_covs(rng, na), _random_covs(rng, nb)
    ga, gb = rng.integers(0, 3, size=na), rng.integers(0, 3, size=nb)
    cost = gated_costs((xa, pa, ga), (xb, pb, gb), gate_chi2=13.8, gate_max_m=6.0)
    d2, logdet = position_distances(xa, pa, xb, pb)
    dx = xb[None, :, 0] - xa[:, None, 0]
    dy = xb[None, :, 1] - xa[:, None, 1]
    classes = (ga[:, None] == gb[None, :]) | (ga[:, None] == 0) | (gb[None, :] == 0)
    ok = (dx * dx + dy * dy <= 36.0) & (d2 <= 13.8) & classes
    assert np.array_equal(cost, np.where(ok, d2 + logdet, INFEASIBLE))


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 10), seed=st.integers(0, 2**31))
def test_one_batched_inverse_is_two(k, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(k, 4)), rng.normal(size=(k, 4))
    pa, pb = _random_covs(rng, k), _random_covs(rng, k)
    x, p, _ = fuse_pairs(a, pa, b, pb, FusionMethod.INDEPENDENT)
    ia, ib = np.linalg.inv(pa), np.linalg.inv(pb)
    plain_p = np.linalg.inv(ia + ib)
    plain_p = 0.5 * (plain_p + np.swapaxes(plain_p, -1, -2))
    assert np.array_equal(p, plain_p)
    plain_x = np.einsum(
        'kij,kj->ki', plain_p, np.einsum('kij,kj->ki', ia, a) + np.einsum('kij,kj->ki', ib, b)
    )
    assert np.array_equal(x, plain_x)


def _fused_plain(objects, stamp_ns, frame_id):
    """fused_to_msg written with m.new and keywords (it constructs positionally)."""
    header = m.header(stamp_ns, frame_id)
    parts = []
    for o in objects:
        x, y, vx, vy = o.state.tolist()
        parts.append(
            m.new(
                'v2x_stack/msg/Participant',
                header=header,
                id=o.fused_id,
                participant_class=o.participant_class,
                source=7,
                source_id=sources_label(o),
                trust=o.trust,
                position=m.new('geometry_msgs/msg/Point', x=x, y=y),
                latitude_deg=math.nan,
                longitude_deg=math.nan,
                altitude_m=math.nan,
                heading_rad=float(o.heading_rad),
                velocity=m.new('geometry_msgs/msg/Vector3', x=vx, y=vy),
                size=m.new(
                    'geometry_msgs/msg/Vector3', x=o.size_m[0], y=o.size_m[1], z=o.size_m[2]
                ),
                covariance=o.cov.ravel(),
                heading_variance=float(o.heading_variance),
                confidence=float(o.confidence),
            )
        )
    return m.new('v2x_stack/msg/ParticipantArray', header=header, participants=parts)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 8), seed=st.integers(0, 2**31))
def test_fused_objects_built_with_the_classes_serialise_as_with_m_new(n, seed):
    rng = np.random.default_rng(seed)
    reports = [
        ObjectReport(
            SourceKind(int(rng.integers(0, 3))),
            'rsu1',
            i + 1,
            5 * NS,
            np.concatenate([rng.uniform(-50, 50, 2), rng.normal(0, 2, 2)]),
            np.eye(4) * 0.2,
            int(rng.integers(0, 8)),
            (float(rng.uniform(0, 5)), 1.8, float(rng.choice([0.0, 1.5, 3.0]))),
            float(rng.choice([math.nan, 0.3])),
            0.01,
            0.9,
            1,
        )
        for i in range(n)
    ]
    fused = FusionEngine(FusionConfig()).fuse(reports, 5 * NS)
    msg = fused_to_msg(fused, 5 * NS, 'map')
    assert m.serialize(msg) == m.serialize(_fused_plain(fused, 5 * NS, 'map'))


def _pose(stamp_ns):
    x = stamp_ns * 1e-9  # each pose its own place: which one was taken shows
    return EgoPose(stamp_ns, x, 2.0 * x, 0.1, 5.0, 0.0, 0.01, np.eye(3) * 1e-4, np.eye(2) * 1e-4)


@settings(max_examples=60, deadline=None)
@given(
    stamps=st.lists(st.integers(0, 3 * NS), max_size=6, unique=True),
    query=st.integers(-NS, 4 * NS),
)
def test_pose_buffer_covers_exactly_where_lookup_finds_a_pose(stamps, query):
    buf = PoseBuffer(horizon_s=10.0, max_gap_s=0.25)
    for s in stamps:
        buf.add(_pose(s))
    try:
        found = buf.lookup(query)
    except Exception:
        found = None
    assert buf.covers(query) == (found is not None)
    if found is not None:  # the nearest pose, the earlier one on a tie
        nearest = min(sorted(stamps), key=lambda s: abs(s - query))
        want = _pose(nearest).at(query)
        assert (found.x_m, found.y_m, found.yaw_rad) == (want.x_m, want.y_m, want.yaw_rad)


def test_component_trust_fast_path_matches_the_per_participant_rules():
    """Arrays with nothing to drop take the fast path; the same array with one misbehaving
    participant takes the rules: the remaining reports are converted the same way."""
    parts = [_part(i, _ROWS[i % 3], trust=(0, 1, 2)[i % 3], x=10.0 * i) for i in range(6)]
    stores = []
    for flagged in (False, True):
        rt = EmbeddedRuntime(diagnostics_period_s=0, start_ns=7 * NS)
        node = rt.add_component(CooperativeFusion, name='fusion')
        arr = list(parts)
        if flagged:
            arr.append(_part(50, _ROWS[0], trust=3, x=500.0))
        node.on_objects(
            m.new(
                'v2x_stack/msg/ParticipantArray', header=m.header(7 * NS, 'map'), participants=arr
            ),
            SourceKind.V2V,
        )
        stores.append(
            {r.key: r for r in node.store.reports()}
            | {'counters': dict(node.ctx.diagnostics.counters)}
        )
    plain, ruled = stores
    assert ruled['counters']['rejected.misbehaving'] == 1
    for key, r in plain.items():
        if key == 'counters':
            continue
        assert np.array_equal(r.cov, ruled[key].cov) and np.array_equal(r.state, ruled[key].state)
    assert plain['counters']['unverified_downweighted'] == 2


def test_assembled_records_are_the_constructed_ones():
    """Reports and fused objects from the hot loops (made by ``assemble``) equal what their
    constructors make from the same values: every field set, nothing else, still frozen."""
    parts = [_part(i, _ROWS[0], x=10.0 * i) for i in range(3)]
    reports = reports_from_participants(parts, SourceKind.V2V, PRIORS, 5)
    fused = FusionEngine(FusionConfig()).fuse(reports, 7 * NS)
    for made in [*reports, *fused]:
        cls = type(made)
        names = [f.name for f in dataclasses.fields(cls)]
        built = cls(**{n: getattr(made, n) for n in names})
        # ObjectReport's cached properties (key and group set by the conversion itself)
        cached = {'key', 'group', 'class_group', 'one_source'}
        assert [k for k in vars(made) if k not in cached] == names == list(vars(built))
        for prop in cached & set(vars(made)):  # the values their first read makes
            assert vars(made)[prop] == getattr(built, prop)
        assert repr(made) == repr(built)
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.confidence = 0.0


@settings(max_examples=80, deadline=None)
@given(
    na=st.integers(1, 12),
    nb=st.integers(1, 12),
    seed=st.integers(0, 2**31),
    spread=st.sampled_from([2.0, 8.0, 30.0]),
    degenerate=st.booleans(),
)
def test_gating_on_python_floats_is_the_array_form_bit_for_bit(na, nb, seed, spread, degenerate):
    rng = np.random.default_rng(seed)
    xa, xb = rng.uniform(-spread, spread, size=(na, 4)), rng.uniform(-spread, spread, size=(nb, 4))
    pa, pb = _random_covs(rng, na), _random_covs(rng, nb)
    if degenerate:  # singular and non-finite S: the determinant floor and NaN on both paths
        pa[0, :2, :2] = 0.0
        pb[0, :2, :2] = 0.0
        pb[-1, 0, 1] = math.nan
    ga, gb = rng.integers(0, 3, size=na), rng.integers(0, 3, size=nb)
    args = ((xa, pa, ga), (xb, pb, gb))
    few = gated_costs(*args, gate_chi2=13.8, gate_max_m=6.0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(association, 'SCALAR_PAIRS', 0)
        array = gated_costs(*args, gate_chi2=13.8, gate_max_m=6.0)
    assert few.shape == array.shape == (na, nb)
    assert few.tobytes() == array.tobytes()


def _pose_plain(msg):
    """``frames._pose_from_odometry`` as it was: the covariance blocks through the arrays."""
    pose, twist = msg.pose.pose, msg.twist.twist
    q = pose.orientation
    yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
    vals = (pose.position.x, pose.position.y, yaw, twist.linear.x, twist.linear.y, twist.angular.z)
    if not all(math.isfinite(v) for v in vals):
        raise ObjectInputError('non-finite')
    pc = np.asarray(msg.pose.covariance, dtype=float).reshape(6, 6)
    tc = np.asarray(msg.twist.covariance, dtype=float).reshape(6, 6)
    pose_cov = pc[np.ix_([0, 1, 5], [0, 1, 5])]
    vel_cov = tc[:2, :2].copy()
    for i, floor in enumerate((1e-6, 1e-6, 1e-8)):
        v = pose_cov[i, i]
        pose_cov[i, i] = v if math.isfinite(v) and v > 0.0 else floor
    for i in range(2):
        v = vel_cov[i, i]
        vel_cov[i, i] = v if math.isfinite(v) and v > 0.0 else 1e-6
    if not (np.isfinite(pose_cov).all() and np.isfinite(vel_cov).all()):
        raise ObjectInputError('odometry covariance: non-finite entries')
    return (m.to_ns(msg.header.stamp), *vals), pose_cov, vel_cov


_ODD = [math.nan, math.inf, -1.0, 0.0, -0.0, 1e-12]


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**31), odd=st.lists(st.tuples(st.integers(0, 35), st.sampled_from(_ODD)))
)
def test_odometry_pose_read_as_floats_is_the_array_form(seed, odd):
    rng = np.random.default_rng(seed)
    pose_cov, twist_cov = rng.normal(0.0, 0.5, 36), rng.normal(0.0, 0.5, 36)
    for i, v in odd:
        (pose_cov if i % 2 else twist_cov)[i] = v
    yaw = float(rng.uniform(-3, 3))
    msg = m.new(
        'nav_msgs/msg/Odometry',
        header=m.header(int(rng.integers(0, 10**12)), 'map'),
        pose=m.new(
            'geometry_msgs/msg/PoseWithCovariance',
            pose=m.new(
                'geometry_msgs/msg/Pose',
                position=m.new('geometry_msgs/msg/Point', x=float(rng.normal(0, 100)), y=1.5),
                orientation=m.new(
                    'geometry_msgs/msg/Quaternion', z=math.sin(yaw / 2), w=math.cos(yaw / 2)
                ),
            ),
            covariance=pose_cov,
        ),
        twist=m.new(
            'geometry_msgs/msg/TwistWithCovariance',
            twist=m.new(
                'geometry_msgs/msg/Twist',
                linear=m.new('geometry_msgs/msg/Vector3', x=float(rng.normal(0, 10)), y=0.2),
                angular=m.new('geometry_msgs/msg/Vector3', z=float(rng.normal(0, 0.3))),
            ),
            covariance=twist_cov,
        ),
    )
    try:
        plain = _pose_plain(msg)
    except ObjectInputError:
        with pytest.raises(ObjectInputError):
            _pose_from_odometry(msg)
        return
    got = _pose_from_odometry(msg)
    values = (got.stamp_ns, got.x_m, got.y_m, got.yaw_rad, got.vx_body_mps, got.vy_body_mps,
              got.yaw_rate_rps)  # fmt: skip
    assert values == plain[0]
    assert got.pose_cov.tobytes() == plain[1].tobytes() and got.pose_cov.shape == (3, 3)
    assert got.vel_cov.tobytes() == plain[2].tobytes() and got.vel_cov.shape == (2, 2)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 9), seed=st.integers(0, 2**31))
def test_alignment_of_a_few_reports_on_floats_is_the_plain_prediction(n, seed):
    """``FusionEngine._align`` predicts up to ``SCALAR_ROWS`` reports on Python floats
    (``predict_few``, the manoeuvre variances squared once): the bits of the plain array
    prediction with each report's class noise."""
    rng = np.random.default_rng(seed)
    config = FusionConfig(accel_sigma_vehicle_mps2=float(rng.uniform(0.1, 5.0)))
    now = 5 * NS
    reports = [
        ObjectReport(
            SourceKind.ROADSIDE,
            'rsu1',
            i + 1,
            now - int(rng.integers(-NS // 2, NS)),
            np.concatenate([rng.uniform(-50, 50, 2), rng.normal(0, 2, 2)]),
            _random_covs(rng, 1)[0],
            int(rng.choice([0, 1, 4, 5])),
            (4.0, 1.8, 1.5),
            0.3,
            0.01,
            0.9,
            1,
        )
        for i in range(n)
    ]
    groups = np.array([r.class_group for r in reports], dtype=np.int64)
    xs, ps = FusionEngine(config)._align(reports, groups, {}, now)
    accel = np.where(groups == 2, config.accel_sigma_vru_mps2, config.accel_sigma_vehicle_mps2)
    plain = _predict_plain(
        np.array([r.state for r in reports]),
        np.array([r.cov for r in reports]),
        np.array([(now - r.stamp_ns) * 1e-9 for r in reports]),
        accel,
    )
    assert np.array_equal(xs, plain[0]) and np.array_equal(ps, plain[1])


def _assign_plain(cost):
    """``association.assign`` as it was: the solver for every matrix."""
    if cost.size == 0 or cost.min() >= INFEASIBLE:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows, cols = linear_sum_assignment(cost)
    good = cost[rows, cols] < INFEASIBLE
    return rows[good].astype(np.int64), cols[good].astype(np.int64)


_COSTS = st.one_of(
    st.just(INFEASIBLE),
    st.just(INFEASIBLE),
    st.floats(-40.0, 60.0),
    st.sampled_from([0.0, -0.0, 2e6, 9.9e8, INFEASIBLE * 2, math.inf, -math.inf, math.nan]),
)


@settings(max_examples=400, deadline=None)
@given(
    st.tuples(st.integers(1, 10), st.integers(1, 10)).flatmap(
        lambda ab: st.lists(_COSTS, min_size=ab[0] * ab[1], max_size=ab[0] * ab[1]).map(
            lambda v: np.array(v).reshape(ab)
        )
    )
)
def test_assignment_without_conflicts_is_the_solvers(cost):
    """Matrices whose feasible pairs share no row and no column are read, not solved: the
    pairs, order and dtype the solver gives (other matrices, and odd entries, go to it)."""
    try:
        want = _assign_plain(cost)
    except ValueError as err:  # NaN, -inf, nothing feasible to assign: the same refusal
        with pytest.raises(ValueError, match=str(err)[:20]):
            association.assign(cost)
        return
    got = association.assign(cost)
    for w, g in zip(want, got, strict=True):
        assert g.dtype == w.dtype and np.array_equal(g, w)

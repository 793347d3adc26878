"""Reports shared by a process's fusions (``fusion/shared.py``) are the reports each would make.

The cache hands out the report made the first time a Participant message was converted: it
must equal a fresh conversion whatever the settings, hand the same object only to the same
message and settings, follow the array stamp only for a participant stamped 0, and two
components of one runtime fed the same messages must publish what each publishes alone.
"""

import dataclasses
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from perception_nodes.fusion.component import CooperativeFusion
from perception_nodes.fusion.errors import ObjectInputError
from perception_nodes.fusion.reports import (
    CovarianceCache,
    CovariancePriors,
    ObjectReport,
    SourceKind,
    reports_from_participants,
)
from perception_nodes.fusion.shared import SHARED_REPORTS, SharedReports
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

PRIORS = CovariancePriors(position_sigma_m=1.0, velocity_sigma_mps=5.0)
NS = 1_000_000_000
_COVS = [
    np.diag([0.04, 0.04, 0.25, 0.25]).ravel(),
    np.diag([-1.0, -1.0, 0.5, 0.5]).ravel(),
    np.full(16, math.nan),
]


def _part(i: int, *, stamp_ns: int = 7 * NS, cov: int = 0, x: float = 1.0, trust: int = 0):
    return m.new(
        'v2x_stack/msg/Participant',
        header=m.header(stamp_ns, 'map'),
        id=i,
        source_id=f'src{i % 3}',
        participant_class=1 + i % 5,
        position=m.new('geometry_msgs/msg/Point', x=x, y=-2.0 * i),
        velocity=m.new('geometry_msgs/msg/Vector3', x=3.0, y=0.5),
        covariance=np.asarray(_COVS[cov], dtype=float),
        confidence=0.7,
        trust=trust,
    )


def _same(a, b) -> bool:
    if isinstance(b, ObjectInputError):
        return isinstance(a, ObjectInputError) and str(a) == str(b)
    return isinstance(a, ObjectReport) and _fields(a) == _fields(b)


def _fields(r: ObjectReport) -> tuple:
    """Every field, the arrays as bytes (a dataclass's == cannot compare arrays)."""
    return tuple(
        v.tobytes() if isinstance(v, np.ndarray) else v
        for v in (getattr(r, f.name) for f in dataclasses.fields(r))
    )


@settings(max_examples=60, deadline=None)
@given(
    picks=st.lists(st.integers(0, 7), min_size=1, max_size=10),
    kind=st.sampled_from(list(SourceKind)),
    scaled=st.lists(st.booleans(), min_size=10, max_size=10),
    var=st.sampled_from([0.0, 0.09, 0.25]),
    array_ns=st.integers(1, 20 * NS),
)
def test_shared_reports_are_fresh_conversions(picks, kind, scaled, var, array_ns):
    pool = [
        _part(0),
        _part(1, cov=1),
        _part(2, cov=2),  # refused: NaN covariance
        _part(3, x=math.inf),  # refused: non-finite position
        _part(4, stamp_ns=0),  # takes the array's stamp
        _part(5, trust=2),
        _part(6, stamp_ns=0, cov=1),
        _part(7, x=2e7),  # refused: beyond the map
    ]
    shared = SharedReports()
    parts = [pool[i] for i in picks]
    scales = [4.0 if s else 1.0 for s in scaled[: len(parts)]]
    for stamp in (array_ns, array_ns, array_ns + 1):  # first sight, seen, another array stamp
        got = shared.convert(
            parts,
            kind,
            PRIORS,
            stamp,
            scales=scales,
            position_var_m2=var,
            cache=CovarianceCache(PRIORS),
        )
        plain = reports_from_participants(
            parts, kind, PRIORS, stamp, cov_scale=np.array(scales), position_var_m2=var
        )
        assert len(got) == len(plain)
        for a, b in zip(got, plain, strict=True):
            assert _same(a, b)


@settings(max_examples=60, deadline=None)
@given(
    picks=st.lists(st.lists(st.integers(0, 7), max_size=8), min_size=1, max_size=6),
    kind=st.sampled_from(list(SourceKind)),
    var=st.sampled_from([0.0, 0.25]),
    stamps=st.lists(st.sampled_from([5, 6]), min_size=6, max_size=6),
)
def test_whole_arrays_are_fresh_conversions(picks, kind, var, stamps):
    """``convert_all`` hands out the list of an array seen before (the same participants in
    the same order, the same array stamp) and otherwise converts: always what a fresh
    conversion gives, and ``clean`` says whether none was refused."""
    pool = [_part(0), _part(1, cov=1), _part(2, cov=2), _part(3, x=math.inf), _part(4, stamp_ns=0)]
    pool += [_part(5, trust=2), _part(6, stamp_ns=0, cov=1), _part(7)]
    shared = SharedReports(max_arrays=3)
    for pick, stamp in zip(picks, stamps, strict=False):
        parts = [pool[i] for i in pick]
        got, clean = shared.convert_all(parts, kind, PRIORS, stamp, position_var_m2=var)
        plain = reports_from_participants(parts, kind, PRIORS, stamp, position_var_m2=var)
        assert len(got) == len(plain)
        assert all(_same(a, b) for a, b in zip(got, plain, strict=True))
        assert clean is not any(isinstance(r, ObjectInputError) for r in plain)
        again, _ = shared.convert_all(list(parts), kind, PRIORS, stamp, position_var_m2=var)
        assert again is got  # the same participants, another list: the same reports
    assert shared.array_hits >= len(picks)  # at least every second look-up


def test_the_same_message_and_settings_get_the_same_object():
    shared = SharedReports()
    p, q = _part(1), _part(1)  # equal content, another message
    (a,) = shared.convert([p], SourceKind.V2V, PRIORS, 5)
    (b,) = shared.convert([p], SourceKind.V2V, PRIORS, 6)  # stamped: the array's does not count
    (c,) = shared.convert([q], SourceKind.V2V, PRIORS, 5)
    (d,) = shared.convert([p], SourceKind.V2V, PRIORS, 5, position_var_m2=0.25)
    (e,) = shared.convert([p], SourceKind.V2V, PRIORS, 5, scales=[4.0])
    (f,) = shared.convert([p], SourceKind.ROADSIDE, PRIORS, 5)
    assert a is b
    assert c is not a and _fields(c) == _fields(a)
    assert d is not a and d.cov[0, 0] == a.cov[0, 0] + 0.25
    assert e is not a and e.cov[2, 2] == 4.0 * a.cov[2, 2]
    assert f is not a and f.kind is SourceKind.ROADSIDE
    z = _part(2, stamp_ns=0)
    (g,) = shared.convert([z], SourceKind.V2V, PRIORS, 5)
    (h,) = shared.convert([z], SourceKind.V2V, PRIORS, 9)
    assert (g.stamp_ns, h.stamp_ns) == (5, 9)
    assert shared.hits == 1


def test_bounded_oldest_first():
    shared = SharedReports(max_entries=4)
    parts = [_part(i) for i in range(6)]
    for p in parts:
        shared.convert([p], SourceKind.V2V, PRIORS, 5)
    assert len(shared) == 4
    shared.convert(parts[-1:], SourceKind.V2V, PRIORS, 5)
    assert shared.hits == 1
    shared.convert(parts[:1], SourceKind.V2V, PRIORS, 5)  # forgotten: converted again
    assert shared.hits == 1 and shared.misses == 7


def _array(parts, stamp_ns):
    return m.new(
        'v2x_stack/msg/ParticipantArray', header=m.header(stamp_ns, 'map'), participants=parts
    )


def _run(names, arrays):
    """Components ``names`` in one runtime, every array delivered to each at its time."""
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    nodes = [rt.add_component(CooperativeFusion, name='fusion', namespace=n) for n in names]
    out: dict[str, list[bytes]] = {n: [] for n in names}
    for n in names:
        rt.subscribe(f'/{n}/perception/fused_objects', 'v2x_stack/msg/ParticipantArray',
                     lambda msg, n=n: out[n].append(bytes(m.serialize(msg))))  # fmt: skip
    for t, topic, msg in arrays:
        rt.run(until_ns=t)
        for n in names:
            rt.publish(f'/{n}/{topic}', msg)
    rt.run(until_ns=arrays[-1][0] + NS)
    return out, [dict(node.ctx.diagnostics.counters) for node in nodes]


def test_two_fusions_sharing_messages_publish_what_each_does_alone():
    arrays = []
    table = [_part(i, stamp_ns=0) for i in range(3)]  # a republished table of senders
    for k in range(1, 30):
        t = k * NS // 10
        moved = _part(10, stamp_ns=t, x=1.0 + 0.5 * k)
        table[k % 3] = _part(k % 3, stamp_ns=t, x=2.0 * k)
        arrays.append((t, 'v2x/remote_vehicles', _array([*table, moved], t)))
        arrays.append(
            (t + 3, 'v2x/roadside_participants', _array([_part(20 + k % 2, stamp_ns=t)], t))
        )
    SHARED_REPORTS.clear()
    together, diag_together = _run(['a', 'b'], arrays)
    SHARED_REPORTS.clear()
    alone, diag_alone = _run(['a'], arrays)
    assert together['a'] == together['b'] == alone['a']
    assert diag_together[0] == diag_together[1] == diag_alone[0]
    assert diag_alone[0]['repeated.v2v'] > 0 and together['a']


def _fused(objs) -> list[tuple]:
    """Every field of every fused object, arrays as bytes and floats as repr (NaN == NaN)."""
    return [
        tuple(
            v.tobytes() if isinstance(v, np.ndarray) else repr(v)
            for v in (getattr(o, f.name) for f in dataclasses.fields(o))
        )
        for o in objs
    ]


def _scene(rng: np.random.Generator, n: int, stamp_ns: int) -> list:
    """Road users seen by an RSU and, some of them, by their own BSM (same reports as a
    process's fusions share them)."""
    parts_rsu, parts_v2v = [], []
    for i in range(n):
        x, y = rng.uniform(-40, 40, size=2)
        cls = int(rng.choice([1, 5, 0]))
        parts_rsu.append(_part(i, stamp_ns=stamp_ns - int(rng.integers(0, 3e8)), x=x))
        parts_rsu[-1].participant_class = cls
        parts_rsu[-1].position.y = y
        if rng.uniform() < 0.6:
            parts_v2v.append(
                _part(100 + i, stamp_ns=stamp_ns - int(rng.integers(0, 3e8)), x=x + 0.3)
            )
            parts_v2v[-1].position.y = y - 0.2
    shared = SharedReports()
    return shared.convert(parts_rsu, SourceKind.ROADSIDE, PRIORS, stamp_ns) + shared.convert(
        parts_v2v, SourceKind.V2V, PRIORS, stamp_ns
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 14), cycles=st.integers(1, 4))
def test_engines_sharing_a_cycle_memo_fuse_as_alone(seed, n, cycles):
    from perception_nodes.fusion.engine import FusionConfig, FusionEngine
    from perception_nodes.fusion.shared import CYCLE_MEMO

    rng = np.random.default_rng(seed)
    config = FusionConfig(gate_max_m=60.0)
    together = [FusionEngine(config) for _ in range(4)]
    alone = [FusionEngine(config) for _ in range(4)]
    for k in range(cycles):
        now = (10 + k) * NS
        reports = _scene(rng, n, now)
        subsets = [
            reports,
            reports[::2] + reports[1::2],
            [r for r in reports if rng.uniform() < 0.7],
            list(reports),  # the first's reports: its associations come from the memo
        ]
        CYCLE_MEMO.clear()
        shared_out = [e.fuse(s, now) for e, s in zip(together, subsets, strict=True)]
        alone_out = []
        for e, s in zip(alone, subsets, strict=True):
            CYCLE_MEMO.clear()  # nothing from the others
            alone_out.append(e.fuse(s, now))
        for a, b in zip(shared_out, alone_out, strict=True):
            assert _fused(a) == _fused(b)
    assert CYCLE_MEMO.hits > 0


def test_an_association_step_is_taken_from_the_memo_only_for_the_same_rows_and_reports():
    """Two engines with the same reports share each association step (RSU with RSU, V2V with
    both); a third with one report less on the first RSU shares none of them (its fused rows
    differ) and still fuses as it would alone."""
    from perception_nodes.fusion.engine import FusionConfig, FusionEngine
    from perception_nodes.fusion.shared import CYCLE_MEMO

    now = 10 * NS
    reports = _scene(np.random.default_rng(3), 12, now)
    config = FusionConfig(gate_max_m=60.0)
    CYCLE_MEMO.clear()
    first = FusionEngine(config).fuse(reports, now)
    misses, hits = CYCLE_MEMO.misses, CYCLE_MEMO.hits
    steps = [
        k
        for k in CYCLE_MEMO.table(now, FusionEngine(config)._memo_settings)
        if isinstance(k, tuple) and k[0] == 'assoc'
    ]
    assert len(steps) == 3  # three RSU groups, then the V2V senders: three steps
    second = FusionEngine(config).fuse(list(reports), now)
    assert _fused(second) == _fused(first)
    assert CYCLE_MEMO.misses == misses  # nothing computed again
    assert CYCLE_MEMO.hits > hits
    fewer = [r for r in reports if r is not reports[0]]
    shared = FusionEngine(config).fuse(fewer, now)
    CYCLE_MEMO.clear()
    assert _fused(FusionEngine(config).fuse(fewer, now)) == _fused(shared)


def test_a_merged_object_takes_its_fields_and_label_from_the_memo():
    """Two engines fusing the same reports at the same time: the second's multi-source
    objects get the first's fields (its members tuple itself) and their label is made once,
    equal to the label made from scratch; a fresh equal tuple gets the same label."""
    from perception_nodes.fusion.conversions import member_label, sources_label
    from perception_nodes.fusion.engine import FusionConfig, FusionEngine
    from perception_nodes.fusion.shared import CYCLE_MEMO

    now = 10 * NS
    reports = _scene(np.random.default_rng(5), 12, now)
    config = FusionConfig(gate_max_m=60.0)
    CYCLE_MEMO.clear()
    first = FusionEngine(config).fuse(reports, now)
    second = FusionEngine(config).fuse(list(reports), now)
    assert _fused(second) == _fused(first)
    merged = [(a, b) for a, b in zip(first, second, strict=True) if len(a.members) > 1]
    assert merged
    for a, b in merged:
        assert b.members is a.members
        plain = '+'.join(sorted({member_label(k) for k in a.members}))
        assert sources_label(a) == sources_label(b) == plain
        copy = dataclasses.replace(a, members=tuple(list(a.members)))
        assert copy.members is not a.members and sources_label(copy) == plain


def _seen_thrice(rng: np.random.Generator, n: int, now: int) -> list:
    """Road users each seen by two RSUs and by its own BSM: fused rows of three reports."""
    rsu_a, rsu_b, v2v = [], [], []
    for i in range(n):
        x, y = 25.0 * i + rng.uniform(-1, 1), rng.uniform(-1, 1)
        for parts, source, dx in ((rsu_a, 'a', 0.0), (rsu_b, 'b', 0.2), (v2v, f'car{i}', -0.2)):
            p = _part(i, stamp_ns=now - int(rng.integers(0, 3e8)), x=x + dx)
            p.position.y, p.source_id = y, source
            parts.append(p)
    shared = SharedReports()
    return (
        shared.convert(rsu_a, SourceKind.ROADSIDE, PRIORS, now)
        + shared.convert(rsu_b, SourceKind.ROADSIDE, PRIORS, now)
        + shared.convert(v2v, SourceKind.V2V, PRIORS, now)
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 10))
def test_a_fused_row_with_another_report_is_taken_from_the_memo(seed, n):
    """The V2V step merges each sender's BSM into a row already fused of two RSU tracks: an
    engine fusing the same reports after another computes no pair again, and engines on
    subsets (a BSM left out: the rows stay, other pairs) fuse as they do alone."""
    from perception_nodes.fusion.engine import FusionConfig, FusionEngine
    from perception_nodes.fusion.shared import CYCLE_MEMO

    rng = np.random.default_rng(seed)
    now = 10 * NS
    reports = _seen_thrice(rng, n, now)
    config = FusionConfig(gate_max_m=60.0)
    CYCLE_MEMO.clear()
    first = FusionEngine(config).fuse(reports, now)
    assert any(len(o.members) == 3 for o in first)
    misses = CYCLE_MEMO.misses
    assert _fused(FusionEngine(config).fuse(list(reports), now)) == _fused(first)
    assert CYCLE_MEMO.misses == misses  # every pair, fused rows too, from the memo
    subsets = [[r for r in reports if r is not v] for v in reports[2 * n :]]
    subsets.append([r for r in reports if rng.uniform() < 0.8])
    together = [FusionEngine(config).fuse(s, now) for s in subsets]
    for s, got in zip(subsets, together, strict=True):
        CYCLE_MEMO.clear()
        assert _fused(FusionEngine(config).fuse(s, now)) == _fused(got)

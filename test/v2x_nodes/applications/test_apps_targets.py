"""The target table applies the reports of a cycle in one vectorised flush: the result must
be the same as applying each report on its own, in arrival order (derivatives, repeats,
out-of-order and bad reports, rows new in the batch, slot reuse after expiry). A flush of a
few reports goes one by one in floats: the same table, bit for bit, and the same
diagnostics in the same order. A participant object read once (shared by the simulated
cars' receivers) is taken as a fresh one."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v2x_nodes.applications import targets as targets_mod
from v2x_nodes.applications.targets import _FLOAT_COLS, FilterConfig, Origin, TargetTable
from v2x_runtime import messages as m
from v2x_runtime.diagnostics import Diagnostics, ThrottledLogger
from v2x_runtime.identity_memo import IdentityMemo

T0 = 100_000_000_000
_SPEED_VAR, _POS_VAR = _FLOAT_COLS.index('speed_var'), _FLOAT_COLS.index('pos_var')
CYCLE_NS = 100_000_000
COLUMNS = ('x', 'y', 'speed', 'course', 'heading', 'accel', 'yaw_rate', 'length', 'width', 'cls',
           'trust', 'age_s', 'still_s', 'seen', 'origin', 'usable')  # fmt: skip

value = st.one_of(st.floats(-60.0, 60.0), st.sampled_from([math.nan, math.inf, 2e6, 0.0]))
report = st.fixed_dictionaries({
    'id': st.integers(0, 3), 'source': st.sampled_from(['', 'a1']), 'origin': st.integers(0, 1),
    'cls': st.integers(0, 9), 'trust': st.integers(0, 3), 'x': value, 'y': value,
    'vx': st.floats(-15.0, 15.0), 'vy': st.floats(-15.0, 15.0), 'heading': value,
    'length': st.sampled_from([0.0, 4.5, 12.0]), 'dt_ms': st.integers(-300, 150),
})  # fmt: skip


def _array(t_ns: int, r: dict) -> object:
    stamp = max(t_ns + r['dt_ms'] * 1_000_000, 0)
    p = m.new('v2x_stack/msg/Participant', header=m.header(stamp, 'map'), id=r['id'],
              source_id=r['source'], participant_class=r['cls'], trust=r['trust'],
              position=m.new('geometry_msgs/msg/Point', x=r['x'], y=r['y']),
              velocity=m.new('geometry_msgs/msg/Vector3', x=r['vx'], y=r['vy']),
              heading_rad=r['heading'],
              size=m.new('geometry_msgs/msg/Vector3', x=r['length'], y=1.8))  # fmt: skip
    if 'var' in r:  # the vx, vy, x and y variances of the covariance (at 10, 15, 0, 5)
        cov = [0.0] * 16
        cov[10], cov[15], cov[0], cov[5] = r['var']
        p = m.replace(p, covariance=np.array(cov))
    return m.new('v2x_stack/msg/ParticipantArray', header=m.header(t_ns, 'map'), participants=[p])


def _diag() -> Diagnostics:
    return Diagnostics('t', ThrottledLogger(logging.getLogger('test_apps_targets'), lambda: 0))


def _cycles(cycles: list[list[dict]], one: tuple[TargetTable, Diagnostics],
            two: tuple[TargetTable, Diagnostics], *, flush_each: bool = False):  # fmt: skip
    """Both tables fed the same reports; yields both snapshots after each cycle. With
    ``flush_each`` the second one flushes after every report."""
    for c, reports in enumerate(cycles):
        t_ns = T0 + c * CYCLE_NS
        for r in reports:
            msg = _array(t_ns, r)
            one[0].ingest(msg, Origin(r['origin']), one[1])
            two[0].ingest(msg, Origin(r['origin']), two[1])
            if flush_each:
                two[0].flush(two[1])
        yield (
            one[0].snapshot(t_ns + CYCLE_NS // 2, one[1]),
            two[0].snapshot(t_ns + CYCLE_NS // 2, two[1]),
        )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(report, max_size=8), min_size=1, max_size=12), st.booleans())
def test_one_flush_per_cycle_equals_one_per_report(cycles: list[list[dict]],
                                                   vector: bool) -> None:  # fmt: skip
    cfg = FilterConfig(max_age_s=1.0, expire_s=0.6, require_verified=True)
    batched, single = TargetTable(cfg), TargetTable(cfg)
    if vector:  # every flush through the numpy path (else: the few-reports path)
        batched.few_reports = single.few_reports = 0
    diag_b, diag_s = _diag(), _diag()
    for a, b in _cycles(cycles, (batched, diag_b), (single, diag_s), flush_each=True):
        assert a.keys == b.keys
        for name in COLUMNS:
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
        assert diag_b.counters == diag_s.counters


def test_a_malformed_participant_is_counted_and_the_rest_kept() -> None:
    """A field that is not a number (a hand-made message) is rejected, not a crash, and
    the participants after it in the same array are still taken."""
    table, diag = TargetTable(FilterConfig()), _diag()
    fields = {'source': 'a', 'origin': 0, 'cls': 1, 'trust': 1, 'x': 1.0, 'y': 2.0, 'vx': 3.0,
              'vy': 0.0, 'heading': 0.0, 'length': 4.5, 'dt_ms': 0}  # fmt: skip
    bad = _array(T0, {**fields, 'id': 2}).participants[0]
    bad.position.x = None
    good = _array(T0, {**fields, 'id': 1}).participants[0]
    msg = m.new('v2x_stack/msg/ParticipantArray', header=m.header(T0, 'map'),
                participants=[bad, good])  # fmt: skip
    table.ingest(msg, Origin.REMOTE_VEHICLE, diag)
    t = table.snapshot(T0, diag)
    assert diag.counters['rejected.missing_fields'] == 1
    assert t.keys == ['a:1'] and t.speed.tolist() == [3.0]


variance = st.sampled_from([0.0, -0.0, -1.0, 0.5, 4.0, math.nan, math.inf])
report_var = st.builds(lambda r, v: {**r, 'var': v}, report,
                       st.tuples(variance, variance, variance, variance))  # fmt: skip
many = st.lists(st.lists(report_var, max_size=40), min_size=1, max_size=10)


@settings(max_examples=80, deadline=None)
@given(many)
def test_few_reports_in_floats_equal_the_numpy_flush(cycles: list[list[dict]]) -> None:
    """The few-reports path and the numpy path: the same table (every column of every slot,
    bit for bit), slots and free list, and the same diagnostics in the same order."""
    cfg = FilterConfig(max_age_s=1.0, expire_s=0.6)
    few, numpy_ = TargetTable(cfg), TargetTable(cfg)
    few.few_reports, numpy_.few_reports = 10**6, 0
    diag_f, diag_n = _diag(), _diag()
    for a, b in _cycles(cycles, (few, diag_f), (numpy_, diag_n)):
        n = few._n
        assert n == numpy_._n and few._slot == numpy_._slot and few._free == numpy_._free
        assert few._keys == numpy_._keys
        # bit for bit, but the sign of a zero variance: numpy's own fmax gives either for
        # (0.0, -0.0) depending on the array's length; it is only compared with a bound
        fa, fb = few._f[:, :n].copy(), numpy_._f[:, :n].copy()
        for var in (_SPEED_VAR, _POS_VAR):
            assert np.array_equal(fa[var], fb[var])
            fa[var] = fb[var] = 0.0
        assert fa.tobytes() == fb.tobytes()
        assert few._i[:, :n].tobytes() == numpy_._i[:, :n].tobytes()
        assert a.keys == b.keys
        assert list(diag_f.counters.items()) == list(diag_n.counters.items())


# --- a participant read once (targets._read) ----------------------------------------------
# The simulated cars' receivers share one decoded roadside participant: each suite's table
# must take it as it takes a participant of its own.
def _copy(msg: object) -> object:
    """The same array with participants that are new objects (equal fields)."""
    return m.replace(msg, participants=[m.replace(p) for p in msg.participants])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(report_var, max_size=12), min_size=1, max_size=8), st.booleans())
def test_a_shared_participant_reads_as_a_fresh_one(cycles: list[list[dict]],
                                                   vector: bool) -> None:  # fmt: skip
    """Two tables fed the same participant objects (as the cars of a simulation are) and one
    fed copies: the same rows, bit for bit, and the same diagnostics."""
    cfg = FilterConfig(max_age_s=1.0, expire_s=0.6)
    tables = [TargetTable(cfg) for _ in range(3)]
    if vector:
        for t in tables:
            t.few_reports = 0
    diags = [_diag() for _ in tables]
    for c, reports in enumerate(cycles):
        t_ns = T0 + c * CYCLE_NS
        msgs = [_array(t_ns, r) for r in reports]
        for r, msg in zip(reports, msgs, strict=True):
            for table, diag, one in zip(tables, diags, (msg, msg, _copy(msg)), strict=True):
                table.ingest(one, Origin(r['origin']), diag)
        snaps = [t.snapshot(t_ns + CYCLE_NS // 2, d) for t, d in zip(tables, diags, strict=True)]
        for table, snap, diag in zip(tables[1:], snaps[1:], diags[1:], strict=True):
            n = tables[0]._n
            assert table._n == n and table._slot == tables[0]._slot
            assert table._f[:, :n].tobytes() == tables[0]._f[:, :n].tobytes()
            assert table._i[:, :n].tobytes() == tables[0]._i[:, :n].tobytes()
            assert snap.keys == snaps[0].keys
            assert list(diag.counters.items()) == list(diags[0].counters.items())


def test_a_malformed_shared_participant_is_rejected_by_every_table() -> None:
    """A participant that cannot be read is not kept: each table that receives it counts
    it, and takes the good participant after it."""
    fields = {'source': 'a', 'origin': 0, 'cls': 1, 'trust': 1, 'x': 1.0, 'y': 2.0, 'vx': 3.0,
              'vy': 0.0, 'heading': 0.0, 'length': 4.5, 'dt_ms': 0}  # fmt: skip
    bad = _array(T0, {**fields, 'id': 2}).participants[0]
    bad.velocity.x = 'fast'
    good = _array(T0, {**fields, 'id': 1}).participants[0]
    msg = m.new('v2x_stack/msg/ParticipantArray', header=m.header(T0, 'map'),
                participants=[bad, good])  # fmt: skip
    for _ in range(2):
        table, diag = TargetTable(FilterConfig()), _diag()
        table.ingest(msg, Origin.REMOTE_VEHICLE, diag)
        t = table.snapshot(T0, diag)
        assert diag.counters['rejected.missing_fields'] == 1
        assert t.keys == ['a:1'] and t.speed.tolist() == [3.0]
    assert targets_mod._READ.get(bad) is None and targets_mod._READ.get(good) is not None


def test_participants_read_once_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kept reads are emptied when full (they hold their participants alive), and a
    table fed past the bound takes every participant all the same."""
    monkeypatch.setattr(targets_mod, '_READ', IdentityMemo(3))
    fields = {'source': 'a', 'origin': 0, 'cls': 1, 'trust': 1, 'y': 2.0, 'vx': 3.0, 'vy': 0.0,
              'heading': 0.0, 'length': 4.5, 'dt_ms': 0}  # fmt: skip
    msgs = [_array(T0, {**fields, 'id': i, 'x': float(i)}) for i in range(5)]
    table, diag = TargetTable(FilterConfig()), _diag()
    for msg in msgs:
        table.ingest(msg, Origin.REMOTE_VEHICLE, diag)
        assert len(targets_mod._READ) <= 3
    t = table.snapshot(T0, diag)
    assert t.keys == [f'a:{i}' for i in range(5)] and t.x.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


# --- a participant's values derived once (targets._derive) ---------------------------------
def _derived_by_the_flush(raw: np.ndarray, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference: what the numpy flush computed per report from its raw fields (rows of
    x, y, vx, vy, heading, size x, size y, vx, vy, x, y variances) before the values were
    derived once per participant: the 9 values a report sets, and its check."""
    x, y, vx, vy, heading, size_x, size_y, var_vx, var_vy, var_x, var_y = raw.T
    with np.errstate(invalid='ignore', over='ignore'):
        finite = np.isfinite(x) & np.isfinite(y) & np.isfinite(vx) & np.isfinite(vy)
        speed = np.hypot(vx, vy)
        plausible = (np.abs(x) <= 1e6) & (np.abs(y) <= 1e6) & (speed <= 120.0)
    course_new = np.arctan2(vy, vx)
    heading = np.where(np.isfinite(heading), heading, course_new)
    course = np.where(speed > 0.5, course_new, heading)
    default = {c: targets_mod.DEFAULT_SIZE_M.get(c, targets_mod.DEFAULT_SIZE_M[0]) for c in
               range(256)}  # fmt: skip
    dflt = np.where((cls >= 0) & (cls < 256), cls, 0)
    sized = (size_x > 0) & (size_y > 0)
    length = np.where(sized, size_x, [default[c][0] for c in dflt.tolist()])
    width = np.where(sized, size_y, [default[c][1] for c in dflt.tolist()])
    speed_var = np.fmax(var_vx, var_vy)
    speed_var[np.isnan(speed_var)] = -1.0
    pos_var = np.fmax(var_x, var_y)
    pos_var[np.isnan(pos_var)] = -1.0
    check = np.where(~finite, targets_mod._NOT_FINITE,
                     np.where(plausible, targets_mod._OK, targets_mod._IMPLAUSIBLE))  # fmt: skip
    return np.stack((x, y, speed, course, heading, length, width, speed_var, pos_var)), check


raw_value = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-200.0, 200.0),
    st.sampled_from([0.0, -0.0, 0.5, 1e6, -1e6, 1e6 + 1e-9, 120.0, 1e308, math.nan, math.inf]),
)
raw_row = st.tuples(*[raw_value] * 11)


@settings(max_examples=150, deadline=None)
@given(st.lists(raw_row, min_size=1, max_size=40),
       st.lists(st.integers(-3, 300), min_size=40, max_size=40))  # fmt: skip
def test_values_derived_once_equal_the_flushs(rows: list[tuple[float, ...]],
                                              classes: list[int]) -> None:  # fmt: skip
    """``_derive`` of each participant gives what the numpy flush computed from the raw
    fields of a whole batch: every value bit for bit (NaN, inf, huge and negative zero
    inputs too), but the sign of a zero variance, which numpy's fmax gives either way
    depending on the array's length (it is only compared with bounds) and the same check."""
    from array import array

    raw = np.array(rows, dtype=np.float64)
    cls = np.array(classes[: len(rows)], dtype=np.int64)
    want, want_check = _derived_by_the_flush(raw, cls)
    for r, row in enumerate(rows):
        got, check = targets_mod._derive(array('d', row), int(cls[r]))
        assert check == want_check[r]
        got = np.array(got)
        assert got[:7].tobytes() == want[:7, r].tobytes()
        assert np.array_equal(got[7:], want[7:, r])

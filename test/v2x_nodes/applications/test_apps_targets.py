"""The target table applies the reports of a cycle in one vectorised flush: the result must
be the same as applying each report on its own, in arrival order (derivatives, repeats,
out-of-order and bad reports, rows new in the batch, slot reuse after expiry)."""

from __future__ import annotations

import logging
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from v2x_nodes.applications.targets import FilterConfig, Origin, TargetTable
from v2x_runtime import messages as m
from v2x_runtime.diagnostics import Diagnostics, ThrottledLogger

T0 = 100_000_000_000
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
    return m.new('v2x_stack/msg/ParticipantArray', header=m.header(t_ns, 'map'), participants=[p])


def _diag() -> Diagnostics:
    return Diagnostics('t', ThrottledLogger(logging.getLogger('test_apps_targets'), lambda: 0))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(report, max_size=8), min_size=1, max_size=12))
def test_one_flush_per_cycle_equals_one_per_report(cycles: list[list[dict]]) -> None:
    cfg = FilterConfig(max_age_s=1.0, expire_s=0.6, require_verified=True)
    batched, single = TargetTable(cfg), TargetTable(cfg)
    diag_b, diag_s = _diag(), _diag()
    for c, reports in enumerate(cycles):
        t_ns = T0 + c * CYCLE_NS
        for r in reports:
            msg = _array(t_ns, r)
            batched.ingest(msg, Origin(r['origin']), diag_b)
            single.ingest(msg, Origin(r['origin']), diag_s)
            single.flush(diag_s)
        a = batched.snapshot(t_ns + CYCLE_NS // 2, diag_b)
        b = single.snapshot(t_ns + CYCLE_NS // 2, diag_s)
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

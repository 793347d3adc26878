"""The receivers' shared misbehaviour work (v2x_nodes/rx/plausibility.py) and the payload memo
(``ReceivePipeline.process_payload``) against the plain forms they replace: the same outcomes,
reasons, texts and sender histories, the same Accepted frames and refusals."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from v2x_link_fixtures import NOW_NS, participant

from v2x_nodes.codec import convert as cv
from v2x_nodes.codec import uper
from v2x_nodes.codec.uper import MessageKind
from v2x_nodes.rx.pipeline import Accepted, ReceivePipeline, Rejected, RxSecurity
from v2x_nodes.rx.plausibility import SharingChecker, facts, make_facts
from v2x_nodes.security.misbehaviour import MisbehaviourChecker, MisbehaviourConfig, Report
from v2x_runtime import messages as m

SPECIAL = st.sampled_from([math.nan, math.inf, -math.inf])


@st.composite
def _tracks(draw: st.DrawFn) -> list[Report]:
    """Reports of up to three senders in receive order: mostly plausible steps, now and then a
    jump, a stamp that goes back or repeats, a gap beyond the history timeout, a non-finite
    value."""
    out: list[Report] = []
    state = {s: [draw(st.floats(0.0, 5.0)), 0.0, 0.0, 10.0, 0.0] for s in ('a', 'b', 'c')}
    for _ in range(draw(st.integers(1, 40))):
        sender = draw(st.sampled_from(sorted(state)))
        t, x, y, speed, heading = state[sender]
        t += draw(st.sampled_from([0.1, 0.1, 0.1, 0.0, -0.2, 6.0]))
        speed = max(0.0, speed + draw(st.floats(-3.0, 3.0)))
        heading += draw(st.floats(-0.5, 0.5))
        step = speed * 0.1 * draw(st.sampled_from([1.0, 1.0, 1.0, 0.0, 20.0]))
        x, y = x + step * math.cos(heading), y + step * math.sin(heading)
        values = [t, x, y, speed, heading, 0.0]
        if draw(st.integers(0, 11)) == 0:
            values[draw(st.integers(0, 5))] = draw(SPECIAL)
        if draw(st.integers(0, 11)) == 0:
            values[3] = draw(st.floats(-5.0, 90.0))  # speed out of range now and then
        state[sender] = [t, x, y, speed, heading]
        out.append(Report(sender, *values))
    return out


@settings(max_examples=300, deadline=None)
@given(
    track=_tracks(),
    receivers=st.lists(
        st.tuples(
            st.none() | st.tuples(st.floats(-2000.0, 2000.0), st.floats(-2000.0, 2000.0)),
            st.sampled_from([1500.0, 30.0]),  # max range: two configurations share the memo
            st.lists(st.booleans(), min_size=40, max_size=40),  # which reports it hears
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_sharing_checker_judges_as_the_plain_checker(track, receivers) -> None:
    """Receivers hearing (subsets of) the same report objects: every outcome and the history
    each keeps equal the plain checker's, whatever the others checked before."""
    pairs = [
        (SharingChecker(MisbehaviourConfig(max_range_m=r)), MisbehaviourChecker(
            MisbehaviourConfig(max_range_m=r)), xy, heard)
        for xy, r, heard in receivers
    ]  # fmt: skip
    for i, report in enumerate(track):
        for sharing, plain, xy, heard in pairs:
            if heard[i]:
                got, want = sharing.check(report, xy), plain.check(report, xy)
                assert got == want, (i, report)
    for sharing, plain, _, _ in pairs:
        assert list(sharing._last.items()) == list(plain._last.items())


def _participant(x: float = 10.0, y: float = 20.0, **changes):
    p = participant(0x51, x, y, stamp_ns=NOW_NS)
    return m.replace(p, position=m.new('geometry_msgs/msg/Point', x=x, y=y), **changes)


def test_facts_are_made_once_per_participant_object() -> None:
    p = _participant()
    f = facts(p, None)
    assert facts(p, None) is f
    assert f == make_facts(p, None)
    assert f.sender == p.source_id and f.has_position and f.stamp_ns == m.to_ns(p.header.stamp)
    speed = math.hypot(p.velocity.x, p.velocity.y)
    assert f.report == Report(p.source_id, f.stamp_ns / 1e9, 10.0, 20.0, speed, p.heading_rad)
    other = m.replace(p)  # an equal participant, another object: its own facts
    assert facts(other, 'RSM') is not f
    assert facts(other, 'RSM').sender == f'RSM/{p.source_id}/{p.id}'


def test_facts_of_a_participant_without_position_or_heading() -> None:
    p = _participant(math.nan, 3.0, heading_rad=math.nan)
    f = make_facts(p, 'RSM')
    assert not f.has_position and f.report.heading_rad == 0.0
    assert not make_facts(_participant(1.0, math.inf), None).has_position


def _frame() -> bytes:
    value = cv.bsm_from_participant(_participant(), 3)
    return uper.encode_frame(MessageKind.BSM, value)


def test_process_payload_is_process_of_its_bytes() -> None:
    pipeline = ReceivePipeline(RxSecurity.NONE, None, {})
    data = _frame()
    payload = np.frombuffer(data, np.uint8)
    got = pipeline.process_payload(payload, NOW_NS)
    assert isinstance(got, Accepted)
    assert got == pipeline.process(data, NOW_NS)
    assert pipeline.process_payload(payload, NOW_NS + 1) is got  # the same object again
    copy = payload.copy()
    assert pipeline.process_payload(copy, NOW_NS) == got
    bad = np.frombuffer(data[:5], np.uint8)
    refused = pipeline.process_payload(bad, NOW_NS)
    assert isinstance(refused, Rejected)
    assert refused == pipeline.process(data[:5], NOW_NS)
    assert pipeline.process_payload(bad, NOW_NS) == refused  # refusals are made again

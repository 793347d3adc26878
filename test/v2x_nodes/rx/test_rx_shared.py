"""Conversions shared between the receivers of a process (v2x_nodes/rx/shared.py): a shared
output is the output a fresh conversion at the receiver's own time gives (same CDR), at the
half-minute edges of the DSecond resolution and with unavailable stamps too; and receivers
that judge a shared sender differently each publish their own trust."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from v2x_link_fixtures import (
    NOW_NS,
    ORIGIN,
    frame,
    intersection_map,
    intersection_state,
    origin_parameters,
    participant,
)

from geo import LocalFrame
from v2x_nodes.codec import convert as cv
from v2x_nodes.codec import uper
from v2x_nodes.codec.offsets import GeoPoint
from v2x_nodes.codec.uper import MessageKind
from v2x_nodes.rx import V2xReceiver
from v2x_nodes.rx.shared import (
    MOY_REUSE_WITHIN_NS,
    REUSE_WITHIN_NS,
    SHARED,
    Entry,
    SharedOutputs,
    reusable,
)
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

ARRAY = 'v2x_stack/msg/ParticipantArray'
MS = 1_000_000
S = 1_000_000_000
ORIGIN_FRAME = LocalFrame(*ORIGIN)
TRUST_UNKNOWN, TRUST_MISBEHAVING = 0, 3


def _bsm(stamp_ns: int, **changes) -> bytes:
    value = cv.bsm_from_participant(participant(0x51, 10.0, 20.0, stamp_ns=stamp_ns), 3)
    value.update(changes)
    return uper.encode_frame(MessageKind.BSM, value)


def _rsm(stamp_ns: int) -> bytes:
    objects = [participant(k, -8.0 * k, 5.0 * k, stamp_ns=stamp_ns - k * 30 * MS) for k in (1, 2)]
    array = m.new(ARRAY, header=m.header(stamp_ns, 'map'), participants=objects)
    ref = GeoPoint.from_degrees(*ORIGIN)
    value = cv.rsm_from_participants(array, rsu_id='00000000000000a1', ref=ref)
    return uper.encode_frame(MessageKind.RSM, value)


def _spat(stamp_ns: int) -> bytes:
    return uper.encode_frame(
        MessageKind.SPAT, cv.spat_from_intersections([intersection_state(stamp_ns)])
    )


def _map(stamp_ns: int) -> bytes:
    return uper.encode_frame(
        MessageKind.MAP, cv.map_from_intersections([intersection_map(stamp_ns)])
    )


CONVERT = {
    MessageKind.BSM: lambda v, ref: cv.participant_from_bsm(v, ref, origin=ORIGIN_FRAME),
    MessageKind.RSM: lambda v, ref: cv.participants_from_rsm(v, ref, origin=ORIGIN_FRAME),
    MessageKind.SPAT: cv.intersections_from_spat,
    MessageKind.MAP: lambda v, ref: cv.intersections_from_map(v, ref, origin=ORIGIN_FRAME),
}
# receive times after the sender's stamp: the channel's latencies, then around the half
# minute where a DSecond resolves to the other minute, and before the stamp
OFFSETS_NS = [
    20 * MS, 20 * MS, 21 * MS, 140 * MS, 5 * S, 28 * S, 28_999 * MS, 29 * S, 29_999 * MS,
    30 * S, 30_001 * MS, 31 * S, 59 * S, -1 * S, -29_500 * MS, -30 * S, -31 * S, 20 * MS,
]  # fmt: skip


def _cdr(output) -> list[bytes]:
    return [m.serialize(x) for x in (output if isinstance(output, list) else [output])]


@pytest.mark.parametrize(
    ('kind', 'make'),
    [
        (MessageKind.BSM, _bsm),
        (MessageKind.RSM, _rsm),
        (MessageKind.SPAT, _spat),
        (MessageKind.MAP, _map),
    ],
)
@pytest.mark.parametrize('sent_offset_ns', [0, 12_345 * MS, 59_900 * MS])
def test_a_shared_output_is_the_fresh_conversion(kind, make, sent_offset_ns) -> None:
    stamp = NOW_NS - NOW_NS % (60 * S) + sent_offset_ns  # also just before a minute turns
    value = uper.decode_frame(make(stamp)).value
    shared = SharedOutputs()
    convert = CONVERT[kind]
    within = MOY_REUSE_WITHIN_NS if kind is MessageKind.MAP else REUSE_WITHIN_NS
    for offset in OFFSETS_NS:
        ref = stamp + offset
        got = shared.get('frame', ref, lambda r, v=value: convert(v, r), within).output
        assert _cdr(got) == _cdr(convert(value, ref)), offset
    assert shared.hits >= 6  # the near receive times were served from the first conversion
    if kind is MessageKind.MAP:
        # a MinuteOfTheYear resolves alike across half a year: one conversion served them all
        assert shared.misses == 1
        far = stamp + 200 * 86_400 * S  # the far side of the year: converted again
        got = shared.get('frame', far, lambda r: convert(value, r), within).output
        assert _cdr(got) == _cdr(convert(value, far)) and shared.misses == 2
    else:
        assert shared.misses >= 2  # the far ones were converted again


def test_an_unavailable_stamp_is_never_shared() -> None:
    """secMark 65535 (unavailable): the participant is stamped with the receive time itself,
    which differs per receiver."""
    value = uper.decode_frame(_bsm(NOW_NS, secMark=65535)).value
    shared = SharedOutputs()
    for offset in (20 * MS, 21 * MS, 40 * MS, 40 * MS):
        entry = shared.get('frame', NOW_NS + offset, lambda r: cv.participant_from_bsm(value, r))
        assert m.to_ns(entry.output.header.stamp) == NOW_NS + offset
    assert shared.hits == 1  # only the same receive time again


def test_bounded_lru() -> None:
    shared = SharedOutputs(maxsize=2)
    value = uper.decode_frame(_bsm(NOW_NS)).value
    for key in ('a', 'b', 'a', 'c', 'b'):
        shared.get(key, NOW_NS, lambda r: cv.participant_from_bsm(value, r))
    assert (shared.hits, shared.misses) == (1, 4)  # 'b' was the least recently used


def _receiver(rt: EmbeddedRuntime, name: str, east_m: float) -> list:
    rt.add_component(
        V2xReceiver,
        name='v2x_rx',
        namespace=f'/{name}',
        parameters={**origin_parameters(), 'drop_misbehaving': False, 'max_range_m': 1000.0},
    )
    odom = m.new('nav_msgs/msg/Odometry', header=m.header(rt.now_ns(), 'map'))
    odom.pose.pose.position.x = east_m
    rt.publish(f'/{name}/localization/odometry', odom)
    got: list = []
    rt.subscribe(f'/{name}/v2x/remote_vehicles', ARRAY, got.append)
    return got


def test_receivers_share_a_sender_but_not_their_trust() -> None:
    """Two receivers hear the same BSM: the near one publishes the shared participant, the
    one beyond radio range flags it (TRUST_MISBEHAVING) on a copy of its own."""
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    near = _receiver(rt, 'near', 0.0)
    far = _receiver(rt, 'far', 5000.0)
    rt.start()
    data = _bsm(NOW_NS)
    rt.publish('/near/v2x/rx', frame(data, NOW_NS))
    rt.run(duration_s=0.02)
    rt.publish('/far/v2x/rx', frame(data, rt.now_ns()))
    rt.run(duration_s=0.2)
    rt.close()
    (mine,) = near[-1].participants
    (theirs,) = far[-1].participants
    assert mine.trust == TRUST_UNKNOWN and theirs.trust == TRUST_MISBEHAVING
    assert m.serialize(mine) != m.serialize(theirs)
    theirs.trust = mine.trust
    assert m.serialize(mine) == m.serialize(theirs)  # the same participant otherwise


def _per_stamp_rule(ref0: int, stamps: tuple[int, ...], ref: int, within: int) -> bool:
    """The reuse rule as first written: every stamp tested on its own."""
    return ref == ref0 or all(s != ref0 and -within < s - ref < within for s in stamps)


@settings(max_examples=400, deadline=None)
@given(
    st.integers(-5, 5),
    st.lists(st.integers(-8, 8), max_size=5),
    st.integers(-8, 8),
    st.integers(1, 6),
)
def test_reuse_test_on_first_and_last_stamp_equals_the_per_stamp_rule(
    ref0: int, stamps: list[int], ref: int, within: int
) -> None:
    """``reusable`` tests the earliest and latest stamp only: the same verdict as the rule
    applied stamp by stamp (small integers reach every edge: equal, +-within, the ref)."""
    entry = _entry_of(ref0, tuple(stamps))
    assert reusable(entry, ref, within) == _per_stamp_rule(ref0, tuple(stamps), ref, within)


def _entry_of(ref0: int, stamps: tuple[int, ...]) -> Entry:
    if not stamps:
        return Entry(ref0, None, None, False, None)
    return Entry(ref0, min(stamps), max(stamps), ref0 in stamps, None)


@pytest.mark.parametrize(
    ('make', 'topic', 'msgtype'),
    [
        (_bsm, 'v2x/remote_vehicles', ARRAY),
        (lambda t: _bsm(t, secMark=65535), 'v2x/remote_vehicles', ARRAY),  # stamped on reception
        (_rsm, 'v2x/roadside_participants', ARRAY),
        (_spat, 'v2x/spat', 'v2x_stack/msg/IntersectionState'),
        (_map, 'v2x/map', 'v2x_stack/msg/IntersectionMap'),
    ],
)
def test_receivers_of_one_payload_at_other_times_publish_the_fresh_conversion(
    make, topic, msgtype
) -> None:
    """The radio hands the receivers of a broadcast one payload object, at the receive time
    of each link: the output a receiver kept on the shared Accepted (``_shared``) serves the
    others only where it is their own conversion. Each receiver publishes the frame converted
    at its receive time, stamps included."""
    SHARED.clear()
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    offsets_ms = [0, 0, 1, 20, 140, 700]  # ms after the first reception, one receiver each
    names = [f'r{k}' for k in range(len(offsets_ms))]
    got = {name: [] for name in names}
    for name in names:
        rt.add_component(
            V2xReceiver, name='v2x_rx', namespace=f'/{name}', parameters=origin_parameters()
        )
        rt.subscribe(f'/{name}/{topic}', msgtype, got[name].append)
    rt.start()
    data = make(NOW_NS)
    sent = frame(data, NOW_NS)  # one payload object for every receiver
    when = {}
    for name, offset in zip(names, offsets_ms, strict=True):
        rt.run(until_ns=NOW_NS + offset * MS)
        when[name] = rt.now_ns()
        rt.publish(f'/{name}/v2x/rx', sent)
    rt.run(duration_s=0.3)
    rt.close()
    decoded = uper.decode_frame(data)
    for name in names:
        fresh = CONVERT[decoded.kind](decoded.value, when[name])
        if msgtype == ARRAY:
            expected = [fresh] if decoded.kind is MessageKind.BSM else fresh.participants
            for p in expected:
                p.trust = TRUST_UNKNOWN  # an unsigned link's (the conversion's default: unverified)
            assert got[name], name
            assert _cdr(got[name][-1].participants) == _cdr(expected), name
        else:
            assert _cdr(got[name]) == _cdr(fresh), name


def test_a_map_is_shared_across_its_longer_window_when_the_payload_keeps_another_receivers():
    """A MAP's conversion is reusable for far longer than the other kinds' (it resolves only
    MinuteOfTheYear): when the output kept on the shared Accepted is another receiver's (other
    settings), a receiver still finds its own earlier conversion in ``SHARED`` a minute
    later, with MOY_REUSE_WITHIN_NS and not the 29 s of the other kinds."""
    SHARED.clear()
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    parameters = {'a1': {}, 'b': {'frame_id': 'other'}, 'a2': {}}
    got = {name: [] for name in parameters}
    for name, extra in parameters.items():
        rt.add_component(
            V2xReceiver,
            name='v2x_rx',
            namespace=f'/{name}',
            parameters={**origin_parameters(), **extra},
        )
        rt.subscribe(f'/{name}/v2x/map', 'v2x_stack/msg/IntersectionMap', got[name].append)
    rt.start()
    # bytes no other test sends: the process keeps their Accepted (and what it holds)
    sent = frame(_map(NOW_NS - 300 * S), NOW_NS)
    for name, at_s in (('a1', 0.0), ('b', 0.0), ('a2', 60.0)):
        rt.run(until_ns=NOW_NS + round(at_s * S))
        rt.publish(f'/{name}/v2x/rx', sent)
    hits = SHARED.hits
    rt.run(duration_s=0.1)
    rt.close()
    assert all(got.values())
    assert SHARED.hits == hits + 1  # a2 took a1's conversion, 60 s later
    assert _cdr(got['a2'][-1]) == _cdr(got['a1'][-1])

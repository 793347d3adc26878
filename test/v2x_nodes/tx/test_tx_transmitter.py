"""V2xTransmitter: typed inputs -> frames on v2x/tx (msgCnt per type, rates, signing, PSIDs,
errors counted) and the shared framer."""

from __future__ import annotations

import dataclasses
import itertools
import math

import pytest
from v2x_link_fixtures import (
    NOW_NS,
    intersection_map,
    intersection_state,
    make_pki_dir,
    origin_parameters,
    participant,
    road_events,
)

from v2x_nodes.codec import convert as cv
from v2x_nodes.codec import uper
from v2x_nodes.codec.uper import MessageKind
from v2x_nodes.security import Algorithm, MessageVerifier
from v2x_nodes.security.pki import load_trust
from v2x_nodes.tx import DEFAULT_PSIDS, V2xTransmitter
from v2x_runtime import ParameterError
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

ARRAY = 'v2x_stack/msg/ParticipantArray'
FRAME = 'v2x_stack/msg/V2xFrame'
REF = {'ref_lat_deg': 31.2005, 'ref_lon_deg': 121.5005, 'ref_alt_m': 4.0}


def transmitter(**params):
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    tx = rt.add_component(
        V2xTransmitter,
        name='v2x_tx',
        parameters={**REF, **origin_parameters(), 'station_id': '00000000000000a1', **params},
    )
    sent = []
    rt.subscribe('/v2x/tx', FRAME, sent.append)
    rt.start()
    return rt, tx, sent


def tx_origin():
    from geo import LocalFrame

    o = origin_parameters()
    return LocalFrame(o['origin_lat_deg'], o['origin_lon_deg'], o.get('origin_alt_m', 0.0))


def decoded(frames, kind):
    return [uper.decode_frame(bytes(f.payload)).value for f in frames if f.message_type == kind]


def test_msg_count_rolls_per_type_and_stamps_come_from_the_clock() -> None:
    rt, tx, sent = transmitter()
    for k in range(130):
        rt.publish('/signals/state', intersection_state(rt.now_ns()), at_ns=NOW_NS + k * 10**8)
    rt.publish('/rsu/events', road_events(NOW_NS), at_ns=NOW_NS + 5 * 10**8)
    rt.run(duration_s=13.5)
    rt.close()
    counts = [v['msgCnt'] for v in decoded(sent, MessageKind.SPAT)]
    assert counts == [k % 128 for k in range(130)]
    # the event at once (0.5 s), then repeated at 5 Hz until its feed is 3 s silent (3.5 s)
    assert [v['msgCnt'] for v in decoded(sent, MessageKind.RSI)] == list(range(16))
    spat_frames = [f for f in sent if f.message_type == MessageKind.SPAT]
    assert [m.to_ns(f.header.stamp) for f in spat_frames[:3]] == [
        NOW_NS,
        NOW_NS + 10**8,
        NOW_NS + 2 * 10**8,
    ]
    assert all(f.security_status == 0 and len(f.secured) == 0 for f in sent)
    assert tx.ctx.diagnostics.counters['sent.spat'] == 130


@pytest.mark.parametrize(('mode', 'kinds'), [('rsm', [5, 5]), ('ssm', [6]), ('both', [5, 5, 6])])
def test_participants_become_rsm_and_ssm_once_per_cycle(mode, kinds) -> None:
    rt, _tx, sent = transmitter(participants_as=mode, rsm_rate_hz=10.0)
    items = [participant(k, 5.0 * k, -3.0 * k) for k in range(20)]
    rt.publish(
        '/rsu/participants', m.new(ARRAY, header=m.header(NOW_NS, 'map'), participants=items)
    )
    rt.run(duration_s=0.55)
    rt.close()
    assert [int(f.message_type) for f in sent] == kinds  # sent once, RSM split 16 + 4
    rsms = decoded(sent, MessageKind.RSM)
    assert [len(v['participants']) for v in rsms] == [16, 4][: len(rsms)]
    for v in rsms:
        assert v['id'] == bytes.fromhex('00000000000000a1')


@pytest.mark.parametrize(
    ('ref', 'expected_deg'),
    [
        (REF, (31.2005, 121.5005, 4.0)),  # the RSU's own reference
        ({}, (31.2, 121.5, 4.0)),  # not set: the map origin (origin_parameters)
    ],
)
def test_rsm_reference_position_defaults_to_the_map_origin(ref, expected_deg) -> None:
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    rt.add_component(V2xTransmitter, name='v2x_tx', parameters={**ref, **origin_parameters()})
    sent = []
    rt.subscribe('/v2x/tx', FRAME, sent.append)
    rt.start()
    rt.publish(
        '/rsu/participants',
        m.new(ARRAY, header=m.header(NOW_NS, 'map'), participants=[participant(1, 5.0, -3.0)]),
    )
    rt.run(duration_s=0.05)
    rt.close()
    (rsm,) = decoded(sent, MessageKind.RSM)
    lat, lon, alt = expected_deg
    assert rsm['refPos']['lat'] == round(lat * 1e7)
    assert rsm['refPos']['long'] == round(lon * 1e7)
    assert rsm['refPos']['elevation'] == round(alt * 10)


def test_map_repeats_at_its_rate() -> None:
    rt, _tx, sent = transmitter(map_rate_hz=1.0)
    rt.publish('/v2x/map_out', intersection_map(NOW_NS))
    rt.run(duration_s=3.5)
    rt.close()
    assert [int(f.message_type) for f in sent] == [2, 2, 2, 2]  # at once, then 1 Hz


def test_a_map_republished_with_a_fresh_stamp_is_not_a_change() -> None:
    rt, _tx, sent = transmitter(map_rate_hz=1.0)
    for k in range(4):  # the map source: the same map every second, newly stamped
        at = NOW_NS + k * 10**9 + 10**8
        rt.publish('/v2x/map_out', intersection_map(at + k * 60 * 10**9), at_ns=at)
    moved = intersection_map(NOW_NS)
    moved.lanes[0].width_m = 3.0
    rt.publish('/v2x/map_out', moved, at_ns=NOW_NS + 4 * 10**9 + 10**8)
    rt.run(duration_s=4.5)
    rt.close()
    maps = decoded(sent, MessageKind.MAP)
    # at once, 1 Hz (t = 1, 2, 3, 4 s), at once again for the changed lane width
    assert len(maps) == 6
    assert [v['msgCnt'] for v in maps] == list(range(6))
    assert maps[0]['timeStamp'] < maps[2]['timeStamp']  # the value follows the stamp's minute
    widths = [v['nodes'][0]['inLinks'][0]['lanes'][0]['laneWidth'] for v in maps]
    assert widths[:5] == [350] * 5 and widths[5] == 300
    fresh = cv.map_from_intersections([moved], msg_count=5, origin=tx_origin())
    assert bytes(sent[-1].payload) == uper.encode_frame(MessageKind.MAP, fresh)


@pytest.mark.parametrize('algorithm', [Algorithm.ECDSA_P256_SHA256, Algorithm.SM2_SM3])
def test_signed_frames_verify_under_the_psid_of_their_type(tmp_path, algorithm) -> None:
    pki_dir = make_pki_dir(tmp_path, algorithm, pseudonyms=0)
    spat, rsi = DEFAULT_PSIDS[MessageKind.SPAT], DEFAULT_PSIDS[MessageKind.RSI]
    rt, _tx, sent = transmitter(
        security='sign', pki_dir=str(pki_dir), credential='rsu1', psid_spat=spat, psid_rsi=rsi
    )
    rt.publish('/signals/state', intersection_state(NOW_NS))
    rt.publish('/rsu/events', road_events(NOW_NS))
    rt.run(duration_s=0.01)
    rt.close()
    root, pca = load_trust(pki_dir)
    verifier = MessageVerifier([root])
    verifier.add_certificate(pca)
    assert [int(f.message_type) for f in sent] == [3, 4]
    for f, psid in zip(sent, (spat, rsi), strict=True):
        outcome = verifier.verify(bytes(f.secured), NOW_NS)
        assert outcome.ok, outcome.detail
        assert outcome.psid == psid == f.psid and outcome.payload == bytes(f.payload)
        assert f.security_status == 1


def test_unencodable_inputs_are_counted_and_the_node_goes_on() -> None:
    rt, tx, sent = transmitter()
    lost = participant(9, 0.0, 0.0)
    lost.latitude_deg = math.nan
    rt.publish('/v2x/own_bsm', lost)
    rt.publish('/v2x/own_bsm', participant(10, 0.0, 0.0))
    rt.run(duration_s=0.01)
    rt.close()
    counters = tx.ctx.diagnostics.counters
    assert counters['rejected.encode.bsm'] == 1 and counters['sent.bsm'] == 1
    (value,) = decoded(sent, MessageKind.BSM)
    assert value['id'] == (10).to_bytes(8, 'big')


def test_configuration_errors_fail_at_start(tmp_path) -> None:
    with pytest.raises(ParameterError, match='security=sign needs pki_dir and credential'):
        transmitter(security='sign')
    with pytest.raises(ParameterError, match="credential 'nobody'"):
        make_pki_dir(tmp_path, Algorithm.ECDSA_P256_SHA256, pseudonyms=0)
        transmitter(security='sign', pki_dir=str(tmp_path), credential='nobody')
    with pytest.raises(ParameterError, match='station_id: expected 16 hex digits'):
        transmitter(station_id='xyz')


def _rsi_times(sent):
    return [round((m.to_ns(f.header.stamp) - NOW_NS) / 1e9, 2) for f in sent
            if f.message_type == MessageKind.RSI]  # fmt: skip


def test_rsi_repeats_the_active_events_at_its_rate_while_the_feed_refreshes_them() -> None:
    rt, tx, sent = transmitter(rsi_rate_hz=10.0, rsi_hold_s=1.5)
    for k in range(3):  # a 1 Hz feed, then silence: the event is withdrawn
        rt.publish('/rsu/events', road_events(NOW_NS + k * 10**9), at_ns=NOW_NS + k * 10**9)
    rt.run(duration_s=6.0)
    rt.close()
    times = _rsi_times(sent)
    assert times[0] == 0.0 and times[-1] == 3.5  # last refresh at 2 s + 1.5 s hold
    assert len(times) == 36 and all(b - a <= 0.1 + 1e-9 for a, b in itertools.pairwise(times))
    rsis = decoded(sent, MessageKind.RSI)
    assert all([r['rteId'] for r in v['rtes']] == [7] for v in rsis)
    assert tx.ctx.diagnostics.counters['sent.rsi'] == 36


def test_rsi_stops_at_the_end_time_and_runs_on_arrival_only_at_rate_zero() -> None:
    events = road_events(NOW_NS)
    events.events[0].end_time = m.stamp(NOW_NS + 800_000_000)
    rt, _tx, sent = transmitter(rsi_rate_hz=5.0, rsi_hold_s=60.0)
    rt.publish('/rsu/events', events)
    rt.run(duration_s=3.0)
    rt.close()
    assert _rsi_times(sent) == [0.0, 0.2, 0.4, 0.6, 0.8]
    rt, _tx, sent = transmitter(rsi_rate_hz=0.0)
    rt.publish('/rsu/events', road_events(NOW_NS))
    rt.publish('/rsu/events', road_events(NOW_NS + 10**9), at_ns=NOW_NS + 10**9)
    rt.run(duration_s=3.0)
    rt.close()
    assert _rsi_times(sent) == [0.0, 1.0]


def test_rsi_holds_events_of_several_feeds_and_splits_what_one_rsi_cannot_carry() -> None:
    """Ten traffic events of detection and a sign of the centre: two RSI per repetition, the
    first with 8 events and the sign, the second with the other 2 events."""
    rt, _tx, sent = transmitter(rsi_rate_hz=1.0)
    detected = road_events(NOW_NS)
    base = detected.events[0]
    detected.events = [dataclasses.replace(base, id=i) for i in range(1, 11)]
    sign = dataclasses.replace(base, id=3, event_type=0, sign_type=2, source=2)
    centre = road_events(NOW_NS)
    centre.events = [sign]
    rt.publish('/rsu/events', detected)
    rt.publish('/rsu/events', centre, at_ns=NOW_NS + 300_000_000)
    rt.run(duration_s=1.5)
    rt.close()
    rsis = decoded(sent, MessageKind.RSI)
    ids = [([r['rteId'] for r in v.get('rtes', [])], [r['rtsId'] for r in v.get('rtss', [])])
           for v in rsis]  # fmt: skip
    first = ([1, 2, 3, 4, 5, 6, 7, 8], [])
    assert ids[:2] == [first, ([9, 10], [])]  # the detection feed's events, at once
    both = ([1, 2, 3, 4, 5, 6, 7, 8], [3])
    assert ids[2:] == [both, ([9, 10], []), both, ([9, 10], [])]  # the new sign, then 1 Hz

"""Two stacks on loopback: v2x_tx -> radio bridge -> UDP -> radio bridge -> v2x_rx, signed
with P-256 and with SM2, every message type; typed outputs equal the inputs within the
codec's resolution."""

from __future__ import annotations

import math

import pytest
from v2x_link_fixtures import (
    ORIGIN,
    intersection_map,
    intersection_state,
    make_pki_dir,
    participant,
    road_events,
    two_stacks,
)

from geo import LocalFrame
from v2x_nodes.security import Algorithm
from v2x_runtime import messages as m

ARRAY = 'v2x_stack/msg/ParticipantArray'
TRUST_UNKNOWN, TRUST_VERIFIED = 0, 1


def _probe(rt, topic, msgtype):
    got = []
    rt.subscribe(topic, msgtype, got.append)
    return got


def _same_participant(back, sent, *, position_tol_m: float) -> None:
    assert back.latitude_deg == pytest.approx(sent.latitude_deg, abs=1e-7)
    assert back.longitude_deg == pytest.approx(sent.longitude_deg, abs=1e-7)
    east, north, _ = LocalFrame(*ORIGIN).enu_of(sent.latitude_deg, sent.longitude_deg, 0.0)
    assert math.hypot(back.position.x - east, back.position.y - north) < position_tol_m
    assert back.heading_rad == pytest.approx(sent.heading_rad, abs=math.radians(0.0125))
    speed = math.hypot(sent.velocity.x, sent.velocity.y)
    assert math.hypot(back.velocity.x, back.velocity.y) == pytest.approx(speed, abs=0.02)
    assert back.size.x == pytest.approx(sent.size.x, abs=0.01)
    assert back.size.y == pytest.approx(sent.size.y, abs=0.01)


@pytest.mark.parametrize('algorithm', [Algorithm.ECDSA_P256_SHA256, Algorithm.SM2_SM3, None])
def test_every_message_type_crosses_two_stacks(tmp_path, algorithm) -> None:
    pki_dir = make_pki_dir(tmp_path, algorithm) if algorithm else None
    stacks = two_stacks(pki_dir)
    rt = stacks.rt
    vehicles = _probe(rt, '/rsu/v2x/remote_vehicles', ARRAY)
    roadside = _probe(rt, '/car/v2x/roadside_participants', ARRAY)
    spat = _probe(rt, '/car/v2x/spat', 'v2x_stack/msg/IntersectionState')
    maps = _probe(rt, '/car/v2x/map', 'v2x_stack/msg/IntersectionMap')
    events = _probe(rt, '/car/v2x/events', 'v2x_stack/msg/RoadEventArray')
    verified = _probe(rt, '/car/v2x/verified', 'v2x_stack/msg/V2xFrame')
    try:
        now = rt.now_ns()
        own = participant(0x0BADCAFE, 30.0, 40.0, stamp_ns=now)
        objects = [participant(k, -20.0 * k, 15.0 * k, stamp_ns=now) for k in (1, 2, 3)]
        rt.publish('/car/v2x/own_bsm', own)
        rt.publish(
            '/rsu/rsu/participants',
            m.new(ARRAY, header=m.header(now, 'map'), participants=objects),
        )
        sent_state = intersection_state(now)
        sent_events = road_events(now)
        sent_map = intersection_map(now)
        rt.publish('/rsu/signals/state', sent_state)
        rt.publish('/rsu/rsu/events', sent_events)
        rt.publish('/rsu/v2x/map_out', sent_map)
        assert stacks.run_until(
            lambda: vehicles and len(roadside) >= 2 and spat and maps and events
        ), stacks.rsu_rx.ctx.diagnostics.counters | stacks.car_rx.ctx.diagnostics.counters
    finally:
        rt.close()

    trust = TRUST_VERIFIED if algorithm else TRUST_UNKNOWN
    (car,) = vehicles[-1].participants
    assert car.source_id == own.source_id and car.trust == trust
    _same_participant(car, own, position_tol_m=0.02)
    for array in roadside[:2]:  # one from the RSM, one from the SSM
        assert len(array.participants) == 3
        for back, sent in zip(array.participants, objects, strict=True):
            assert back.id == sent.id and back.trust == trust
            assert back.source_id == '00000000000000a1'
            _same_participant(back, sent, position_tol_m=0.05)
    state = spat[0]
    assert (state.region, state.intersection_id, state.status) == (1, 42, 32)
    for back, sent in zip(state.phases, sent_state.phases, strict=True):
        assert (back.phase_id, back.light) == (sent.phase_id, sent.light)
        assert back.likely_end_s == pytest.approx(sent.likely_end_s, abs=0.05)
        assert back.min_end_s == pytest.approx(sent.min_end_s, abs=0.05)
    (event,) = events[0].events
    assert event.event_type == 401 and event.priority == 3
    assert event.latitude_deg == pytest.approx(sent_events.events[0].latitude_deg, abs=1e-7)
    assert event.position.x == pytest.approx(120.0, abs=0.05)
    assert event.position.y == pytest.approx(-35.0, abs=0.05)
    got_map = maps[0]
    assert (got_map.region, got_map.node_id, got_map.name) == (1, 42, 'demo')
    assert [lane.lane_id for lane in got_map.lanes] == [1, 2]
    assert got_map.lanes[0].points[0].x == pytest.approx(-100.0, abs=0.05)
    assert got_map.lanes[0].points[0].y == pytest.approx(-3.5, abs=0.05)
    # v2x/verified: the UPER frame, the wire bytes, type, sender and security status
    kinds = {int(f.message_type) for f in verified}
    assert kinds >= {2, 3, 4, 5, 6}
    for f in verified:
        assert len(f.payload) > 0
        # RSM/SSM/RSI carry the RSU id; SPAT/MAP have none: the signer's HashedId8 stands in
        assert (
            f.source_id == '00000000000000a1'
            or (algorithm and len(f.source_id) == 16)
            or (not algorithm and f.message_type in (2, 3) and f.source_id == '')
        )
        assert f.security_status == (1 if algorithm else 0)
        assert (len(f.secured) > len(f.payload)) if algorithm else len(f.secured) == 0
    counters = stacks.car_rx.ctx.diagnostics.counters
    assert not any(k.startswith('rejected.') for k in counters), counters


def test_the_verified_log_can_be_switched_off() -> None:
    """publish_verified: false (the simulator's cars): the typed output, no v2x/verified."""
    from v2x_link_fixtures import NOW_NS, frame, origin_parameters

    from v2x_nodes.codec import convert as cv
    from v2x_nodes.codec import uper
    from v2x_nodes.rx import V2xReceiver
    from v2x_runtime.embedded import EmbeddedRuntime

    data = uper.encode_frame(
        uper.MessageKind.BSM, cv.bsm_from_participant(participant(7, 5.0, 5.0))
    )
    for publish in (True, False):
        rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
        rt.add_component(
            V2xReceiver,
            name='v2x_rx',
            parameters={**origin_parameters(), 'publish_verified': publish},
        )
        vehicles = _probe(rt, '/v2x/remote_vehicles', ARRAY)
        verified = _probe(rt, '/v2x/verified', 'v2x_stack/msg/V2xFrame')
        rt.publish('/v2x/rx', frame(data, NOW_NS))
        rt.run(duration_s=0.2)
        rt.close()
        assert len(vehicles) == 1 and len(verified) == int(publish)

"""Two V2X stacks under real rclpy: car and RSU containers, signed frames over loopback UDP.

Each stack is one container process (namespace ``car`` / ``rsu``) hosting ``v2x_tx``, the
radio bridge and ``v2x_rx``; the two bridges send each other real datagrams on 127.0.0.1. A
plain rclpy node feeds the transmitters (own BSM at the car; participants, signal state, road
events and MAP at the RSU) and checks the typed messages the receivers publish: BSM at the
RSU, RSM/SSM, SPAT, MAP and RSI at the car, every one verified (P-256, real certificates).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
from ros_test_components import plain
from ros_test_support import START_TIMEOUT_S, ContainerProcess, Probe, rosidl_from_plain
from v2x_link_fixtures import (
    ALL_PSIDS,
    ORIGIN,
    intersection_map,
    intersection_state,
    origin_parameters,
    participant,
    road_events,
)

from v2x_nodes.security import Algorithm
from v2x_nodes.security.pki import init_pki, issue_into
from v2x_runtime import messages as m

pytestmark = pytest.mark.ros
CAR_PORT, RSU_PORT = 21101, 21102  # this area's port range (21000-21999)
TRUST_VERIFIED = 1


def _pki(directory: Path) -> Path:
    """A PKI valid now (the containers run on the wall clock)."""
    now_s = int(time.time())
    init_pki(directory, Algorithm.ECDSA_P256_SHA256, now_s=now_s - 86400)
    for name in ('rsu1', 'obu1'):
        issue_into(directory, name=name, psids=ALL_PSIDS, duration_s=86400, now_s=now_s - 3600)
    return directory


def _stack(pki_dir: Path, credential: str, bind_port: int, device_port: int) -> dict[str, Any]:
    tx = {
        'ref_lat_deg': ORIGIN[0] + 0.0005,
        'ref_lon_deg': ORIGIN[1] + 0.0005,
        'ref_alt_m': ORIGIN[2],
        **origin_parameters(),
        'security': 'sign',
        'pki_dir': str(pki_dir),
        'credential': credential,
    }
    if credential == 'rsu1':
        tx.update(station_id='00000000000000a1', participants_as='both')
    return {
        'v2x_tx': {'plugin': 'v2x_nodes.tx:V2xTransmitter', 'parameters': tx},
        'radio': {
            'plugin': 'v2x_nodes.radio.bridge:RadioBridge',
            'parameters': {
                'bind_address': '127.0.0.1',
                'bind_port': bind_port,
                'device_address': '127.0.0.1',
                'device_port': device_port,
            },
        },
        'v2x_rx': {
            'plugin': 'v2x_nodes.rx:V2xReceiver',
            'parameters': {'security': 'verify', 'pki_dir': str(pki_dir), **origin_parameters()},
        },
    }


def _alive(containers: list[ContainerProcess]) -> None:
    for c in containers:
        if c.proc.poll() is not None:
            raise AssertionError(f'container exited ({c.proc.returncode}):\n{c.log()}')


def test_signed_messages_cross_two_containers_over_udp(
    tmp_path: Path, probe: Probe, start_container: Any
) -> None:
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from v2x_stack.msg import (
        IntersectionMap,
        IntersectionState,
        Participant,
        ParticipantArray,
        RoadEventArray,
    )

    pki_dir = _pki(tmp_path / 'pki')
    sensor = qos_profile_sensor_data  # what the receiver offers participants with
    vehicles = probe.collect(ParticipantArray, '/rsu/v2x/remote_vehicles', sensor)
    roadside = probe.collect(ParticipantArray, '/car/v2x/roadside_participants', sensor)
    spat = probe.collect(IntersectionState, '/car/v2x/spat')
    maps = probe.collect(IntersectionMap, '/car/v2x/map')
    events = probe.collect(RoadEventArray, '/car/v2x/events')
    latched = QoSProfile(
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )
    node = probe.node
    pubs = {
        'bsm': node.create_publisher(Participant, '/car/v2x/own_bsm', 10),
        'objects': node.create_publisher(ParticipantArray, '/rsu/rsu/participants', 10),
        'state': node.create_publisher(IntersectionState, '/rsu/signals/state', 10),
        'events': node.create_publisher(RoadEventArray, '/rsu/rsu/events', 10),
        'map': node.create_publisher(IntersectionMap, '/rsu/v2x/map_out', latched),
    }
    containers = [
        start_container(_stack(pki_dir, 'obu1', CAR_PORT, RSU_PORT), namespace='car'),
        start_container(_stack(pki_dir, 'rsu1', RSU_PORT, CAR_PORT), namespace='rsu'),
    ]
    try:
        for pub in pubs.values():
            probe.spin_until(
                lambda pub=pub: _alive(containers) or pub.get_subscription_count() > 0,
                START_TIMEOUT_S,
                f'the transmitter subscribing {pub.topic_name}',
            )
        probe.spin_until(
            lambda: (
                _alive(containers)
                or all(
                    node.count_publishers(t) > 0
                    for t in ('/car/v2x/spat', '/rsu/v2x/remote_vehicles')
                )
            ),
            START_TIMEOUT_S,
            'the receivers',
        )
        own = objects = None
        last = 0.0

        def all_arrived() -> bool:
            nonlocal own, objects, last
            _alive(containers)
            if time.monotonic() - last > 0.3:  # fresh stamps each round: the rx checks age
                last = time.monotonic()
                now = time.time_ns()
                own = participant(0x0BADCAFE, 30.0, 40.0, stamp_ns=now)
                objects = [participant(k, -20.0 * k, 15.0 * k, stamp_ns=now) for k in (1, 2, 3)]
                array = m.new(
                    'v2x_stack/msg/ParticipantArray',
                    header=m.header(now, 'map'),
                    participants=objects,
                )
                pubs['bsm'].publish(rosidl_from_plain(Participant, plain(own)))
                pubs['objects'].publish(rosidl_from_plain(ParticipantArray, plain(array)))
                pubs['state'].publish(
                    rosidl_from_plain(IntersectionState, plain(intersection_state(now)))
                )
                pubs['events'].publish(rosidl_from_plain(RoadEventArray, plain(road_events(now))))
                if not maps:
                    pubs['map'].publish(
                        rosidl_from_plain(IntersectionMap, plain(intersection_map(now)))
                    )
            return bool(vehicles and len(roadside) >= 2 and spat and maps and events)

        probe.spin_until(all_arrived, START_TIMEOUT_S, 'BSM, RSM, SSM, SPAT, MAP and RSI')
    except AssertionError as err:
        logs = '\n'.join(c.log()[-3000:] for c in containers)
        raise AssertionError(f'{err}\ncontainer logs:\n{logs}') from None

    assert own is not None and objects is not None
    car = next(p for a in vehicles for p in a.participants if p.source_id == own.source_id)
    assert car.trust == TRUST_VERIFIED
    assert car.latitude_deg == pytest.approx(own.latitude_deg, abs=1e-7)
    assert car.longitude_deg == pytest.approx(own.longitude_deg, abs=1e-7)
    assert math.hypot(car.position.x - 30.0, car.position.y - 40.0) < 0.05
    assert car.heading_rad == pytest.approx(own.heading_rad, abs=math.radians(0.0125))
    assert math.hypot(car.velocity.x, car.velocity.y) == pytest.approx(12.5, abs=0.02)
    assert car.size.x == pytest.approx(4.5, abs=0.01) and car.size.y == pytest.approx(1.8, abs=0.01)

    ids = {k: (-20.0 * k, 15.0 * k) for k in (1, 2, 3)}
    seen_sources = set()
    for array in roadside:
        assert len(array.participants) == 3
        for p in array.participants:
            assert p.trust == TRUST_VERIFIED
            east, north = ids[p.id]
            assert math.hypot(p.position.x - east, p.position.y - north) < 0.5
            seen_sources.add(p.source)
    assert len(seen_sources) >= 1  # RSM and SSM both carry the RSU's objects

    state = spat[-1]
    sent_state = intersection_state(0)
    assert (state.region, state.intersection_id) == (1, 42)
    assert [ph.phase_id for ph in state.phases] == [ph.phase_id for ph in sent_state.phases]
    assert [ph.light for ph in state.phases] == [ph.light for ph in sent_state.phases]
    for got, sent in zip(state.phases, sent_state.phases, strict=True):
        assert got.min_end_s == pytest.approx(sent.min_end_s, abs=0.1)
        assert got.likely_end_s == pytest.approx(sent.likely_end_s, abs=0.1)

    (event,) = events[-1].events
    sent_event = road_events(0).events[0]
    assert event.event_type == sent_event.event_type == 401
    assert event.latitude_deg == pytest.approx(sent_event.latitude_deg, abs=1e-6)
    assert event.longitude_deg == pytest.approx(sent_event.longitude_deg, abs=1e-6)

    got_map = maps[-1]
    assert (got_map.region, got_map.node_id) == (1, 42)
    assert sorted(lane.lane_id for lane in got_map.lanes) == [1, 2]
    for container in containers:
        assert container.interrupt() == 0

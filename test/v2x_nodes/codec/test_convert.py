"""ROS message <-> message set conversions round-trip through real UPER bytes (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import LocalFrame
from v2x_nodes.codec import ConversionError, uper
from v2x_nodes.codec import convert as cv
from v2x_runtime import messages as m

NOW_NS = 1_764_000_000_123_000_000
ORIGIN = LocalFrame(31.2, 121.5, 4.0)
REF = cv.GeoPoint.from_degrees(31.2, 121.5, 4.0)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _through_wire(kind: uper.MessageKind, value: dict) -> dict:
    frame = uper.decode_frame(uper.encode_frame(kind, value))
    assert frame.kind == kind
    return frame.value


def close(a: float, b: float, tol: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol


def yaw_close(a: float, b: float, tol: float = math.radians(0.0125)) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(math.atan2(math.sin(a - b), math.cos(a - b))) <= tol


# Section: BSM
states = st.builds(
    cv.OwnVehicleState,
    temporary_id=st.binary(min_size=8, max_size=8),
    stamp_ns=st.integers(NOW_NS - 20 * 10**9, NOW_NS + 20 * 10**9),
    lat_deg=st.floats(-89.9, 89.9),
    lon_deg=st.floats(-179.9, 179.9),
    alt_m=st.floats(-400, 6000),
    heading_rad=st.floats(-math.pi, math.pi),
    speed_mps=st.floats(0, 160),
    msg_count=st.integers(0, 127),
    gear=st.integers(0, 4),
    accel_long_mps2=st.floats(-19, 19),
    accel_lat_mps2=st.floats(-19, 19),
    yaw_rate_radps=st.floats(-5, 5),
    steering_wheel_angle_rad=st.floats(-3.2, 3.2),
    brake_pedal=st.none() | st.booleans(),
    lights=st.integers(0, 31),
    events=st.integers(0, (1 << 13) - 1),
    length_m=st.floats(0.5, 40),
    width_m=st.floats(0.5, 10),
    height_m=st.floats(0.5, 6),
    vehicle_class=st.integers(0, 255),
    siren_in_use=st.none() | st.integers(0, 3),
)


@SETTINGS
@given(states)
def test_bsm_state_round_trip(state: cv.OwnVehicleState) -> None:
    back = cv.state_from_bsm(_through_wire(uper.MessageKind.BSM, cv.bsm_from_state(state)), NOW_NS)
    assert back.temporary_id == state.temporary_id and back.msg_count == state.msg_count
    assert back.stamp_ns == state.stamp_ns - state.stamp_ns % 1_000_000
    assert close(back.lat_deg, state.lat_deg, 0.5e-7) and close(back.lon_deg, state.lon_deg, 0.5e-7)
    assert close(back.alt_m, state.alt_m, 0.05 + 1e-9)
    assert yaw_close(back.heading_rad, state.heading_rad)
    assert close(back.speed_mps, state.speed_mps, 0.01 + 1e-9)
    assert back.gear == state.gear and back.brake_pedal == state.brake_pedal
    assert close(back.accel_long_mps2, state.accel_long_mps2, 0.005 + 1e-9)
    assert close(back.accel_lat_mps2, state.accel_lat_mps2, 0.005 + 1e-9)
    assert close(back.yaw_rate_radps, state.yaw_rate_radps, math.radians(0.005) + 1e-12)
    assert close(
        back.steering_wheel_angle_rad, state.steering_wheel_angle_rad, math.radians(0.75) + 1e-9
    ) or abs(state.steering_wheel_angle_rad) > math.radians(189)
    assert back.lights == state.lights and back.events == state.events
    assert close(back.length_m, state.length_m, 0.005 + 1e-9) and close(
        back.width_m, state.width_m, 0.005 + 1e-9
    )
    assert close(back.height_m, state.height_m, 0.025 + 1e-9)
    assert back.vehicle_class == state.vehicle_class and back.siren_in_use == state.siren_in_use


def test_bsm_needs_a_position_and_an_8_byte_id() -> None:
    with pytest.raises(ConversionError, match='temporary_id'):
        cv.bsm_from_state(
            cv.OwnVehicleState(temporary_id=b'1', stamp_ns=NOW_NS, lat_deg=0, lon_deg=0)
        )
    with pytest.raises(ConversionError, match='position'):
        cv.bsm_from_state(
            cv.OwnVehicleState(temporary_id=bytes(8), stamp_ns=NOW_NS, lat_deg=math.nan, lon_deg=0)
        )


# Section: participants (BSM sender, RSM, SSM)
CLASSES = [0, 1, 2, 3, 4, 5, 7]


@st.composite
def participants(draw, classes=CLASSES, with_obstacles=False):
    cls_ = draw(st.sampled_from([*classes, 6] if with_obstacles else classes))
    lat = 31.2 + draw(st.floats(-0.3, 0.3))
    lon = 121.5 + draw(st.floats(-0.3, 0.3))
    yaw = draw(st.floats(-math.pi, math.pi))
    speed = draw(st.floats(0, 60))
    pos_var = draw(st.sampled_from([-1.0, 0.01, 0.25, 4.0]))
    cov = np.zeros(16)
    cov[[0, 5]] = pos_var
    cov[[10, 15]] = draw(st.sampled_from([-1.0, 0.25]))
    return m.new(
        'v2x_stack/msg/Participant',
        header=m.header(NOW_NS + draw(st.integers(-500, 0)) * 1_000_000, 'map'),
        id=draw(st.integers(0, 65535)),
        participant_class=cls_,
        source=draw(st.integers(0, 7)),
        latitude_deg=lat,
        longitude_deg=lon,
        altitude_m=4.0 + draw(st.floats(-50, 50)),
        heading_rad=yaw,
        velocity=m.new(
            'geometry_msgs/msg/Vector3', x=speed * math.cos(yaw), y=speed * math.sin(yaw)
        ),
        size=m.new(
            'geometry_msgs/msg/Vector3',
            x=draw(st.floats(0.3, 20)),
            y=draw(st.floats(0.3, 4)),
            z=draw(st.floats(0.3, 4)),
        ),
        covariance=cov,
        heading_variance=-1.0,
        confidence=draw(st.floats(0, 1)),
    )


def check_participant(back, p, *, size_lsb: float, same_id: bool = True) -> None:
    assert back.participant_class == p.participant_class
    if same_id:
        assert back.id == p.id
    assert close(back.latitude_deg, p.latitude_deg, 0.5e-7 + 1e-12)
    assert close(back.longitude_deg, p.longitude_deg, 0.5e-7 + 1e-12)
    assert close(back.altitude_m, p.altitude_m, 0.05 + 1e-9)
    assert yaw_close(back.heading_rad, p.heading_rad)
    speed = math.hypot(p.velocity.x, p.velocity.y)
    assert close(math.hypot(back.velocity.x, back.velocity.y), speed, 0.01 + 1e-9)
    assert close(back.size.x, p.size.x, size_lsb) and close(back.size.y, p.size.y, size_lsb)
    assert m.to_ns(back.header.stamp) == m.to_ns(p.header.stamp)
    east, north, _ = ORIGIN.enu_of(p.latitude_deg, p.longitude_deg, p.altitude_m)
    assert abs(back.position.x - east) < 0.02 and abs(back.position.y - north) < 0.02
    # accuracy classes: the decoded 2-sigma bound covers the sent one
    if p.covariance[0] >= 0:
        assert back.covariance[0] >= p.covariance[0]
    else:
        assert back.covariance[0] == -1.0


def _array(items):
    return m.new(
        'v2x_stack/msg/ParticipantArray', header=m.header(NOW_NS, 'map'), participants=items
    )


@SETTINGS
@given(st.lists(participants(), min_size=1, max_size=16))
def test_rsm_round_trip(items) -> None:
    value = cv.rsm_from_participants(_array(items), rsu_id='00000000000000a1', ref=REF, msg_count=3)
    back = cv.participants_from_rsm(
        _through_wire(uper.MessageKind.RSM, value), NOW_NS, origin=ORIGIN
    )
    assert len(back.participants) == len(items)
    for b, p in zip(back.participants, items, strict=True):
        check_participant(b, p, size_lsb=0.005 + 1e-9)
        assert b.source == p.source and b.source_id == '00000000000000a1'


def test_rsm_limits_are_named() -> None:
    with pytest.raises(ConversionError, match=r'1\.\.16 participants, got 0'):
        cv.rsm_from_participants(_array([]), rsu_id='01', ref=REF)
    p = m.new('v2x_stack/msg/Participant', latitude_deg=math.nan, longitude_deg=math.nan)
    with pytest.raises(ConversionError, match=r'participants\[0\]\.latitude_deg'):
        cv.rsm_from_participants(_array([p]), rsu_id='01', ref=REF)


@SETTINGS
@given(st.lists(participants(with_obstacles=True), min_size=0, max_size=12))
def test_ssm_round_trip(items) -> None:
    array = _array(items)
    value = cv.ssm_from_participants(array, sender_id='00000000000000b2', sensor_pos=REF)
    back = cv.participants_from_ssm(
        _through_wire(uper.MessageKind.SSM, value), NOW_NS, origin=ORIGIN
    )
    ordered = [p for p in items if p.participant_class != 6] + [
        p for p in items if p.participant_class == 6
    ]
    assert len(back.participants) == len(ordered)
    for b, p in zip(back.participants, ordered, strict=True):
        check_participant(b, p, size_lsb=0.05 + 1e-9 if p.participant_class == 6 else 0.005 + 1e-9)
        assert close(b.confidence, p.confidence, 0.0025 + 1e-6)


@SETTINGS
@given(participants())
def test_bsm_participant_round_trip(p) -> None:
    p.source_id = '0102030405060708'
    back = cv.participant_from_bsm(
        _through_wire(uper.MessageKind.BSM, cv.bsm_from_participant(p)), NOW_NS, origin=ORIGIN
    )
    check_participant(back, p, size_lsb=0.005 + 1e-9, same_id=False)
    assert back.source_id == p.source_id and back.id == 0x05060708


# Section: SPAT
times = st.floats(0, 3599) | st.just(math.nan)


@st.composite
def intersection_states(draw):
    phases = [
        m.new(
            'v2x_stack/msg/SignalPhase',
            phase_id=draw(st.integers(0, 255)),
            light=draw(st.integers(0, 8)),
            start_s=draw(st.floats(-100, 0) | st.floats(0.1, 100)),
            min_end_s=draw(times),
            max_end_s=draw(times),
            likely_end_s=draw(times),
            confidence=draw(st.sampled_from([0.0, 0.5, 1.0, math.nan])),
            next_start_s=draw(times),
            next_duration_s=draw(times),
        )
        for _ in range(draw(st.integers(1, 8)))
    ]
    return m.new(
        'v2x_stack/msg/IntersectionState',
        header=m.header(NOW_NS + draw(st.integers(-10_000, 10_000)) * 1_000_000),
        region=draw(st.integers(0, 65535)),
        intersection_id=draw(st.integers(0, 65535)),
        status=draw(st.integers(0, (1 << 14) - 1)),
        phases=phases,
    )


@SETTINGS
@given(st.lists(intersection_states(), min_size=1, max_size=4))
def test_spat_round_trip(states_) -> None:
    value = cv.spat_from_intersections(states_, msg_count=9)
    back = cv.intersections_from_spat(_through_wire(uper.MessageKind.SPAT, value), NOW_NS)
    for b, s in zip(back, states_, strict=True):
        assert (b.region, b.intersection_id, b.status) == (s.region, s.intersection_id, s.status)
        assert (
            m.to_ns(b.header.stamp) == m.to_ns(s.header.stamp) - m.to_ns(s.header.stamp) % 1_000_000
        )
        for bp, sp in zip(b.phases, s.phases, strict=True):
            assert (bp.phase_id, bp.light) == (sp.phase_id, sp.light)
            assert close(bp.start_s, max(sp.start_s, 0.0), 0.05 + 1e-9)
            for field in (
                'min_end_s',
                'max_end_s',
                'likely_end_s',
                'next_start_s',
                'next_duration_s',
            ):
                assert close(getattr(bp, field), getattr(sp, field), 0.05 + 1e-9), field
            assert close(float(bp.confidence), float(sp.confidence), 0.003)


# Section: RSI
@st.composite
def road_events(draw):
    east, north = draw(st.floats(-3000, 3000)), draw(st.floats(-3000, 3000))
    lat, lon, alt = ORIGIN.geodetic_of(east, north, 0.0)
    is_event = draw(st.booleans())
    path = [
        m.new('geometry_msgs/msg/Point', x=east + 10 * i, y=north, z=0.0)
        for i in range(draw(st.integers(0, 5)))
    ]
    return m.new(
        'v2x_stack/msg/RoadEvent',
        header=m.header(NOW_NS, 'map'),
        id=draw(st.integers(0, 255)),
        event_type=draw(st.integers(1, 65535)) if is_event else 0,
        sign_type=0 if is_event else draw(st.integers(0, 65535)),
        source=draw(st.integers(0, 5)) if is_event else 0,
        latitude_deg=lat,
        longitude_deg=lon,
        altitude_m=alt,
        radius_m=draw(st.floats(0, 6000)) if is_event else 0.0,
        path=path,
        path_radius_m=draw(st.floats(0, 6000)) if path else 0.0,
        start_time=m.stamp(
            NOW_NS - NOW_NS % 60_000_000_000 - draw(st.integers(0, 100)) * 60_000_000_000
        ),
        end_time=m.stamp(0),
        priority=draw(st.integers(0, 7)),
        description=draw(
            st.text(st.characters(max_codepoint=126, min_codepoint=32), max_size=30)
            | st.sampled_from(['前方施工', '路面结冰'])
        ),
    )


@SETTINGS
@given(st.lists(road_events(), min_size=0, max_size=8))
def test_rsi_round_trip(events) -> None:
    array = m.new('v2x_stack/msg/RoadEventArray', header=m.header(NOW_NS, 'map'), events=events)
    value = cv.rsi_from_events(array, rsu_id='00000000000000c3', ref=REF, origin=ORIGIN)
    back = cv.events_from_rsi(_through_wire(uper.MessageKind.RSI, value), NOW_NS, origin=ORIGIN)
    ordered = [e for e in events if e.event_type] + [e for e in events if not e.event_type]
    assert back.source_id == '00000000000000c3' and len(back.events) == len(ordered)
    for b, e in zip(back.events, ordered, strict=True):
        assert (b.id, b.event_type, b.sign_type, b.source, b.priority) == (
            e.id,
            e.event_type,
            e.sign_type,
            e.source,
            e.priority,
        )
        assert b.description == e.description
        assert close(b.latitude_deg, e.latitude_deg, 0.5e-7 + 1e-12)
        assert close(b.radius_m, e.radius_m, 0.05 + 1e-9)
        assert m.to_ns(b.start_time) == m.to_ns(e.start_time) and m.to_ns(b.end_time) == 0
        assert len(b.path) == len(e.path)
        for bp, ep in zip(b.path, e.path, strict=True):
            assert abs(bp.x - ep.x) < 0.02 and abs(bp.y - ep.y) < 0.02


def test_rsi_path_needs_origin() -> None:
    event = m.new(
        'v2x_stack/msg/RoadEvent',
        event_type=100,
        latitude_deg=math.nan,
        path=[m.new('geometry_msgs/msg/Point')],
    )
    array = m.new('v2x_stack/msg/RoadEventArray', events=[event])
    with pytest.raises(
        ConversionError, match=r'events\[0\]\.path: a reference path needs the map origin'
    ):
        cv.rsi_from_events(array, rsu_id='01', ref=REF)


# Section: MapData
@st.composite
def maps(draw):
    lanes = []
    for upstream in range(draw(st.integers(0, 3))):
        for _ in range(draw(st.integers(1, 3))):
            n = draw(st.sampled_from([0, 2, 5]))
            base = draw(st.floats(-500, 500))
            geo = [ORIGIN.geodetic_of(base + 5 * i, base, 1.0) for i in range(n)]
            conns = draw(st.integers(0, 2))
            lanes.append(
                m.new(
                    'v2x_stack/msg/MapLane',
                    upstream_region=draw(st.integers(0, 3)),
                    upstream_node_id=upstream,
                    lane_id=draw(st.integers(0, 255)),
                    width_m=draw(st.floats(2, 5) | st.just(math.nan)),
                    lane_type=draw(st.sampled_from([255, 0, 1, 2, 7])),
                    maneuvers=draw(st.integers(0, 4095)),
                    maneuvers_known=draw(st.booleans()),
                    speed_limit_mps=draw(st.floats(1, 40) | st.just(math.nan)),
                    latitude_deg=np.array([g[0] for g in geo]),
                    longitude_deg=np.array([g[1] for g in geo]),
                    altitude_m=np.array([g[2] for g in geo]),
                    connection_region=np.array([1] * conns, dtype=np.uint16),
                    connection_node_id=np.array([7] * conns, dtype=np.uint16),
                    connection_lane_id=np.array([2] * conns, dtype=np.uint8),
                    connection_phase_id=np.array([3] * conns, dtype=np.uint8),
                )
            )
    # group lanes by upstream node as the decoder returns them
    lanes.sort(key=lambda lane: (lane.upstream_node_id,))
    return m.new(
        'v2x_stack/msg/IntersectionMap',
        header=m.header(NOW_NS - NOW_NS % 60_000_000_000, 'map'),
        region=draw(st.integers(0, 65535)),
        node_id=draw(st.integers(0, 65535)),
        name=draw(st.text(st.characters(max_codepoint=126, min_codepoint=32), max_size=20)),
        latitude_deg=31.2,
        longitude_deg=121.5,
        altitude_m=4.0,
        lanes=lanes,
    )


@SETTINGS
@given(st.lists(maps(), min_size=1, max_size=3))
def test_map_round_trip(items) -> None:
    for item in items:  # one link per upstream node: lanes of a node share the region
        for lane in item.lanes:
            lane.upstream_region = 0
    value = cv.map_from_intersections(items, msg_count=1)
    back = cv.intersections_from_map(
        _through_wire(uper.MessageKind.MAP, value), NOW_NS, origin=ORIGIN
    )
    for b, i in zip(back, items, strict=True):
        assert (b.region, b.node_id, b.name) == (i.region, i.node_id, i.name)
        assert m.to_ns(b.header.stamp) == m.to_ns(i.header.stamp)
        assert len(b.lanes) == len(i.lanes)
        for bl, il in zip(b.lanes, i.lanes, strict=True):
            assert (bl.upstream_node_id, bl.lane_id, bl.lane_type, bl.maneuvers_known) == (
                il.upstream_node_id,
                il.lane_id,
                il.lane_type,
                il.maneuvers_known,
            )
            if il.maneuvers_known:
                assert bl.maneuvers == il.maneuvers
            assert close(bl.width_m, il.width_m, 0.005 + 1e-9)
            assert close(bl.speed_limit_mps, il.speed_limit_mps, 0.01 + 1e-9)
            assert np.allclose(bl.latitude_deg, il.latitude_deg, atol=0.6e-7)
            assert list(bl.connection_phase_id) == list(il.connection_phase_id)
            assert len(bl.points) == len(il.latitude_deg)

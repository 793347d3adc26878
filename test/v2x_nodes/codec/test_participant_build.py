"""The receive path's Participant construction (positional, with cached tables) against the
generic forms: the same message, byte for byte in CDR, for every BSM the schema allows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from asn_strategies import for_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import LocalFrame
from v2x_nodes.codec import convert as cv
from v2x_nodes.codec import units
from v2x_nodes.codec.convert import common
from v2x_runtime import messages as m
from v2x_runtime import positional

NOW_NS = 1_764_000_000_123_000_000
ORIGIN = LocalFrame(31.2, 121.5, 4.0)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reference(value: dict, ref_ns: int, frame_id: str, origin: LocalFrame | None):  # type: ignore[no-untyped-def,type-arg]
    """The BSM -> Participant conversion spelled out with the generic helpers and the keyword
    constructor that fills every field by name (``m.new``)."""
    pos = value['pos']
    motion = value.get('motionCfd')
    pos_var = common.position_variance(value.get('posConfidence'))
    accuracy = value.get('posAccuracy')
    if accuracy and accuracy['semiMajor'] != 255:
        pos_var = (accuracy['semiMajor'] * 0.05) ** 2
    speed = units.speed_from_wire(value['speed'])
    if value['transmission'] == 'reverseGears' and math.isfinite(speed):
        speed = -speed
    yaw = units.heading_from_wire(value['heading'])
    lat, lon = units.lat_from_wire(pos['lat']), units.lon_from_wire(pos['long'])
    alt = units.elevation_from_wire(pos.get('elevation'))
    x = y = z = math.nan
    if origin is not None:
        x, y, z = origin.enu_of(lat, lon, alt if math.isfinite(alt) else origin.h0_m)
    vx = vy = math.nan
    if math.isfinite(speed) and math.isfinite(yaw):
        vx, vy = speed * math.cos(yaw), speed * math.sin(yaw)
    cov = np.zeros(16)
    speed_var = common.speed_variance(motion)
    cov[0] = cov[5] = pos_var if math.isfinite(pos_var) else -1.0
    cov[10] = cov[15] = speed_var if math.isfinite(speed_var) else -1.0
    size = value['size']
    ident = bytes(value['id'])
    return m.new(
        'v2x_stack/msg/Participant',
        header=m.header(units.ns_from_dsecond(value['secMark'], ref_ns) or ref_ns, frame_id),
        id=int.from_bytes(ident[4:], 'big'),
        participant_class=common.class_from_vehicle_class(value['vehicleClass']['classification']),
        source=common.SOURCE_V2X,
        source_id=ident.hex(),
        trust=common.TRUST_UNVERIFIED,
        position=m.new('geometry_msgs/msg/Point', x=x, y=y, z=z),
        latitude_deg=lat,
        longitude_deg=lon,
        altitude_m=alt,
        heading_rad=yaw,
        velocity=m.new('geometry_msgs/msg/Vector3', x=vx, y=vy, z=0.0),
        size=m.new(
            'geometry_msgs/msg/Vector3',
            x=size['length'] / 100.0,
            y=size['width'] / 100.0,
            z=size.get('height', 0) * 0.05,
        ),
        covariance=cov,
        heading_variance=common.heading_variance(motion),
        confidence=1.0,
    )


@SETTINGS
@given(
    value=for_type('BasicSafetyMessage'),
    ref_ns=st.integers(NOW_NS - 10**12, NOW_NS + 10**12),
    frame_id=st.sampled_from(['map', 'odom']),
    with_origin=st.booleans(),
)
def test_bsm_participant_equals_the_generic_construction(
    value: dict,  # type: ignore[type-arg]
    ref_ns: int,
    frame_id: str,
    with_origin: bool,
) -> None:
    origin = ORIGIN if with_origin else None
    fast = cv.participant_from_bsm(value, ref_ns, frame_id=frame_id, origin=origin)
    assert m.serialize(fast) == m.serialize(_reference(value, ref_ns, frame_id, origin))
    assert fast == fast  # a usable dataclass: every field set


finite = st.floats(-1e6, 1e6)


@SETTINGS
@given(
    values=st.tuples(finite, finite, finite, finite, finite | st.just(math.nan)),
    variances=st.tuples(st.floats(0, 100) | st.just(math.nan), st.floats(0, 100)),
    ident=st.integers(0, 2**32 - 1),
    with_origin=st.booleans(),
)
def test_make_participant_equals_the_keyword_construction(
    values: tuple[float, ...], variances: tuple[float, float], ident: int, with_origin: bool
) -> None:
    lat, lon = values[0] % 80.0, values[1] % 170.0
    alt, yaw, speed = values[2], values[3] % 6.0 - 3.0, values[4]
    origin = ORIGIN if with_origin else None
    cov = common.covariance(*variances)
    fast = common.make_participant(
        stamp_ns=NOW_NS,
        frame_id='map',
        ident=ident,
        participant_class=common.CLASS_TRUCK,
        source=6,
        source_id='rsu-1',
        lat=lat,
        lon=lon,
        alt=alt,
        yaw=yaw,
        speed=speed,
        size=(4.0, 2.0, 1.5),
        cov=cov,
        heading_var=0.01,
        confidence=0.5,
        origin=origin,
        trust=1,
    )
    x = y = z = math.nan
    if origin is not None:
        x, y, z = origin.enu_of(lat, lon, alt)
    moving = math.isfinite(speed)
    slow = m.new(
        'v2x_stack/msg/Participant',
        header=m.header(NOW_NS, 'map'),
        id=ident,
        participant_class=common.CLASS_TRUCK,
        source=6,
        source_id='rsu-1',
        trust=1,
        position=m.new('geometry_msgs/msg/Point', x=x, y=y, z=z),
        latitude_deg=lat,
        longitude_deg=lon,
        altitude_m=alt,
        heading_rad=yaw,
        velocity=m.new(
            'geometry_msgs/msg/Vector3',
            x=speed * math.cos(yaw) if moving else math.nan,
            y=speed * math.sin(yaw) if moving else math.nan,
        ),
        size=m.new('geometry_msgs/msg/Vector3', x=4.0, y=2.0, z=1.5),
        covariance=cov.copy(),
        heading_variance=0.01,
        confidence=0.5,
    )
    assert m.serialize(fast) == m.serialize(slow)


def test_cached_covariances_are_independent_arrays() -> None:
    first = common.covariance(1.0, math.nan)
    first[0] = 99.0  # a consumer that edits its message must not change the next one
    second = common.covariance(1.0, math.nan)
    assert second is not first
    assert list(second[[0, 5, 10, 15]]) == [1.0, 1.0, -1.0, -1.0]


def test_positional_construction_checks_the_field_order() -> None:
    for msgtype, fields in positional.FIELDS.items():
        assert tuple(m.field_names(msgtype)[: len(fields)]) == fields
        assert positional.positional(msgtype) is m.msg_class(msgtype)


def test_positional_construction_refuses_another_field_order(monkeypatch) -> None:
    positional.positional.cache_clear()
    monkeypatch.setitem(positional.FIELDS, positional.POINT, ('y', 'x', 'z'))
    try:
        with pytest.raises(TypeError, match='expects'):
            positional.positional(positional.POINT)
    finally:
        positional.positional.cache_clear()

"""Pieces shared by the message conversions: participant classes, accuracy <-> covariance,
ParticipantData <-> Participant, and fast construction of the ROS dataclasses.

Participants carry REP 103 values: ENU position in the array's frame (filled only when a
``geo.LocalFrame`` of that frame is given), geodetic position, ENU yaw, velocity and a covariance
of [x, y, vx, vy] whose unknown diagonal entries are -1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

from geo import LocalFrame
from v2x_nodes.codec import units
from v2x_nodes.codec.errors import ConversionError
from v2x_nodes.codec.offsets import GeoPoint, absolute_from_llv, enu, offset_llv
from v2x_nodes.codec.schema import enum_index, enum_names
from v2x_runtime import messages as m
from v2x_runtime.positional import HEADER, PARTICIPANT, POINT, TIME, VECTOR3, positional

# Participant.CLASS_* / SOURCE_* / TRUST_* (msg/Participant.msg)
CLASS_UNKNOWN, CLASS_CAR, CLASS_TRUCK, CLASS_MOTORCYCLE = 0, 1, 2, 3
CLASS_CYCLIST, CLASS_PEDESTRIAN, CLASS_OBSTACLE, CLASS_EMERGENCY = 4, 5, 6, 7
SOURCE_V2X = 2
TRUST_UNVERIFIED = 2

# BasicVehicleClass (T/CSAE 53, after SAE J2735) for each participant class, and back by range.
VEHICLE_CLASS_OF = {
    CLASS_UNKNOWN: 0,
    CLASS_CAR: 10,
    CLASS_TRUCK: 25,
    CLASS_MOTORCYCLE: 40,
    CLASS_CYCLIST: 85,
    CLASS_PEDESTRIAN: 82,
    CLASS_OBSTACLE: 90,
    CLASS_EMERGENCY: 60,
}


def class_from_vehicle_class(code: int) -> int:
    """Participant class of a BasicVehicleClass code (ranges of the standard's table)."""
    if 10 <= code <= 24:
        return CLASS_CAR
    if 25 <= code <= 39 or 50 <= code <= 59:
        return CLASS_TRUCK  # trucks, buses and other transit
    if 40 <= code <= 49:
        return CLASS_MOTORCYCLE
    if 60 <= code <= 69:
        return CLASS_EMERGENCY
    if code == 85:
        return CLASS_CYCLIST
    if 80 <= code <= 89:
        return CLASS_PEDESTRIAN
    if 90 <= code <= 99:
        return CLASS_OBSTACLE
    return CLASS_UNKNOWN


# ParticipantType for each class; motor classes add a vehicleClass to stay distinguishable.
PTC_TYPE_OF = {
    CLASS_UNKNOWN: 'unknown',
    CLASS_CAR: 'motor',
    CLASS_TRUCK: 'motor',
    CLASS_MOTORCYCLE: 'motor',
    CLASS_EMERGENCY: 'motor',
    CLASS_CYCLIST: 'non-motor',
    CLASS_PEDESTRIAN: 'pedestrian',
    CLASS_OBSTACLE: 'unknown',
}


@cache
def cls(msgtype: str) -> Callable[..., Any]:
    return m.msg_class(msgtype)


@cache
def participant_classes() -> tuple[Callable[..., Any], ...]:
    """(Participant, Header, Time, Point, Vector3) for positional construction, checked."""
    return tuple(positional(name) for name in (PARTICIPANT, HEADER, TIME, POINT, VECTOR3))


def header(stamp_ns: int, frame_id: str) -> Any:
    sec, nanosec = divmod(stamp_ns, 1_000_000_000)
    return positional(HEADER)(positional(TIME)(sec, nanosec), frame_id)


def point(x: float, y: float, z: float) -> Any:
    return positional(POINT)(x, y, z)


def vector3(x: float, y: float, z: float) -> Any:
    return positional(VECTOR3)(x, y, z)


def unknown_covariance() -> np.ndarray:
    cov = np.zeros(16)
    cov[[0, 5, 10, 15]] = -1.0
    return cov


_COVARIANCES: dict[tuple[float, float], np.ndarray] = {}  # diagonal -> matrix, copied out


def covariance(pos_var_m2: float, vel_var_m2ps2: float) -> np.ndarray:
    """Diagonal [x, y, vx, vy] covariance; NaN variances become -1 (unknown).

    The variances come from a few accuracy classes, so the matrices are kept by their diagonal
    and copied (a copy costs a third of building one; each message gets its own array)."""
    key = (
        pos_var_m2 if math.isfinite(pos_var_m2) else -1.0,
        vel_var_m2ps2 if math.isfinite(vel_var_m2ps2) else -1.0,
    )
    cov = _COVARIANCES.get(key)
    if cov is None:
        if len(_COVARIANCES) >= 4096:  # arbitrary float variances: stay bounded
            _COVARIANCES.clear()
        cov = _COVARIANCES[key] = np.zeros(16)
        cov[0] = cov[5] = key[0]
        cov[10] = cov[15] = key[1]
    return cov.copy()


def _two_sigma(*variances: float) -> float:
    """The 95 % bound (2 sigma) of the larger known variance; NaN when none is known."""
    known = [v for v in variances if v is not None and v >= 0.0 and math.isfinite(v)]
    return 2.0 * math.sqrt(max(known)) if len(known) == len(variances) else math.nan


def class_variance(index: int, bounds: tuple[float, ...], scale: float = 1.0) -> float:
    """Variance whose 2-sigma bound is the class bound (NaN for unavailable)."""
    bound = units.class_accuracy(index, bounds) * scale
    return (bound / 2.0) ** 2 if math.isfinite(bound) else math.nan


def position_confidence(cov: Any, alt_var: float = math.nan) -> dict[str, Any]:
    """PositionConfidenceSet from a participant covariance (95 % bound = 2 sigma)."""
    value: dict[str, Any] = {
        'pos': _names('PositionConfidence')[
            units.accuracy_class(_two_sigma(cov[0], cov[5]), units.POSITION_CLASSES_M)
        ]
    }
    if math.isfinite(alt_var) and alt_var >= 0:
        index = units.accuracy_class(2.0 * math.sqrt(alt_var), units.ELEVATION_CLASSES_M)
        value['elevation'] = _names('ElevationConfidence')[index]
    return value


def _names(type_name: str) -> tuple[str, ...]:
    return enum_names(type_name)


@cache
def _class_variances(type_name: str, scale: float = 1.0) -> dict[str, float]:
    """Variance of each name of a confidence ENUMERATED type (``class_variance``)."""
    bounds = _CLASS_BOUNDS[type_name]
    return {name: class_variance(i, bounds, scale) for name, i in enum_index(type_name).items()}


_CLASS_BOUNDS = {
    'PositionConfidence': units.POSITION_CLASSES_M,
    'SpeedConfidence': units.SPEED_CLASSES_MPS,
    'HeadingConfidence': units.HEADING_CLASSES_DEG,
}


def position_variance(pos_confidence: dict[str, Any] | None) -> float:
    if pos_confidence is None:
        return math.nan
    return _class_variances('PositionConfidence')[pos_confidence['pos']]


def motion_confidence(cov: Any, heading_variance: float) -> dict[str, Any]:
    speed_idx = units.accuracy_class(_two_sigma(cov[10], cov[15]), units.SPEED_CLASSES_MPS)
    heading_bound = (
        math.degrees(2.0 * math.sqrt(heading_variance))
        if math.isfinite(heading_variance) and heading_variance >= 0
        else math.nan
    )
    head_idx = units.accuracy_class(heading_bound, units.HEADING_CLASSES_DEG)
    value: dict[str, Any] = {}
    if speed_idx:
        value['speedCfd'] = _names('SpeedConfidence')[speed_idx]
    if head_idx:
        value['headingCfd'] = _names('HeadingConfidence')[head_idx]
    return value


def speed_variance(motion_cfd: dict[str, Any] | None) -> float:
    if not motion_cfd or 'speedCfd' not in motion_cfd:
        return math.nan
    return _class_variances('SpeedConfidence')[motion_cfd['speedCfd']]


def heading_variance(motion_cfd: dict[str, Any] | None) -> float:
    if not motion_cfd or 'headingCfd' not in motion_cfd:
        return -1.0
    return _class_variances('HeadingConfidence', math.pi / 180.0)[motion_cfd['headingCfd']]


def hex_id(raw: bytes) -> str:
    return raw.hex()


def id_bytes(text: str, field: str) -> bytes:
    """An 8-byte id from lowercase hex (shorter ids are left-padded with zeros)."""
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ConversionError(field, f'expected hex, got {text!r}') from None
    if len(raw) > 8:
        raise ConversionError(field, f'expected at most 8 bytes, got {len(raw)}')
    return raw.rjust(8, b'\x00')


# Section: ParticipantData <-> Participant (RSM, SSM)
def wire_common(p: Any, ref: GeoPoint) -> dict[str, Any]:
    """The members ParticipantData and ObstacleData share, in their order: source, secMark,
    pos (offsets from ``ref``), posConfidence, speed, heading."""
    return {
        'source': _names('SourceType')[int(p.source)] if int(p.source) < 8 else 'unknown',
        'secMark': units.dsecond_from_ns(m.to_ns(p.header.stamp)),
        'pos': offset_llv(ref, p.latitude_deg, p.longitude_deg, p.altitude_m),
        'posConfidence': position_confidence(p.covariance),
        'speed': units.speed_to_wire(math.hypot(p.velocity.x, p.velocity.y)),
        'heading': units.heading_to_wire(p.heading_rad),
    }


def participant_data(p: Any, ref: GeoPoint) -> dict[str, Any]:
    """ParticipantData (RSM/SSM) of a Participant, offsets from ``ref``."""
    cls_ = int(p.participant_class)
    value: dict[str, Any] = {
        'ptcType': PTC_TYPE_OF.get(cls_, 'unknown'),
        'ptcId': int(p.id) & 0xFFFF,
        **wire_common(p, ref),
        'size': {
            'width': units.cm_to_wire(p.size.y, 1023),
            'length': units.cm_to_wire(p.size.x, 4095),
        },
    }
    if p.source_id and len(p.source_id) == 16 and cls_ != CLASS_OBSTACLE:
        value['id'] = id_bytes(p.source_id, 'source_id')
    motion = motion_confidence(p.covariance, p.heading_variance)
    if motion:
        value['motionCfd'] = motion
    height = units.height_to_wire(p.size.z)
    if height:
        value['size']['height'] = height
    if (
        cls_ != CLASS_UNKNOWN
        and VEHICLE_CLASS_OF[cls_]
        and value['ptcType'] in ('motor', 'unknown')
    ):
        value['vehicleClass'] = {'classification': VEHICLE_CLASS_OF[cls_]}
    return value


_CLASS_OF_PTC = {'non-motor': CLASS_CYCLIST, 'pedestrian': CLASS_PEDESTRIAN}


def participant_from_data(
    value: dict[str, Any],
    ref: GeoPoint,
    *,
    ref_ns: int,
    frame_id: str,
    source_id: str,
    origin: LocalFrame | None,
) -> Any:
    """Participant of a ParticipantData; ``ref_ns`` resolves secMark to a full stamp."""
    ptc_type = value['ptcType']
    if 'vehicleClass' in value:
        cls_ = class_from_vehicle_class(value['vehicleClass']['classification'])
        if cls_ == CLASS_UNKNOWN and ptc_type == 'motor':
            cls_ = CLASS_CAR
    else:
        cls_ = _CLASS_OF_PTC.get(ptc_type, CLASS_CAR if ptc_type == 'motor' else CLASS_UNKNOWN)
    size = value['size']
    return participant_from_wire(
        value,
        ref,
        ident=value['ptcId'],
        participant_class=cls_,
        size_m=(size['length'] / 100.0, size['width'] / 100.0, size.get('height', 0) * 0.05),
        motion=value.get('motionCfd'),
        confidence=1.0,
        ref_ns=ref_ns,
        frame_id=frame_id,
        source_id=source_id,
        origin=origin,
    )


def participant_from_wire(
    value: dict[str, Any],
    ref: GeoPoint,
    *,
    ident: int,
    participant_class: int,
    size_m: tuple[float, float, float],
    motion: dict[str, Any] | None,
    confidence: float,
    ref_ns: int,
    frame_id: str,
    source_id: str,
    origin: LocalFrame | None,
) -> Any:
    """A Participant of the fields ParticipantData and ObstacleData share (secMark, source,
    pos offset from ``ref``, heading, speed, posConfidence); the caller gives the rest."""
    lat, lon, alt = absolute_from_llv(ref, value['pos'])
    return make_participant(
        stamp_ns=units.ns_from_dsecond(value['secMark'], ref_ns) or ref_ns,
        frame_id=frame_id,
        ident=ident,
        participant_class=participant_class,
        source=enum_index('SourceType').get(value['source'], 0),
        source_id=source_id,
        lat=lat,
        lon=lon,
        alt=alt,
        yaw=units.heading_from_wire(value['heading']),
        speed=units.speed_from_wire(value['speed']),
        size=size_m,
        cov=covariance(position_variance(value['posConfidence']), speed_variance(motion)),
        heading_var=heading_variance(motion),
        confidence=confidence,
        origin=origin,
    )


def make_participant(  # noqa: PLR0917 (positional on the BSM receive path)
    stamp_ns: int,
    frame_id: str,
    ident: int,
    participant_class: int,
    source: int,
    source_id: str,
    lat: float,
    lon: float,
    alt: float,
    yaw: float,
    speed: float,
    size: tuple[float, float, float],
    cov: np.ndarray,
    heading_var: float,
    confidence: float,
    origin: LocalFrame | None,
    trust: int = TRUST_UNVERIFIED,
) -> Any:
    """A Participant built directly (no defaults pass: this sits on the decode hot path; the
    BSM path calls it positionally)."""
    if origin is not None:
        x, y, z = enu(origin, lat, lon, alt)
    else:
        x = y = z = math.nan
    moving = math.isfinite(speed) and math.isfinite(yaw)
    vx, vy = (speed * math.cos(yaw), speed * math.sin(yaw)) if moving else (math.nan, math.nan)
    participant, header_cls, time_cls, point_cls, vector = participant_classes()
    sec, nanosec = divmod(stamp_ns, 1_000_000_000)
    return participant(
        header_cls(time_cls(sec, nanosec), frame_id),
        ident,
        participant_class,
        source,
        source_id,
        trust,
        point_cls(x, y, z),
        lat,
        lon,
        alt,
        yaw,
        vector(vx, vy, 0.0),
        vector(*size),
        cov,
        heading_var,
        confidence,
    )

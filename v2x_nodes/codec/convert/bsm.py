"""BasicSafetyMessage <-> own-vehicle state and <-> Participant.

``OwnVehicleState`` is what a BSM generator knows about its own vehicle, in SI / ENU units;
``bsm_from_state`` builds the message and ``state_from_bsm`` reads one back (exact up to the
standard's quantisation). A received BSM becomes a ``Participant`` (source V2X, trust
unverified until the security layer says otherwise) with ``participant_from_bsm``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from geo import LocalFrame
from v2x_nodes.codec import units
from v2x_nodes.codec.convert.common import (
    SOURCE_V2X,
    VEHICLE_CLASS_OF,
    class_from_vehicle_class,
    covariance,
    heading_variance,
    id_bytes,
    make_participant,
    motion_confidence,
    position_confidence,
    position_variance,
    speed_variance,
)
from v2x_nodes.codec.errors import ConversionError
from v2x_nodes.codec.schema import enum_index, enum_names
from v2x_runtime import messages as m

# ControlCommand.GEAR_* -> TransmissionState, and back.
_GEAR_TO_TRANSMISSION = {
    0: 'unavailable',
    1: 'park',
    2: 'reverseGears',
    3: 'neutral',
    4: 'forwardGears',
}
_TRANSMISSION_TO_GEAR = {v: k for k, v in _GEAR_TO_TRANSMISSION.items()}
# VehicleStatus.LIGHT_* bit -> ExteriorLights named bit number.
_LIGHT_BITS = ((1, 2), (2, 3), (4, 4), (8, 0), (16, 1))
_ORIENTATION_LSB_DEG = 360.0 / 65535.0


@dataclass(frozen=True)
class OwnVehicleState:
    """What a BSM says about the sending vehicle, in SI / ENU units (NaN = unknown)."""

    temporary_id: bytes  # 8 bytes, changes with the pseudonym certificate
    stamp_ns: int  # time of the position (ns since the Unix epoch, UTC)
    lat_deg: float
    lon_deg: float
    alt_m: float = math.nan
    heading_rad: float = math.nan  # ENU yaw of the body
    speed_mps: float = math.nan
    msg_count: int = 0
    gear: int = 0  # ControlCommand.GEAR_*
    accel_long_mps2: float = math.nan
    accel_lat_mps2: float = math.nan  # left positive
    accel_vert_mps2: float = math.nan
    yaw_rate_radps: float = 0.0  # counter-clockwise positive
    steering_wheel_angle_rad: float = math.nan  # left positive
    brake_pedal: bool | None = None
    lights: int = 0  # VehicleStatus.LIGHT_* bits
    events: int = 0  # VehicleEventFlags named-bit mask (bit 0 = eventHazardLights)
    length_m: float = math.nan
    width_m: float = math.nan
    height_m: float = math.nan
    vehicle_class: int = 10  # BasicVehicleClass (10 = passenger vehicle)
    position_accuracy_m: float = math.nan  # 95 % horizontal bound -> PositionConfidence
    elevation_accuracy_m: float = math.nan
    semi_major_m: float = math.nan  # 1-sigma GNSS error ellipse -> PositionalAccuracy
    semi_minor_m: float = math.nan
    semi_major_yaw_rad: float = math.nan  # ENU direction of the semi-major axis
    speed_accuracy_mps: float = math.nan  # 95 % bounds -> MotionConfidenceSet
    heading_accuracy_rad: float = math.nan
    path_radius_m: float = math.nan  # PathPrediction radius, left turn positive; inf = straight
    path_confidence: float = math.nan
    emergency_response: int | None = None  # ResponseType number
    siren_in_use: int | None = None  # SirenInUse number
    lightbar_in_use: int | None = None  # LightbarInUse number


def _lights_to_exterior(lights: int) -> int:
    return sum(1 << bit for flag, bit in _LIGHT_BITS if lights & flag)


def _exterior_to_lights(mask: int) -> int:
    return sum(flag for flag, bit in _LIGHT_BITS if mask & (1 << bit))


def _semi_axis_to_wire(sigma_m: float) -> int:
    if not math.isfinite(sigma_m) or sigma_m < 0:
        return 255
    return min(round(sigma_m / 0.05), 254)


def _semi_axis_from_wire(value: int) -> float:
    return math.nan if value == 255 else value * 0.05


def bsm_from_state(state: OwnVehicleState) -> dict[str, Any]:
    """The BasicSafetyMessage value of ``state``.

    :raises ConversionError: a field the standard cannot carry (bad id length, position).
    """
    if len(state.temporary_id) != 8:
        raise ConversionError('temporary_id', f'expected 8 bytes, got {len(state.temporary_id)}')
    if not (math.isfinite(state.lat_deg) and math.isfinite(state.lon_deg)):
        raise ConversionError('lat_deg/lon_deg', 'a BSM needs a known position')
    pos: dict[str, Any] = {
        'lat': units.lat_to_wire(state.lat_deg),
        'long': units.lon_to_wire(state.lon_deg),
    }
    if math.isfinite(state.alt_m):
        pos['elevation'] = units.elevation_to_wire(state.alt_m)
    value: dict[str, Any] = {
        'msgCnt': state.msg_count % 128,
        'id': state.temporary_id,
        'secMark': units.dsecond_from_ns(state.stamp_ns),
        'pos': pos,
        'transmission': _GEAR_TO_TRANSMISSION.get(state.gear, 'unavailable'),
        'speed': units.speed_to_wire(state.speed_mps),
        'heading': units.heading_to_wire(state.heading_rad),
        'accelSet': {
            'long': units.accel_to_wire(state.accel_long_mps2),
            'lat': units.accel_to_wire(-state.accel_lat_mps2),  # standard: right positive
            'vert': units.vert_accel_to_wire(state.accel_vert_mps2),
            'yaw': units.yaw_rate_to_wire(state.yaw_rate_radps),
        },
        'brakes': {},
        'size': {
            'width': units.cm_to_wire(state.width_m, 1023),
            'length': units.cm_to_wire(state.length_m, 4095),
        },
        'vehicleClass': {'classification': state.vehicle_class},
    }
    if math.isfinite(state.semi_major_m) or math.isfinite(state.semi_minor_m):
        orientation = 65535
        if math.isfinite(state.semi_major_yaw_rad):
            north_cw = (90.0 - math.degrees(state.semi_major_yaw_rad)) % 360.0
            orientation = round(north_cw / _ORIENTATION_LSB_DEG) % 65535
        value['posAccuracy'] = {
            'semiMajor': _semi_axis_to_wire(state.semi_major_m),
            'semiMinor': _semi_axis_to_wire(state.semi_minor_m),
            'orientation': orientation,
        }
    pos_class = units.accuracy_class(state.position_accuracy_m, units.POSITION_CLASSES_M)
    if pos_class:
        conf: dict[str, Any] = {'pos': enum_names('PositionConfidence')[pos_class]}
        elev_class = units.accuracy_class(state.elevation_accuracy_m, units.ELEVATION_CLASSES_M)
        if elev_class:
            conf['elevation'] = enum_names('ElevationConfidence')[elev_class]
        value['posConfidence'] = conf
    if math.isfinite(state.steering_wheel_angle_rad):
        value['angle'] = units.steering_to_wire(state.steering_wheel_angle_rad)
    speed_var = (state.speed_accuracy_mps / 2.0) ** 2
    head_var = (state.heading_accuracy_rad / 2.0) ** 2
    motion = motion_confidence(
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, speed_var, 0, 0, 0, 0, speed_var], head_var
    )
    if motion:
        value['motionCfd'] = motion
    if state.brake_pedal is not None:
        value['brakes']['brakePadel'] = 'on' if state.brake_pedal else 'off'
    height = units.height_to_wire(state.height_m)
    if height:
        value['size']['height'] = height
    safety: dict[str, Any] = {}
    if state.events:
        safety['events'] = units.int_to_bits(state.events, 13)
    if math.isfinite(state.path_radius_m) or math.isinf(state.path_radius_m):
        radius = state.path_radius_m
        wire = 32767 if math.isinf(radius) else min(max(round(-radius * 10.0), -32767), 32766)
        safety['pathPrediction'] = {
            'radiusOfCurve': wire,
            'confidence': units.confidence_to_wire(state.path_confidence),
        }
    if state.lights:
        safety['lights'] = units.int_to_bits(_lights_to_exterior(state.lights), 9)
    if safety:
        value['safetyExt'] = safety
    emergency: dict[str, Any] = {}
    if state.emergency_response is not None:
        emergency['responseType'] = enum_names('ResponseType')[state.emergency_response]
    if state.siren_in_use is not None:
        emergency['sirenUse'] = enum_names('SirenInUse')[state.siren_in_use]
    if state.lightbar_in_use is not None:
        emergency['lightsUse'] = enum_names('LightbarInUse')[state.lightbar_in_use]
    if emergency:
        value['emergencyExt'] = emergency
    return value


def state_from_bsm(value: dict[str, Any], ref_ns: int) -> OwnVehicleState:
    """The sender's state from a BasicSafetyMessage; ``ref_ns`` resolves secMark."""
    pos = value['pos']
    accel = value['accelSet']
    size = value['size']
    accuracy = value.get('posAccuracy')
    semi_major = semi_minor = major_yaw = math.nan
    if accuracy:
        semi_major = _semi_axis_from_wire(accuracy['semiMajor'])
        semi_minor = _semi_axis_from_wire(accuracy['semiMinor'])
        if accuracy['orientation'] != 65535:
            yaw = math.radians(90.0 - accuracy['orientation'] * _ORIENTATION_LSB_DEG)
            major_yaw = math.atan2(math.sin(yaw), math.cos(yaw))
    conf = value.get('posConfidence')
    pos_acc = elev_acc = math.nan
    if conf:
        pos_acc = units.class_accuracy(
            enum_index('PositionConfidence')[conf['pos']], units.POSITION_CLASSES_M
        )
        if 'elevation' in conf:
            elev_acc = units.class_accuracy(
                enum_index('ElevationConfidence')[conf['elevation']], units.ELEVATION_CLASSES_M
            )
    motion = value.get('motionCfd')
    speed_var, head_var = speed_variance(motion), heading_variance(motion)
    safety = value.get('safetyExt', {})
    path_radius = path_conf = math.nan
    if 'pathPrediction' in safety:
        wire = safety['pathPrediction']['radiusOfCurve']
        path_radius = math.inf if wire == 32767 else -wire / 10.0
        path_conf = units.confidence_from_wire(safety['pathPrediction']['confidence'])
    emergency = value.get('emergencyExt', {})
    brake = value['brakes'].get('brakePadel')
    return OwnVehicleState(
        temporary_id=bytes(value['id']),
        stamp_ns=units.ns_from_dsecond(value['secMark'], ref_ns) or ref_ns,
        lat_deg=units.lat_from_wire(pos['lat']),
        lon_deg=units.lon_from_wire(pos['long']),
        alt_m=units.elevation_from_wire(pos.get('elevation')),
        heading_rad=units.heading_from_wire(value['heading']),
        speed_mps=units.speed_from_wire(value['speed']),
        msg_count=value['msgCnt'],
        gear=_TRANSMISSION_TO_GEAR.get(value['transmission'], 0),
        accel_long_mps2=units.accel_from_wire(accel['long']),
        accel_lat_mps2=-units.accel_from_wire(accel['lat']),
        accel_vert_mps2=units.vert_accel_from_wire(accel['vert']),
        yaw_rate_radps=units.yaw_rate_from_wire(accel['yaw']),
        steering_wheel_angle_rad=units.steering_from_wire(value.get('angle', 127)),
        brake_pedal=None if brake in (None, 'unavailable') else brake == 'on',
        lights=_exterior_to_lights(units.bits_to_int(safety['lights']))
        if 'lights' in safety
        else 0,
        events=units.bits_to_int(safety['events']) if 'events' in safety else 0,
        length_m=size['length'] / 100.0 if size['length'] else math.nan,
        width_m=size['width'] / 100.0 if size['width'] else math.nan,
        height_m=size['height'] * 0.05 if size.get('height') else math.nan,
        vehicle_class=value['vehicleClass']['classification'],
        position_accuracy_m=pos_acc,
        elevation_accuracy_m=elev_acc,
        semi_major_m=semi_major,
        semi_minor_m=semi_minor,
        semi_major_yaw_rad=major_yaw,
        speed_accuracy_mps=2.0 * math.sqrt(speed_var) if math.isfinite(speed_var) else math.nan,
        heading_accuracy_rad=2.0 * math.sqrt(head_var) if head_var >= 0 else math.nan,
        path_radius_m=path_radius,
        path_confidence=path_conf,
        emergency_response=_index('ResponseType', emergency.get('responseType')),
        siren_in_use=_index('SirenInUse', emergency.get('sirenUse')),
        lightbar_in_use=_index('LightbarInUse', emergency.get('lightsUse')),
    )


def _index(type_name: str, name: str | None) -> int | None:
    return None if name is None else enum_index(type_name)[name]


def participant_from_bsm(
    value: dict[str, Any], ref_ns: int, *, frame_id: str = 'map', origin: LocalFrame | None = None
) -> Any:
    """A Participant (source V2X, trust unverified) describing a BSM's sender.

    ``id`` is the low 32 bits of the temporary id, ``source_id`` its 16-digit hex. Every
    received BSM comes here, so ``make_participant`` is called positionally.
    """
    pos = value['pos']
    motion = value.get('motionCfd')
    accuracy = value.get('posAccuracy')
    if accuracy and accuracy['semiMajor'] != 255:
        pos_var = _semi_axis_from_wire(accuracy['semiMajor']) ** 2
    else:
        pos_var = position_variance(value.get('posConfidence'))
    speed = units.speed_from_wire(value['speed'])
    if value['transmission'] == 'reverseGears' and math.isfinite(speed):
        speed = -speed
    ident = bytes(value['id'])
    size = value['size']
    return make_participant(
        units.ns_from_dsecond(value['secMark'], ref_ns) or ref_ns,
        frame_id,
        int.from_bytes(ident[4:], 'big'),
        class_from_vehicle_class(value['vehicleClass']['classification']),
        SOURCE_V2X,
        ident.hex(),
        units.lat_from_wire(pos['lat']),
        units.lon_from_wire(pos['long']),
        units.elevation_from_wire(pos.get('elevation')),
        units.heading_from_wire(value['heading']),
        speed,
        (size['length'] / 100.0, size['width'] / 100.0, size.get('height', 0) * 0.05),
        covariance(pos_var, speed_variance(motion)),
        heading_variance(motion),
        1.0,
        origin,
    )


def bsm_from_participant(p: Any, msg_count: int = 0) -> dict[str, Any]:
    """A BSM describing a Participant (for relays and simulated senders).

    Built directly rather than through ``OwnVehicleState``: this sits on the transmit path.
    """
    speed = math.hypot(p.velocity.x, p.velocity.y)
    reverse = speed > 0 and math.cos(p.heading_rad - math.atan2(p.velocity.y, p.velocity.x)) < 0
    if len(p.source_id) == 16:
        ident = id_bytes(p.source_id, 'source_id')
    else:
        ident = int(p.id).to_bytes(8, 'big')
    if not (math.isfinite(p.latitude_deg) and math.isfinite(p.longitude_deg)):
        raise ConversionError('latitude_deg/longitude_deg', 'a BSM needs a known position')
    pos: dict[str, Any] = {
        'lat': units.lat_to_wire(p.latitude_deg),
        'long': units.lon_to_wire(p.longitude_deg),
    }
    if math.isfinite(p.altitude_m):
        pos['elevation'] = units.elevation_to_wire(p.altitude_m)
    value: dict[str, Any] = {
        'msgCnt': msg_count % 128,
        'id': ident,
        'secMark': units.dsecond_from_ns(m.to_ns(p.header.stamp)),
        'pos': pos,
        'transmission': 'reverseGears' if reverse else 'unavailable',
        'speed': units.speed_to_wire(speed),
        'heading': units.heading_to_wire(p.heading_rad),
        'accelSet': dict(_NO_ACCELERATION),
        'brakes': {},
        'size': {
            'width': units.cm_to_wire(p.size.y, 1023),
            'length': units.cm_to_wire(p.size.x, 4095),
        },
        'vehicleClass': {'classification': VEHICLE_CLASS_OF.get(int(p.participant_class), 0)},
    }
    confidence = position_confidence(p.covariance)
    if confidence['pos'] != 'unavailable':
        value['posConfidence'] = confidence
    motion = motion_confidence(p.covariance, p.heading_variance)
    if motion:
        value['motionCfd'] = motion
    height = units.height_to_wire(p.size.z)
    if height:
        value['size']['height'] = height
    return value


# AccelerationSet4Way with every member unavailable (YawRate has no such code: 0).
_NO_ACCELERATION = {
    'long': units.ACCEL_UNAVAILABLE,
    'lat': units.ACCEL_UNAVAILABLE,
    'vert': units.VERT_ACCEL_UNAVAILABLE,
    'yaw': 0,
}

"""Georeferencer: sensor-frame objects → map frame with geodetic position, at the input rate.

In: ``perception/objects`` (ParticipantArray, sensor frame). Out: ``rsu/participants``
(ParticipantArray, frame ``map``, latitude/longitude/altitude filled on the configured datum).
The map frame is the ``geo.LocalFrame`` tangent plane at ``origin_*``; the sensor pose in it
comes from the survey (``translation_m``, ``rpy_rad``). Bad input is rejected and counted:
a NaN/inf object (``nan_position``), a stamp older than the last one (``time_backwards``),
an array older than ``max_age_s`` (``stale``), the wrong frame (``wrong_frame``), a
position beyond 100 km of the sensor (``out_of_range``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from geo import Datum, LocalFrame
from rsu_nodes.georef.errors import ExtrinsicsError
from rsu_nodes.georef.extrinsics import SensorPose
from v2x_runtime import QOS_SENSOR, Component, ComponentContext, ParameterError
from v2x_runtime import messages as m

ARRAY = 'v2x_stack/msg/ParticipantArray'
PARTICIPANT = 'v2x_stack/msg/Participant'
POINT = 'geometry_msgs/msg/Point'
VECTOR3 = 'geometry_msgs/msg/Vector3'
MAX_ABS_M = 1e5  # a sensor-frame position beyond this is no roadside detection
MAX_SPEED_MPS = 1e3  # a faster velocity is passed on as unknown (NaN)


def participant_arrays(participants: list[Any]) -> dict[str, np.ndarray]:
    """Stack the numeric fields of a participant list into (n, ...) arrays."""
    n = len(participants)
    pos = np.array([(p.position.x, p.position.y, p.position.z) for p in participants])
    vel = np.array([(p.velocity.x, p.velocity.y, p.velocity.z) for p in participants])
    yaw = np.array([p.heading_rad for p in participants], dtype=np.float64)
    cov = np.array([p.covariance for p in participants], dtype=np.float64)
    return {
        'pos': pos.reshape(n, 3).astype(np.float64, copy=False),
        'vel': vel.reshape(n, 3).astype(np.float64, copy=False),
        'yaw': yaw,
        'cov': cov.reshape(n, 4, 4),
    }


class Georeferencer(Component):
    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.sensor_frame = ctx.declare_parameter(
            'sensor_frame', 'lidar', 'Expected frame_id of the input ("" accepts any)'
        )
        self.map_frame = ctx.declare_parameter('map_frame', 'map', 'Frame id of the output')
        translation = ctx.declare_parameter(
            'translation_m', [0.0, 0.0, 0.0], 'Sensor position in the map frame (x, y, z), m'
        )
        rpy = ctx.declare_parameter(
            'rpy_rad', [0.0, 0.0, 0.0], 'Sensor roll, pitch, yaw in the map frame (sxyz), rad'
        )
        sigma = ctx.declare_parameter(
            'position_sigma_m', 0.02, 'Survey accuracy of the sensor position', range=(0.0, 10.0)
        )
        yaw_sigma = ctx.declare_parameter(
            'yaw_sigma_rad', 0.002, 'Survey accuracy of the sensor yaw', range=(0.0, 1.0)
        )
        lat0 = ctx.declare_parameter('origin_lat_deg', 31.2837, 'Map frame origin latitude')
        lon0 = ctx.declare_parameter('origin_lon_deg', 121.1638, 'Map frame origin longitude')
        h0 = ctx.declare_parameter('origin_alt_m', 0.0, 'Map frame origin ellipsoidal height')
        datum = ctx.declare_parameter(
            'datum', 'WGS84', 'Datum of the geodetic output', choices=('WGS84', 'CGCS2000')
        )
        self.max_age_s = ctx.declare_parameter(
            'max_age_s', 0.5, 'Inputs older than this are stale', range=(0.01, 60.0)
        )
        try:
            self.pose = SensorPose.from_lists(translation, rpy, sigma, yaw_sigma)
            self.frame = LocalFrame(lat0, lon0, h0, Datum[datum])
        except (ExtrinsicsError, ValueError) as err:
            raise ParameterError(f'{ctx.name}: {err}') from None
        self.pub = ctx.create_publisher('rsu/participants', ARRAY, QOS_SENSOR)
        ctx.create_subscription('perception/objects', ARRAY, self.on_objects, QOS_SENSOR)
        self.last_stamp_ns: int | None = None

    def on_objects(self, msg: Any) -> None:
        diag = self.ctx.diagnostics
        now = self.ctx.now_ns()
        stamp = m.to_ns(msg.header.stamp)
        if self.sensor_frame and msg.header.frame_id != self.sensor_frame:
            diag.reject(
                'wrong_frame', f'objects in {msg.header.frame_id!r}, expected {self.sensor_frame!r}'
            )
            return
        if self.last_stamp_ns is not None and stamp < self.last_stamp_ns:
            diag.reject(
                'time_backwards', f'stamp {stamp} ns before the last one {self.last_stamp_ns} ns'
            )
            return
        if now - stamp > self.max_age_s * 1e9:
            diag.reject('stale', f'objects {(now - stamp) / 1e9:.3f} s old > {self.max_age_s} s')
            return
        self.last_stamp_ns = stamp
        diag.count('received')
        self.pub.publish(self.transform(msg))
        diag.observe('latency_s', (self.ctx.now_ns() - stamp) / 1e9)

    def transform(self, msg: Any) -> Any:
        """The map-frame array of a sensor-frame array (finite objects only)."""
        participants = list(msg.participants)
        arrays = participant_arrays(participants)
        finite = np.isfinite(arrays['pos']).all(axis=1)  # NaN velocity = unknown, passed on
        if finite.all():  # the usual case: nan_to_num would change nothing
            in_range = (np.abs(arrays['pos']) <= MAX_ABS_M).all(axis=1)
        else:
            in_range = (np.abs(np.nan_to_num(arrays['pos'])) <= MAX_ABS_M).all(axis=1)
        for i in np.flatnonzero(~finite):
            pid = participants[i].id
            self.ctx.diagnostics.reject('nan_position', f'participant {pid}: {arrays["pos"][i]}')
        for i in np.flatnonzero(finite & ~in_range):
            pid = participants[i].id
            self.ctx.diagnostics.reject('out_of_range', f'participant {pid}: {arrays["pos"][i]}')
        good = finite & in_range
        idx = np.flatnonzero(good)
        pos = self.pose.points_to_map(arrays['pos'][idx])
        vel_in = arrays['vel'][idx]
        wild = ~(np.abs(vel_in) <= MAX_SPEED_MPS).all(axis=1)  # inf, NaN or absurd: unknown
        if wild.any():
            self.ctx.diagnostics.count('velocity_unknown', int(wild.sum()))
            vel_in = np.where(wild[:, None], np.nan, vel_in)
        vel = self.pose.vectors_to_map(vel_in)
        yaw_in = arrays['yaw'][idx]
        yaw_ok = np.isfinite(yaw_in)
        if yaw_ok.all():
            yaw = self.pose.yaw_to_map(yaw_in)
        else:
            yaw = np.where(yaw_ok, self.pose.yaw_to_map(np.nan_to_num(yaw_in)), np.nan)
        cov = self.pose.covariance_to_map(arrays['cov'][idx]).reshape(-1, 16)  # a new array
        lat, lon, alt = self.frame.to_geodetic(pos[:, 0], pos[:, 1], pos[:, 2])
        yaw_var = self.pose.yaw_sigma_rad**2
        point, vector = m.msg_class(POINT), m.msg_class(VECTOR3)
        headers: dict[int, Any] = {}  # one per stamp: the objects of an array share theirs
        out = []
        for k, (i, (x, y, z), (vx, vy, vz), la, lo, al, hd) in enumerate(
            zip(
                idx.tolist(),
                pos.tolist(),
                vel.tolist(),
                lat.tolist(),
                lon.tolist(),
                alt.tolist(),
                yaw.tolist(),
                strict=True,
            )
        ):
            p = participants[i]
            hv = p.heading_variance
            stamp = m.to_ns(p.header.stamp)
            header = headers.get(stamp)
            if header is None:
                header = headers[stamp] = m.header(stamp, self.map_frame)
            out.append(
                m.new(
                    PARTICIPANT,
                    header=header,
                    id=p.id,
                    participant_class=p.participant_class,
                    source=p.source,
                    source_id=p.source_id,
                    trust=p.trust,
                    position=point(x=x, y=y, z=z),
                    latitude_deg=la,
                    longitude_deg=lo,
                    altitude_m=al,
                    heading_rad=hd,
                    velocity=vector(x=vx, y=vy, z=vz),
                    size=p.size,
                    covariance=cov[k],
                    heading_variance=hv + yaw_var if hv >= 0 and math.isfinite(hv) else -1.0,
                    confidence=p.confidence,
                )
            )
        return m.new(
            ARRAY, header=m.header(m.to_ns(msg.header.stamp), self.map_frame), participants=out
        )

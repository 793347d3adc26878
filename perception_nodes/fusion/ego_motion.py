"""EgoMotionCompensation component: a moving vehicle's lidar detections (``base_link``) into
the map frame, so that the tracker downstream tracks in a world-fixed frame.

The lidar tracker (``perception_nodes.object_tracker``) tracks in the frame of its
detections. On a vehicle that frame moves: a parked car would get the ego's speed backwards
and every turn would smear the tracks. Moving each detection into ``map`` with the fused
odometry — pose uncertainty folded into its covariance (``frames.body_to_map``) — is the
ego-motion compensation; the tracker then estimates over-ground velocities.

Topics: in ``perception/detections`` (ParticipantArray, ``base_link``) and
``localization/odometry`` (nav_msgs/msg/Odometry); out ``perception/detections_map``
(ParticipantArray, ``map``). Rejected and counted: ``unknown_frame``, ``no_odometry``,
``bad_odometry``, ``nonfinite_participant``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from perception_nodes.fusion.conversions import PARTICIPANT_ARRAY
from perception_nodes.fusion.errors import ObjectInputError, TransformError
from perception_nodes.fusion.frames import PoseBuffer, body_to_map, pose_from_odometry
from v2x_runtime import QOS_SENSOR, Component, ComponentContext, ParameterError
from v2x_runtime import messages as m

ODOMETRY = 'nav_msgs/msg/Odometry'


class EgoMotionCompensation(Component):
    """Vehicle-frame detections → map frame. Topics: in `perception/detections`,
    `localization/odometry`; out `perception/detections_map`. Parameters: see declarations."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        self.map_frame = p('map_frame', 'map', 'Frame of the output')
        self.base_frame = p('sensor_frame', 'base_link', 'Frame of the detections')
        self.default_sigma_m = p(
            'default_position_sigma_m',
            0.3,
            'Position std where a detection gives none (m)',
            range=(0.001, 100.0),
        )
        mount = p(
            'sensor_mount',
            [0.0, 0.0, 0.0],
            'Sensor pose in base_link: x (m), y (m), yaw (rad); detections are in the sensor frame',
        )
        if len(mount) != 3 or not all(math.isfinite(v) for v in mount):
            raise ParameterError(f'{ctx.name}: sensor_mount: expected [x, y, yaw], got {mount}')
        self.mount_xy = np.array(mount[:2], dtype=float)
        self.mount_yaw = float(mount[2])
        self.poses = PoseBuffer(
            max_gap_s=p(
                'odom_max_gap_s', 0.25, 'Largest stamp gap to an ego pose (s)', range=(0.001, 5.0)
            )
        )
        self.pub = ctx.create_publisher('perception/detections_map', PARTICIPANT_ARRAY, QOS_SENSOR)
        ctx.create_subscription(
            'perception/detections', PARTICIPANT_ARRAY, self.on_detections, QOS_SENSOR
        )
        ctx.create_subscription('localization/odometry', ODOMETRY, self.on_odometry, QOS_SENSOR)

    def on_odometry(self, msg: Any) -> None:
        try:
            self.poses.add(pose_from_odometry(msg))
        except ObjectInputError as err:
            self.ctx.diagnostics.reject('bad_odometry', str(err))

    def on_detections(self, msg: Any) -> None:
        diag = self.ctx.diagnostics
        diag.count('received')
        if msg.header.frame_id != self.base_frame:
            diag.reject(
                'unknown_frame', f'frame {msg.header.frame_id!r}, expected {self.base_frame!r}'
            )
            return
        stamp = m.to_ns(msg.header.stamp)
        try:
            ego = self.poses.lookup(stamp)
        except TransformError as err:
            diag.reject('no_odometry', f'{len(msg.participants)} detections: {err}')
            return
        parts = []
        for p in msg.participants:
            vals = (p.position.x, p.position.y, p.position.z, p.heading_rad)
            if not all(math.isfinite(v) for v in vals):
                diag.reject('nonfinite_participant', f'detection {p.id}: {vals}')
                continue
            parts.append(p)
        n = len(parts)
        x = np.zeros((n, 4))
        cov = np.zeros((n, 4, 4))
        vel_known = np.zeros(n, dtype=bool)
        for k, p in enumerate(parts):
            c = np.asarray(p.covariance, dtype=float).reshape(4, 4)
            x[k] = (p.position.x, p.position.y, p.velocity.x, p.velocity.y)
            pos_ok = c[0, 0] > 0 and c[1, 1] > 0 and np.isfinite(c[:2, :2]).all()
            cov[k, :2, :2] = c[:2, :2] if pos_ok else np.eye(2) * self.default_sigma_m**2
            vel_known[k] = c[2, 2] > 0 and c[3, 3] > 0 and np.isfinite(c[2:, 2:]).all()
            cov[k, 2:, 2:] = c[2:, 2:] if vel_known[k] else np.eye(2)
        c, s = math.cos(self.mount_yaw), math.sin(self.mount_yaw)
        rot = np.kron(np.eye(2), np.array([[c, -s], [s, c]]))  # sensor → base_link axes
        x = x @ rot.T
        x[:, :2] += self.mount_xy
        cov = rot @ cov @ rot.T
        xm, pm = body_to_map(x, cov, ego, velocity_relative=True)
        header = m.header(stamp, self.map_frame)
        out = []
        for k, p in enumerate(parts):
            c = pm[k].copy()
            if not vel_known[k]:  # stays unknown: only the position moved frames
                c[2:, :] = 0.0
                c[:, 2:] = 0.0
                c[2, 2] = c[3, 3] = -1.0
            vx, vy = (float(v) for v in xm[k, 2:]) if vel_known[k] else (0.0, 0.0)
            out.append(
                m.new(
                    'v2x_stack/msg/Participant',
                    header=m.header(m.to_ns(p.header.stamp) or stamp, self.map_frame),
                    id=p.id,
                    participant_class=p.participant_class,
                    source=p.source,
                    source_id=p.source_id,
                    trust=p.trust,
                    position=m.new(
                        'geometry_msgs/msg/Point',
                        x=float(xm[k, 0]),
                        y=float(xm[k, 1]),
                        z=float(p.position.z),
                    ),
                    latitude_deg=math.nan,
                    longitude_deg=math.nan,
                    altitude_m=math.nan,
                    heading_rad=math.remainder(
                        p.heading_rad + self.mount_yaw + ego.yaw_rad, math.tau
                    ),
                    velocity=m.new('geometry_msgs/msg/Vector3', x=vx, y=vy, z=0.0),
                    size=p.size,
                    covariance=c.ravel(),
                    heading_variance=p.heading_variance
                    + (ego.pose_cov[2, 2] if p.heading_variance >= 0 else 0.0),
                    confidence=p.confidence,
                )
            )
        self.pub.publish(m.new(PARTICIPANT_ARRAY, header=header, participants=out))

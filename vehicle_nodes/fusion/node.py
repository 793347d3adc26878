"""The localisation component: GNSS + IMU + wheel speed → odometry, fused fix and TF."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from geo import LocalFrame
from v2x_runtime import QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m
from vehicle_nodes.fusion.ekf import FilterConfig
from vehicle_nodes.fusion.errors import ConfigError
from vehicle_nodes.fusion.localizer import Localizer, LocalizerConfig, Outcome
from vehicle_nodes.fusion.ros_conversions import (
    estimate_to_navsatfix,
    estimate_to_odometry,
    estimate_to_tf,
    navsatfix_to_position,
    stamp_header,
    yaw_to_quaternion,
)
from vehicle_nodes.fusion.skid import SkidConfig


class LocalizationFilter(Component):
    """EKF localisation in the `map` frame (local ENU at the origin parameters).

    Topics: in `localization/gnss/fix` (sensor_msgs/NavSatFix), `localization/gnss/velocity`
    (geometry_msgs/TwistWithCovarianceStamped, ENU), `imu/data` (sensor_msgs/Imu: yaw rate
    and longitudinal acceleration in base_link), `vehicle/status` (v2x_stack/VehicleStatus:
    wheel speed); out `localization/odometry` (nav_msgs/Odometry, map → base_link),
    `localization/fix` (sensor_msgs/NavSatFix, fused), `tf` (tf2_msgs/TFMessage).
    Parameters: see the declarations. Rejected input is counted by reason: not_finite,
    stale_stamp, innovation_gate (the log line gives the NIS and its bound), no_fix,
    gnss_silent, skidding (wheel speeds while the car slides); a GNSS that keeps disagreeing for
    `reset_after_s` is taken (counted as gnss_reset). A loss of control (skid, spin) is counted
    as skid_detected and logged with what revealed it; its end as skid_ended.
    """

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        lat = p(
            'origin_lat_deg', 0.0, 'Latitude of the map frame origin (WGS84)', range=(-90.0, 90.0)
        )
        lon = p('origin_lon_deg', 0.0, 'Longitude of the map frame origin', range=(-180.0, 180.0))
        alt = p(
            'origin_alt_m', 0.0, 'Ellipsoidal height of the map frame origin', range=(-1e3, 1e4)
        )
        if lat == 0.0 and lon == 0.0:
            raise ConfigError(f'{ctx.name}: parameters origin_lat_deg/origin_lon_deg must be set '
                              '(the map frame origin), got 0, 0')  # fmt: skip
        self.frame = LocalFrame(lat, lon, alt)
        fcfg = FilterConfig(
            lever_arm_m=(p('lever_arm_x_m', 0.0, 'Antenna ahead of base_link', range=(-20.0, 20.0)),
                         p('lever_arm_y_m', 0.0, 'Antenna left of base_link', range=(-5.0, 5.0))),
            rear_axle_m=p('rear_axle_m', 0.0, 'base_link ahead of the rear axle (the point '
                          'that moves without side slip)', range=(-20.0, 20.0)),
            gyro_noise_radps=p('gyro_noise_radps', 0.005, 'Yaw-rate noise σ per IMU sample',
                               range=(1e-6, 1.0)),
            accel_noise_mps2=p('accel_noise_mps2', 0.05, 'Acceleration noise σ per IMU sample',
                               range=(1e-5, 10.0)),
            imu_rate_hz=p('imu_rate_hz', 100.0, 'Nominal IMU rate', range=(1.0, 2000.0)),
            gate_probability=p('gate_probability', 0.999, 'Chi-square gate probability',
                               range=(0.9, 0.999999)),
        )  # fmt: skip
        self.gnss_timeout_s = p(
            'gnss_timeout_s', 1.5, 'GNSS silent after this long', range=(0.1, 60.0)
        )
        self.loc = Localizer(LocalizerConfig(
            filter=fcfg,
            wheel_speed_sigma_mps=p('wheel_speed_sigma_mps', 0.05, 'Wheel speed σ',
                                    range=(1e-3, 5.0)),
            reset_after_s=p('reset_after_s', 5.0, 'Take the GNSS after it disagrees this long',
                            range=(0.5, 600.0)),
            gnss_timeout_s=self.gnss_timeout_s,
            skid=SkidConfig(
                grip_limit_mps2=p('grip_limit_mps2', 11.0, 'Yaw rate × speed beyond which the '
                                  'car is taken as sliding (no tyre holds it)',
                                  range=(2.0, 50.0)),
                side_slip_mps=p('skid_side_slip_mps', 0.4, 'GNSS velocity across the heading '
                                'beyond which the car is taken as sliding', range=(0.25, 20.0)),
            ),
        ))  # fmt: skip
        self.map_frame = p('map_frame', 'map', 'Frame of the odometry pose')
        self.base_frame = p('base_frame', 'base_link', 'Vehicle frame')
        rate = p('publish_rate_hz', 50.0, 'Odometry/TF/fix output rate', range=(0.1, 1000.0))
        self.odom_pub = ctx.create_publisher(
            'localization/odometry', 'nav_msgs/msg/Odometry', QOS_SENSOR
        )
        self.fix_pub = ctx.create_publisher(
            'localization/fix', 'sensor_msgs/msg/NavSatFix', QOS_SENSOR
        )
        self.tf_pub = ctx.create_publisher('tf', 'tf2_msgs/msg/TFMessage', QOS_SENSOR)
        ctx.create_subscription(
            'localization/gnss/fix', 'sensor_msgs/msg/NavSatFix', self.on_fix, QOS_SENSOR
        )
        ctx.create_subscription('localization/gnss/velocity',
                                'geometry_msgs/msg/TwistWithCovarianceStamped', self.on_velocity,
                                QOS_SENSOR)  # fmt: skip
        ctx.create_subscription('imu/data', 'sensor_msgs/msg/Imu', self.on_imu, QOS_SENSOR)
        ctx.create_subscription('vehicle/status', 'v2x_stack/msg/VehicleStatus', self.on_status,
                                QOS_SENSOR)  # fmt: skip
        ctx.create_timer(1.0 / rate, self.on_tick)
        self._altitude = (math.nan, math.nan)
        self._last_fix_ns: int | None = None
        self._silent_reported = False
        self._last_published_t: float | None = None
        self._skids_seen = 0
        self._sliding = False

    def _stamp_s(self, msg: Any) -> float:
        ns = m.to_ns(msg.header.stamp)
        return (ns if ns > 0 else self.ctx.now_ns()) * 1e-9

    def _count(self, outcome: Outcome, source: str, detail: Callable[[], str]) -> None:
        """Count ``outcome``; ``detail`` (the log text) is formatted only for a reject or reset
        (formatting its floats for every accepted input was a tenth of the callbacks)."""
        if len(self.loc.skids) != self._skids_seen:
            self._report_skids()
        if outcome is Outcome.ACCEPTED or outcome is Outcome.BUFFERED:
            self.ctx.diagnostics.count(source + '_used')
        elif outcome is Outcome.GATED and self.loc.last_update is not None:
            res = self.loc.last_update
            self.ctx.diagnostics.reject(
                outcome.value, f'{source}: {detail()} (NIS {res.nis:.1f} > {res.gate:.1f})'
            )
        elif outcome is Outcome.RESET:
            self.ctx.diagnostics.count('gnss_reset')
            self.ctx.logger.warning(
                f'GNSS disagreed too long, position reset: {detail()}', throttle_s=5.0
            )
        else:
            self.ctx.diagnostics.reject(outcome.value, f'{source}: {detail()}')

    def _report_skids(self) -> None:
        for skid in self.loc.skids[self._skids_seen :]:
            self.ctx.diagnostics.count('skid_detected')
            if skid.reason == 'side_slip':
                seen = f'side slip {skid.lateral_mps:.1f} m/s'
            else:
                seen = f'yaw rate × speed {abs(skid.yaw_rate_radps * skid.speed_mps):.1f} m/s²'
            self.ctx.logger.warning(
                f'loss of control at {skid.t_s:.2f} s ({seen}, speed {skid.speed_mps:.1f} m/s, '
                f'yaw rate {skid.yaw_rate_radps:.2f} rad/s): sliding model',
                throttle_s=5.0,
            )
        self._skids_seen = len(self.loc.skids)

    def on_fix(self, msg: Any) -> None:
        t = self._stamp_s(msg)
        pos = navsatfix_to_position(msg, self.frame)  # NaN/inf position: rejected below
        self._last_fix_ns = self.ctx.now_ns()
        self._silent_reported = False
        outcome = self.loc.on_gnss_position(t, pos.xy_m, pos.cov_m2, pos.kind)
        if outcome is Outcome.ACCEPTED or outcome is Outcome.RESET:
            self._altitude = (pos.altitude_m, pos.altitude_var_m2)
        kind = pos.kind.name
        self._count(outcome, 'fix', lambda: f'lat {msg.latitude} lon {msg.longitude} kind {kind}')

    def on_velocity(self, msg: Any) -> None:
        v = msg.twist.twist.linear
        cov = np.asarray(msg.twist.covariance, float).reshape(6, 6)[:2, :2]
        outcome = self.loc.on_gnss_velocity(self._stamp_s(msg), np.array([v.x, v.y]), cov)
        self._count(outcome, 'velocity', lambda: f'v ({v.x}, {v.y})')

    def on_imu(self, msg: Any) -> None:
        gz, ax = float(msg.angular_velocity.z), float(msg.linear_acceleration.x)
        outcome = self.loc.on_imu(self._stamp_s(msg), gz, ax)
        self._count(outcome, 'imu', lambda: f'gyro z {gz}, accel x {ax}')

    def on_status(self, msg: Any) -> None:
        outcome = self.loc.on_vehicle_status(self._stamp_s(msg), float(msg.speed_mps),
                                             float(msg.yaw_rate_radps),
                                             float(msg.acceleration_mps2))  # fmt: skip
        self._count(outcome, 'status', lambda: f'speed {msg.speed_mps}')

    def on_tick(self) -> None:
        now = self.ctx.now_ns()
        silent = self._last_fix_ns is None or (now - self._last_fix_ns) * 1e-9 > self.gnss_timeout_s
        if silent and self._last_fix_ns is not None and not self._silent_reported:
            self.ctx.diagnostics.reject(
                'gnss_silent', f'no fix for more than {self.gnss_timeout_s} s'
            )
            self._silent_reported = True
        if self.loc.t_s == self._last_published_t:
            return  # nothing new since the last tick (the filter moves only on input)
        est = self.loc.estimate()
        if est is None:
            return
        self._last_published_t = est.t_s
        if est.sliding != self._sliding:
            self._sliding = est.sliding
            if not est.sliding:  # the start was reported with what revealed it
                self.ctx.diagnostics.count('skid_ended')
                self.ctx.logger.info(f'grip regained or at rest at {est.t_s:.2f} s: rolling model')
        self.ctx.diagnostics.set_value('gnss_age_s', f'{est.gnss_age_s:.2f}')
        sigma = math.sqrt(max(est.covariance[0, 0], est.covariance[1, 1]))
        self.ctx.diagnostics.set_value('position_sigma_m', f'{sigma:.3f}')
        # the odometry and the TF share their header and rotation (same stamp, frame, yaw)
        header, yaw = stamp_header(est.t_s, self.map_frame), yaw_to_quaternion(est.yaw_rad)
        self.odom_pub.publish(estimate_to_odometry(est, self.map_frame, self.base_frame,
                                                   header=header, orientation=yaw))  # fmt: skip
        self.fix_pub.publish(
            estimate_to_navsatfix(est, self.frame, *self._altitude, self.base_frame)
        )
        self.tf_pub.publish(
            estimate_to_tf(est, self.map_frame, self.base_frame, header=header, rotation=yaw)
        )

"""The GNSS receiver driver component: NMEA in from a transport, fix/velocity/heading out."""

from __future__ import annotations

import math
from typing import Any

from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m
from v2x_runtime.backoff import Backoff
from vehicle_nodes.gnss.errors import ConfigError
from vehicle_nodes.gnss.link import TransportLink
from vehicle_nodes.gnss.records import FixType, GnssFix
from vehicle_nodes.gnss.ros_conversions import fix_to_navsatfix, fix_to_twist, heading_to_imu
from vehicle_nodes.gnss.stream import NmeaStream
from vehicle_nodes.gnss.transports import make_transport

NS_PER_S = 1_000_000_000


class GnssDriver(Component):
    """Reads NMEA 0183 from a receiver (serial/TCP/UDP), publishes each epoch's solution.

    Topics: out `localization/gnss/fix` (sensor_msgs/NavSatFix: status from the fix type,
    ENU covariance from GST or DOP × UERE), `localization/gnss/velocity`
    (geometry_msgs/TwistWithCovarianceStamped, ENU m/s), `localization/gnss/heading`
    (sensor_msgs/Imu, yaw-only ENU orientation, from HDT/THS), `localization/gnss/fix_type`
    (std_msgs/UInt8: 0 none, 1 single, 2 DGNSS, 3 RTK float, 4 RTK fixed, 5 dead reckoning);
    in `gnss/rtcm` (std_msgs/UInt8MultiArray: RTCM 3 frames written to the receiver).
    Parameters: see the declarations below.
    """

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.source = ctx.declare_parameter(
            'source',
            'tcp://127.0.0.1:5017',
            'Receiver: serial:///dev/ttyX?baud=N, tcp://host:port or udp://host:port',
        )
        self.frame_id = ctx.declare_parameter('frame_id', 'gnss', 'Frame of the antenna')
        self.poll_period_s = ctx.declare_parameter(
            'poll_period_s', 0.02, 'Transport poll period', range=(0.001, 1.0)
        )
        self.epoch_idle_s = ctx.declare_parameter(
            'epoch_idle_s', 0.05, 'Quiet time that closes an epoch', range=(0.0, 1.0)
        )
        self.silence_timeout_s = ctx.declare_parameter(
            'silence_timeout_s', 2.0, 'No bytes for this long: receiver silent', range=(0.1, 60.0)
        )
        self.require_checksum = ctx.declare_parameter(
            'require_checksum', True, 'Reject sentences without *hh'
        )
        self.heading_sigma_deg = ctx.declare_parameter(
            'heading_sigma_deg', 0.5, 'Heading 1-sigma (dual antenna)', range=(0.01, 45.0)
        )
        self.heading_offset_deg = ctx.declare_parameter(
            'heading_offset_deg',
            0.0,
            'Antenna baseline → vehicle heading offset',
            range=(-180.0, 180.0),
        )
        self.speed_sigma_mps = ctx.declare_parameter(
            'speed_sigma_mps', 0.1, 'Ground speed 1-sigma', range=(0.001, 10.0)
        )
        self.reconnect_max_s = ctx.declare_parameter(
            'reconnect_max_s', 10.0, 'Longest wait between reopen attempts', range=(0.1, 300.0)
        )
        self.forward_rtcm = ctx.declare_parameter(
            'forward_rtcm', True, 'Write gnss/rtcm frames to the receiver'
        )
        try:
            transport = make_transport(self.source)
        except ConfigError as err:
            raise ConfigError(f'{ctx.name}: {err}') from None
        self.link = TransportLink(transport, Backoff(0.2, self.reconnect_max_s))
        self.stream = NmeaStream(require_checksum=self.require_checksum)
        self.fix_pub = ctx.create_publisher(
            'localization/gnss/fix', 'sensor_msgs/msg/NavSatFix', QOS_SENSOR
        )
        self.velocity_pub = ctx.create_publisher(
            'localization/gnss/velocity', 'geometry_msgs/msg/TwistWithCovarianceStamped', QOS_SENSOR
        )
        self.heading_pub = ctx.create_publisher(
            'localization/gnss/heading', 'sensor_msgs/msg/Imu', QOS_SENSOR
        )
        self.fix_type_pub = ctx.create_publisher(
            'localization/gnss/fix_type', 'std_msgs/msg/UInt8', QOS_RELIABLE
        )
        if self.forward_rtcm:
            ctx.create_subscription(
                'gnss/rtcm', 'std_msgs/msg/UInt8MultiArray', self.on_rtcm, QOS_RELIABLE
            )
        ctx.create_timer(self.poll_period_s, self.on_poll)
        self._last_bytes_ns: int | None = None
        self._silent = False
        self._reported: dict[str, int] = {}

    def start(self) -> None:
        self.link.poll(self.ctx.now_ns() / NS_PER_S)

    def stop(self) -> None:
        self.link.close()

    def on_poll(self) -> None:
        now_ns = self.ctx.now_ns()
        data = self.link.poll(now_ns / NS_PER_S)
        fixes: list[GnssFix] = []
        if data:
            self._last_bytes_ns = now_ns
            self._silent = False
            fixes = self.stream.feed(data)
        elif self._last_bytes_ns is not None and (
            now_ns - self._last_bytes_ns >= self.epoch_idle_s * NS_PER_S
        ):
            fixes = self.stream.flush()
        for fix in fixes:
            self._publish(fix, now_ns)
        self._check_silence(now_ns)
        self._report_counts()

    def on_rtcm(self, msg: Any) -> None:
        data = bytes(msg.data)
        if not data:
            self.ctx.diagnostics.reject('empty_rtcm', 'gnss/rtcm message without bytes')
            return
        if self.link.send(self.ctx.now_ns() / NS_PER_S, data):
            self.ctx.diagnostics.count('rtcm_bytes_forwarded', len(data))
        else:
            self.ctx.diagnostics.reject(
                'rtcm_not_forwarded', f'{len(data)} bytes: {self.link.last_error or "closed"}'
            )

    def _publish(self, fix: GnssFix, now_ns: int) -> None:
        diag = self.ctx.diagnostics
        diag.count(f'fix.{fix.fix_type.name.lower()}')
        self.fix_type_pub.publish(m.new('std_msgs/msg/UInt8', data=int(fix.fix_type)))
        diag.set_value('fix_type', fix.fix_type.name)
        self.fix_pub.publish(fix_to_navsatfix(fix, now_ns, self.frame_id))
        if fix.speed_mps is not None and fix.fix_type is not FixType.NO_FIX:
            self.velocity_pub.publish(
                fix_to_twist(fix, now_ns, self.frame_id, self.speed_sigma_mps)
            )
        if fix.heading_deg is not None and math.isfinite(fix.heading_deg):
            heading = (fix.heading_deg + self.heading_offset_deg) % 360.0
            self.heading_pub.publish(
                heading_to_imu(heading, now_ns, self.frame_id, self.heading_sigma_deg)
            )

    def _check_silence(self, now_ns: int) -> None:
        """Once per silent spell: no bytes from the receiver for silence_timeout_s."""
        if self._last_bytes_ns is None or self._silent:
            return
        if now_ns - self._last_bytes_ns >= self.silence_timeout_s * NS_PER_S:
            self._silent = True
            self.ctx.diagnostics.reject(
                'receiver_silent',
                f'nothing from {self.source} for {self.silence_timeout_s} s '
                f'({self.link.last_error or "link open"})',
            )
            self.ctx.diagnostics.set_value('fix_type', FixType.NO_FIX.name)
            self.fix_type_pub.publish(m.new('std_msgs/msg/UInt8', data=int(FixType.NO_FIX)))

    def _report_counts(self) -> None:
        """Mirror the stream's and link's counters into diagnostics (rejects get a log line)."""
        diag = self.ctx.diagnostics
        merged = self.stream.stats() + self.link.stats
        for key, value in merged.items():
            previous = self._reported.get(key, 0)
            if value == previous:
                continue
            self._reported[key] = value
            if key.startswith('rejected_'):
                detail = self.stream.last_rejection.detail if self.stream.last_rejection else key
                for _ in range(value - previous):
                    diag.reject(key.removeprefix('rejected_'), detail)
            elif key in ('open_failed', 'link_lost', 'send_failed'):
                for _ in range(value - previous):
                    diag.reject(key, self.link.last_error)
            else:
                diag.count(key, value - previous)

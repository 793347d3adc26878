"""The NTRIP client component: corrections from a caster to the receiver and to a topic."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m
from v2x_runtime.backoff import Backoff
from vehicle_nodes.gnss.errors import GnssError
from vehicle_nodes.gnss.gga_writer import build_gga
from vehicle_nodes.gnss.link import TransportLink
from vehicle_nodes.gnss.records import FixType
from vehicle_nodes.gnss.transports import make_transport
from vehicle_nodes.ntrip.errors import ConfigError
from vehicle_nodes.ntrip.http import NtripVersion
from vehicle_nodes.ntrip.rtcm import RtcmFrame, RtcmFramer
from vehicle_nodes.ntrip.session import NtripConfig, NtripSession, State
from vehicle_nodes.ntrip.sourcetable import SourceTable, haversine_m
from vehicle_nodes.ntrip.station import ARP_TYPES, ReferenceStation, decode_station

NS_PER_S = 1_000_000_000
_NAVSAT_TO_FIX = {-1: FixType.NO_FIX, 0: FixType.SINGLE, 1: FixType.DGNSS, 2: FixType.RTK_FIXED}


class NtripClient(Component):
    """Streams RTCM 3 from an NTRIP caster (v1 or v2) and hands each CRC-checked frame on.

    Topics: in `localization/gnss/fix` (sensor_msgs/NavSatFix: position for the GGA upload
    and the nearest mount point), out `gnss/rtcm` (std_msgs/UInt8MultiArray: one whole RTCM 3
    frame per message, preamble to CRC). Frames are also written to ``receiver`` when set.
    With ``mountpoint`` empty the client fetches the source table and picks the STR nearest
    to the current (or approximate) position. Parameters: see the declarations below.
    """

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.host = ctx.declare_parameter('host', '127.0.0.1', 'Caster host name or address')
        self.port = ctx.declare_parameter('port', 2101, 'Caster TCP port', range=(1, 65535))
        self.mountpoint = ctx.declare_parameter(
            'mountpoint', '', 'Mount point; empty = nearest STR from the source table'
        )
        self.username = ctx.declare_parameter('username', '', 'Basic auth user')
        self.password = ctx.declare_parameter('password', '', 'Basic auth password')
        self.version = ctx.declare_parameter(
            'ntrip_version', '2.0', 'NTRIP protocol version', choices=('1.0', '2.0')
        )
        self.gga_interval_s = ctx.declare_parameter(
            'gga_interval_s', 10.0, 'GGA upload period; 0 = never', range=(0.0, 3600.0)
        )
        self.reconnect_initial_s = ctx.declare_parameter(
            'reconnect_initial_s', 1.0, 'First reconnect delay', range=(0.01, 60.0)
        )
        self.reconnect_max_s = ctx.declare_parameter(
            'reconnect_max_s', 60.0, 'Longest reconnect delay', range=(0.01, 3600.0)
        )
        self.stall_timeout_s = ctx.declare_parameter(
            'stall_timeout_s', 10.0, 'No data for this long: reconnect', range=(0.1, 600.0)
        )
        self.poll_period_s = ctx.declare_parameter(
            'poll_period_s', 0.02, 'Socket poll period', range=(0.001, 1.0)
        )
        self.receiver = ctx.declare_parameter(
            'receiver', '', 'Write frames to this receiver: serial:///dev/X?baud=N or tcp://h:p'
        )
        self.approx_position = ctx.declare_parameter(
            'approx_position',
            [0.0, 0.0, 0.0],
            'lat deg, lon deg, h m used before the first fix (all zero = none)',
        )
        if len(self.approx_position) != 3 or not all(map(math.isfinite, self.approx_position)):
            raise ConfigError(
                f'{ctx.name}: parameter approx_position: expected [lat_deg, lon_deg, h_m], '
                f'got {self.approx_position}'
            )
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise ConfigError(
                f'{ctx.name}: parameter reconnect_max_s ({self.reconnect_max_s}) is below '
                f'reconnect_initial_s ({self.reconnect_initial_s})'
            )
        self.receiver_link: TransportLink | None = None
        if self.receiver:
            try:
                transport = make_transport(self.receiver, parameter='receiver')
            except GnssError as err:
                raise ConfigError(f'{ctx.name}: {err}') from None
            self.receiver_link = TransportLink(transport, Backoff(0.5, 10.0))
        self.pub = ctx.create_publisher('gnss/rtcm', 'std_msgs/msg/UInt8MultiArray', QOS_RELIABLE)
        ctx.create_subscription(
            'localization/gnss/fix', 'sensor_msgs/msg/NavSatFix', self.on_fix, QOS_SENSOR
        )
        ctx.create_timer(self.poll_period_s, self.on_poll)
        self._fix: tuple[float, float, float, FixType] | None = None
        lat, lon, h = self.approx_position
        if (lat, lon, h) != (0.0, 0.0, 0.0):
            self._fix = (lat, lon, h, FixType.SINGLE)
        self.chosen_mountpoint = self.mountpoint
        self.sourcetable: SourceTable | None = None
        self.base_station: ReferenceStation | None = None
        self.backoff = Backoff(self.reconnect_initial_s, self.reconnect_max_s)
        self.stats: Counter[str] = Counter()  # shared by the sessions, reported as diagnostics
        self.framer = RtcmFramer()
        self.session = self._new_session(self.mountpoint)
        self._reported: dict[str, int] = {}

    def _new_session(self, mountpoint: str) -> NtripSession:
        config = NtripConfig(
            host=self.host,
            port=self.port,
            mountpoint=mountpoint,
            version=NtripVersion(self.version),
            username=self.username,
            password=self.password,
            gga_interval_s=self.gga_interval_s,
            stall_timeout_s=self.stall_timeout_s,
        )
        return NtripSession(
            config,
            gga_source=self.current_gga,
            backoff=self.backoff,
            stats=self.stats,
            framer=self.framer,
        )

    def stop(self) -> None:
        self.session.close()
        if self.receiver_link is not None:
            self.receiver_link.close()

    def on_fix(self, msg: Any) -> None:
        lat, lon, alt = float(msg.latitude), float(msg.longitude), float(msg.altitude)
        if not m.finite(lat, lon, alt) or abs(lat) > 90.0 or abs(lon) > 180.0:
            self.ctx.diagnostics.reject('bad_fix', f'position {lat}, {lon}, {alt}')
            return
        fix_type = _NAVSAT_TO_FIX.get(int(msg.status.status), FixType.NO_FIX)
        if fix_type is not FixType.NO_FIX:
            self._fix = (lat, lon, alt, fix_type)

    def current_gga(self) -> str | None:
        """A GGA of the latest position (ellipsoidal height written as MSL with 0 separation)."""
        if self._fix is None:
            return None
        lat, lon, alt, fix_type = self._fix
        time_s = (self.ctx.now_ns() / NS_PER_S) % 86400.0
        return build_gga(time_s=time_s, lat_deg=lat, lon_deg=lon, alt_msl_m=alt, fix_type=fix_type)

    def on_poll(self) -> None:
        now_s = self.ctx.now_ns() / NS_PER_S
        result = self.session.poll(now_s)
        if result.sourcetable is not None:
            self._choose_mountpoint(result.sourcetable)
        elif self.session.state is State.DONE and not self.mountpoint:
            self.ctx.diagnostics.reject('sourcetable_unusable', self.session.last_error)
            self.session = self._new_session('')
        for frame in result.frames:
            if frame.message_type in ARP_TYPES:
                self._note_station(frame)
            self.pub.publish(
                m.new(
                    'std_msgs/msg/UInt8MultiArray', data=np.frombuffer(frame.data, np.uint8).copy()
                )
            )
            self.ctx.diagnostics.count(f'rtcm.{frame.message_type}')
        if result.frames and self.receiver_link is not None:
            self.receiver_link.send(now_s, b''.join(f.data for f in result.frames))
        if self.receiver_link is not None:
            self.receiver_link.poll(now_s)  # (re)opens; what the receiver says is not ours
        self._report()

    def _note_station(self, frame: RtcmFrame) -> None:
        station = decode_station(frame)
        if station is None:
            self.ctx.diagnostics.reject('bad_station_message', f'{len(frame.data)}-byte 1005/6')
            return
        lat, lon, h = station.geodetic()
        self.base_station = station
        diag = self.ctx.diagnostics
        diag.set_value('base_station', f'{station.station_id} at {lat:.7f}, {lon:.7f}, {h:.2f} m')
        if self._fix is not None:
            diag.set_value('baseline_km', f'{haversine_m(lat, lon, *self._fix[:2]) / 1000.0:.2f}')

    def _choose_mountpoint(self, table: SourceTable) -> None:
        self.sourcetable = table
        chosen = None
        if self._fix is not None:
            chosen = table.nearest(self._fix[0], self._fix[1])
        if chosen is None:
            chosen = next((s for s in table.streams if 'RTCM' in s.format.upper()), None)
        if chosen is None and table.streams:
            chosen = table.streams[0]
        if chosen is None:
            self.ctx.diagnostics.reject('no_mountpoint', 'source table lists no stream')
            self.session = self._new_session('')
            self.session.defer(self.ctx.now_ns() / NS_PER_S + self.backoff.next_delay_s())
            return
        self.chosen_mountpoint = chosen.mountpoint
        self.ctx.diagnostics.set_value('mountpoint', chosen.mountpoint)
        self.ctx.logger.info(f'mount point {chosen.mountpoint} chosen from the source table')
        self.session = self._new_session(chosen.mountpoint)

    def _report(self) -> None:
        diag = self.ctx.diagnostics
        merged = self.stats + self.framer.stats
        if self.receiver_link is not None:
            merged += Counter({'receiver_' + k: v for k, v in self.receiver_link.stats.items()})
        for key, value in merged.items():
            previous = self._reported.get(key, 0)
            if value == previous:
                continue
            self._reported[key] = value
            if key.startswith('failed_') or key in (
                'crc_errors',
                'receiver_send_failed',
                'receiver_open_failed',
                'rejected_sourcetable',
            ):
                reason = key.removeprefix('failed_')
                detail = self.session.last_error or key
                for _ in range(value - previous):
                    diag.reject(reason, detail)
            else:
                diag.count(key, value - previous)
        diag.set_value('state', self.session.state.value)

"""RadioBridge: UDP to a real OBU/RSU (or a second bridge on loopback).

Topics: in ``v2x/tx`` (V2xFrame, to send); out ``v2x/rx`` (V2xFrame, one per datagram received).
Receiving polls a non-blocking socket from a timer, so the component runs unchanged in the
embedded runtime and under ROS 2. Every dropped datagram or frame is counted by reason.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

import numpy as np

from v2x_nodes.radio.framing import (
    MAX_DATAGRAM,
    Framing,
    FramingConfig,
    FramingError,
    unwrap,
    wrap,
)
from v2x_nodes.radio.rate_control import BsmRateAdapter, TokenBucket
from v2x_runtime import QOS_RELIABLE, Component, ComponentContext, ParameterError
from v2x_runtime import messages as m

V2X_FRAME = 'v2x_stack/msg/V2xFrame'
TYPE_NAMES = {1: 'bsm', 2: 'map', 3: 'spat', 4: 'rsi', 5: 'rsm', 6: 'ssm'}
DEFAULT_RATES_HZ = {'map': 2.0, 'spat': 20.0, 'rsi': 10.0, 'rsm': 20.0, 'ssm': 20.0}


_NO_BYTES = np.empty(0, np.uint8)
_NO_BYTES.flags.writeable = False  # shared by every received frame's empty ``secured``


def rx_frame(now_ns: int, channel: int, rssi_dbm: float, payload: bytes) -> Any:
    """The ``v2x/rx`` V2xFrame of one received frame: every field given, so the class is
    called directly (the generic ``m.new`` fills defaults: 3× the cost, once per datagram)."""
    return m.msg_class(V2X_FRAME)(
        header=m.header(now_ns),
        message_type=0,
        source_id='',
        channel=channel,
        rssi_dbm=rssi_dbm,
        security_status=0,
        psid=0,
        payload=np.frombuffer(payload, dtype=np.uint8),
        secured=_NO_BYTES,
    )


class RadioBridge(Component):
    """Datagrams ↔ V2xFrame over UDP, with per-type rate limits and BSM rate adaptation."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.bind_address = ctx.declare_parameter(
            'bind_address', '0.0.0.0', 'Local address to receive datagrams on'
        )
        self.bind_port = ctx.declare_parameter(
            'bind_port', 30301, 'Local UDP port (0: any free port)', range=(0, 65535)
        )
        self.device_address = ctx.declare_parameter(
            'device_address', '127.0.0.1', 'Address of the OBU/RSU that transmits our frames'
        )
        self.device_port = ctx.declare_parameter(
            'device_port', 30300, 'UDP port of the OBU/RSU', range=(1, 65535)
        )
        framing = ctx.declare_parameter(
            'framing', 'none', 'Datagram framing', choices=[f.value for f in Framing]
        )
        prefix_hex = ctx.declare_parameter(
            'tx_prefix_hex', '', 'Vendor header put before each frame sent (hex)'
        )
        header = ctx.declare_parameter(
            'rx_header_bytes',
            0,
            'Vendor header bytes before each frame received',
            range=(0, 256),
        )
        rssi_offset = ctx.declare_parameter(
            'rssi_offset',
            -1,
            'Offset of an int8 RSSI (dBm) in the rx header; -1: none',
            range=(-1, 255),
        )
        try:
            self.framing = FramingConfig(
                Framing(framing), bytes.fromhex(prefix_hex), header, rssi_offset
            )
        except (ValueError, FramingError) as err:
            raise ParameterError(f'framing parameters: {err}') from None
        self.poll_period_s = ctx.declare_parameter(
            'poll_period_s', 0.005, 'How often the socket is read', range=(0.0005, 1.0)
        )
        self.max_per_poll = ctx.declare_parameter(
            'max_datagrams_per_poll', 512, 'Datagrams read per poll at most', range=(1, 100000)
        )
        self.channel = ctx.declare_parameter('channel', 0, 'Radio channel id', range=(0, 65535))
        self.limits = {
            name: TokenBucket(
                ctx.declare_parameter(
                    f'{name}_rate_hz', rate, f'Max {name.upper()} frames/s', range=(0.1, 1000.0)
                ),
                burst=ctx.declare_parameter(
                    f'{name}_burst', 4.0, f'{name.upper()} burst', range=(1.0, 1000.0)
                ),
            )
            for name, rate in DEFAULT_RATES_HZ.items()
        }
        self.adapt_bsm = ctx.declare_parameter(
            'bsm_rate_adaptation', True, 'Stretch the BSM interval when the channel is busy'
        )
        self.bsm = BsmRateAdapter(
            nominal_interval_s=ctx.declare_parameter(
                'bsm_interval_s', 0.1, 'Nominal BSM interval (CSAE 53: 10 Hz)', range=(0.02, 1.0)
            ),
            max_interval_s=ctx.declare_parameter(
                'bsm_max_interval_s',
                0.6,
                'Longest BSM interval under congestion',
                range=(0.1, 5.0),
            ),
            density_threshold=ctx.declare_parameter(
                'bsm_density_threshold',
                25.0,
                'Neighbours before the interval stretches',
                range=(1.0, 1000.0),
            ),
        )
        self.pub = ctx.create_publisher('v2x/rx', V2X_FRAME, QOS_RELIABLE)
        ctx.create_subscription('v2x/tx', V2X_FRAME, self.on_tx, QOS_RELIABLE)
        ctx.create_timer(self.poll_period_s, self.poll)
        self.sock: socket.socket | None = None

    @property
    def port(self) -> int:
        """The UDP port actually bound (useful with ``bind_port`` 0)."""
        assert self.sock is not None
        return int(self.sock.getsockname()[1])

    def start(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.bind_address, self.bind_port))
        self.sock.setblocking(False)
        self.ctx.logger.info(
            f'radio bridge on udp {self.bind_address}:{self.port} -> '
            f'{self.device_address}:{self.device_port}'
        )

    def stop(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def poll(self) -> None:
        if self.sock is None:
            return
        diag = self.ctx.diagnostics
        for _ in range(self.max_per_poll):
            try:
                datagram = self.sock.recv(MAX_DATAGRAM + 1)
            except BlockingIOError:
                return
            except OSError as err:
                diag.reject('socket_error', f'recv: {err}')
                return
            now = self.ctx.now_ns()
            diag.count('rx.datagrams')
            self.bsm.heard(now)
            try:
                received = unwrap(datagram, self.framing)
            except FramingError as err:
                diag.reject('framing', str(err))
                continue
            diag.count('rx.frames')
            self.pub.publish(rx_frame(now, self.channel, received.rssi_dbm, received.payload))

    def on_tx(self, frame: Any) -> None:
        diag = self.ctx.diagnostics
        now = self.ctx.now_ns()
        name = TYPE_NAMES.get(int(frame.message_type))
        if name is None:
            diag.reject('tx_unknown_type', f'message_type {frame.message_type}')
            return
        if name == 'bsm':
            if self.adapt_bsm and not self.bsm.allow(now):
                diag.count('dropped.bsm_congestion')
                return
        elif not self.limits[name].allow(now):
            diag.count(f'dropped.rate_limit.{name}')
            return
        wire = frame.secured if len(frame.secured) else frame.payload
        try:
            datagram = wrap(bytes(wire), self.framing)
        except FramingError as err:
            diag.reject('tx_framing', str(err))
            return
        if self.sock is None:
            diag.count('dropped.not_started')
            return
        try:
            self.sock.sendto(datagram, (self.device_address, self.device_port))
        except OSError as err:
            reason = 'tx_would_block' if err.errno in (errno.EAGAIN, errno.ENOBUFS) else 'tx_error'
            diag.reject(reason, f'sendto: {err}')
            return
        diag.count(f'tx.{name}')
        diag.set_value('bsm_interval_s', f'{self.bsm.interval_s(now):.3f}')

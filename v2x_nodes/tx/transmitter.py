"""V2xTransmitter: typed messages -> encoded, signed ``V2xFrame`` on ``v2x/tx``.

Topics in: ``v2x/own_bsm`` (Participant: the sender itself, e.g. a simulated vehicle or a
relay; real vehicles run ``vehicle_nodes.bsm.BsmGenerator``), ``rsu/participants``
(ParticipantArray -> RSM and/or SSM every 1 / ``rsm_rate_hz``), ``signals/state``
(IntersectionState -> SPAT on arrival), ``v2x/map_out`` (IntersectionMap -> MAP every
1 / ``map_rate_hz``), ``rsu/events`` (RoadEventArray -> RSI: a new event at once, then every
active event every 1 / ``rsi_rate_hz``, see ``rsi_hold``; ``rsi_rate_hz`` 0: on arrival only).
Topic out: ``v2x/tx`` (V2xFrame). Parameters: below and ``framer.declare_framer``.
Anything that cannot be sent is counted as ``rejected.<reason>`` and the node goes on.
"""

from __future__ import annotations

from typing import Any

from geo import LocalFrame
from v2x_nodes.codec import CodecError, uper
from v2x_nodes.codec import convert as cv
from v2x_nodes.codec.convert.rsm import MAX_PARTICIPANTS
from v2x_nodes.codec.offsets import GeoPoint
from v2x_nodes.codec.schema import load_schema
from v2x_nodes.codec.uper import MessageKind
from v2x_nodes.security import SecurityError
from v2x_nodes.tx.framer import V2X_FRAME, declare_framer
from v2x_nodes.tx.rsi_hold import RsiHold, rsi_chunks
from v2x_runtime import (
    QOS_LATCHED,
    QOS_RELIABLE,
    QOS_SENSOR,
    Component,
    ComponentContext,
    ParameterError,
)
from v2x_runtime import messages as m

PARTICIPANT = 'v2x_stack/msg/Participant'
PARTICIPANT_ARRAY = 'v2x_stack/msg/ParticipantArray'
INTERSECTION_STATE = 'v2x_stack/msg/IntersectionState'
INTERSECTION_MAP = 'v2x_stack/msg/IntersectionMap'
ROAD_EVENT_ARRAY = 'v2x_stack/msg/RoadEventArray'
NS_PER_S = 1_000_000_000
MINUTE_NS = 60 * NS_PER_S
_NO_STAMP = m.stamp(0)


def map_content(item: Any) -> bytes:
    """An IntersectionMap's bytes with its stamp zeroed: what the map says, not when."""
    header = m.replace(item.header, stamp=_NO_STAMP)
    return m.serialize(m.replace(item, header=header))


def station_id_parameter(ctx: ComponentContext) -> str:
    """``station_id``: 16 hex digits (the RSU id of RSM/RSI/SSM)."""
    text = ctx.declare_parameter(
        'station_id', '0000000000000001', 'Station id, 16 hex digits (RSU id in RSM/RSI/SSM)'
    )
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b''
    if len(raw) != 8:
        raise ParameterError(f'{ctx.name}: station_id: expected 16 hex digits, got {text!r}')
    return raw.hex()


class V2xTransmitter(Component):
    """Typed messages -> T/CSAE 53 / 157 frames, signed per ``security``, on ``v2x/tx``."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.framer = declare_framer(ctx)
        self.station_id = station_id_parameter(ctx)
        origin = (
            ctx.declare_parameter('origin_lat_deg', 0.0, 'map frame origin', range=(-90, 90)),
            ctx.declare_parameter('origin_lon_deg', 0.0, 'map frame origin', range=(-180, 180)),
            ctx.declare_parameter('origin_alt_m', 0.0, 'map origin height', range=(-400, 9000)),
        )
        self.origin = LocalFrame(*origin)
        # refPos of RSM/RSI/SSM: only where the RSU's reference is not the map origin
        ref = (
            ctx.declare_parameter('ref_lat_deg', origin[0], 'RSU reference', range=(-90, 90)),
            ctx.declare_parameter('ref_lon_deg', origin[1], 'RSU reference', range=(-180, 180)),
            ctx.declare_parameter('ref_alt_m', origin[2], 'RSU reference', range=(-400, 9000)),
        )
        self.ref = GeoPoint.from_degrees(*ref)
        self.participants_as = ctx.declare_parameter(
            'participants_as', 'rsm', 'rsu/participants sent as', choices=('rsm', 'ssm', 'both')
        )
        rsm_rate_hz = ctx.declare_parameter(
            'rsm_rate_hz', 10.0, 'RSM/SSM rate (latest participants)', range=(0.1, 50.0)
        )
        map_rate_hz = ctx.declare_parameter('map_rate_hz', 1.0, 'MAP rate', range=(0.05, 10.0))
        self.rsi_rate_hz = ctx.declare_parameter(
            'rsi_rate_hz', 5.0, 'RSI repetition of the active events (0: on arrival only)',
            range=(0.0, 10.0),
        )  # fmt: skip
        hold_s = ctx.declare_parameter(
            'rsi_hold_s', 3.0, 'An event its feed has not repeated this long is no longer sent',
            range=(0.1, 3600.0),
        )  # fmt: skip
        self.rsi_hold = RsiHold(round(hold_s * NS_PER_S))
        self.events_frame = 'map'
        self.max_age_ns = round(
            ctx.declare_parameter(
                'max_input_age_s', 1.0, 'Participants older than this are not sent', range=(0, 60)
            )
            * NS_PER_S
        )
        self.pub = ctx.create_publisher('v2x/tx', V2X_FRAME, QOS_RELIABLE)
        ctx.create_subscription('v2x/own_bsm', PARTICIPANT, self.on_own_bsm, QOS_SENSOR)
        ctx.create_subscription(
            'rsu/participants', PARTICIPANT_ARRAY, self.on_participants, QOS_SENSOR
        )
        ctx.create_subscription('signals/state', INTERSECTION_STATE, self.on_signal, QOS_RELIABLE)
        ctx.create_subscription('v2x/map_out', INTERSECTION_MAP, self.on_map, QOS_LATCHED)
        ctx.create_subscription('rsu/events', ROAD_EVENT_ARRAY, self.on_events, QOS_RELIABLE)
        # a perception cycle goes out on arrival when the rate allows (no timer wait in the
        # latency budget); the timer sends what arrived too early (5 % slack for jitter)
        self.rsm_interval_ns = round(0.95 * NS_PER_S / rsm_rate_hz)
        self.participants_sent_ns: int | None = None
        ctx.create_timer(1.0 / rsm_rate_hz, self.send_participants)
        ctx.create_timer(1.0 / map_rate_hz, self.send_map)
        if self.rsi_rate_hz > 0:
            ctx.create_timer(1.0 / self.rsi_rate_hz, self.send_events)
        self.participants: Any = None
        self.participants_ns = 0
        self.maps: dict[tuple[int, int], Any] = {}
        self.map_contents: dict[tuple[int, int], bytes] = {}
        self.map_value: dict[str, Any] = {}
        self.map_value_key: tuple[Any, ...] | None = None

    def start(self) -> None:
        """Compile the ASN.1 schema and build the frame encoders now, not on the first frames
        (0.3-2 s on the latency path)."""
        load_schema()
        kinds = [MessageKind.SPAT, MessageKind.MAP, MessageKind.RSI]  # (a BSM: on its first)
        if self.participants_as in ('rsm', 'both'):
            kinds.append(MessageKind.RSM)
        if self.participants_as in ('ssm', 'both'):
            kinds.append(MessageKind.SSM)  # ~75 ms: only where it is sent
        uper.build_frame_encoders(kinds)

    # --- sending --------------------------------------------------------------------
    def _send(self, kind: MessageKind, build: Any, source_id: str) -> bool:
        """Build the value (``build(msg_count)``), encode, sign, publish; count failures."""
        diag = self.ctx.diagnostics
        name = kind.name.lower()
        now = self.ctx.now_ns()
        try:
            value = build(self.framer.next_count(kind))
            frame = self.framer.frame(kind, value, now, source_id)
        except CodecError as err:
            diag.reject(f'encode.{name}', str(err))
            return False
        except SecurityError as err:
            diag.reject(f'sign.{name}', str(err))
            return False
        self.pub.publish(frame)
        diag.count(f'sent.{name}')
        return True

    def on_own_bsm(self, p: Any) -> None:
        source = p.source_id if len(p.source_id) == 16 else f'{int(p.id):016x}'
        self._send(MessageKind.BSM, lambda n: cv.bsm_from_participant(p, n), source)

    def on_participants(self, array: Any) -> None:
        self.participants = array
        self.participants_ns = now = self.ctx.now_ns()
        last = self.participants_sent_ns
        if last is None or now - last >= self.rsm_interval_ns:
            self.send_participants()

    def send_participants(self) -> None:
        array = self.participants
        if array is None or not len(array.participants):
            return
        if self.ctx.now_ns() - self.participants_ns > self.max_age_ns:
            self.ctx.diagnostics.count('skipped.stale_participants')
            self.participants = None
            return
        self.participants = None  # each perception cycle is sent once
        self.participants_sent_ns = self.ctx.now_ns()
        if self.participants_as in ('rsm', 'both'):
            items = list(array.participants)
            for start in range(0, len(items), MAX_PARTICIPANTS):
                chunk = m.new(
                    PARTICIPANT_ARRAY,
                    header=array.header,
                    participants=items[start : start + MAX_PARTICIPANTS],
                )
                self._send(
                    MessageKind.RSM,
                    lambda n, c=chunk: cv.rsm_from_participants(
                        c, rsu_id=self.station_id, ref=self.ref, msg_count=n
                    ),
                    self.station_id,
                )
        if self.participants_as in ('ssm', 'both'):
            self._send(
                MessageKind.SSM,
                lambda n: cv.ssm_from_participants(
                    array, sender_id=self.station_id, sensor_pos=self.ref, msg_count=n
                ),
                self.station_id,
            )

    def on_signal(self, state: Any) -> None:
        self._send(
            MessageKind.SPAT,
            lambda n: cv.spat_from_intersections([state], msg_count=n),
            self.station_id,
        )

    def on_map(self, item: Any) -> None:
        key = (int(item.region), int(item.node_id))
        # The map source republishes every map each second with a fresh stamp: a change is a
        # change of content. (Comparing the stamped bytes sent the whole MAP again for each
        # intersection each second, 5-6 encodes a second instead of 1.)
        content = map_content(item)
        changed = self.map_contents.get(key) != content
        self.maps[key] = item
        self.map_contents[key] = content
        if changed:
            self.send_map()  # a new or changed map goes out at once, then at map_rate_hz

    def send_map(self) -> None:
        if not self.maps:
            return
        keys = sorted(self.maps)
        maps = [self.maps[key] for key in keys]
        stamp_ns = m.to_ns(maps[0].header.stamp)
        # the MapData value depends on the contents and, through timeStamp, on the minute
        cache_key = (tuple(self.map_contents[k] for k in keys), stamp_ns // MINUTE_NS)
        if self.map_value_key != cache_key:
            self.map_value = cv.map_from_intersections(maps, msg_count=0, origin=self.origin)
            self.map_value_key = cache_key
        template = self.map_value
        self._send(MessageKind.MAP, lambda n: {**template, 'msgCnt': n % 128}, self.station_id)

    def on_events(self, array: Any) -> None:
        if not len(array.events):
            return
        if self.rsi_rate_hz <= 0:
            self._send_rsi(array)
            return
        self.events_frame = array.header.frame_id or self.events_frame
        if self.rsi_hold.update(array.events, self.ctx.now_ns()):
            self.send_events()  # a new event goes out at once, then at rsi_rate_hz

    def send_events(self) -> None:
        now = self.ctx.now_ns()
        for chunk in rsi_chunks(self.rsi_hold.active(now)):
            header = m.header(now, self.events_frame)
            self._send_rsi(m.new(ROAD_EVENT_ARRAY, header=header, events=chunk))

    def _send_rsi(self, array: Any) -> None:
        self._send(
            MessageKind.RSI,
            lambda n: cv.rsi_from_events(
                array, rsu_id=self.station_id, ref=self.ref, origin=self.origin, msg_count=n
            ),
            self.station_id,
        )

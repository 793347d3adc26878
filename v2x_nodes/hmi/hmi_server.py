"""HmiServer: the driver's page in a browser (live over a websocket) and the same as markers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from v2x_nodes.hmi import conversions as conv
from v2x_nodes.hmi.lanes import load_lane_geometry
from v2x_nodes.hmi.markers import MarkerBuilder
from v2x_nodes.hmi.protocol import encode, map_message, state_message
from v2x_nodes.hmi.scene import Advice, Ego, LaneGeometry, Scene, ShownWarning, Signal, Target
from v2x_nodes.hmi.server import HmiWebServer
from v2x_runtime import QOS_LATCHED, QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m
from v2x_runtime.resources import resource_path

PARTICIPANTS = 'v2x_stack/msg/ParticipantArray'
TARGET_TOPICS = ('v2x/remote_vehicles', 'v2x/roadside_participants')


@dataclass
class _Stamped:
    value: Any
    received_ns: int


class HmiServer(Component):
    """Serves the HMI page at http://host:port/ and publishes the scene as markers.

    Topics: in `localization/odometry` (nav_msgs/Odometry), `v2x/remote_vehicles` and
    `v2x/roadside_participants` (ParticipantArray, map frame), `v2x/spat`
    (IntersectionState), `hmi/active_warning` (Warning, from WarningArbiter),
    `v2x/speed_advice` (SpeedAdvice); out `hmi/markers` (visualization_msgs/MarkerArray).
    Parameters: `host`, `port` (0: any free port, see ``url``), `serve` (false: markers only),
    `map_file` (Lanelet2 OSM, relative to the package or cwd; empty: no lanes), `frame_id`,
    periods and timeouts below.
    Rejects: wrong_frame, not_finite. Values: url, clients, sent, conflated.
    """

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        self.host = p('host', '127.0.0.1', 'Address the page is served on (0.0.0.0: all)')
        self.port = p(
            'port', 8088, 'TCP port of the page and websocket (0: any free port)', range=(0, 65535)
        )
        self.serve = p('serve', True, 'Run the web server (false: markers only)')
        map_file = p('map_file', '', 'Lanelet2 OSM map whose lanes are drawn (empty: none)')
        self.frame_id = p('frame_id', 'map', 'Frame of odometry, targets and markers')
        update_s = p('update_period_s', 0.1, 'Page update period', range=(0.02, 5.0))
        markers_s = p('markers_period_s', 0.2, 'Marker publish period', range=(0.02, 5.0))
        self.lanes_period_ns = round(
            p('lanes_period_s', 5.0, 'Re-send the lane markers this often', range=(0.1, 3600.0))
            * 1e9
        )
        self.target_timeout_ns = round(
            p('target_timeout_s', 1.0, 'Drop targets not updated for this long', range=(0.05, 60.0))
            * 1e9
        )
        self.signal_timeout_ns = round(
            p(
                'signal_timeout_s',
                3.0,
                'Drop signal state not updated for this long',
                range=(0.1, 60.0),
            )
            * 1e9
        )
        self.advice_timeout_ns = round(
            p(
                'advice_timeout_s',
                3.0,
                'Drop speed advice without valid_until after this long',
                range=(0.1, 60.0),
            )
            * 1e9
        )
        self.ego_timeout_ns = round(
            p(
                'ego_timeout_s',
                1.0,
                'Hide the own vehicle when odometry stops for this long',
                range=(0.05, 60.0),
            )
            * 1e9
        )
        self.length_m = p('vehicle_length_m', 4.6, 'Own vehicle length', range=(0.5, 30.0))
        self.width_m = p('vehicle_width_m', 1.9, 'Own vehicle width', range=(0.3, 5.0))
        # A map that does not parse fails here, naming the file and element.
        self.lanes = (
            load_lane_geometry(str(resource_path(map_file))) if map_file else LaneGeometry()
        )
        self.markers = MarkerBuilder(self.lanes, self.frame_id)
        self.marker_pub = ctx.create_publisher(
            'hmi/markers', 'visualization_msgs/msg/MarkerArray', QOS_RELIABLE
        )
        ctx.create_subscription(
            'localization/odometry', 'nav_msgs/msg/Odometry', self.on_odometry, QOS_SENSOR
        )
        for topic in TARGET_TOPICS:
            ctx.create_subscription(
                topic, PARTICIPANTS, lambda msg, t=topic: self.on_participants(msg, t), QOS_SENSOR
            )
        ctx.create_subscription(
            'v2x/spat', 'v2x_stack/msg/IntersectionState', self.on_spat, QOS_SENSOR
        )
        ctx.create_subscription(
            'hmi/active_warning', 'v2x_stack/msg/Warning', self.on_warning, QOS_LATCHED
        )
        ctx.create_subscription(
            'v2x/speed_advice', 'v2x_stack/msg/SpeedAdvice', self.on_advice, QOS_SENSOR
        )
        ctx.create_timer(update_s, self.push_state)
        ctx.create_timer(markers_s, self.publish_markers)
        self.ego: _Stamped | None = None
        self.targets: dict[str, _Stamped] = {}  # per input topic: (tuple of Target)
        self.spat: dict[tuple[int, int], _Stamped] = {}
        self.warning: ShownWarning | None = None
        self.advice: _Stamped | None = None
        self.advice_until_ns = 0
        self.seq = 0
        self.last_lanes_ns: int | None = None
        self.web: HmiWebServer | None = None

    # --- life cycle ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The page's address once started ('' when not serving)."""
        return self.web.url if self.web is not None else ''

    def start(self) -> None:
        if not self.serve:
            return
        self.web = HmiWebServer(self.host, self.port, on_error=self.ctx.logger.error)
        self.web.set_map(encode(map_message(self.lanes, self.frame_id)))
        self.web.post_state(encode(state_message(self.scene(), 0)))  # a page never sees none
        self.web.start()  # ServerError names the address when it cannot bind
        self.ctx.diagnostics.set_value('url', self.web.url)
        self.ctx.logger.info(f'HMI page at {self.web.url}')

    def stop(self) -> None:
        if self.web is not None:
            self.web.stop()
            self.web = None

    # --- inputs ------------------------------------------------------------------------
    def _frame_ok(self, frame_id: str, what: str) -> bool:
        if frame_id and frame_id != self.frame_id:
            self.ctx.diagnostics.reject(
                'wrong_frame', f'{what} in {frame_id!r}, expected {self.frame_id!r}'
            )
            return False
        return True

    def on_odometry(self, msg: Any) -> None:
        if not self._frame_ok(msg.header.frame_id, 'odometry'):
            return
        ego = conv.ego_from_odometry(msg, length_m=self.length_m, width_m=self.width_m)
        if ego is None:
            self.ctx.diagnostics.reject('not_finite', 'odometry pose is not finite')
            return
        self.ego = _Stamped(ego, self.ctx.now_ns())

    def on_participants(self, msg: Any, topic: str) -> None:
        if not self._frame_ok(msg.header.frame_id, topic):
            return
        targets = []
        for p in msg.participants:
            target = conv.target_from_participant(p, topic)
            if target is None:
                self.ctx.diagnostics.reject('not_finite', f'{topic}: participant {p.id} position')
                continue
            targets.append(target)
        self.ctx.diagnostics.count('participant_arrays')
        self.targets[topic] = _Stamped(tuple(targets), self.ctx.now_ns())

    def on_spat(self, msg: Any) -> None:
        self.spat[(int(msg.region), int(msg.intersection_id))] = _Stamped(msg, self.ctx.now_ns())

    def on_warning(self, msg: Any) -> None:
        self.warning = conv.warning_from_message(msg)
        self.push_state()  # a new warning goes out at once, not at the next period

    def on_advice(self, msg: Any) -> None:
        now = self.ctx.now_ns()
        until = m.to_ns(msg.valid_until)
        self.advice_until_ns = until if until > 0 else now + self.advice_timeout_ns
        self.advice = _Stamped(conv.advice_from_message(msg), now)

    # --- outputs -----------------------------------------------------------------------
    def scene(self) -> Scene:
        """The scene at the component's current time, with stale inputs dropped."""
        now = self.ctx.now_ns()
        ego: Ego | None = None
        if self.ego is not None and now - self.ego.received_ns <= self.ego_timeout_ns:
            ego = self.ego.value
        targets: list[Target] = []
        for stamped in self.targets.values():
            if now - stamped.received_ns <= self.target_timeout_ns:
                targets.extend(stamped.value)
        signals: list[Signal] = [
            conv.signal_from_spat(s.value, now)
            for _, s in sorted(self.spat.items())
            if now - s.received_ns <= self.signal_timeout_ns
        ]
        advice: Advice | None = None
        if self.advice is not None and now <= self.advice_until_ns:
            advice = self.advice.value
        return Scene(
            t_s=now / 1e9,
            ego=ego,
            targets=tuple(sorted(targets, key=lambda t: t.key)),
            signals=tuple(signals),
            warning=self.warning,
            advice=advice,
        )

    def push_state(self) -> None:
        if self.web is None:
            return
        self.seq += 1
        self.web.post_state(encode(state_message(self.scene(), self.seq)))
        stats, diag = self.web.stats, self.ctx.diagnostics
        diag.set_value('clients', stats.open_connections)
        diag.set_value('sent', stats.sent)
        diag.set_value('conflated', stats.conflated)

    def publish_markers(self) -> None:
        now = self.ctx.now_ns()
        with_lanes = self.last_lanes_ns is None or now - self.last_lanes_ns >= self.lanes_period_ns
        if with_lanes:
            self.last_lanes_ns = now
        self.marker_pub.publish(self.markers.build(self.scene(), now, with_lanes=with_lanes))

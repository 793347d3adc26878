"""MqttUplink: the RSU's participants, events and health to the centre over MQTT (QoS 1).

Topics (subscribed): ``rsu/participants`` (ParticipantArray, georeferenced), ``rsu/events``
(RoadEventArray), ``diagnostics`` (DiagnosticArray). Broker topics: ``<prefix>/<rsu_id>/
participants``, ``.../events``, ``.../health``. The client runs in the component's own timer
(no background thread), reconnects with exponential back-off, and keeps unacknowledged records
in a bounded outbox: nothing is lost without being counted in ``dropped.outbox_full``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from rsu_nodes.uplink import payloads
from rsu_nodes.uplink.outbox import Outbox
from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext
from v2x_runtime.backoff import Backoff

CONNACK_TIMEOUT_NS = 5_000_000_000


class MqttUplink(Component):
    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.host = ctx.declare_parameter('broker_host', '127.0.0.1', 'MQTT broker address')
        self.port = ctx.declare_parameter('broker_port', 1883, 'MQTT broker port', range=(1, 65535))
        self.rsu_id = ctx.declare_parameter('rsu_id', 'rsu1', 'This RSU in topics and payloads')
        self.prefix = ctx.declare_parameter('topic_prefix', 'v2x/rsu', 'Broker topic prefix')
        self.keepalive_s = ctx.declare_parameter(
            'keepalive_s', 30, 'MQTT keep-alive', range=(5, 3600)
        )
        self.participants_period_s = ctx.declare_parameter(
            'participants_period_s',
            0.5,
            'Least time between participant uploads',
            range=(0.0, 60.0),
        )
        self.health_period_s = ctx.declare_parameter(
            'health_period_s', 5.0, 'Health upload period', range=(0.5, 3600.0)
        )
        self.outbox = Outbox(
            ctx.declare_parameter(
                'outbox_size', 10_000, 'Records kept while the broker is away', range=(1, 10**7)
            )
        )
        self.max_in_flight = ctx.declare_parameter(
            'max_in_flight', 20, 'Unacknowledged publishes at once', range=(1, 65535)
        )
        self.backoff = Backoff(
            ctx.declare_parameter(
                'reconnect_min_s', 0.5, 'First reconnect delay', range=(0.01, 60.0)
            ),
            ctx.declare_parameter(
                'reconnect_max_s', 30.0, 'Longest reconnect delay', range=(0.1, 3600.0)
            ),
        )
        ctx.create_subscription(
            'rsu/participants', 'v2x_stack/msg/ParticipantArray', self.on_participants, QOS_SENSOR
        )
        ctx.create_subscription(
            'rsu/events', 'v2x_stack/msg/RoadEventArray', self.on_events, QOS_RELIABLE
        )
        ctx.create_subscription(
            'diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', self.on_diagnostics, QOS_RELIABLE
        )
        ctx.create_timer(0.01, self.spin)
        ctx.create_timer(self.health_period_s, self.send_health)
        self.client: mqtt.Client | None = None
        self.connected = False
        self.connecting_since_ns: int | None = None
        self.next_attempt_ns = 0
        self.last_participants_ns: int | None = None
        self.statuses: dict[str, Any] = {}

    def topic(self, kind: str) -> str:
        return f'{self.prefix}/{self.rsu_id}/{kind}'

    # --- inputs -> outbox -------------------------------------------------------------
    def _queue(self, kind: str, make: Callable[[int], bytes]) -> None:
        dropped = self.outbox.dropped
        self.outbox.put(self.topic(kind), make)
        if self.outbox.dropped > dropped:
            self.ctx.diagnostics.count('dropped.outbox_full')
            self.ctx.logger.warning('outbox full: oldest record dropped', throttle_s=5.0)

    def on_participants(self, msg: Any) -> None:
        now = self.ctx.now_ns()
        if (
            self.last_participants_ns is not None
            and now - self.last_participants_ns < self.participants_period_s * 1e9
        ):
            self.ctx.diagnostics.count('skipped.participants_rate')
            return
        self.last_participants_ns = now
        self._queue('participants', lambda seq: payloads.participants(msg, self.rsu_id, seq))

    def on_events(self, msg: Any) -> None:
        self._queue('events', lambda seq: payloads.events(msg, self.rsu_id, seq))

    def on_diagnostics(self, msg: Any) -> None:
        for status in msg.status:
            self.statuses[status.name] = status

    def send_health(self) -> None:
        statuses = [self.statuses[k] for k in sorted(self.statuses)]
        now = self.ctx.now_ns()
        self._queue('health', lambda seq: payloads.health(statuses, self.rsu_id, seq, now))

    # --- connection ---------------------------------------------------------------------
    def start(self) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f'v2x-uplink-{self.rsu_id}',
            clean_session=True,
            reconnect_on_failure=False,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish

    def stop(self) -> None:
        if self.client is not None:
            if self.connected:
                self.client.disconnect()
                self.client.loop(timeout=0.0)
            self.client = None

    def _on_connect(
        self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            self.ctx.diagnostics.reject('broker_refused', str(reason))
            return
        self.connected = True
        self.connecting_since_ns = None
        self.backoff.reset()
        self.ctx.diagnostics.count('connects')
        self.ctx.logger.info(f'connected to mqtt://{self.host}:{self.port}')

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self._lost(f'disconnected: {reason}')

    def _on_publish(
        self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any
    ) -> None:
        self.outbox.acknowledged(mid)

    def _lost(self, why: str) -> None:
        if self.connected:
            self.ctx.logger.warning(f'broker connection lost ({why}); records are kept')
        self.connected = False
        self.connecting_since_ns = None
        self.outbox.connection_lost()
        self.next_attempt_ns = self.ctx.now_ns() + int(self.backoff.next_delay_s() * 1e9)

    def spin(self) -> None:
        """Connect when due, move records from the outbox to the broker, run the client I/O."""
        client = self.client
        if client is None:
            return
        now = self.ctx.now_ns()
        if not self.connected and self.connecting_since_ns is None:
            if now < self.next_attempt_ns:
                return
            try:
                client.connect(self.host, self.port, keepalive=self.keepalive_s)
            except OSError as err:
                self.ctx.diagnostics.count('connect_failures')
                self.ctx.logger.warning(f'mqtt://{self.host}:{self.port}: {err}', throttle_s=10.0)
                self._lost(str(err))
                return
            self.connecting_since_ns = now
        elif not self.connected and now - self.connecting_since_ns > CONNACK_TIMEOUT_NS:
            self.ctx.diagnostics.count('connect_failures')
            client.disconnect()
            self._lost('no CONNACK')
            return
        rc = client.loop(timeout=0.0)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            self._lost(mqtt.error_string(rc))
            return
        while self.connected and self.outbox.in_flight < self.max_in_flight:
            record = self.outbox.take()
            if record is None:
                break
            info = client.publish(record.topic, record.payload, qos=1)
            self.outbox.sent(info.mid, record)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self._lost(mqtt.error_string(info.rc))
                break
        diag = self.ctx.diagnostics
        diag.set_value('outbox.waiting', len(self.outbox) - self.outbox.in_flight)
        diag.set_value('outbox.in_flight', self.outbox.in_flight)
        diag.set_value('delivered', self.outbox.delivered)
        diag.set_value('resent', self.outbox.resent)
        diag.set_value('connected', self.connected)

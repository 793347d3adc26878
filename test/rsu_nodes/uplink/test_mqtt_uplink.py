"""The MQTT uplink against a real mosquitto broker, including a broker restart."""

import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from rsu_nodes.uplink.mqtt_uplink import MqttUplink
from rsu_nodes.uplink.outbox import Outbox
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

MOSQUITTO = shutil.which('mosquitto') or '/usr/sbin/mosquitto'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


pytestmark = pytest.mark.skipif(
    not Path(MOSQUITTO).exists(), reason='mosquitto not installed (apt-get install mosquitto)'
)


def wait(condition, deadline_s=10.0, step=None):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if condition():
            return True
        if step:
            step()
        else:
            time.sleep(0.01)
    return condition()


class Broker:
    def __init__(self, tmp: Path, port: int) -> None:
        self.port = port
        self.conf = tmp / 'mosquitto.conf'
        self.conf.write_text(
            f'listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n'
        )
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [MOSQUITTO, '-c', str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        assert wait(self.accepting), 'mosquitto did not start'

    def accepting(self):
        with socket.socket() as s:
            return s.connect_ex(('127.0.0.1', self.port)) == 0

    def stop(self):  # idempotent, so fixtures and tests may both call it
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


class Listener:
    """A plain paho subscriber standing in for the centre."""

    def __init__(self, port: int) -> None:
        self.messages: list[tuple[str, dict]] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id='centre')
        self.client.on_connect = lambda c, *a: c.subscribe('v2x/rsu/#', qos=1)
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = lambda c, u, msg: self.messages.append(
            (msg.topic, json.loads(msg.payload))
        )
        self.client.connect('127.0.0.1', port)
        self.client.loop_start()
        assert self.subscribed.wait(10)

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()

    def event_ids(self):
        return sorted(
            {
                e['id']
                for topic, body in list(self.messages)
                if topic.endswith('/events')
                for e in body['events']
            }
        )

    def last(self, kind, condition=lambda body: True):
        bodies = [b for t, b in list(self.messages) if t.endswith(kind) and condition(b)]
        return bodies[-1] if bodies else None


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path, free_port())
    b.start()
    yield b
    b.stop()


def events(n: int, stamp_ns: int):
    return m.new(
        'v2x_stack/msg/RoadEventArray',
        header=m.header(stamp_ns, 'map'),
        events=[
            m.new(
                'v2x_stack/msg/RoadEvent',
                id=n,
                event_type=401,
                latitude_deg=31.2,
                longitude_deg=121.4,
                radius_m=20.0,
                priority=3,
                description=f'event {n}',
            )
        ],
    )


def uplink_runtime(port, **params):
    rt = EmbeddedRuntime(diagnostics_period_s=1.0)
    up = rt.add_component(
        MqttUplink,
        name='uplink',
        namespace='rsu1',
        parameters={'broker_port': port, 'reconnect_min_s': 0.05, 'reconnect_max_s': 0.2, **params},
    )
    rt.start()
    return rt, up


def test_events_participants_and_health_reach_the_centre(broker):
    centre = Listener(broker.port)
    rt, _up = uplink_runtime(broker.port, health_period_s=1.0)
    try:
        rt.publish('/rsu1/rsu/events', events(1, 10))
        participant = m.new(
            'v2x_stack/msg/Participant',
            id=7,
            participant_class=5,
            latitude_deg=31.0,
            longitude_deg=121.0,
            heading_rad=0.0,
            velocity=m.new('geometry_msgs/msg/Vector3', x=3.0, y=4.0),
        )
        rt.publish(
            '/rsu1/rsu/participants',
            m.new('v2x_stack/msg/ParticipantArray', participants=[participant]),
        )
        assert wait(
            lambda: (
                centre.last('/events')
                and centre.last('/participants')
                and centre.last('/health', lambda b: b['components'])
            ),
            step=lambda: rt.run(duration_s=0.05),
        )
    finally:
        rt.close()
        centre.close()
    event = centre.last('/events')['events'][0]
    assert (event['id'], event['event_type'], event['description']) == (1, 401, 'event 1')
    p = centre.last('/participants')['participants'][0]
    assert (p['class'], p['speed_mps'], p['bearing_deg']) == ('pedestrian', 5.0, 90.0)
    health = centre.last('/health', lambda b: b['components'])
    assert health['components'][0]['name'] == '/rsu1/uplink'
    assert health['rsu_id'] == 'rsu1'


def test_a_broker_restart_loses_nothing_unreported(broker):
    rt, up = uplink_runtime(broker.port, health_period_s=3600.0)
    try:
        for n in range(5):
            rt.publish('/rsu1/rsu/events', events(n, n))
        assert wait(lambda: up.outbox.delivered == 5, step=lambda: rt.run(duration_s=0.05))
        broker.stop()
        for n in range(5, 50):  # produced while the broker is away
            rt.publish('/rsu1/rsu/events', events(n, n))
            rt.run(duration_s=0.05)
        assert up.connected is False and up.outbox.delivered == 5
        broker.start()
        centre = Listener(broker.port)
        assert wait(lambda: up.outbox.delivered >= 50, step=lambda: rt.run(duration_s=0.05))
        assert wait(lambda: len(centre.event_ids()) == 45)
        centre.close()
    finally:
        rt.close()
    assert centre.event_ids() == list(range(5, 50))
    assert up.outbox.dropped == 0
    assert up.ctx.diagnostics.counters['connects'] == 2


def test_a_full_outbox_drops_the_oldest_and_counts_it(tmp_path):
    port = free_port()  # no broker here at all
    rt, up = uplink_runtime(port, outbox_size=10, health_period_s=3600.0)
    broker = Broker(tmp_path, port)
    try:
        for n in range(25):
            rt.publish('/rsu1/rsu/events', events(n, n))
        rt.run(duration_s=1.0)
        assert up.ctx.diagnostics.counters['connect_failures'] >= 2
        assert up.ctx.diagnostics.counters['dropped.outbox_full'] == 15
        assert len(up.outbox) == 10
        broker.start()
        centre = Listener(port)
        assert wait(lambda: len(centre.event_ids()) >= 10, step=lambda: rt.run(duration_s=0.05))
        centre.close()
    finally:
        rt.close()
        broker.stop()
    assert centre.event_ids() == list(range(15, 25))


def test_outbox_accounting():
    box = Outbox(3)
    for _n in range(4):
        box.put('t', lambda seq: str(seq).encode())
    assert box.dropped == 1 and len(box) == 3
    first = box.take()
    assert first.seq == 1
    box.sent(101, first)
    box.connection_lost()
    assert box.resent == 1 and box.take().seq == 1
    box.sent(102, first)
    box.acknowledged(102)
    box.acknowledged(102)
    assert box.delivered == 1 and len(box) == 2
    with pytest.raises(ValueError, match='capacity must be >= 1'):
        Outbox(0)

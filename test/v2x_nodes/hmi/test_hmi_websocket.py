"""HmiServer's web side: the websocket protocol with a real client, HTTP, start/stop, errors."""

import contextlib
import json
import math
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from hmi_support import odometry, participant, participants, spat, speed_advice, warning
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from v2x_nodes.hmi import HmiServer, ServerError, WarningArbiter
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.hdmap import HdMapError

ROOT = Path(__file__).resolve().parents[3]
MAP = ROOT / 'config' / 'maps' / 'intersection.osm'
CRITICAL, NONE = 4, 0


@pytest.fixture
def live():
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    hmi = rt.add_component(HmiServer, name='hmi', parameters={'port': 0, 'map_file': str(MAP)})
    rt.add_component(WarningArbiter, name='arbiter')
    rt.start()
    try:
        yield rt, hmi
    finally:
        rt.close()


def ws_url(hmi):
    return hmi.url.replace('http://', 'ws://') + 'ws'


def receive_until(ws, predicate, what, limit=200):
    for _ in range(limit):
        msg = json.loads(ws.recv(timeout=10.0))
        if predicate(msg):
            return msg
    raise AssertionError(f'no message with {what} in {limit} messages')


def test_a_page_gets_the_map_then_live_state_with_the_warning(live):
    rt, hmi = live
    with connect(ws_url(hmi)) as ws:
        first = json.loads(ws.recv(timeout=10.0))
        assert first['type'] == 'map' and first['version'] == 1 and first['frame_id'] == 'map'
        assert len(first['lanes']) == 52 and len(first['stop_lines']) == 12
        assert first['bounds'] == [[-160.0, -160.0], [160.0, 160.0]]
        assert json.loads(ws.recv(timeout=10.0))['type'] == 'state'
        now = rt.now_ns()
        rt.publish('/localization/odometry', odometry(now, -40.0, -5.25, 0.0, 12.0))
        vehicle = participant(7, -25.0, -5.25, 0.0, source_id='a1b2c3d4', source=1)
        rt.publish('/v2x/remote_vehicles', participants(now, [vehicle]))
        pedestrian = participant(3, -8.0, 20.0, -math.pi / 2, cls=5, speed=1.2)
        rt.publish('/v2x/roadside_participants', participants(now, [pedestrian]))
        rt.publish('/v2x/spat', spat(now, [(8, 6, 9.0), (7, 3, 12.0)]))
        rt.publish('/v2x/speed_advice', speed_advice(now, 11.0, 8, 'pass on green'))
        rt.publish(
            '/v2x/warnings',
            warning(
                'FCW',
                CRITICAL,
                now_ns=now,
                target='a1b2c3d4',
                ttc_s=1.8,
                distance_m=15.0,
                text='Brake! Vehicle ahead',
            ),
        )
        rt.run(duration_s=0.5)
        state = receive_until(ws, lambda m: m['type'] == 'state' and m['t'] == 0.5, 't = 0.5 s')
    assert state['ego'] == {
        'x': -40.0,
        'y': -5.25,
        'yaw': 0.0,
        'speed': 12.0,
        'length': 4.6,
        'width': 1.9,
    }
    assert state['warning'] == {
        'application': 'FCW',
        'level': 4,
        'level_name': 'CRITICAL',
        'target_id': 'a1b2c3d4',
        'ttc': 1.8,
        'distance': 15.0,
        'text': 'Brake! Vehicle ahead',
    }
    by_key = {t['key']: t for t in state['targets']}
    assert set(by_key) == {'a1b2c3d4:7', 'rsu1:3'}
    assert by_key['a1b2c3d4:7']['warned'] and not by_key['rsu1:3']['warned']
    assert by_key['rsu1:3']['class'] == 'pedestrian' and by_key['rsu1:3']['speed'] == 1.2
    assert by_key['rsu1:3']['length'] == 0.6  # unknown size: the class default
    phases = {p['id']: p for p in state['signals'][0]['phases']}
    assert phases[8]['light'] == 'protected_green' and phases[8]['remaining'] == 8.5
    assert phases[7]['light'] == 'red' and phases[7]['max_remaining'] == 16.5
    assert state['advice']['recommended_speed'] == 11.0 and state['advice']['phase_id'] == 8


def test_state_expires_stale_inputs_and_the_warning_clears(live):
    rt, hmi = live
    now = rt.now_ns()
    rt.publish('/localization/odometry', odometry(now, 1.0, 2.0, 0.5, 3.0))
    rt.publish('/v2x/remote_vehicles', participants(now, [participant(1, 5.0, 2.0, 0.0)]))
    rt.publish('/v2x/warnings', warning('ICW', 3, now_ns=now))
    rt.run(duration_s=0.5)
    scene = hmi.scene()
    assert scene.ego is not None and len(scene.targets) == 1 and scene.warning.application == 'ICW'
    rt.publish('/v2x/warnings', warning('ICW', NONE, now_ns=rt.now_ns()))
    rt.run(duration_s=2.0)  # odometry and targets 2.5 s old (timeouts 1 s); hold 2 s over
    scene = hmi.scene()
    assert scene.ego is None and scene.targets == () and scene.warning is None
    with connect(ws_url(hmi)) as ws:
        ws.recv(timeout=10.0)
        state = json.loads(ws.recv(timeout=10.0))
    assert state['ego'] is None and state['targets'] == [] and state['warning'] is None


def test_nan_and_inf_become_null(live):
    rt, hmi = live
    rt.publish('/v2x/warnings', warning('SLW', 2, now_ns=rt.now_ns()))  # ttc inf, distance NaN
    rt.run(duration_s=0.2)
    with connect(ws_url(hmi)) as ws:
        ws.recv(timeout=10.0)
        state = json.loads(ws.recv(timeout=10.0))
    assert state['warning']['ttc'] is None and state['warning']['distance'] is None


def test_every_connected_page_gets_every_update(live):
    rt, hmi = live
    with connect(ws_url(hmi)) as a, connect(ws_url(hmi)) as b:
        for ws in (a, b):
            assert json.loads(ws.recv(timeout=10.0))['type'] == 'map'
        rt.publish('/v2x/warnings', warning('EVW', 3, now_ns=rt.now_ns(), text='ambulance'))
        rt.run(duration_s=0.3)
        for ws in (a, b):
            got = receive_until(
                ws, lambda m: (m.get('warning') or {}).get('text') == 'ambulance', 'the EVW warning'
            )
            assert got['warning']['application'] == 'EVW'
    assert hmi.web.stats.connections == 2


def get(url):
    with urllib.request.urlopen(url, timeout=10.0) as reply:
        return reply.status, reply.headers['Content-Type'], reply.read()


def test_http_serves_the_page_its_files_and_json_and_nothing_else(live):
    rt, hmi = live
    status, kind, body = get(hmi.url)
    assert status == 200 and kind.startswith('text/html') and b'<canvas id="map"' in body
    assert b'hmi.js' in body
    status, kind, body = get(hmi.url + 'hmi.js')
    assert kind.startswith('text/javascript') and b'new WebSocket' in body
    status, kind, body = get(hmi.url + 'hmi.css')
    assert kind.startswith('text/css') and b'.warning' in body
    rt.run(duration_s=0.2)
    status, kind, body = get(hmi.url + 'state.json')
    assert kind == 'application/json' and json.loads(body)['t'] == 0.2
    status, kind, body = get(hmi.url + 'map.json')
    assert len(json.loads(body)['lanes']) == 52
    for path in ('../setup.py', 'server.py', 'web/__init__.py', 'favicon.ico'):
        with pytest.raises(urllib.error.HTTPError) as info:
            get(hmi.url + path)
        assert info.value.code == 404
        info.value.close()
    assert hmi.web.stats.not_found == 4


def test_stop_closes_the_pages_and_frees_the_port():
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    hmi = rt.add_component(HmiServer, name='hmi', parameters={'port': 0})
    rt.start()
    port = hmi.web.port
    with connect(ws_url(hmi)) as ws:
        assert json.loads(ws.recv(timeout=10.0))['type'] == 'map'
        assert json.loads(ws.recv(timeout=10.0))['type'] == 'state'
        rt.close()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10.0)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
        sock.bind(('127.0.0.1', port))  # but nothing listens there any more
        sock.listen()


def test_a_client_stuck_in_its_request_does_not_hold_the_shutdown():
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    hmi = rt.add_component(HmiServer, name='hmi', parameters={'port': 0})
    rt.start()
    web = hmi.web
    with socket.create_connection(('127.0.0.1', web.port), timeout=10.0) as stuck:
        stuck.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n')  # never ends its headers
        with connect(ws_url(hmi)):
            rt.close()
    assert not web.running


def test_a_busy_port_fails_at_start_naming_the_address():
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        port = busy.getsockname()[1]
        rt = EmbeddedRuntime(diagnostics_period_s=0)
        rt.add_component(HmiServer, name='hmi', parameters={'port': port})
        with pytest.raises(ServerError, match=f'cannot serve the HMI on 127.0.0.1:{port}'):
            rt.start()
        rt.close()


def test_a_map_that_does_not_parse_fails_at_construction_naming_the_file(tmp_path):
    bad = tmp_path / 'broken.osm'
    bad.write_text('<osm><node id="1"></osm>')
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    with pytest.raises(HdMapError, match='broken.osm'):
        rt.add_component(HmiServer, name='hmi', parameters={'map_file': str(bad)})


def test_bad_inputs_are_rejected_and_counted():
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    hmi = rt.add_component(HmiServer, name='hmi', parameters={'serve': False})
    rt.publish('/localization/odometry', odometry(0, 1.0, 2.0, 0.0, 1.0, frame='odom'))
    rt.publish('/localization/odometry', odometry(0, math.nan, 2.0, 0.0, 1.0))
    arr = participants(0, [participant(1, math.nan, 0.0, 0.0), participant(2, 3.0, 4.0, 0.0)])
    rt.publish('/v2x/roadside_participants', arr)
    rt.publish('/v2x/remote_vehicles', participants(0, [participant(5, 0.0, 0.0, 0.0)], 'lidar'))
    rt.run(duration_s=0.1)
    counters = hmi.ctx.diagnostics.counters
    assert counters['rejected.wrong_frame'] == 2 and counters['rejected.not_finite'] == 2
    assert [t.key for t in hmi.scene().targets] == ['rsu1:2']
    assert hmi.url == ''
    rt.close()


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=1, max_size=600))
def test_garbage_on_the_port_never_stops_the_server(hmi_server, data):
    hmi = hmi_server
    with socket.create_connection(('127.0.0.1', hmi.web.port), timeout=10.0) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            sock.recv(4096)  # an error reply or a closed connection, never a hang
    status, _, body = get(hmi.url)
    assert status == 200 and b'<canvas' in body


@pytest.fixture(scope='module')
def hmi_server():
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    hmi = rt.add_component(HmiServer, name='hmi', parameters={'port': 0})
    rt.start()
    try:
        yield hmi
    finally:
        rt.close()

"""The scripted demo drive feeds the arbiter and the page: warnings come and go, state moves."""

import json
from pathlib import Path

from websockets.sync.client import connect

from v2x_nodes.hmi.cli import main
from v2x_nodes.hmi.demo import DemoScene
from v2x_nodes.hmi.hmi_server import HmiServer
from v2x_nodes.hmi.warning_arbiter import WarningArbiter
from v2x_runtime.embedded import EmbeddedRuntime

ROOT = Path(__file__).resolve().parents[3]
MAP = ROOT / 'config' / 'maps' / 'intersection.osm'


def test_one_demo_cycle_raises_and_clears_warnings_and_moves_the_vehicle():
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    hmi = rt.add_component(HmiServer, name='hmi', parameters={'port': 0, 'map_file': str(MAP)})
    rt.add_component(WarningArbiter, name='arbiter')
    rt.add_component(DemoScene, name='demo')
    shown = []
    rt.subscribe('/hmi/active_warning', 'v2x_stack/msg/Warning', shown.append)
    xs = []
    try:
        rt.start()
        with connect(hmi.url.replace('http', 'ws') + 'ws') as ws:
            assert json.loads(ws.recv(timeout=10.0))['type'] == 'map'
            for _ in range(60):
                rt.run(duration_s=1.0)
                hmi.push_state()
                state = json.loads(ws.recv(timeout=10.0))
                while state['type'] != 'state' or state['t'] != round(rt.now_ns() / 1e9, 3):
                    state = json.loads(ws.recv(timeout=10.0))
                xs.append(state['ego']['x'])
                assert {t['key'] for t in state['targets']} == {'a1b2c3d4:7', 'rsu1:3'}
                assert len(state['signals'][0]['phases']) == 12
    finally:
        rt.close()
    apps = {w.application for w in shown if w.level}
    assert {'FCW', 'VRUCW'} <= apps
    assert shown[-1].level == 0 or shown[-1].application in apps
    assert max(xs) > -16.0 and min(xs) < -100.0  # drove through the stop line


def test_the_cli_runs_for_a_given_duration(capsys):
    assert main(['--port', '0', '--duration', '2', '--speed', '100', '--map', str(MAP)]) == 0
    assert 'HMI demo at http://127.0.0.1:' in capsys.readouterr().out

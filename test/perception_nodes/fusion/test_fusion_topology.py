"""The car.yaml configuration documented in docs/fusion.md loads, builds and connects: the
lidar detector → ego-motion compensation → tracker → cooperative fusion chain."""

import re
from pathlib import Path

import yaml

from v2x_runtime.embedded import EmbeddedRuntime
from v2x_runtime.topology import build, load_topology

DOC = Path(__file__).resolve().parents[3] / 'docs' / 'fusion.md'


def _snippet() -> str:
    text = DOC.read_text()
    block = re.search(r'## Configuration for `config/car.yaml`\n\n```yaml\n(.*?)```', text, re.S)
    assert block, 'docs/fusion.md lost its car.yaml snippet'
    return block.group(1)


def test_documented_configuration_builds_and_connects(tmp_path):
    processes = yaml.safe_load(_snippet())
    topo = {
        'description': 'car perception (docs/fusion.md)',
        'namespace': 'car',
        'processes': processes,
    }
    path = tmp_path / 'car_perception.yaml'
    path.write_text(yaml.safe_dump(topo))
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    build(load_topology(path), rt)
    topics = rt.topics
    assert topics['/car/perception/detections_map'].publishers == ['/car/ego_motion']
    subs = {t: len(info.subscriptions) for t, info in topics.items()}
    assert subs['/car/perception/detections'] == 1  # the ego-motion compensation only
    assert subs['/car/perception/detections_map'] == 1  # the tracker
    assert subs['/car/perception/objects'] == 1  # the fusion
    assert subs['/car/localization/odometry'] == 2
    assert '/car/perception/fused_objects' in topics
    rt.run(duration_s=0.5)  # cycles with no input publish empty lists, no handler errors
    assert rt.handler_errors == 0

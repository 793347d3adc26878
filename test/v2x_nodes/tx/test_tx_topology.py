"""The topology entries docs/v2x_nodes.md gives for config/car.yaml and config/rsu.yaml load
and validate (every component constructed, parameters checked) against a real PKI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from v2x_link_fixtures import make_pki_dir

from v2x_nodes.security import Algorithm
from v2x_runtime.errors import TopologyError
from v2x_runtime.topology import load_topology

DOC = Path(__file__).resolve().parents[3] / 'docs' / 'v2x_nodes.md'


def snippets() -> dict[str, str]:
    blocks = re.findall(r'```yaml\n# (config/\w+\.yaml)[^\n]*\n(.*?)```', DOC.read_text(), re.S)
    return dict(blocks)


@pytest.mark.parametrize('name', ['config/car.yaml', 'config/rsu.yaml'])
def test_documented_topology_entries_validate(tmp_path, name) -> None:
    pki_dir = make_pki_dir(tmp_path / 'pki', Algorithm.ECDSA_P256_SHA256, pseudonyms=20)
    body = snippets()[name].replace('/etc/v2x/pki', str(pki_dir))
    path = tmp_path / 'topology.yaml'
    path.write_text(
        'namespace: test\nprocesses:\n' + ''.join(f'  {line}\n' for line in body.splitlines())
    )
    topology = load_topology(path)
    assert {spec.name for _, spec in topology.components()} >= {'radio', 'v2x_rx'}


def test_a_wrong_credential_names_file_component_and_field(tmp_path) -> None:
    pki_dir = make_pki_dir(tmp_path / 'pki', Algorithm.ECDSA_P256_SHA256, pseudonyms=0)
    body = snippets()['config/rsu.yaml'].replace('/etc/v2x/pki', str(pki_dir))
    body = body.replace('credential: rsu1', 'credential: rsu9')
    path = tmp_path / 'rsu.yaml'
    path.write_text('processes:\n' + ''.join(f'  {line}\n' for line in body.splitlines()))
    with pytest.raises(
        TopologyError, match=r"rsu\.yaml: processes\.v2x\.components\.v2x_tx\.parameters: .*'rsu9'"
    ):
        load_topology(path)

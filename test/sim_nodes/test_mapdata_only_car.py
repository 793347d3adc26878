"""A connected car with no HD map warns of a red light from the RSU's MAP and SPAT alone (slow).

The car topology is the shipped ``sim_car`` without any ``map_file`` parameter, so the runner
imposes no map: the MapMatcher runs on MapData only and the application suite classifies by
geometry. The RLVW scenario's runner must still get its warning with the lead time the
scenario expects, and its stop lines must have come from the MAP.
"""

from pathlib import Path

import pytest
import yaml

from sim_nodes.runner import run_scenario
from v2x_runtime import messages as m
from v2x_runtime.bag import read_bag
from v2x_runtime.resources import config_dir


def no_map_topology(directory: Path) -> Path:
    """``config/sim_car.yaml`` with every ``map_file`` parameter left out."""
    top = yaml.safe_load((config_dir() / 'sim_car.yaml').read_text(encoding='utf-8'))
    for process in top['processes'].values():
        for comp in process['components'].values():
            comp.get('parameters', {}).pop('map_file', None)
    path = directory / 'sim_car_without_map.yaml'
    path.write_text(yaml.safe_dump(top), encoding='utf-8')
    return path


def last_counters(bag: Path, vehicle: str, component: str) -> dict[str, int]:
    counters: dict[str, int] = {}
    for rec in read_bag(bag):
        if rec.topic != f'/{vehicle}/diagnostics':
            continue
        msg = m.deserialize(rec.data, 'diagnostic_msgs/msg/DiagnosticArray')
        for st in msg.status:
            if st.name.endswith(f'/{component}'):
                counters = {kv.key: int(kv.value) for kv in st.values if kv.value.isdigit()}
    return counters


@pytest.mark.slow
def test_red_light_warning_from_map_and_spat_without_hd_map(tmp_path):
    topology = no_map_topology(tmp_path)
    result = run_scenario(
        'applications/rlvw_red_light_runner',
        sets={'car_topology': str(topology)},
        out_dir=tmp_path / 'run',
        progress=False,
    )
    assert result.metrics['stacks']['skipped'] == []
    checks = [(c.status, c.name, c.detail) for c in result.checks]
    assert checks and all(status == 'pass' for status, _, _ in checks), checks
    assert any('RLVW' in name for _, name, _ in checks)
    counters = last_counters(tmp_path / 'run' / 'bag', 'runner', 'map_matcher')
    assert counters.get('matched', 0) == 0  # no HD map
    assert counters['v2x_map_stop_line'] > 50  # > 5 s of 10 Hz fixes before the stop line

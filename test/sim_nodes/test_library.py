"""Every scenario of the library runs (at its CI duration) and its expected outcome holds.

Scenarios that need applications the car topology does not provide yet are skipped with the
reason; they run as soon as the applications land in config/car.yaml.
"""

import pytest

from sim_nodes.runner import run_scenario
from sim_nodes.scenarios import list_scenarios, load_scenario
from sim_nodes.scenarios.requirements import missing_applications


@pytest.mark.parametrize('name', list_scenarios())
def test_scenario_outcome_holds(name, tmp_path):
    scenario = load_scenario(name)
    missing = missing_applications(scenario)
    if missing:
        pytest.skip(f'{name} needs {", ".join(missing)}, not in the car topology yet')
    duration = scenario.ci_duration_s if scenario.ci_duration_s > 0 else scenario.duration_s
    result = run_scenario(name, out_dir=tmp_path, progress=False, duration_s=duration)
    failed = [f'{c.name}: {c.detail}' for c in result.checks if c.status == 'fail']
    assert not failed, failed
    assert not result.metrics['failures']

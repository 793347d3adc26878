"""Every application scenario holds its expected outcome at seeds other than its file's (slow).

Issue #9 asks each application's warning "in 100 % of seeds" with the lead time asked, and
never in the benign twin. The library test runs each scenario at its file's seed; this one
adds two fixed seeds, so each hazard is checked at three seeds in CI. The seed drives the
sensor, GNSS/IMU and channel noise and the random background traffic (ICW, RLVW, LTA), not
the scripted hazard. CI cost: the warned scenarios run at both extra seeds and the benign
twins at the first one only, 51 runs in 193 s of CPU (measured 26 Nov 2026; 328 s before the
sessions' speed-ups); the twins at both seeds would make it ~4.5 min, over the ~4 min budget
(docs/applications.md, "Seeds", has seeds 1-5 for every pair).

Scenarios in test_library's KNOWN_FAILURES are strict xfails here too, with its reason: when
that entry goes, this test runs them like the others.
"""

import pytest
from test_library import KNOWN_FAILURES

from sim_nodes.runner import run_scenario
from sim_nodes.scenarios import list_scenarios, load_scenario
from sim_nodes.scenarios.requirements import missing_applications

EXTRA_SEEDS = (1, 2)
BENIGN_SEEDS = EXTRA_SEEDS[:1]
# (scenario, seed) that fail at an extra seed; strict xfails with the cause.
SEED_FAILURES: dict[tuple[str, int], str] = {}


def _cases() -> list:
    cases = []
    for name in list_scenarios():
        if not name.startswith('applications/'):
            continue
        for seed in BENIGN_SEEDS if name.endswith('_benign') else EXTRA_SEEDS:
            marks = [pytest.mark.slow]
            reason = KNOWN_FAILURES.get(name) or SEED_FAILURES.get((name, seed))
            if reason:
                marks.append(pytest.mark.xfail(reason=reason, strict=True))
            cases.append(pytest.param(name, seed, marks=marks, id=f'{name}@seed{seed}'))
    return cases


@pytest.mark.parametrize(('name', 'seed'), _cases())
def test_application_outcome_holds_at_other_seeds(name, seed, tmp_path):
    scenario = load_scenario(name)
    assert scenario.seed not in EXTRA_SEEDS, f'{name}: its file seed is one of the extra seeds'
    missing = missing_applications(scenario)
    if missing:
        pytest.skip(f'{name} needs {", ".join(missing)}, not in the car topology yet')
    duration = scenario.ci_duration_s if scenario.ci_duration_s > 0 else scenario.duration_s
    result = run_scenario(name, seed=seed, out_dir=tmp_path, progress=False, duration_s=duration)
    assert result.metrics['seed'] == seed
    failed = [f'{c.name}: {c.detail}' for c in result.checks if c.status == 'fail']
    assert not failed, f'seed {seed}: {failed}'
    assert not result.metrics['failures'], result.metrics['failures']

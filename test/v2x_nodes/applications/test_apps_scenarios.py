"""Each application raises its warning in its scenario (with the lead time required) and
never in the benign twin; driven through the embedded runtime with the real map matcher."""

from __future__ import annotations

import math

import pytest
from apps_cases import EAST_1, ONSET_S, cases
from apps_world import ROAD, Actor, Ego, Mover, World, run

from v2x_nodes.applications import apps

CASES = cases()
ONSET_WINDOW_S = 0.5  # raised within this of the hazard's onset (BSW, EBW, ...)


@pytest.mark.parametrize('case', CASES, ids=[c.name for c in CASES])
def test_scenario(case) -> None:
    world = case.world()
    result = run(world, [(case.component, case.params)], case.duration_s, map_path=case.map_path)
    assert result.runtime.handler_errors == 0
    first = result.first(case.app)
    if not case.positive:
        assert result.raised(case.app) == [], f'false alarm: {result.raised(case.app)[:1]}'
        return
    assert math.isfinite(first), f'{case.app} never raised'
    if case.deadline is not None:
        deadline = case.deadline(world)
        assert math.isfinite(deadline)
        assert deadline - first >= case.min_lead_s, (
            f'{case.app} raised at {first:.2f} s, {deadline - first:.2f} s before the conflict '
            f'at {deadline:.2f} s; required {case.min_lead_s} s'
        )
    else:
        onset = ONSET_S[case.name]
        assert onset <= first + 1e-6 <= onset + ONSET_WINDOW_S + 0.1, f'raised at {first:.2f} s'


def test_the_own_car_reported_back_by_the_rsu_is_no_target() -> None:
    # RSM carries every participant the RSU tracks, the receiving car included: its own
    # box (a little off, as the RSU's lidar sees it) must not raise FCW against itself
    world = World(
        Ego(Mover(EAST_1, 15.0, start_m=100)),
        [Actor(9, Mover(EAST_1, 15.0, start_m=100.8), roadside=True, latency_s=0.1)],
    )
    result = run(world, [(apps.ForwardCollisionWarning, {})], 4.0, map_path=ROAD)
    assert result.runtime.handler_errors == 0
    assert result.raised('FCW') == []

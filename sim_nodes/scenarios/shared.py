"""One built scenario shared by the simulator's components of a process.

Every sim component takes the same three parameters (``scenario``, ``sets``, ``seed``), so
the launch file and the embedded runner configure them alike; the parse and map build run
once per process thanks to the cache.
"""

from __future__ import annotations

from functools import lru_cache

from sim_nodes.scenarios.build import BuiltScenario, build_scenario
from sim_nodes.scenarios.library import load_scenario, parse_sets
from v2x_runtime.component import ComponentContext


@lru_cache(maxsize=8)
def shared_scenario(path: str, sets: tuple[str, ...], seed: int) -> BuiltScenario:
    scenario = load_scenario(path, sets=parse_sets(list(sets)), seed=None if seed < 0 else seed)
    return build_scenario(scenario)


def declare_scenario_parameters(ctx: ComponentContext) -> BuiltScenario:
    path = ctx.declare_parameter('scenario', 'default', 'Scenario name or YAML path')
    sets = ctx.declare_parameter('sets', [''], 'Field overrides, path=value (YAML value)')
    seed = ctx.declare_parameter('seed', -1, 'Seed; -1 keeps the scenario file seed')
    return shared_scenario(str(path), tuple(s for s in sets if s), int(seed))

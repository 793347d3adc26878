"""Scenarios: schema, validation with precise errors, the YAML library, sweeps, world building."""

from sim_nodes.scenarios.build import BuiltScenario, build_scenario
from sim_nodes.scenarios.library import (
    apply_sets,
    expand_sweeps,
    find_scenario,
    list_scenarios,
    load_scenario,
    parse_sets,
    scenario_dir,
)
from sim_nodes.scenarios.schema import Scenario
from sim_nodes.scenarios.shared import declare_scenario_parameters, shared_scenario

__all__ = [
    'BuiltScenario',
    'Scenario',
    'apply_sets',
    'build_scenario',
    'declare_scenario_parameters',
    'expand_sweeps',
    'find_scenario',
    'list_scenarios',
    'load_scenario',
    'parse_sets',
    'scenario_dir',
    'shared_scenario',
]

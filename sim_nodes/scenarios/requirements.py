"""Which applications a scenario needs, and whether the car topology provides them."""

from __future__ import annotations

from sim_nodes.scenarios.schema import Scenario
from sim_nodes.stacks import StackReport, read_topology


def missing_applications(scenario: Scenario) -> list[str]:
    """The scenario's required applications that no car-topology component provides.

    A component provides an application when its name or plugin contains the application's
    name in any case (``fcw`` in ``v2x_nodes.applications.fcw:ForwardCollisionWarning``).
    """
    if not scenario.requires_applications:
        return []
    topology = read_topology(scenario.car_topology, StackReport())
    haystack = ''
    if topology is not None:
        haystack = ' '.join(f'{c.name} {c.plugin}' for _, c in topology.components()).lower()
    return [app for app in scenario.requires_applications if app.lower() not in haystack]

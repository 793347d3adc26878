"""Which applications a scenario needs, and whether the car topology provides them."""

from __future__ import annotations

from sim_nodes.scenarios.schema import Scenario
from sim_nodes.stacks import StackReport, read_topology


def missing_applications(scenario: Scenario) -> list[str]:
    """The scenario's required applications that no car-topology component provides.

    A component provides an application when its name or plugin contains the application's
    name in any case (``fcw`` in ``v2x_nodes.applications.fcw:ForwardCollisionWarning``); an
    ``ApplicationSuite`` provides those in its ``applications`` parameter (default: all).
    """
    if not scenario.requires_applications:
        return []
    from v2x_nodes.applications import APPLICATIONS

    topology = read_topology(scenario.car_topology, StackReport())
    haystack = ''
    provided: set[str] = set()
    for _, c in topology.components() if topology is not None else ():
        haystack += f' {c.name} {c.plugin}'.lower()
        if c.plugin.endswith(':ApplicationSuite'):
            provided |= {a.lower() for a in c.parameters.get('applications', APPLICATIONS)}
    return [
        app
        for app in scenario.requires_applications
        if app.lower() not in haystack and app.lower() not in provided
    ]

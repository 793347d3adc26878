"""The car and RSU stacks inside a simulation: topologies built per namespace, leniently.

Each connected vehicle runs the car topology in ``/<vehicle>`` and each RSU with ``stack:
true`` the rsu topology in ``/<rsu>``. Other areas fill those topologies over time, so a
missing file, an empty one or a component that cannot be imported or constructed is not
fatal here: it is skipped and reported (the run report lists it), everything else runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from v2x_runtime.errors import TopologyError
from v2x_runtime.topology import Topology, parse_topology


@dataclass
class StackReport:
    built: list[str] = field(default_factory=list)  # full component names
    skipped: list[str] = field(default_factory=list)  # "what: why"


def topology_path(name_or_path: str) -> Path:
    from v2x_runtime.cli import find_config

    return find_config(name_or_path)


def read_topology(name_or_path: str, report: StackReport) -> Topology | None:
    path = topology_path(name_or_path)
    if not path.exists():
        report.skipped.append(f'{path}: not present (stacks of this kind do not run)')
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
        if not data or not data.get('processes'):
            report.skipped.append(f'{path}: no processes yet')
            return None
        return parse_topology(data, path)
    except (OSError, yaml.YAMLError, TopologyError, AttributeError) as err:
        report.skipped.append(f'{path}: unreadable topology: {err}')
        return None


def build_stacks(
    runtime: Any, topology: Topology | None, namespaces: Iterable[str], report: StackReport
) -> None:
    """Add every component that can be built, once per namespace."""
    if topology is None:
        return
    for ns in namespaces:
        for process, spec in topology.components():
            where = f'{topology.path}: processes.{process.name}.components.{spec.name} in /{ns}'
            try:
                cls = spec.load_class()
                runtime.add_component(
                    cls,
                    name=spec.name,
                    namespace=f'/{ns}',
                    parameters=spec.parameters,
                    remappings=spec.remappings,
                )
            except Exception as err:  # a broken plugin must not stop the simulation
                report.skipped.append(f'{where}: {type(err).__name__}: {err}')
                continue
            report.built.append(f'/{ns}/{spec.name}')

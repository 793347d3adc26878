"""Topology → the processes a launch file starts. ROS-free, so it is tested everywhere.

``launch/*.launch.py`` stay thin: they call ``plan_processes`` and turn each ``ProcessPlan`` into
one ``launch_ros.actions.Node`` running the ``container`` executable, which reads the same
topology file and hosts that process's components.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from v2x_runtime.errors import TopologyError
from v2x_runtime.topology import Topology, load_topology

PACKAGE = 'v2x_stack'
CONTAINER = 'container'
LOG_LEVELS = ('debug', 'info', 'warn', 'error', 'fatal')


@dataclass(frozen=True)
class ProcessPlan:
    """One OS process: ``package``/``executable`` with its arguments, as launch_ros needs them."""

    name: str
    package: str
    executable: str
    namespace: str
    arguments: list[str]
    ros_arguments: list[str]
    parameters: list[dict[str, Any]] = field(default_factory=list)
    components: list[str] = field(default_factory=list)


def load_overrides(path: str | Path | None) -> dict[str, dict[str, Any]]:
    """A parameter-override file: ``{component: {parameter: value}}`` (or ROS' ros__parameters)."""
    if not path:
        return {}
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8')) or {}
    except (OSError, yaml.YAMLError) as err:
        raise TopologyError(f'{path}: cannot read parameter overrides: {err}') from None
    if not isinstance(data, dict):
        raise TopologyError(f'{path}: expected a mapping of component name to parameters')
    result: dict[str, dict[str, Any]] = {}
    for component, entry in data.items():
        is_ros_file = isinstance(entry, dict) and 'ros__parameters' in entry
        params = entry['ros__parameters'] if is_ros_file else entry
        if not isinstance(params, dict):
            raise TopologyError(f'{path}: {component}: expected a mapping of parameters')
        result[str(component)] = dict(params)
    return result


def plan_processes(
    config: str | Path,
    *,
    namespace: str | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    overrides_file: str | Path | None = None,
    use_sim_time: bool = False,
    log_level: str = 'info',
) -> list[ProcessPlan]:
    """Validate the topology (with overrides) and describe one container per process.

    Raises TopologyError naming the file, component and field on any invalid input.
    """
    if log_level not in LOG_LEVELS:
        raise TopologyError(f'log_level {log_level!r} is not one of {", ".join(LOG_LEVELS)}')
    merged: dict[str, dict[str, Any]] = load_overrides(overrides_file)
    for component, params in (overrides or {}).items():
        merged.setdefault(component, {}).update(params)
    topology: Topology = load_topology(config, merged)
    ns = topology.namespace if namespace in (None, '') else namespace
    ns = ns if ns.startswith('/') else f'/{ns}'
    plans = []
    for process in topology.processes:
        arguments = ['--config', str(Path(config).resolve()), '--process', process.name]
        for component in process.components:
            for key, value in sorted(merged.get(component.name, {}).items()):
                arguments += ['--set', f'{component.name}.{key}={json.dumps(value)}']
        plans.append(
            ProcessPlan(
                name=process.name,
                package=PACKAGE,
                executable=CONTAINER,
                namespace=ns,
                arguments=arguments,
                ros_arguments=['--log-level', log_level],
                parameters=[{'use_sim_time': use_sim_time}],
                components=[c.name for c in process.components],
            )
        )
    return plans


def config_path(share_dir: str | Path, name_or_path: str) -> Path:
    """A topology given by name (``rsu`` → share/v2x_stack/config/rsu.yaml) or by path."""
    candidate = Path(name_or_path)
    if candidate.suffix in ('.yaml', '.yml') and candidate.exists():
        return candidate
    return Path(share_dir) / 'config' / f'{name_or_path.removesuffix(".yaml")}.yaml'

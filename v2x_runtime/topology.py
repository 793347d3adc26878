"""Topologies: which processes run which components, with what parameters and remappings.

One YAML file (``config/car.yaml``, ``rsu.yaml``, ``sim.yaml``) is read by the launch files and
by the embedded runtime alike::

    description: Roadside unit
    namespace: rsu                    # default namespace of every process (launch may override)
    record: [v2x/tx, diagnostics]     # optional: topics `v2x-stack run` records (default: all)
    processes:
      perception:                     # one container process under ROS 2
        components:
          lidar_detector:             # node name, unique in the topology
            plugin: perception_nodes.lidar.detector:LidarDetector
            parameters: {voxel_m: 0.1}
            remappings: {lidar/points: /sensors/lidar_top/points}

Every error names the file, the component and the field, and is raised at load.
"""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from v2x_runtime.component import Component
from v2x_runtime.errors import ParameterError, RuntimeLayerError, TopologyError

_NAME = re.compile(r'^[a-z][a-z0-9_]*$')
_TOP_KEYS = {'description', 'namespace', 'record', 'processes'}
_PROCESS_KEYS = {'components'}
_COMPONENT_KEYS = {'plugin', 'parameters', 'remappings'}


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    plugin: str
    parameters: dict[str, Any] = field(default_factory=dict)
    remappings: dict[str, str] = field(default_factory=dict)

    def load_class(self) -> type[Component]:
        return load_plugin(self.plugin)


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    components: tuple[ComponentSpec, ...]


@dataclass(frozen=True)
class Topology:
    path: Path
    description: str
    namespace: str
    processes: tuple[ProcessSpec, ...]
    record: tuple[str, ...] | None = None

    def components(self) -> list[tuple[ProcessSpec, ComponentSpec]]:
        return [(p, c) for p in self.processes for c in p.components]

    def process(self, name: str) -> ProcessSpec:
        for process in self.processes:
            if process.name == name:
                return process
        names = ', '.join(p.name for p in self.processes)
        raise TopologyError(f'{self.path}: no process {name!r}; processes: {names}')


def load_plugin(plugin: str) -> type[Component]:
    """Import ``package.module:ClassName`` and check that it is a Component."""
    module_name, _, class_name = plugin.partition(':')
    if not module_name or not class_name:
        raise TopologyError(f'plugin {plugin!r} is not of the form package.module:ClassName')
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise TopologyError(f'plugin {plugin!r}: cannot import {module_name}: {err}') from err
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Component)):
        raise TopologyError(f'plugin {plugin!r}: {module_name} has no Component {class_name}')
    return cls


def _expect(cond: bool, where: str, text: str) -> None:
    if not cond:
        raise TopologyError(f'{where}: {text}')


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    _expect(
        not unknown, where, f'unknown field(s) {", ".join(unknown)}; expected {sorted(allowed)}'
    )


def parse_topology(data: Any, path: Path) -> Topology:
    """Check the structure of a parsed YAML document and build the Topology."""
    where = str(path)
    _expect(isinstance(data, dict), where, 'expected a mapping at the top level')
    _check_keys(data, _TOP_KEYS, where)
    processes_data = data.get('processes')
    _expect(
        isinstance(processes_data, dict) and bool(processes_data),
        f'{where}: processes',
        'expected a non-empty mapping of process name to process',
    )
    namespace = data.get('namespace', '/')
    _expect(isinstance(namespace, str), f'{where}: namespace', 'expected a string')
    record = data.get('record')
    _expect(
        record is None or (isinstance(record, list) and all(isinstance(t, str) for t in record)),
        f'{where}: record',
        'expected a list of topic names',
    )
    seen: dict[str, str] = {}
    processes = []
    for pname, pdata in processes_data.items():
        pwhere = f'{where}: processes.{pname}'
        _expect(isinstance(pname, str) and bool(_NAME.match(pname)), pwhere, 'bad process name')
        _expect(isinstance(pdata, dict), pwhere, 'expected a mapping with components')
        _check_keys(pdata, _PROCESS_KEYS, pwhere)
        comps = pdata.get('components')
        _expect(
            isinstance(comps, dict) and bool(comps),
            f'{pwhere}.components',
            'expected a non-empty mapping of component name to component',
        )
        specs = []
        for cname, cdata in comps.items():
            cwhere = f'{pwhere}.components.{cname}'
            _expect(
                isinstance(cname, str) and bool(_NAME.match(cname)),
                cwhere,
                'component names are lower_snake_case',
            )
            _expect(cname not in seen, cwhere, f'component name already used in {seen.get(cname)}')
            seen[cname] = pname
            _expect(isinstance(cdata, dict), cwhere, 'expected a mapping with a plugin')
            _check_keys(cdata, _COMPONENT_KEYS, cwhere)
            plugin = cdata.get('plugin')
            _expect(isinstance(plugin, str), f'{cwhere}.plugin', 'expected package.module:Class')
            params = cdata.get('parameters') or {}
            _expect(isinstance(params, dict), f'{cwhere}.parameters', 'expected a mapping')
            remaps = cdata.get('remappings') or {}
            _expect(
                isinstance(remaps, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in remaps.items()),
                f'{cwhere}.remappings',
                'expected a mapping of topic name to topic name',
            )
            specs.append(ComponentSpec(cname, plugin, dict(params), dict(remaps)))
        processes.append(ProcessSpec(pname, tuple(specs)))
    return Topology(
        path=path,
        description=str(data.get('description', '')),
        namespace=namespace,
        processes=tuple(processes),
        record=tuple(record) if record is not None else None,
    )


def load_topology(
    path: str | Path, overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> Topology:
    """Read, check and validate a topology file; ``overrides`` maps component → params.

    Validation constructs every component once (in a throwaway embedded runtime), so unknown
    plugins, unknown parameters, out-of-range values and publisher/subscriber type
    mismatches all fail here, with the file, the component and the field in the message.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        raise TopologyError(f'{path}: no such topology file') from None
    except (OSError, yaml.YAMLError) as err:
        raise TopologyError(f'{path}: cannot read topology: {err}') from None
    topology = apply_overrides(parse_topology(data, path), overrides or {})
    validate(topology)
    return topology


def apply_overrides(topology: Topology, overrides: Mapping[str, Mapping[str, Any]]) -> Topology:
    names = {c.name for _, c in topology.components()}
    for cname in overrides:
        if cname not in names:
            raise TopologyError(
                f'{topology.path}: override for unknown component {cname!r}; '
                f'components: {", ".join(sorted(names))}'
            )
    processes = tuple(
        ProcessSpec(
            p.name,
            tuple(
                ComponentSpec(
                    c.name, c.plugin, {**c.parameters, **overrides.get(c.name, {})}, c.remappings
                )
                for c in p.components
            ),
        )
        for p in topology.processes
    )
    return Topology(
        topology.path, topology.description, topology.namespace, processes, topology.record
    )


def add_set_option(parser: argparse.ArgumentParser) -> None:
    """``--set COMPONENT.PARAM=VALUE`` (repeatable), read by ``parse_set_options``."""
    parser.add_argument(
        '--set',
        action='append',
        default=[],
        metavar='COMPONENT.PARAM=VALUE',
        help='override a parameter (value in YAML syntax); repeatable',
    )


def parse_set_options(items: list[str]) -> dict[str, dict[str, Any]]:
    """``component.param=value`` strings (value in YAML syntax) → {component: {param: value}}."""
    result: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = item.partition('=')
        component, dot, param = key.partition('.')
        if not sep or not dot or not component or not param:
            raise TopologyError(f'--set {item!r}: expected component.parameter=value')
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as err:
            raise TopologyError(f'--set {item!r}: value is not valid YAML: {err}') from None
        result.setdefault(component, {})[param] = value
    return result


def build(topology: Topology, runtime: Any, *, namespace: str | None = None) -> None:
    """Add every component of ``topology`` to an ``EmbeddedRuntime``, naming errors precisely."""
    ns = namespace if namespace is not None else topology.namespace
    for process, spec in topology.components():
        where = f'{topology.path}: processes.{process.name}.components.{spec.name}'
        try:
            cls = spec.load_class()
        except TopologyError as err:
            raise TopologyError(f'{where}.plugin: {err}') from None
        try:
            runtime.add_component(
                cls,
                name=spec.name,
                namespace=ns,
                parameters=spec.parameters,
                remappings=spec.remappings,
            )
        except ParameterError as err:
            raise TopologyError(f'{where}.parameters: {err}') from None
        except RuntimeLayerError as err:
            raise TopologyError(f'{where}: {err}') from None
        except Exception as err:  # a component's own configuration error (map, DBC, keys...)
            raise TopologyError(f'{where}: {type(err).__name__}: {err}') from err


def validate(topology: Topology) -> None:
    from v2x_runtime.embedded import EmbeddedRuntime

    build(topology, EmbeddedRuntime())

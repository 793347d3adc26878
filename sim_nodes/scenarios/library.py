"""The scenario library under config/scenarios/: find, load with ``--set`` overrides, sweep.

A scenario's name is its path below config/scenarios/ without ``.yaml``
(``default``, ``physics/red_light_runner``, ``applications/fcw_stopped_vehicle``).
Overrides use field paths: ``traffic.count=40``, ``vehicles[0].speed_mps=15``.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from sim_nodes.errors import RunError, ScenarioError
from sim_nodes.scenarios.parse import parse_scenario
from sim_nodes.scenarios.schema import Scenario

_PATH = re.compile(r'^[a-zA-Z_]\w*(\[\d+\]|\.[a-zA-Z_]\w*)*$')
_STEP = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)|\[(\d+)\]')


def scenario_dir() -> Path:
    """config/scenarios of the source tree, or of a ROS install's share directory."""
    source = Path(__file__).resolve().parents[2] / 'config' / 'scenarios'
    if source.is_dir():
        return source
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory('v2x_stack')) / 'config' / 'scenarios'
    except Exception:
        return Path('config/scenarios')


def list_scenarios(directory: Path | None = None) -> list[str]:
    root = directory or scenario_dir()
    return sorted(p.relative_to(root).with_suffix('').as_posix() for p in root.rglob('*.yaml'))


def find_scenario(name_or_path: str | Path, directory: Path | None = None) -> Path:
    path = Path(name_or_path)
    if path.suffix in ('.yaml', '.yml') and path.exists():
        return path
    candidate = (directory or scenario_dir()) / f'{name_or_path}.yaml'
    if candidate.exists():
        return candidate
    names = ', '.join(list_scenarios(directory))
    raise RunError(f'no scenario {str(name_or_path)!r}; the library has: {names}')


def load_raw(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        raise ScenarioError(str(path), '', 'an existing scenario file') from None
    except (OSError, yaml.YAMLError) as err:
        raise ScenarioError(str(path), '', 'readable YAML', str(err)) from None
    if not isinstance(data, dict):
        raise ScenarioError(str(path), '(top level)', 'a mapping', type(data).__name__)
    return data


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``key.path=value`` strings (value in YAML syntax) → {path: value}."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition('=')
        if not sep or not key:
            raise RunError(f'--set {item!r}: expected field.path=value')
        try:
            out[key.strip()] = yaml.safe_load(raw)
        except yaml.YAMLError as err:
            raise RunError(f'--set {item!r}: value is not valid YAML: {err}') from None
    return out


def apply_sets(data: dict[str, Any], sets: Mapping[str, Any], file: str) -> dict[str, Any]:
    """A copy of ``data`` with each field path set; missing mappings are created."""
    out = copy.deepcopy(data)
    for key, value in sets.items():
        if not _PATH.match(key):
            raise ScenarioError(
                file, key, 'a field path such as traffic.count or vehicles[0].speed_mps'
            )
        steps = [(m.group(1), m.group(2)) for m in _STEP.finditer(key)]
        node: Any = out
        where = ''
        for n, (name, index) in enumerate(steps):
            last = n == len(steps) - 1
            if name is not None:
                where = f'{where}.{name}' if where else name
                if not isinstance(node, dict):
                    raise ScenarioError(file, where, 'a field of a mapping')
                if last:
                    node[name] = value
                else:
                    node = node.setdefault(name, {} if steps[n + 1][0] is not None else [])
            else:
                i = int(index)
                where = f'{where}[{i}]'
                if not isinstance(node, list) or i >= len(node):
                    raise ScenarioError(file, where, f'an existing list element (index {i})')
                if last:
                    node[i] = value
                else:
                    node = node[i]
    return out


def load_scenario(
    name_or_path: str | Path, *, sets: Mapping[str, Any] | None = None, seed: int | None = None
) -> Scenario:
    """Load, override and validate a scenario (map-level checks happen in ``build_world``)."""
    path = find_scenario(name_or_path)
    data = apply_sets(load_raw(path), dict(sets or {}), str(path))
    if seed is not None:
        data['seed'] = seed
    try:
        name = path.resolve().relative_to(scenario_dir().resolve()).with_suffix('').as_posix()
    except ValueError:
        name = path.stem
    return parse_scenario(data, path, name=str(data.get('name', name)) if 'name' in data else name)


def expand_sweeps(scenario: Scenario) -> list[dict[str, Any]]:
    """Every combination of the scenario's sweep values as a ``sets`` mapping ([{}] if none)."""
    if not scenario.sweeps:
        return [{}]
    keys = [k for k, _ in scenario.sweeps]
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(v for _, v in scenario.sweeps))
    ]

"""The car and RSU stacks inside a simulation: topologies built per namespace.

Each connected vehicle runs the car topology in ``/<vehicle>`` and each RSU with ``stack:
true`` the RSU topology in ``/<rsu>`` (defaults ``config/sim_car.yaml`` and
``config/sim_rsu.yaml``: the real stacks without the hardware drivers whose topics the
simulator publishes). A shipped topology (a file under ``config/``) is built strictly: a
component that cannot be imported or constructed fails the run with the file, component and
cause. A topology given by path elsewhere (an experiment) is built leniently: what does not
build is skipped and listed in the report, the rest runs.

The scenario sets the parameters that must agree with the world: a component whose
parameters in the topology name ``map_file``, ``origin_lat_deg``/``origin_lon_deg``/
``origin_alt_m``, ``imu_rate_hz`` or ``ref_lat_deg``/``ref_lon_deg`` gets the world's Lanelet2
map, the scenario's GNSS origin (also the reference point) and its IMU rate instead; and
each vehicle's own ``vehicle_class`` (BasicVehicleClass of its scenario class), ``length_m``
and ``width_m`` (what its BSM says about it: an ambulance's stack announces an ambulance).

Each RSU also gets its own site values (``rsu_parameters``), again only where the topology
lists the parameter: the lidar pose (``sensor_frame`` = ``<rsu>_lidar``, ``translation_m`` =
``position_m``, ``rpy_rad`` = [0, 0, ``lidar.yaw_rad``]), its intersection
(``intersection_id``, ``export_file``: the world's junction as an intersection export for
MAP), its reference point (``ref_lat_deg``/``ref_lon_deg``/``ref_alt_m``: the surveyed
position) and a station id of its own (``station_id``, ``rsu_id``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from geo.local_frame import LocalFrame
from sim_nodes.errors import StackError
from v2x_runtime.errors import TopologyError
from v2x_runtime.topology import Topology, parse_topology

SCENARIO_PARAMETERS = (
    'map_file',
    'origin_lat_deg',
    'origin_lon_deg',
    'origin_alt_m',
    'imu_rate_hz',
    'ref_lat_deg',
    'ref_lon_deg',
)
MAP_FILE_NAME = 'map.osm'
RSU_PARAMETERS = (
    'sensor_frame',
    'translation_m',
    'rpy_rad',
    'intersection_id',
    'export_file',
    'ref_lat_deg',
    'ref_lon_deg',
    'ref_alt_m',
    'station_id',
    'rsu_id',
)
RSU_STATION_BASE = 0xA1  # station ids 00000000000000a1, ...a2, ... in scenario order


@dataclass
class StackReport:
    built: list[str] = field(default_factory=list)  # full component names
    skipped: list[str] = field(default_factory=list)  # "what: why"


@dataclass(frozen=True)
class StackMap:
    """The Lanelet2 file the stacks load and each world lane's lanelet id in it."""

    path: Path
    lanelet_ids: dict[str, int]


def topology_path(name_or_path: str) -> Path:
    from v2x_runtime.cli import find_config

    return find_config(name_or_path)


def is_shipped(path: Path) -> bool:
    """A topology of the package's ``config/`` (built strictly)."""
    from v2x_runtime.resources import config_dir

    try:
        return path.resolve().parent == config_dir().resolve()
    except OSError:
        return False


def read_topology(
    name_or_path: str, report: StackReport, *, strict: bool | None = None
) -> Topology | None:
    """The topology, or None (reported) when lenient and it is absent, empty or invalid."""
    path = topology_path(name_or_path)
    strict = is_shipped(path) if strict is None else strict

    def problem(text: str) -> None:
        if strict:
            raise StackError(text)
        report.skipped.append(text)

    if not path.exists():
        problem(f'{path}: not present (stacks of this kind do not run)')
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
        if isinstance(data, dict) and data.get('processes') == {}:
            report.skipped.append(f'{path}: no components yet (an empty stack)')
            return None
        if not data or not data.get('processes'):
            problem(f'{path}: no processes')
            return None
        return parse_topology(data, path)
    except (OSError, yaml.YAMLError, TopologyError, AttributeError) as err:
        problem(f'{path}: unreadable topology: {err}')
        return None


def scenario_parameters(scenario: Any, stack_map: StackMap | None) -> dict[str, Any]:
    """The values the scenario imposes on the stacks (map file, GNSS origin)."""
    lat, lon, h = scenario.gnss.origin_deg
    params: dict[str, Any] = {
        'origin_lat_deg': lat,
        'origin_lon_deg': lon,
        'origin_alt_m': h,
        'imu_rate_hz': scenario.imu.rate_hz,
        'ref_lat_deg': lat,  # the map frame's origin: the generated junction's centre
        'ref_lon_deg': lon,
    }
    if stack_map is not None:
        params['map_file'] = str(stack_map.path)
    return params


def vehicle_parameters(spec: Any) -> dict[str, Any]:
    """The values one simulated vehicle imposes on its own stack (its BSM's class, size)."""
    from v2x_nodes.codec.convert.common import VEHICLE_CLASS_OF

    return {
        'vehicle_class': VEHICLE_CLASS_OF.get(int(spec.participant_class), 0),
        'length_m': float(spec.length_m),
        'width_m': float(spec.width_m),
    }


def build_stacks(
    runtime: Any,
    topology: Topology | None,
    namespaces: Iterable[str],
    report: StackReport,
    *,
    imposed: Mapping[str, Any] | None = None,
    per_namespace: Mapping[str, Mapping[str, Any]] | None = None,
    overrides: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
    strict: bool | None = None,
) -> None:
    """Add the topology's components once per namespace (strict: any failure raises).

    ``imposed`` values replace a component's parameters of the same name wherever the
    topology lists them; ``per_namespace[ns]`` does the same for one namespace (and wins);
    ``overrides[ns][component]`` sets that component's parameters in that namespace, listed
    or not (the scenario's ``rsus[i].parameters``).

    :raises StackError: an override names a component the topology does not have.
    """
    if topology is None:
        return
    strict = is_shipped(topology.path) if strict is None else strict
    imposed = imposed or {}
    per_namespace = per_namespace or {}
    overrides = overrides or {}
    names = [spec.name for _, spec in topology.components()]
    for ns in namespaces:
        values = {**imposed, **per_namespace.get(ns, {})}
        for comp in overrides.get(ns, {}):
            if comp not in names:
                raise StackError(
                    f'/{ns}: parameters.{comp}: expected a component of {topology.path} '
                    f'({", ".join(names)})'
                )
        for process, spec in topology.components():
            where = f'{topology.path}: processes.{process.name}.components.{spec.name} in /{ns}'
            params = {**spec.parameters}
            params.update({k: v for k, v in values.items() if k in spec.parameters})
            params.update(overrides.get(ns, {}).get(spec.name, {}))
            try:
                cls = spec.load_class()
                runtime.add_component(
                    cls,
                    name=spec.name,
                    namespace=f'/{ns}',
                    parameters=params,
                    remappings=spec.remappings,
                )
            except Exception as err:  # lenient: a broken experimental plugin is skipped
                if strict:
                    raise StackError(f'{where}: {type(err).__name__}: {err}') from err
                report.skipped.append(f'{where}: {type(err).__name__}: {err}')
                continue
            report.built.append(f'/{ns}/{spec.name}')


def stack_map(built: Any, directory: Path) -> StackMap:
    """The map the stacks load: the scenario's Lanelet2 file, or the generated world written
    as one (``<directory>/map.osm``, lat/lon about the scenario's GNSS origin)."""
    scenario = built.scenario
    if scenario.map.kind == 'lanelet2':
        ids = {lid: int(lid.removesuffix('_after')) for lid in built.network.lanes}
        return StackMap((scenario.file.parent / scenario.map.path).resolve(), ids)
    from sim_nodes.world.lanelet2_export import write_lanelet2

    path = directory / MAP_FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = write_lanelet2(built.network, path, LocalFrame(*scenario.gnss.origin_deg))
    return StackMap(path.resolve(), ids)


def rsu_station_id(index: int) -> str:
    """The station id (16 hex digits) of the scenario's ``index``-th RSU."""
    return f'{RSU_STATION_BASE + index:016x}'


def rsu_parameters(built: Any, lane_map: StackMap, directory: Path) -> dict[str, dict[str, Any]]:
    """Per RSU with a stack: its site parameters (module docstring), with the intersection
    export of its junction written to ``<directory>/intersection_<id>.json``.

    :raises ScenarioError: an RSU names an intersection the map does not have.
    """
    from sim_nodes.errors import MapError, ScenarioError
    from sim_nodes.world.intersection_export import write_network_export

    scenario = built.scenario
    frame = LocalFrame(*scenario.gnss.origin_deg)
    exports: dict[int, Path] = {}
    out: dict[str, dict[str, Any]] = {}
    for i, rsu in enumerate(scenario.rsus):
        if not rsu.stack:
            continue
        iid = rsu.intersection_id
        if iid not in exports:
            try:
                exports[iid] = write_network_export(
                    built.network,
                    iid,
                    frame,
                    lane_map.lanelet_ids,
                    directory / f'intersection_{iid}.json',
                )
            except MapError as err:
                raise ScenarioError(
                    str(scenario.file),
                    f'rsus[{i}].intersection_id',
                    'a signalised intersection of the map',
                    f'{iid} ({err})',
                ) from None
        x, y, z = rsu.position_m
        lat, lon, h = frame.to_geodetic(x, y, z)
        out[rsu.name] = {
            'sensor_frame': f'{rsu.name}_lidar',
            'translation_m': [float(x), float(y), float(z)],
            'rpy_rad': [0.0, 0.0, rsu.lidar.yaw_rad if rsu.lidar is not None else 0.0],
            'intersection_id': iid,
            'export_file': str(exports[iid]),
            'ref_lat_deg': float(lat),
            'ref_lon_deg': float(lon),
            'ref_alt_m': float(h),
            'station_id': rsu_station_id(i),
            'rsu_id': rsu.name,
        }
    return out

"""YAML → Scenario, checking every field: errors name the file, the field path, the expectation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sim_nodes.errors import ScenarioError
from sim_nodes.scenarios.fields import Fields
from sim_nodes.scenarios.parse_events import road_event, stop_counts
from sim_nodes.scenarios.schema import (
    GNSS_MODES,
    RSU_EVENT_KINDS,
    STATIC_CLASSES,
    VEHICLE_CLASSES,
    WALKER_CLASSES,
    ChannelConfig,
    Expectation,
    GnssConfig,
    ImuConfig,
    LidarConfig,
    MapConfig,
    ObstacleConfig,
    Outage,
    PedestrianConfig,
    PerceptionExpectation,
    RsuConfig,
    RsuEventExpectation,
    Scenario,
    TrafficConfig,
    VehicleConfig,
    WarningExpectation,
)

_NAME = re.compile(r'^[a-z][a-z0-9_]*$')
_INF = float('inf')


def parse_scenario(data: Any, file: Path, *, name: str | None = None) -> Scenario:
    top = Fields(data, str(file))
    scenario = Scenario(
        name=name or top.take_str('name', file.stem),
        file=file,
        description=top.take_str('description', ''),
        duration_s=top.take_float('duration_s', 60.0, lo=0.1, hi=86400.0),
        ci_duration_s=top.take_float('ci_duration_s', -1.0, hi=86400.0),
        seed=top.take_int('seed', 0, lo=0, hi=2**32 - 1),
        step_s=top.take_float('step_s', 0.1, lo=0.005, hi=0.5),
        map=_map(top.child('map', {})),
        signals=tuple(_signals(top)),
        rsus=tuple(_rsu(f) for f in top.items('rsus')),
        vehicles=tuple(_vehicle(f) for f in top.items('vehicles')),
        traffic=_traffic(top.child('traffic', {})),
        pedestrians=tuple(_pedestrian(f) for f in top.items('pedestrians')),
        obstacles=tuple(_obstacle(f) for f in top.items('obstacles')),
        road_events=tuple(road_event(f) for f in top.items('road_events')),
        gnss=_gnss(top.child('gnss', {})),
        imu=_imu(top.child('imu', {})),
        channel=_channel(top.child('channel', {})),
        expect=_expect(top.child('expect', {})),
        sweeps=_sweeps(top),
        requires_applications=tuple(_strs(top, 'requires_applications')),
        record_lidar=top.take_bool('record_lidar', False),
        record_internal=top.take_bool('record_internal', False),
        markers_rate_hz=top.take_float('markers_rate_hz', 5.0, lo=0.0, hi=100.0),
        car_topology=top.take_str('car_topology', 'sim_car'),
        rsu_topology=top.take_str('rsu_topology', 'sim_rsu'),
    )
    top.done()
    seen: set[str] = set()
    for section, items in (
        ('vehicles', scenario.vehicles),
        ('pedestrians', scenario.pedestrians),
        ('obstacles', scenario.obstacles),
        ('rsus', scenario.rsus),
    ):
        for i, item in enumerate(items):
            if item.name in seen:
                raise ScenarioError(
                    str(file), f'{section}[{i}].name', 'a name not used before', item.name
                )
            seen.add(item.name)
    _check_rsu_events(scenario, file)
    connected = {v.name for v in scenario.vehicles if v.connected}
    for i, q in enumerate(scenario.expect.perception):
        where = f'expect.perception[{i}]'
        if q.vehicle not in connected:
            raise ScenarioError(str(file), f'{where}.vehicle', 'a connected vehicle', q.vehicle)
        if q.target not in seen:
            raise ScenarioError(str(file), f'{where}.target', 'a vehicle or pedestrian', q.target)
    stacks = [r.name for r in scenario.rsus if r.stack]
    for i, ev in enumerate(scenario.road_events):
        if ev.rsu not in stacks:
            raise ScenarioError(
                str(file), f'road_events[{i}].rsu', f'an RSU with a stack ({stacks})', ev.rsu
            )
    vehicles = {v.name for v in scenario.vehicles}
    for key, pairs in (('max_stops', scenario.expect.max_stops),
                       ('min_stops', scenario.expect.min_stops)):  # fmt: skip
        for vehicle, _ in pairs:
            if vehicle not in vehicles:
                raise ScenarioError(str(file), f'expect.{key}.{vehicle}', 'a vehicle name', vehicle)
    return scenario


def _check_rsu_events(scenario: Scenario, file: Path) -> None:
    """Expected RSU events name RSUs with a stack and connected vehicles of the scenario."""
    rsus = {r.name for r in scenario.rsus if r.stack}
    connected = {v.name for v in scenario.vehicles if v.connected}
    for i, e in enumerate(scenario.expect.rsu_events):
        where = f'expect.rsu_events[{i}]'
        if e.rsu and e.rsu not in rsus:
            raise ScenarioError(
                str(file), f'{where}.rsu', f'an RSU with a stack ({", ".join(sorted(rsus))})', e.rsu
            )
        if not e.rsu and not rsus:
            raise ScenarioError(str(file), f'{where}', 'an RSU with a stack in rsus')
        for j, v in enumerate(e.received_by):
            if v not in connected:
                raise ScenarioError(
                    str(file),
                    f'{where}.received_by[{j}]',
                    f'a connected vehicle of vehicles ({", ".join(sorted(connected)) or "none"})',
                    v,
                )


def _kind(f: Fields, key: str) -> str:
    return f.take_str(key, choices=RSU_EVENT_KINDS)


def _strs(f: Fields, key: str) -> list[str]:
    values = f.take_list(key, [])
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise ScenarioError(f.file, f'{f.at(key)}[{i}]', 'a string', v)
    return values


def _name(f: Fields, key: str = 'name') -> str:
    value = f.take_str(key)
    if not _NAME.match(value):
        raise f.fail(key, 'a lower_snake_case name (it becomes a ROS namespace)', value)
    return value


def _map(f: Fields) -> MapConfig:
    out = MapConfig(
        kind=f.take_str('kind', 'four_arm', choices=('four_arm', 'lanelet2')),
        path=f.take_str('path', ''),
        arm_length_m=f.take_float('arm_length_m', 150.0, lo=30.0, hi=2000.0),
        lanes=f.take_int('lanes', 2, lo=1, hi=4),
        lane_width_m=f.take_float('lane_width_m', 3.5, lo=2.5, hi=5.0),
        speed_limit_mps=f.take_float('speed_limit_mps', 13.9, lo=1.0, hi=40.0),
        buildings=f.take_bool('buildings', True),
    )
    f.done()
    if out.kind == 'lanelet2' and not out.path:
        raise f.fail('path', 'the Lanelet2 .osm file for kind lanelet2')
    return out


def _signals(top: Fields) -> list[dict[str, Any]]:
    from rsu_nodes.signals.plan import PlanError, plan_from_dict

    plans = []
    for f in top.items('signals'):
        stages = f.items('stages')
        if not stages:
            raise f.fail('stages', 'a non-empty list of stages')
        plan = {
            'intersection_id': f.take_int('intersection_id', 1, lo=0, hi=65535),
            'offset_s': f.take_float('offset_s', 0.0),
            'stages': [],
        }
        for s in stages:
            plan['stages'].append(
                {
                    'green_s': s.take_float('green_s', lo=0.1, hi=600.0),
                    'vehicle_groups': [int(g) for g in _ints(s, 'vehicle_groups')],
                    'pedestrian_groups': [int(g) for g in _ints(s, 'pedestrian_groups')],
                    'yellow_s': s.take_float('yellow_s', 3.0, lo=0.0, hi=10.0),
                    'all_red_s': s.take_float('all_red_s', 2.0, lo=0.0, hi=30.0),
                    'ped_clearance_s': s.take_float('ped_clearance_s', 5.0, lo=0.0, hi=600.0),
                    'permissive': s.take_bool('permissive', False),
                }
            )
            s.done()
        f.done()
        try:
            plan_from_dict(plan)
        except PlanError as err:
            raise ScenarioError(f.file, f.path, 'a runnable signal plan', str(err)) from None
        plans.append(plan)
    return plans


def _ints(f: Fields, key: str) -> list[int]:
    values = f.take_list(key, [])
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 255:
            raise ScenarioError(f.file, f'{f.at(key)}[{i}]', 'a signal group 1..255', v)
    return values


def _lidar(lf: Fields, *, vehicle: bool) -> LidarConfig:
    lidar = LidarConfig(
        rings=lf.take_int('rings', 32, lo=1, hi=256),
        azimuth_steps=lf.take_int('azimuth_steps', 1024, lo=8, hi=8192),
        rate_hz=lf.take_float('rate_hz', 10.0, lo=0.1, hi=50.0),
        vertical_fov_deg=lf.take_floats('vertical_fov_deg', 2, (-25.0, 10.0)),
        min_range_m=lf.take_float('min_range_m', 1.0, lo=0.0, hi=50.0),
        max_range_m=lf.take_float('max_range_m', 120.0, lo=1.0, hi=500.0),
        range_noise_m=lf.take_float('range_noise_m', 0.02, lo=0.0, hi=5.0),
        dropout=lf.take_float('dropout', 0.0, lo=0.0, hi=1.0),
        yaw_rad=0.0 if vehicle else lf.take_float('yaw_rad', 0.0),
        mount_height_m=lf.take_float('mount_height_m', 2.0, lo=0.2, hi=10.0) if vehicle else 2.0,
    )
    lf.done()
    lo, hi = lidar.vertical_fov_deg
    if not -90.0 <= lo < hi <= 90.0:
        raise lf.fail('vertical_fov_deg', '[low, high] with -90 <= low < high <= 90', [lo, hi])
    return lidar


def _rsu(f: Fields) -> RsuConfig:
    lidar = _lidar(f.child('lidar'), vehicle=False) if f.has('lidar') else None
    out = RsuConfig(
        name=_name(f),
        position_m=f.take_floats('position_m', 3),
        intersection_id=f.take_int('intersection_id', 1, lo=0, hi=65535),
        lidar=lidar,
        stack=f.take_bool('stack', True),
        parameters=_overrides(f),
    )
    f.done()
    return out


def _overrides(f: Fields) -> dict[str, dict[str, Any]]:
    """``parameters: {component: {name: value}}`` (checked against the topology at build)."""
    raw = f.raw('parameters', {})
    if not isinstance(raw, dict):
        raise f.fail('parameters', 'a mapping {component: {parameter: value}}', raw)
    for comp, values in raw.items():
        if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
            raise ScenarioError(
                f.file, f'{f.at("parameters")}.{comp}', 'a mapping {parameter: value}', values
            )
    return {str(c): dict(v) for c, v in raw.items()}


def _vehicle(f: Fields) -> VehicleConfig:
    route = _strs(f, 'route')
    if not route:
        raise f.fail('route', 'a non-empty list of lane ids')
    out = VehicleConfig(
        name=_name(f),
        route=tuple(route),
        speed_mps=f.take_float('speed_mps', 12.0, lo=0.0, hi=60.0),
        spawn_s=f.take_float('spawn_s', 0.0, lo=0.0),
        start_m=f.take_float('start_m', 0.0, lo=0.0),
        connected=f.take_bool('connected', False),
        obey_signals=f.take_bool('obey_signals', True),
        yield_to_pedestrians=f.take_bool('yield_to_pedestrians', True),
        attentive=f.take_bool('attentive', True),
        vehicle_class=f.take_str('class', 'car', choices=tuple(VEHICLE_CLASSES)),
        size_m=f.take_floats('size_m', 3, (4.6, 1.9, 1.5)),
        brake_at_s=f.take_float('brake_at_s', _INF, lo=0.0),
        brake_decel_mps2=f.take_float('brake_decel_mps2', 6.0, lo=0.5, hi=12.0),
        lane_changes=tuple(_lane_change(c) for c in f.items('lane_changes')),
        lane_change_s=f.take_float('lane_change_s', 3.5, lo=0.5, hi=20.0),
        lidar=_lidar(f.child('lidar'), vehicle=True) if f.has('lidar') else None,
        overtakes=tuple(_overtake(o) for o in f.items('overtakes')),
        skid_at_s=f.take_float('skid_at_s', _INF, lo=0.0),
        skid_yaw_rate_radps=f.take_float('skid_yaw_rate_radps', 1.2, lo=0.1, hi=5.0),
        follow_advice=f.take_bool('follow_advice', False),
        by_wire=f.take_bool('by_wire', False),
    )
    f.done()
    times = [t for t, _ in out.lane_changes]
    if times != sorted(times):
        raise f.fail('lane_changes', 'changes in time order', times)
    return out


def _overtake(f: Fields) -> tuple[float, float]:
    out = (f.take_float('at_s', lo=0.0), f.take_float('duration_s', 10.0, lo=2.0, hi=120.0))
    f.done()
    return out


def _lane_change(f: Fields) -> tuple[float, tuple[str, ...]]:
    at_s = f.take_float('at_s', lo=0.0)
    route = _strs(f, 'route')
    if not route:
        raise f.fail('route', 'a non-empty list of lane ids (the target lane first)')
    f.done()
    return at_s, tuple(route)


def _traffic(f: Fields) -> TrafficConfig:
    out = TrafficConfig(
        count=f.take_int('count', 0, lo=0, hi=5000),
        connected_ratio=f.take_float('connected_ratio', 0.0, lo=0.0, hi=1.0),
        speed_mps=f.take_floats('speed_mps', 2, (9.0, 13.0)),
        start_s=f.take_float('start_s', 0.0, lo=0.0),
        spawn_interval_s=f.take_float('spawn_interval_s', 2.0, lo=0.0, hi=600.0),
        entries=tuple(_strs(f, 'entries')),
    )
    f.done()
    lo, hi = out.speed_mps
    if not 0 < lo <= hi:
        raise f.fail('speed_mps', '[low, high] with 0 < low <= high', [lo, hi])
    return out


def _pedestrian(f: Fields) -> PedestrianConfig:
    raw_path = f.take_list('path', [])
    path = []
    for i, p in enumerate(raw_path):
        ok = isinstance(p, list) and len(p) == 2
        if not ok or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in p):
            raise ScenarioError(f.file, f'{f.at("path")}[{i}]', 'a point [x_m, y_m]', p)
        path.append((float(p[0]), float(p[1])))
    klass = f.take_str('class', 'pedestrian', choices=(*WALKER_CLASSES, *VEHICLE_CLASSES))
    out = PedestrianConfig(
        name=_name(f),
        crosswalk=f.take_str('crosswalk', ''),
        reverse=f.take_bool('reverse', False),
        path=tuple(path),
        speed_mps=f.take_float(
            'speed_mps', 1.4, lo=0.1, hi=60.0 if klass in VEHICLE_CLASSES else 12.0
        ),
        spawn_s=f.take_float('spawn_s', 0.0, lo=0.0),
        obey_signals=f.take_bool('obey_signals', True),
        walker_class=klass,
        size_m=f.take_floats('size_m', 3) if f.has('size_m') else None,
    )
    f.done()
    if out.walker_class in VEHICLE_CLASSES and not out.path:
        what = f'a path for a scripted {out.walker_class} (crosswalks are for walkers)'
        raise f.fail('path', what)
    if bool(out.crosswalk) == bool(out.path):
        raise f.fail('crosswalk', 'either a crosswalk id or a path of at least 2 points')
    if out.path and len(out.path) < 2:
        raise f.fail('path', 'at least 2 points', len(out.path))
    return out


def _obstacle(f: Fields) -> ObstacleConfig:
    out = ObstacleConfig(
        name=_name(f),
        position_m=f.take_floats('position_m', 2),
        size_m=f.take_floats('size_m', 3, (1.2, 0.8, 0.5)),
        yaw_rad=f.take_float('yaw_rad', 0.0),
        spawn_s=f.take_float('spawn_s', 0.0, lo=0.0),
        obstacle_class=f.take_str('class', 'obstacle', choices=tuple(STATIC_CLASSES)),
    )
    f.done()
    if not all(0.05 <= v <= 20.0 for v in out.size_m):
        raise f.fail('size_m', '[length, width, height] each in 0.05..20 m', list(out.size_m))
    return out


def _gnss(f: Fields) -> GnssConfig:
    outages = []
    for o in f.items('outages'):
        outage = Outage(
            o.take_float('start_s', lo=0.0),
            o.take_float('end_s', lo=0.0),
            tuple(_strs(o, 'vehicles')),
        )
        o.done()
        if outage.end_s <= outage.start_s:
            raise o.fail('end_s', f'a time after start_s ({outage.start_s})', outage.end_s)
        outages.append(outage)
    out = GnssConfig(
        mode=f.take_str('mode', 'rtk_fixed', choices=GNSS_MODES),
        rate_hz=f.take_float('rate_hz', 10.0, lo=0.1, hi=100.0),
        horizontal_sigma_m=f.take_float('horizontal_sigma_m', -1.0, hi=100.0),
        vertical_sigma_m=f.take_float('vertical_sigma_m', -1.0, hi=100.0),
        outages=tuple(outages),
        multipath_rate_per_min=f.take_float('multipath_rate_per_min', 0.0, lo=0.0, hi=600.0),
        multipath_jump_m=f.take_float('multipath_jump_m', 3.0, lo=0.0, hi=200.0),
        multipath_duration_s=f.take_float('multipath_duration_s', 2.0, lo=0.0, hi=600.0),
        origin_deg=f.take_floats('origin_deg', 3, (31.2304, 121.4737, 10.0)),
    )
    f.done()
    return out


def _imu(f: Fields) -> ImuConfig:
    d = ImuConfig()
    out = ImuConfig(**{k: f.take_float(k, getattr(d, k), lo=0.0) for k in d.__dataclass_fields__})
    f.done()
    if out.rate_hz <= 0:
        raise f.fail('rate_hz', 'a rate > 0', out.rate_hz)
    return out


def _channel(f: Fields) -> ChannelConfig:
    d = ChannelConfig()
    values: dict[str, Any] = {}
    for key in d.__dataclass_fields__:
        if key == 'cbr_capacity':
            values[key] = f.take_int(key, d.cbr_capacity, lo=1)
        elif key in ('pdr_max', 'extra_loss', 'obstruction_range_factor', 'cbr_threshold'):
            values[key] = f.take_float(key, getattr(d, key), lo=0.0, hi=1.0)
        else:
            values[key] = f.take_float(key, getattr(d, key), lo=0.0)
    f.done()
    if values['slope_m'] <= 0 or values['range_50_m'] <= 0:
        raise f.fail('slope_m', 'slope_m > 0 and range_50_m > 0', values['slope_m'])
    return ChannelConfig(**values)


def _expect(f: Fields) -> Expectation:
    warnings = []
    for w in f.items('warnings'):
        warnings.append(
            WarningExpectation(
                application=w.take_str('application'),
                min_lead_time_s=w.take_float('min_lead_time_s', 0.0, lo=-10.0),
                vehicle=w.take_str('vehicle', ''),
            )
        )
        w.done()
    rsu_events = []
    for e in f.items('rsu_events'):
        rsu_events.append(
            RsuEventExpectation(
                kind=_kind(e, 'kind'),
                rsu=e.take_str('rsu', ''),
                by_s=e.take_float('by_s', -1.0),
                received_by=tuple(_strs(e, 'received_by')),
            )
        )
        e.done()
    no_rsu = _strs(f, 'no_rsu_events')
    for i, kind in enumerate(no_rsu):
        if kind not in RSU_EVENT_KINDS:
            raise ScenarioError(
                f.file,
                f'{f.at("no_rsu_events")}[{i}]',
                f'one of {", ".join(RSU_EVENT_KINDS)}',
                kind,
            )
    perception = []
    for q in f.items('perception'):
        perception.append(
            PerceptionExpectation(
                vehicle=q.take_str('vehicle'),
                target=q.take_str('target'),
                min_lead_time_s=q.take_float('min_lead_time_s', -1.0, hi=600.0),
                max_duplicates=q.take_int('max_duplicates', -1),
                min_source_kinds=q.take_int('min_source_kinds', -1, hi=3),
            )
        )
        q.done()
    out = Expectation(
        warnings=tuple(warnings),
        no_warnings=f.take_bool('no_warnings', False),
        no_warnings_of=tuple(_strs(f, 'no_warnings_of')),
        min_packet_delivery_ratio=f.take_float('min_packet_delivery_ratio', -1.0, hi=1.0),
        max_collisions=f.take_int('max_collisions', -1),
        min_collisions=f.take_int('min_collisions', -1),
        min_red_light_violations=f.take_int('min_red_light_violations', -1),
        max_red_light_violations=f.take_int('max_red_light_violations', -1),
        max_positioning_error_p95_m=f.take_float('max_positioning_error_p95_m', -1.0),
        min_lane_match_ratio=f.take_float('min_lane_match_ratio', -1.0, hi=1.0),
        rsu_events=tuple(rsu_events),
        no_rsu_events=tuple(no_rsu),
        perception=tuple(perception),
        min_fused_recall=f.take_float('min_fused_recall', -1.0, hi=1.0),
        min_fused_precision=f.take_float('min_fused_precision', -1.0, hi=1.0),
        max_fused_position_rmse_m=f.take_float('max_fused_position_rmse_m', -1.0),
        max_stops=stop_counts(f, 'max_stops'),
        min_stops=stop_counts(f, 'min_stops'),
    )
    f.done()
    if out.no_warnings_of and out.warnings:
        raise f.fail('no_warnings_of', 'no_warnings_of only without expected warnings', True)
    if out.no_warnings and out.warnings:
        raise f.fail('no_warnings', 'no_warnings only without expected warnings', True)
    return out


def _sweeps(top: Fields) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    sweeps = top.child('sweeps', {})
    out = []
    for key in sorted(sweeps.data):
        values = sweeps.take_list(key)
        if not values:
            raise sweeps.fail(key, 'a non-empty list of values')
        out.append((key, tuple(values)))
    return tuple(out)

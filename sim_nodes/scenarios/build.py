"""Scenario → world: the lane network, signal plans, vehicles (scripted + random traffic) and
pedestrians, with the checks that need the map (route lanes, crosswalks, signal groups)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rsu_nodes.signals.plan import SignalPlan, plan_from_dict
from sim_nodes.errors import MapError, ScenarioError
from sim_nodes.scenarios.schema import STATIC_CLASSES, VEHICLE_CLASSES, WALKER_CLASSES, Scenario
from sim_nodes.world.four_arm import FourArmGeometry, build_four_arm, default_plan
from sim_nodes.world.lanes import LaneNetwork
from sim_nodes.world.pedestrians import PedestrianSpec
from sim_nodes.world.vehicles import VehicleSpec
from sim_nodes.world.world import World, signal_keys

KERB_APPROACH_M = 2.5


@dataclass(frozen=True)
class BuiltScenario:
    scenario: Scenario
    network: LaneNetwork
    plans: dict[int, SignalPlan]
    vehicles: list[VehicleSpec]
    pedestrians: list[PedestrianSpec]

    def connected(self) -> list[str]:
        return [v.name for v in self.vehicles if v.connected]

    def world(self) -> World:
        return World(self.network, self.plans, self.vehicles, self.pedestrians)


def build_network(scenario: Scenario) -> LaneNetwork:
    cfg = scenario.map
    if cfg.kind == 'four_arm':
        return build_four_arm(
            FourArmGeometry(
                arm_length_m=cfg.arm_length_m,
                lanes=cfg.lanes,
                lane_width_m=cfg.lane_width_m,
                speed_limit_mps=cfg.speed_limit_mps,
                buildings=cfg.buildings,
            )
        )
    from sim_nodes.world.hdmap_adapter import network_from_lanelet2

    try:
        return network_from_lanelet2(scenario.file.parent / cfg.path)
    except MapError as err:
        raise ScenarioError(
            str(scenario.file), 'map.path', 'a loadable Lanelet2 map', str(err)
        ) from None


def build_scenario(scenario: Scenario) -> BuiltScenario:
    file = str(scenario.file)
    network = build_network(scenario)
    plans_cfg = list(scenario.signals) or (
        [default_plan()] if scenario.map.kind == 'four_arm' else []
    )
    plans = {int(p['intersection_id']): plan_from_dict(p) for p in plans_cfg}
    for (iid, group), _ in signal_keys(network).items():
        if group and (iid not in plans or group not in plans[iid].groups):
            raise ScenarioError(
                file, 'signals', f'a plan for intersection {iid} that gives green to group {group}'
            )
    vehicles = [_vehicle(scenario, network, i) for i in range(len(scenario.vehicles))]
    vehicles += _traffic(scenario, network, start_index=len(vehicles))
    pedestrians = [_pedestrian(scenario, network, i) for i in range(len(scenario.pedestrians))]
    pedestrians += [_obstacle(scenario, i) for i in range(len(scenario.obstacles))]
    _check_rsus(scenario, network)
    return BuiltScenario(scenario, network, plans, vehicles, pedestrians)


def _vehicle(scenario: Scenario, network: LaneNetwork, i: int) -> VehicleSpec:
    v = scenario.vehicles[i]
    file = str(scenario.file)
    for j, lane in enumerate(v.route):
        if lane not in network.lanes:
            sample = ', '.join(network.entry_lanes()[:4])
            raise ScenarioError(
                file,
                f'vehicles[{i}].route[{j}]',
                f'a lane id of the map (entries: {sample}, ...)',
                lane,
            )
    chain = [v.route[0]]
    for j in range(1, len(v.route)):
        try:
            chain = [*chain, *network.expand_route([chain[-1], v.route[j]])[1:]]
        except MapError:
            raise ScenarioError(
                file,
                f'vehicles[{i}].route[{j}]',
                f'a lane reachable from {v.route[j - 1]}',
                v.route[j],
            ) from None
    changes = []
    for c, (at_s, waypoints) in enumerate(v.lane_changes):
        where = f'vehicles[{i}].lane_changes[{c}].route'
        changes.append((at_s, _chain(file, network, where, waypoints)))
    length, width, height = v.size_m
    return VehicleSpec(
        name=v.name,
        route=tuple(chain),
        speed_mps=v.speed_mps,
        spawn_s=v.spawn_s,
        start_m=v.start_m,
        connected=v.connected,
        obey_signals=v.obey_signals,
        yield_to_pedestrians=v.yield_to_pedestrians,
        attentive=v.attentive,
        length_m=length,
        width_m=width,
        height_m=height,
        participant_class=VEHICLE_CLASSES[v.vehicle_class],
        brake_at_s=v.brake_at_s,
        brake_decel_mps2=v.brake_decel_mps2,
        lane_changes=tuple(changes),
        lane_change_s=v.lane_change_s,
        overtakes=v.overtakes,
        skid_at_s=v.skid_at_s,
        skid_yaw_rate_radps=v.skid_yaw_rate_radps,
        follow_advice=v.follow_advice,
        by_wire=v.by_wire,
    )


def _chain(
    file: str, network: LaneNetwork, where: str, waypoints: tuple[str, ...]
) -> tuple[str, ...]:
    for j, lane in enumerate(waypoints):
        if lane not in network.lanes:
            raise ScenarioError(file, f'{where}[{j}]', 'a lane id of the map', lane)
    try:
        return tuple(network.expand_route(list(waypoints)))
    except MapError as err:
        raise ScenarioError(file, where, 'lanes connected in driving order', str(err)) from None


def _traffic(scenario: Scenario, network: LaneNetwork, start_index: int) -> list[VehicleSpec]:
    t = scenario.traffic
    if t.count == 0:
        return []
    entries = list(t.entries) or network.entry_lanes()
    for j, lane in enumerate(entries):
        if lane not in network.lanes:
            raise ScenarioError(
                str(scenario.file), f'traffic.entries[{j}]', 'a lane id of the map', lane
            )
    rng = np.random.default_rng([scenario.seed, 7])
    # the connected draw has its own stream: a penetration sweep changes only who is connected
    connected_rng = np.random.default_rng([scenario.seed, 11])
    out = []
    for n in range(t.count):
        entry = entries[int(rng.integers(len(entries)))]
        chains = network.exit_chains(entry)
        chain = chains[int(rng.integers(len(chains)))]
        speed = float(rng.uniform(*t.speed_mps))
        jitter = float(rng.uniform(0.0, 0.5 * t.spawn_interval_s))
        connected = bool(connected_rng.random() < t.connected_ratio)
        out.append(
            VehicleSpec(
                name=f'{"car" if connected else "veh"}_{start_index + n:03d}',
                route=tuple(chain),
                speed_mps=speed,
                spawn_s=t.start_s + n * t.spawn_interval_s + jitter,
                connected=connected,
            )
        )
    return out


def _pedestrian(scenario: Scenario, network: LaneNetwork, i: int) -> PedestrianSpec:
    p = scenario.pedestrians[i]
    keys = signal_keys(network)
    if p.crosswalk:
        cw = network.crosswalks.get(p.crosswalk)
        if cw is None:
            raise ScenarioError(
                str(scenario.file),
                f'pedestrians[{i}].crosswalk',
                f'a crosswalk of the map ({", ".join(sorted(network.crosswalks))})',
                p.crosswalk,
            )
        a, b = (cw.path[1], cw.path[0]) if p.reverse else (cw.path[0], cw.path[1])
        u = (b - a) / np.linalg.norm(b - a)
        path = np.array([a - u * KERB_APPROACH_M, a, b, b + u * KERB_APPROACH_M])
        wait, key = KERB_APPROACH_M, keys.get((cw.intersection_id, cw.signal_group), 0)
        crossing_width = cw.width_m
    else:
        path = np.array(p.path, dtype=float)
        path = path[::-1] if p.reverse else path
        wait, key = -1.0, 0
        crossing_width = 0.0
    klass = {**WALKER_CLASSES, **VEHICLE_CLASSES}[p.walker_class]
    size = (0.5, 0.5, 1.75) if klass == WALKER_CLASSES['pedestrian'] else (1.8, 0.6, 1.7)
    if p.walker_class in VEHICLE_CLASSES:  # a scripted vehicle along the path (wrong way...)
        size = (4.6, 1.9, 1.5)
    size = p.size_m or size
    return PedestrianSpec(
        name=p.name,
        path=path,
        wait_at_m=wait,
        signal_key=key,
        speed_mps=p.speed_mps,
        spawn_s=p.spawn_s,
        obey_signals=p.obey_signals,
        participant_class=klass,
        size_m=size,
        crossing_width_m=crossing_width,
    )


def _obstacle(scenario: Scenario, i: int) -> PedestrianSpec:
    """A static object: a member of the crowd that never moves (same truth, lidar returns,
    collisions with vehicles, and vehicles that yield stop before it)."""
    o = scenario.obstacles[i]
    p = np.array(o.position_m, dtype=float)
    heading = np.array([np.cos(o.yaw_rad), np.sin(o.yaw_rad)])
    return PedestrianSpec(
        name=o.name,
        path=np.array([p, p + 0.01 * heading]),
        speed_mps=0.0,
        spawn_s=o.spawn_s,
        participant_class=STATIC_CLASSES[o.obstacle_class],
        size_m=o.size_m,
    )


def _check_rsus(scenario: Scenario, network: LaneNetwork) -> None:
    """Each RSU names an intersection of the map, and a lidar is mounted above the ground.

    (An RSU far from the map is allowed: a radio-only RSU, or a channel experiment.)
    """
    ids = sorted(network.intersections) or sorted(
        {ln.intersection_id for ln in network.lanes.values() if ln.intersection_id >= 0}
    )
    for i, rsu in enumerate(scenario.rsus):
        z = rsu.position_m[2]
        if rsu.lidar is not None and not 0.0 < z <= 100.0:
            raise ScenarioError(
                str(scenario.file),
                f'rsus[{i}].position_m',
                'a lidar mount at a height 0 < z <= 100 m above the map',
                list(rsu.position_m),
            )
        if ids and rsu.intersection_id not in ids:
            raise ScenarioError(
                str(scenario.file),
                f'rsus[{i}].intersection_id',
                f'an intersection of the map ({", ".join(map(str, ids))})',
                rsu.intersection_id,
            )

"""The scenario schema: frozen dataclasses, one per section of a scenario YAML file.

Units are in the field names. ``sim_nodes.scenarios.parse`` fills them from YAML with
errors that name the file and the field path; docs/simulation.md shows a complete example.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VEHICLE_CLASSES = {'car': 1, 'truck': 2, 'bus': 2, 'motorcycle': 3, 'emergency': 7}
WALKER_CLASSES = {'pedestrian': 5, 'cyclist': 4}
STATIC_CLASSES = {'obstacle': 6, 'unknown': 0}
RSU_EVENT_KINDS = (
    'stopped_vehicle',
    'wrong_way',
    'congestion',
    'pedestrian',
    'obstacle',
    'speeding',
)
GNSS_MODES = ('rtk_fixed', 'rtk_float', 'single')


@dataclass(frozen=True)
class MapConfig:
    kind: str = 'four_arm'  # four_arm (generated) | lanelet2 (HD map adapter, when merged)
    path: str = ''  # lanelet2: the .osm file
    arm_length_m: float = 150.0
    lanes: int = 2
    lane_width_m: float = 3.5
    speed_limit_mps: float = 13.9
    buildings: bool = True


@dataclass(frozen=True)
class LidarConfig:
    rings: int = 32
    azimuth_steps: int = 1024
    rate_hz: float = 10.0
    vertical_fov_deg: tuple[float, float] = (-25.0, 10.0)
    min_range_m: float = 1.0
    max_range_m: float = 120.0
    range_noise_m: float = 0.02
    dropout: float = 0.0  # probability that a return is lost
    yaw_rad: float = 0.0
    mount_height_m: float = 2.0  # vehicles: sensor height above ground, over the reference point


@dataclass(frozen=True)
class RsuConfig:
    name: str
    position_m: tuple[float, float, float]  # antenna / lidar mount in map frame
    intersection_id: int = 1
    lidar: LidarConfig | None = None
    stack: bool = True  # run config/rsu.yaml in its namespace
    # per component of the RSU topology: parameter overrides for this RSU only
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class VehicleConfig:
    name: str
    route: tuple[str, ...]  # lane waypoints; the chain between them is found on the map
    speed_mps: float = 12.0
    spawn_s: float = 0.0
    start_m: float = 0.0
    connected: bool = False
    obey_signals: bool = True
    yield_to_pedestrians: bool = True
    attentive: bool = True  # false: ignores vehicles ahead (distracted driver, FCW scenarios)
    vehicle_class: str = 'car'
    size_m: tuple[float, float, float] = (4.6, 1.9, 1.5)
    brake_at_s: float = float('inf')
    brake_decel_mps2: float = 6.0
    lane_changes: tuple[tuple[float, tuple[str, ...]], ...] = ()  # (at_s, lane waypoints)
    lane_change_s: float = 3.5
    lidar: LidarConfig | None = None  # onboard lidar (scans /<vehicle>/lidar/points, frame lidar)
    overtakes: tuple[tuple[float, float], ...] = ()  # (at_s, duration_s) into the lane to the left
    skid_at_s: float = float('inf')  # loses control: spins at skid_yaw_rate_radps, slides
    skid_yaw_rate_radps: float = 1.2
    follow_advice: bool = False  # follows the stack's SpeedAdvice (GLOSA, SLW)
    by_wire: bool = False  # the stack's gated ControlCommand drives it when the gate engages


@dataclass(frozen=True)
class RoadEventConfig:
    """An RSI event or sign that an RSU broadcasts (its stack's ``rsu/events`` input)."""

    id: int
    rsu: str  # the RSU that sends it (its stack must run)
    position_m: tuple[float, float]
    radius_m: float = 20.0  # events only: RSI carries no radius for signs, use a path
    path_m: tuple[tuple[float, float], ...] = ()  # reference path of the zone (e.g. the lane)
    path_radius_m: float = 2.0
    event_type: int = 0  # RTE EventType code; 0 for a sign
    sign_type: int = 0  # RTS SignType code; 0 for an event
    description: str = ''
    start_s: float = 0.0
    end_s: float = float('inf')


@dataclass(frozen=True)
class TrafficConfig:
    """Random benign background traffic, drawn from the scenario's seed."""

    count: int = 0
    connected_ratio: float = 0.0
    speed_mps: tuple[float, float] = (9.0, 13.0)
    start_s: float = 0.0
    spawn_interval_s: float = 2.0
    entries: tuple[str, ...] = ()  # entry lanes; empty: every entry lane of the map


@dataclass(frozen=True)
class PedestrianConfig:
    name: str
    crosswalk: str = ''  # crosswalk id (four_arm: the arm it crosses)
    reverse: bool = False
    path: tuple[tuple[float, float], ...] = ()  # explicit path (m) instead of a crosswalk
    speed_mps: float = 1.4
    spawn_s: float = 0.0
    obey_signals: bool = True
    walker_class: str = 'pedestrian'  # or a vehicle class: a scripted vehicle along ``path``
    size_m: tuple[float, float, float] | None = None  # None: the class's default


@dataclass(frozen=True)
class ObstacleConfig:
    """A static object (debris, a lost load, road works) standing in the world from spawn_s."""

    name: str
    position_m: tuple[float, float]  # box centre on the ground, map frame
    size_m: tuple[float, float, float] = (1.2, 0.8, 0.5)
    yaw_rad: float = 0.0
    spawn_s: float = 0.0
    obstacle_class: str = 'obstacle'


@dataclass(frozen=True)
class Outage:
    start_s: float
    end_s: float
    vehicles: tuple[str, ...] = ()  # empty: every connected vehicle


@dataclass(frozen=True)
class GnssConfig:
    mode: str = 'rtk_fixed'
    rate_hz: float = 10.0
    horizontal_sigma_m: float = -1.0  # < 0: the mode's default
    vertical_sigma_m: float = -1.0
    outages: tuple[Outage, ...] = ()
    multipath_rate_per_min: float = 0.0
    multipath_jump_m: float = 3.0
    multipath_duration_s: float = 2.0
    origin_deg: tuple[float, float, float] = (31.2304, 121.4737, 10.0)  # lat, lon, h of map (0,0,0)


@dataclass(frozen=True)
class ImuConfig:
    rate_hz: float = 10.0  # the world steps at 10 Hz: faster would only repeat its samples
    accel_noise_mps2: float = 0.05
    gyro_noise_radps: float = 0.002
    accel_bias_mps2: float = 0.02
    gyro_bias_radps: float = 0.0005
    wheel_speed_noise_mps: float = 0.05
    wheel_speed_scale: float = 1.0


@dataclass(frozen=True)
class ChannelConfig:
    pdr_max: float = 0.99  # delivery ratio at short range
    range_50_m: float = 600.0  # distance of 50 % delivery (line of sight)
    slope_m: float = 90.0  # logistic width: 10 %-90 % over about 4.4 slope_m
    obstruction_range_factor: float = 0.45  # range_50 multiplier when a building blocks the ray
    extra_loss: float = 0.0  # independent loss on top (sweeps, degraded radios)
    latency_ms: float = 20.0  # median one-way latency (lognormal)
    latency_sigma: float = 0.35  # lognormal shape
    max_range_m: float = 1500.0
    cbr_window_s: float = 0.1
    cbr_capacity: int = 200  # transmissions per window the sub-channel carries (CBR = 1)
    cbr_threshold: float = 0.6  # above it, extra loss grows linearly to 1 at CBR = 1 + ...
    cbr_loss_slope: float = 0.8


@dataclass(frozen=True)
class WarningExpectation:
    application: str
    min_lead_time_s: float = 0.0
    vehicle: str = ''  # the warned vehicle; '' = any
    # < 0 allowed: warnings due at the hazard's onset (zone entry) may come this much after it


@dataclass(frozen=True)
class RsuEventExpectation:
    """An RSI event of ``kind`` raised at an RSU and received by connected cars."""

    kind: str  # one of RSU_EVENT_KINDS
    rsu: str = ''  # '' = any RSU
    by_s: float = -1.0  # raised at the RSU by this simulated time; < 0: any time
    received_by: tuple[str, ...] = ()  # connected vehicles that must receive it; () = none


@dataclass(frozen=True)
class PerceptionExpectation:
    """What a connected vehicle's fused perception must show of one road user."""

    vehicle: str  # the observer (a connected vehicle whose stack fuses)
    target: str  # the road user (vehicle or pedestrian name)
    min_lead_time_s: float = -1.0  # fused first sees it this long before the onboard lidar
    max_duplicates: int = -1  # second fused objects of sources not associated, over cycles
    min_source_kinds: int = -1  # kinds (onboard, rsu, v2v) of its fused object, at best


@dataclass(frozen=True)
class Expectation:
    warnings: tuple[WarningExpectation, ...] = ()
    no_warnings: bool = False
    no_warnings_of: tuple[str, ...] = ()  # benign twin where other applications may inform
    min_packet_delivery_ratio: float = -1.0
    max_collisions: int = -1
    min_collisions: int = -1
    min_red_light_violations: int = -1
    max_red_light_violations: int = -1
    max_positioning_error_p95_m: float = -1.0
    min_lane_match_ratio: float = -1.0  # car stacks' map matching on the true lane
    rsu_events: tuple[RsuEventExpectation, ...] = ()
    no_rsu_events: tuple[str, ...] = ()  # kinds that must not be raised at any RSU
    perception: tuple[PerceptionExpectation, ...] = ()  # cooperative perception outcomes
    min_fused_recall: float = -1.0  # fused vs truth, every fusing vehicle (perception_eval)
    min_fused_precision: float = -1.0
    max_fused_position_rmse_m: float = -1.0
    max_stops: tuple[tuple[str, int], ...] = ()  # (vehicle, most stops allowed), GLOSA
    min_stops: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    file: Path
    description: str = ''
    duration_s: float = 60.0
    ci_duration_s: float = -1.0  # shorter duration for the CI library test; < 0: duration_s
    seed: int = 0
    step_s: float = 0.1
    map: MapConfig = field(default_factory=MapConfig)
    signals: tuple[dict[str, Any], ...] = ()  # plan mappings (rsu_nodes.signals.plan_from_dict)
    rsus: tuple[RsuConfig, ...] = ()
    vehicles: tuple[VehicleConfig, ...] = ()
    traffic: TrafficConfig = field(default_factory=TrafficConfig)
    pedestrians: tuple[PedestrianConfig, ...] = ()
    obstacles: tuple[ObstacleConfig, ...] = ()
    road_events: tuple[RoadEventConfig, ...] = ()
    gnss: GnssConfig = field(default_factory=GnssConfig)
    imu: ImuConfig = field(default_factory=ImuConfig)
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    expect: Expectation = field(default_factory=Expectation)
    sweeps: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    requires_applications: tuple[str, ...] = ()
    record_lidar: bool = False
    record_internal: bool = False  # the stacks' topics between their own components
    markers_rate_hz: float = 5.0
    car_topology: str = 'sim_car'
    rsu_topology: str = 'sim_rsu'

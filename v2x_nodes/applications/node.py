"""The application components: one per T/CSAE 53 Day-1 application, and a suite of several.

Every component runs the same cycle (``ApplicationNode``): collect inputs into a ``World``,
build the cycle's ``Scene`` at ``rate_hz``, run its applications' evaluators, pass the
findings through the hysteresis and publish ``Warning``s (LEVEL_NONE once when one clears)
and ``SpeedAdvice``. They differ only in which rows of ``registry.APPLICATIONS`` they run.

Topics: in `localization/odometry` (nav_msgs/Odometry, map frame), `localization/lane`
(LanePosition), `vehicle/status` (VehicleStatus), `v2x/remote_vehicles` and
`v2x/roadside_participants` (ParticipantArray), `v2x/spat` (IntersectionState),
`v2x/events` (RoadEventArray); out `v2x/warnings` (Warning), `v2x/speed_advice`
(SpeedAdvice), `control/command` (ControlCommand, source 'v2x', only with
`send_brake_commands`). Parameters: the common ones below, and per application
`<app>_<name>` (e.g. `fcw_ttc_warning_s`); see docs/applications.md.
Counters: stale_targets, untrusted_targets, uncertain_velocity_targets, off_map_targets,
self_in_roadside, roadside_same_as_bsm, rejects missing_fields, out_of_order, bad_odometry,
bad_status; no_ego_state (cycles without fresh own state).
"""

from __future__ import annotations

import math
from typing import Any

from geo import GeoError, LocalFrame
from v2x_nodes.applications.errors import ConfigError
from v2x_nodes.applications.hysteresis import Finding, Hysteresis
from v2x_nodes.applications.lanes import LaneIndex
from v2x_nodes.applications.registry import APPLICATIONS
from v2x_nodes.applications.same_vehicle import SameVehicleGate
from v2x_nodes.applications.scene import Prediction, World
from v2x_nodes.applications.spec import LEVEL_CRITICAL, LEVEL_NONE, AppSpec
from v2x_nodes.applications.targets import FilterConfig, Origin
from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m
from v2x_runtime.resources import resource_path
from vehicle_nodes.hdmap import HdMapError, load_map

BRAKE_SOURCES = ('FCW', 'ICW', 'VRUCW')  # applications whose CRITICAL warnings brake


def load_lanes(path: str, projection: str, origin: tuple[float, float, float]) -> LaneIndex | None:
    if not path:
        return None
    try:
        frame = LocalFrame(*origin) if projection == 'origin' else None
        return LaneIndex.of(load_map(resource_path(path), frame))
    except (HdMapError, GeoError, OSError) as err:
        raise ConfigError(f'parameter map_file={path!r}: cannot load the map: {err}') from err


class ApplicationNode(Component):
    """Base of the application components; subclasses name their applications."""

    APPLICATIONS: tuple[str, ...] = ()

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        names = self.application_names()
        unknown = [n for n in names if n not in APPLICATIONS]
        if unknown or not names:
            raise ConfigError(f'{ctx.name}: parameter applications: unknown {unknown or names}; '
                              f'known: {", ".join(APPLICATIONS)}')  # fmt: skip
        self.specs: list[AppSpec] = [APPLICATIONS[n] for n in names]
        rate = p('rate_hz', 10.0, 'Evaluation rate, Hz (CSAE 53: 10 Hz)', range=(1.0, 50.0))
        path = p('map_file', '', 'Lanelet2 OSM map (empty: classify by geometry only)')
        projection = p('projection', 'local_xy', 'Map coordinates: local_x/local_y tags or '
                       'lat/lon about the origin', choices=('local_xy', 'origin'))  # fmt: skip
        origin = (
            p('origin_lat_deg', 0.0, 'Map frame origin latitude', range=(-90.0, 90.0)),
            p('origin_lon_deg', 0.0, 'Map frame origin longitude', range=(-180.0, 180.0)),
            p('origin_alt_m', 0.0, 'Map frame origin height', range=(-1e3, 1e4)),
        )
        filters = FilterConfig(
            max_age_s=p('max_age_s', 1.0, 'Remote data older than this is stale, s',
                        range=(0.1, 10.0)),
            expire_s=p('expire_s', 5.0, 'Forget targets not heard for this long, s',
                       range=(0.5, 60.0)),
            require_verified=p('require_verified', False, 'Warn only from TRUST_VERIFIED targets '
                               'seen in at least min_seen messages'),
            min_seen=p('min_seen', 2, 'Messages a target needs with require_verified',
                       range=(1, 20)),
            max_speed_sigma_mps=p('max_speed_sigma_mps', 1.5, 'Targets whose reported velocity '
                                  'is less certain (1 sigma) are not used: a roadside track '
                                  'still converging, m/s', range=(0.1, 50.0)),
        )  # fmt: skip
        prediction = Prediction(
            horizon_s=p('horizon_s', 6.0, 'Prediction horizon, s', range=(1.0, 15.0)),
            step_s=p('step_s', 0.1, 'Prediction time step, s', range=(0.02, 0.5)),
        )
        same_vehicle = SameVehicleGate(
            gate_sigma=p('same_vehicle_gate_sigma', 3.0, 'A roadside vehicle within this many '
                         'standard deviations (both reports\' position variances) of a BSM '
                         'sender is that sender: one target', range=(0.0, 10.0)),
            max_m=p('same_vehicle_max_m', 2.5, 'The position gate is never wider, m (a car in '
                    'the next lane is 3.5 m away)', range=(0.0, 10.0)),
            max_dv_mps=p('same_vehicle_max_dv_mps', 2.0, 'Velocity difference allowed besides '
                         'three standard deviations, m/s', range=(0.0, 20.0)),
        )  # fmt: skip
        self.ego_stale_s = p('ego_max_age_s', 0.5, 'Own state older than this: no evaluation, s',
                             range=(0.05, 5.0))  # fmt: skip
        self.world = World(load_lanes(path, projection, origin), filters, prediction,
                           same_vehicle)  # fmt: skip
        self.world.ego.length = p('ego_length_m', 4.6, 'Own length, m', range=(1.0, 25.0))
        self.world.ego.width = p('ego_width_m', 1.85, 'Own width, m', range=(0.5, 4.0))
        self.params: dict[str, dict[str, Any]] = {}
        self.hyst: dict[str, Hysteresis] = {}
        for spec in self.specs:
            prefix = spec.name.lower()
            values = {}
            for prm in spec.all_params():
                kw = {'range': prm.range} if prm.range is not None else {}
                values[prm.name] = p(f'{prefix}_{prm.name}', prm.default, prm.description, **kw)
            self.params[spec.name] = values
            self.hyst[spec.name] = Hysteresis(values['clear_margin'], values['hold_s'])
        self.brake = False
        if any(s.name in BRAKE_SOURCES for s in self.specs):
            self.brake = p('send_brake_commands', False, 'Send emergency-brake advice to the '
                           'by-wire gate on CRITICAL FCW/ICW/VRUCW warnings')  # fmt: skip
            self.max_decel = p('max_brake_decel_mps2', 6.0, 'Strongest braking advised, m/s²',
                               range=(1.0, 10.0))  # fmt: skip
            self.cmd_pub = ctx.create_publisher('control/command', 'v2x_stack/msg/ControlCommand',
                                                QOS_RELIABLE)  # fmt: skip
        self.warn_pub = ctx.create_publisher('v2x/warnings', 'v2x_stack/msg/Warning', QOS_RELIABLE)
        self.advice_pub = None
        if any(s.advise for s in self.specs):
            self.advice_pub = ctx.create_publisher(
                'v2x/speed_advice', 'v2x_stack/msg/SpeedAdvice', QOS_RELIABLE
            )
        sub = ctx.create_subscription
        sub('localization/odometry', 'nav_msgs/msg/Odometry', self.on_odometry, QOS_SENSOR)
        sub('vehicle/status', 'v2x_stack/msg/VehicleStatus', self.on_status, QOS_SENSOR)
        sub('localization/lane', 'v2x_stack/msg/LanePosition', self.world.on_lane, QOS_SENSOR)
        inputs = {i for s in self.specs for i in s.inputs}
        if 'targets' in inputs:
            sub('v2x/remote_vehicles', 'v2x_stack/msg/ParticipantArray', self.on_remote, QOS_SENSOR)
            sub(
                'v2x/roadside_participants',
                'v2x_stack/msg/ParticipantArray',
                self.on_roadside,
                QOS_SENSOR,
            )
        if 'spat' in inputs:
            sub('v2x/spat', 'v2x_stack/msg/IntersectionState', self.on_spat, QOS_SENSOR)
        if 'events' in inputs:
            sub('v2x/events', 'v2x_stack/msg/RoadEventArray', self.on_events, QOS_RELIABLE)
        ctx.create_timer(1.0 / rate, self.on_tick)
        self.period_ns = round(1e9 / rate)

    def application_names(self) -> list[str]:
        return list(self.APPLICATIONS)

    # --- inputs -------------------------------------------------------------------
    def on_odometry(self, msg: Any) -> None:
        if not self.world.on_odometry(msg):
            self.ctx.diagnostics.reject('bad_odometry', 'non-finite pose or twist')

    def on_status(self, msg: Any) -> None:
        if not self.world.on_status(msg):
            self.ctx.diagnostics.reject('bad_status', 'non-finite acceleration')

    def on_remote(self, msg: Any) -> None:
        self.ctx.diagnostics.count('remote_messages')
        self.world.on_participants(msg, Origin.REMOTE_VEHICLE, self.ctx.diagnostics)

    def on_roadside(self, msg: Any) -> None:
        self.ctx.diagnostics.count('roadside_messages')
        self.world.on_participants(msg, Origin.ROADSIDE, self.ctx.diagnostics)

    def on_spat(self, msg: Any) -> None:
        self.world.on_spat(msg, self.ctx.now_ns())

    def on_events(self, msg: Any) -> None:
        self.world.on_events(msg, self.ctx.now_ns())

    # --- the cycle ----------------------------------------------------------------
    def on_tick(self) -> None:
        now = self.ctx.now_ns()
        ego = self.world.ego
        if not ego.stamp_ns or (now - ego.stamp_ns) * 1e-9 > self.ego_stale_s:
            self.ctx.diagnostics.count('no_ego_state')
            self.world.table.flush(self.ctx.diagnostics)  # count bad reports all the same
            return
        self.cycle(now)

    def cycle(self, now: int) -> list[Finding]:
        """Evaluate every application once; returns the warnings raised now."""
        scene = self.world.scene(now, self.ctx.diagnostics)
        raised_all: list[Finding] = []
        header = m.header(now, 'map')  # shared by this cycle's warnings (messages are immutable)
        for spec in self.specs:
            params = self.params[spec.name]
            if not params['enabled']:
                continue
            findings = spec.evaluate(scene, params)
            raised, cleared = self.hyst[spec.name].update(now, findings)
            for f in raised:
                self.warn_pub.publish(warning(header, f, f.level))
            for f in cleared:
                self.warn_pub.publish(warning(header, f, LEVEL_NONE))
                self.ctx.diagnostics.count(f'cleared_{spec.name}')
            raised_all += raised
            if spec.advise is not None and self.advice_pub is not None:
                fields = spec.advise(scene, params)
                if fields is not None:
                    self.advice_pub.publish(m.new(
                        'v2x_stack/msg/SpeedAdvice', header=m.header(now, 'map'),
                        application=spec.name, valid_until=m.stamp(now + 2 * self.period_ns),
                        **fields))  # fmt: skip
        for reason, _ in scene.cache.get('ignored', ()):  # stale SPAT / RSI, once per cycle
            self.ctx.diagnostics.count(reason)
        if self.brake:
            self.brake_advice(now, raised_all)
        return raised_all

    def brake_advice(self, now: int, raised: list[Finding]) -> None:
        """The deceleration that removes the closing speed before the predicted collision:
        d / (2 TTC²) for distance d closed at constant speed in TTC, capped."""
        critical = [f for f in raised if f.application in BRAKE_SOURCES
                    and f.level >= LEVEL_CRITICAL and math.isfinite(f.distance_m)]  # fmt: skip
        if not critical:
            return
        need = max(f.distance_m / (2.0 * max(f.ttc_s, 0.1) ** 2) for f in critical)
        decel = min(self.max_decel, max(need, 2.0))
        self.cmd_pub.publish(
            m.new(
                'v2x_stack/msg/ControlCommand',
                header=m.header(now, 'base_link'),
                source='v2x',
                acceleration_mps2=-decel,
                hazard_lights=True,
            )
        )
        self.ctx.diagnostics.count('brake_commands')


def warning(header: Any, f: Finding, level: int) -> Any:
    """The Warning of a finding (every field given: the message class directly, the hot
    path of a cycle with tens of raised warnings)."""
    return m.msg_class('v2x_stack/msg/Warning')(
        header=header, application=f.application, level=level, target_id=f.target,
        time_to_collision_s=f.ttc_s, distance_m=f.distance_m, text=f.text,
    )  # fmt: skip


class ApplicationSuite(ApplicationNode):
    """Several applications in one component sharing one world (parameter `applications`)."""

    def application_names(self) -> list[str]:
        return list(
            self.ctx.declare_parameter(
                'applications', list(APPLICATIONS), 'Short names of the applications to run'
            )
        )

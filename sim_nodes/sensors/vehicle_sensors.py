"""GNSS, IMU and wheel speed of every connected vehicle, from ground truth plus error models.

Topics: in ``/sim/ground_truth``; out per connected vehicle ``<v>``:
``/<v>/localization/gnss/fix`` (sensor_msgs/msg/NavSatFix, gnss.rate_hz, WGS84 with the map
origin ``gnss.origin_deg``), ``/<v>/localization/gnss/velocity``
(geometry_msgs/msg/TwistWithCovarianceStamped, ENU, Doppler noise 5 cm/s, with each fix),
``/<v>/imu/data`` (sensor_msgs/msg/Imu, imu.rate_hz, frame
``<v>/base_link``, orientation not provided), ``/<v>/vehicle/status``
(v2x_stack/msg/VehicleStatus, imu.rate_hz, wheel speed with noise and scale error; the
indicators of ``/sim/vehicle_lights``, brake lights when decelerating; mode MANUAL, or for
``by_wire`` vehicles STANDBY, AUTONOMOUS while ``/<v>/control/gated_command`` enables it).
IMU noise is white plus a constant bias drawn per vehicle.

Timing: the sensors sample the ground truth when it arrives (each world step), at most at
their rates (``imu.rate_hz``, ``gnss.rate_hz``), so every sample is stamped with the instant
of the truth it comes from. An IMU sample has a real IMU's integration semantics: its yaw
rate and accelerations are the means over the period that ends at its stamp (since the
previous sample), i.e. the heading and speed differences of the two truths over their time
apart; the localizer (vehicle_nodes.fusion.localizer) applies it to that period. At a shared
instant the IMU (and vehicle status) is published before the GNSS epoch, so a fix is fused
after the motion up to its own stamp. A vehicle's first truth gives no IMU sample (no
period yet). Wheel speed, GNSS position and Doppler velocity are instantaneous, at the stamp;
the Doppler velocity is the antenna's (the car's centre; in a turn it slides sideways at the
yaw rate × its distance from the rear axle, which the world moves along the heading).
Parameters: scenario, sets, seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from geo.local_frame import LocalFrame
from sim_nodes.msg_template import Template
from sim_nodes.scenarios.shared import declare_scenario_parameters
from sim_nodes.sensors.gnss_model import GnssErrorModel
from sim_nodes.world.component import GROUND_TRUTH, VEHICLE_LIGHTS
from sim_nodes.world.vehicles import WHEELBASE_SHARE
from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m
from vehicle_nodes.bywire.convert import gated_from_msg
from vehicle_nodes.bywire.errors import FrameError

GRAVITY_MPS2 = 9.80665
MODE_STANDBY, MODE_AUTONOMOUS = 1, 2  # VehicleStatus.MODE_*
WHEELBASE_M = 2.76
DOPPLER_SIGMA_MPS = 0.05  # GNSS Doppler velocity noise per axis


class VehicleSensors(Component):
    """Publishes the simulated sensors of all connected vehicles (one component for all)."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.built = declare_scenario_parameters(ctx)
        sc = self.built.scenario
        self.names = self.built.connected()
        self.index = {n: i for i, n in enumerate(self.names)}
        n = len(self.names)
        lat, lon, h = sc.gnss.origin_deg
        self.frame = LocalFrame(lat, lon, h)
        self.gnss = GnssErrorModel(self.names, sc.gnss, ctx.random)
        self.imu_cfg = sc.imu
        self.accel_bias = ctx.random.normal(0.0, sc.imu.accel_bias_mps2, (n, 3))
        self.gyro_bias = ctx.random.normal(0.0, sc.imu.gyro_bias_radps, (n, 3))
        # truth per vehicle: x, y, z, yaw, speed, seen (1/0), vx, vy (of the rear axle, which
        # the world's kinematic bicycle moves along the heading), rear axle behind the centre
        self.truth = np.zeros((n, 9))
        self.yaw_rate = np.zeros(n)  # of the last IMU period (true, no noise)
        # per vehicle the truth at its previous IMU sample: t (-inf: none yet), yaw, speed
        self.imu_ref_t = np.full(n, -np.inf)
        self.imu_ref = np.zeros((n, 2))
        self.fix_pubs = [
            ctx.create_publisher(
                f'/{v}/localization/gnss/fix', 'sensor_msgs/msg/NavSatFix', QOS_SENSOR
            )
            for v in self.names
        ]
        self.imu_pubs = [
            ctx.create_publisher(f'/{v}/imu/data', 'sensor_msgs/msg/Imu', QOS_SENSOR)
            for v in self.names
        ]
        self.vel_pubs = [
            ctx.create_publisher(
                f'/{v}/localization/gnss/velocity',
                'geometry_msgs/msg/TwistWithCovarianceStamped',
                QOS_SENSOR,
            )
            for v in self.names
        ]
        self.status_pubs = [
            ctx.create_publisher(f'/{v}/vehicle/status', 'v2x_stack/msg/VehicleStatus', QOS_SENSOR)
            for v in self.names
        ]
        ctx.create_subscription(
            GROUND_TRUTH, 'v2x_stack/msg/ParticipantArray', self.on_truth, QOS_SENSOR
        )
        # indicator bits from the world (scenario order) -> this component's vehicle order
        order = {v.name: j for j, v in enumerate(self.built.vehicles)}
        self._light_rows = np.array([order[v] for v in self.names], dtype=np.int64)
        self.lights = np.zeros(n, dtype=np.int64)
        by_wire = {v.name for v in self.built.vehicles if v.by_wire}
        # a by-wire kit ready to engage (STANDBY) lets the gate drive; the others are manual.
        # As a kit does, it engages (AUTONOMOUS) while the gate enables it and drops back to
        # STANDBY when it does not (vehicle_nodes.bywire.kit_sim has the same rule).
        self.modes = [MODE_STANDBY if v in by_wire else 0 for v in self.names]
        for i, v in enumerate(self.names):
            if v in by_wire:
                ctx.create_subscription(
                    f'/{v}/control/gated_command', 'v2x_stack/msg/ControlCommand',
                    lambda msg, i=i: self.on_gated(i, msg), QOS_RELIABLE,
                )  # fmt: skip
        ctx.create_subscription(
            VEHICLE_LIGHTS, 'std_msgs/msg/UInt8MultiArray', self.on_lights, QOS_SENSOR
        )
        mode = self.gnss.mode
        sigma2 = [mode.horizontal_sigma_m**2] * 2 + [mode.vertical_sigma_m**2]
        # templates: messages are immutable once published, so the constant parts are shared
        self._fix_tpl = Template(
            m.new(
                'sensor_msgs/msg/NavSatFix',
                status=m.new('sensor_msgs/msg/NavSatStatus', status=mode.navsat_status, service=1),
                position_covariance=np.diag(sigma2).ravel(),
                position_covariance_type=2,
            )
        )
        no_orientation = np.zeros(9)
        no_orientation[0] = -1.0
        imu = sc.imu
        self._imu_tpl = Template(
            m.new(
                'sensor_msgs/msg/Imu',
                orientation_covariance=no_orientation,
                angular_velocity_covariance=np.diag([imu.gyro_noise_radps**2] * 3).ravel(),
                linear_acceleration_covariance=np.diag([imu.accel_noise_mps2**2] * 3).ravel(),
            )
        )
        self._status_tpl = Template(m.new('v2x_stack/msg/VehicleStatus', gear=4))
        twist_cov = np.zeros(36)
        twist_cov[[0, 7, 14]] = DOPPLER_SIGMA_MPS**2
        twist_cov[[21, 28, 35]] = -1.0  # angular velocity not measured
        self._twist_cov = twist_cov
        self._no_rotation = m.new('geometry_msgs/msg/Vector3')  # shared: messages are immutable
        self._twist_cls = (
            m.msg_class('geometry_msgs/msg/TwistWithCovarianceStamped'),
            m.msg_class('geometry_msgs/msg/TwistWithCovariance'),
            m.msg_class('geometry_msgs/msg/Twist'),
            m.msg_class('geometry_msgs/msg/Vector3'),
        )
        self._gnss_frames = [f'{v}/gnss' for v in self.names]
        self._body_frames = [f'{v}/base_link' for v in self.names]
        # sample periods (ns) and the next instants due (set by the first truth)
        self.gnss_period_ns = round(1e9 / sc.gnss.rate_hz)
        self.imu_period_ns = round(1e9 / sc.imu.rate_hz)
        self.next_gnss_ns: int | None = None
        self.next_imu_ns: int | None = None
        self.last_gnss_ns: int | None = None

    def on_truth(self, msg: Any) -> None:
        now = m.to_ns(msg.header.stamp)
        live = np.zeros(len(self.names), bool)
        for p in msg.participants:
            i = self.index.get(p.source_id)
            if i is None:
                continue
            live[i] = True
            speed = float(np.hypot(p.velocity.x, p.velocity.y))
            self.truth[i] = (p.position.x, p.position.y, 0.0, p.heading_rad, speed, 1.0,
                             p.velocity.x, p.velocity.y,
                             0.5 * WHEELBASE_SHARE * p.size.x)  # fmt: skip
        self.truth[~live, 5] = 0.0
        self.imu_ref_t[~live] = -np.inf
        self.yaw_rate[~live] = 0.0
        if not self.names:
            return
        if self.next_imu_ns is None or self.next_gnss_ns is None:
            # the first truth starts the sensors' clocks (as timers started with the world)
            self.next_imu_ns = now + self.imu_period_ns
            self.next_gnss_ns = now + self.gnss_period_ns
            self.imu_ref_t[live] = now / 1e9
            self.imu_ref[live] = self.truth[live][:, [3, 4]]
            return
        # IMU before GNSS at a shared instant: the fix comes after the motion up to it
        if now >= self.next_imu_ns:
            self.next_imu_ns = _next_due(self.next_imu_ns, self.imu_period_ns, now)
            self.on_imu(now)
        if now >= self.next_gnss_ns:
            self.next_gnss_ns = _next_due(self.next_gnss_ns, self.gnss_period_ns, now)
            self.on_gnss(now)

    def on_gated(self, i: int, msg: Any) -> None:
        try:
            out = gated_from_msg(msg)
        except FrameError as err:
            self.ctx.diagnostics.reject('bad_gated_command', str(err))
            return
        self.modes[i] = MODE_AUTONOMOUS if out.enable else MODE_STANDBY

    def on_lights(self, msg: Any) -> None:
        data = np.asarray(msg.data, dtype=np.int64)
        if data.size != len(self.built.vehicles):
            self.ctx.diagnostics.reject('bad_lights', f'{data.size} vehicles, expected '
                                        f'{len(self.built.vehicles)}')  # fmt: skip
            return
        self.lights = data[self._light_rows]

    def on_gnss(self, now: int) -> None:
        """One GNSS epoch at ``now`` (the truth's instant): position and Doppler velocity."""
        dt = (now - self.last_gnss_ns) / 1e9 if self.last_gnss_ns is not None else (
            self.gnss_period_ns / 1e9)  # fmt: skip
        self.last_gnss_ns = now
        err, available = self.gnss.sample(now / 1e9, dt)
        seen = self.truth[:, 5] > 0
        ok = np.flatnonzero(available & seen)
        self.ctx.diagnostics.count('outage_epochs', int((~available & seen).sum()))
        if ok.size == 0:
            return
        # the antenna (at the centre) of a rolling car moves with the rear axle plus yaw rate
        # × the axle's distance, sideways: Doppler measures that, not the velocity along the
        # heading. A skidding car's truth velocity (off its heading) is the centre's already.
        tr = self.truth[ok]
        off = np.arctan2(tr[:, 7], tr[:, 6]) - tr[:, 3]
        rolling = np.abs((off + np.pi) % (2 * np.pi) - np.pi) < 0.01
        side = np.where(rolling, self.yaw_rate[ok] * tr[:, 8], 0.0)
        vel = tr[:, 6:8] + side[:, None] * np.column_stack([-np.sin(tr[:, 3]), np.cos(tr[:, 3])])
        pos = tr[:, :3] + err[ok]
        lat, lon, h = self.frame.to_geodetic(pos[:, 0], pos[:, 1], pos[:, 2])
        speed_noise = self.ctx.random.normal(0.0, DOPPLER_SIGMA_MPS, (ok.size, 2))
        vel_l = (vel + speed_noise).tolist()
        for j, (i, la, lo, al) in enumerate(
            zip(ok, lat.tolist(), lon.tolist(), h.tolist(), strict=True)
        ):
            header = m.header(now, self._gnss_frames[i])  # the epoch's: fix and velocity
            fix = self._fix_tpl(
                header=header,
                latitude=la,
                longitude=lo,
                altitude=al,
            )
            # a receiver's epoch: position first, then velocity (GGA before VTG/RMC); a
            # filter that aligns on the velocity then pairs it with this epoch's fix
            self.fix_pubs[i].publish(fix)
            self.vel_pubs[i].publish(self._velocity(header, vel_l[j]))
        self.ctx.diagnostics.count('fixes', ok.size)

    def _velocity(self, header: Any, v: list[float]) -> Any:
        stamped, with_cov, twist, vec = self._twist_cls
        return stamped(
            header=header,
            twist=with_cov(
                twist=twist(linear=vec(x=v[0], y=v[1], z=0.0), angular=self._no_rotation),
                covariance=self._twist_cov,
            ),
        )

    def on_imu(self, now: int) -> None:
        """One IMU sample (and vehicle status) at ``now`` per vehicle with a previous sample:
        the mean yaw rate and accelerations over the period since then."""
        t = now / 1e9
        seen = self.truth[:, 5] > 0
        live = np.flatnonzero(seen & np.isfinite(self.imu_ref_t) & (self.imu_ref_t < t))
        tr = self.truth[live]
        period = t - self.imu_ref_t[live]
        ref_yaw, ref_speed = self.imu_ref[live, 0], self.imu_ref[live, 1]
        self.imu_ref_t[seen] = t  # every vehicle seen now starts its next period here
        self.imu_ref[seen] = self.truth[seen][:, [3, 4]]
        if live.size == 0:
            return
        cfg, rng = self.imu_cfg, self.ctx.random
        dyaw = (tr[:, 3] - ref_yaw + np.pi) % (2 * np.pi) - np.pi
        yaw_rate = dyaw / period
        self.yaw_rate[live] = yaw_rate
        speed = tr[:, 4]
        accel = (speed - ref_speed) / period
        # centripetal: speed x yaw rate, with the period's mean speed
        lateral = 0.5 * (speed + ref_speed) * yaw_rate
        acc = np.column_stack([accel, lateral, np.full(live.size, GRAVITY_MPS2)])
        acc += self.accel_bias[live] + rng.normal(0.0, cfg.accel_noise_mps2, acc.shape)
        gyro = np.column_stack([np.zeros(live.size), np.zeros(live.size), yaw_rate])
        gyro += self.gyro_bias[live] + rng.normal(0.0, cfg.gyro_noise_radps, gyro.shape)
        wheel = speed * cfg.wheel_speed_scale + rng.normal(
            0.0, cfg.wheel_speed_noise_mps, live.size
        )
        # kinematic bicycle, wheelbase of a typical car: steering from yaw rate and speed
        steer = np.arctan2(WHEELBASE_M * yaw_rate, np.maximum(speed, 0.5))
        vec = m.msg_class('geometry_msgs/msg/Vector3')
        acc_l, gyro_l = acc.tolist(), gyro.tolist()
        status_header = m.header(now, 'base_link')  # one for every vehicle's status
        for j, i in enumerate(live):
            a, g = acc_l[j], gyro_l[j]
            self.imu_pubs[i].publish(
                self._imu_tpl(
                    header=m.header(now, self._body_frames[i]),
                    angular_velocity=vec(x=g[0], y=g[1], z=g[2]),
                    linear_acceleration=vec(x=a[0], y=a[1], z=a[2]),
                )
            )
            braking = bool(accel[j] < -0.5)
            self.status_pubs[i].publish(
                self._status_tpl(
                    header=status_header,
                    speed_mps=float(wheel[j]),
                    acceleration_mps2=float(accel[j]),
                    yaw_rate_radps=float(yaw_rate[j]),
                    steering_angle_rad=float(steer[j]),
                    brake_applied=braking,
                    lights=int(self.lights[i]) | (32 if braking else 0),
                    mode=self.modes[i],
                )
            )


def _next_due(due_ns: int, period_ns: int, now_ns: int) -> int:
    """The first instant of the sample grid after ``now_ns`` (a sample is taken at most once
    per period; when the truth comes less often, at each truth)."""
    return due_ns + period_ns * ((now_ns - due_ns) // period_ns + 1)

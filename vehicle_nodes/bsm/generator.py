"""BsmGenerator: the own vehicle's BasicSafetyMessage, encoded and signed, on ``v2x/tx``.

Topics in: ``localization/odometry`` (nav_msgs/Odometry in ``map``: heading, speed, yaw rate,
the track for the path history), ``localization/fix`` (NavSatFix: geodetic position and its
accuracy), ``vehicle/status`` (VehicleStatus: brakes, lights, acceleration, gear).
Topic out: ``v2x/tx`` (V2xFrame), built by the same ``v2x_nodes.tx.framer`` as
``V2xTransmitter``. The generator sends directly rather than through ``v2x/own_bsm``: the
temporary id and the pseudonym certificate must change at the same instant, which only the
component that owns both can guarantee.
Parameters: below and ``declare_framer`` (``pseudonym_count`` selects the certificate pool).

Sending is driven by the inputs, not by a timer. The localization publishes, per estimate,
the odometry (secMark, heading, speed, yaw rate), then the fused fix (position; NO_FIX while
it dead-reckons): 50 Hz on a car, once per sensor step in the simulator. Once a period
(``1 / rate_hz`` less ``SEND_SLACK_NS``) has passed since the previous BSM, the next one goes
out when an instant is complete: its fix message (valid or not) has arrived and the odometry
has reached it, whichever of the two came last (topics are not ordered between each other
under ROS), or an odometry arrives while the fix stream is a whole instant behind (stopped, or
slower than the odometry). It carries the newest odometry and the newest valid fix while both
are younger than ``max_input_age_s``: as the 10 ms gating tick did before, a car that
dead-reckons keeps sending its last fix for that long. What differs from the tick: a BSM
leaves the moment its state exists, not at the next tick; when all inputs stop, the BSMs stop
with them (the tick repeated the last odometry, and so its secMark, which receivers flag as
``time_not_increasing``); no event runs while there is nothing to send (the tick ran 100 times
a second in every vehicle, spawned or not).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from geo import LocalFrame
from v2x_nodes.codec import CodecError, units, uper
from v2x_nodes.codec import convert as cv
from v2x_nodes.codec.offsets import GeoPoint, offset_llv
from v2x_nodes.codec.schema import load_schema
from v2x_nodes.codec.uper import MessageKind
from v2x_nodes.security import SecurityError
from v2x_nodes.tx.framer import V2X_FRAME, declare_framer
from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m
from vehicle_nodes.bsm.path_history import (
    Crumb,
    PathHistory,
    PathHistoryConfig,
    predict_path,
)

NS_PER_S = 1_000_000_000
# A BSM may leave this much before its period is over, so that inputs on a grid of the period
# (50 Hz state, 10 Hz BSM) or arriving a little early (ROS delivery jitter) keep the rate.
SEND_SLACK_NS = 5_000_000
_COVARIANCE_UNKNOWN = 0  # NavSatFix.COVARIANCE_TYPE_UNKNOWN


def yaw_of(q: Any) -> float:
    """ENU yaw of a quaternion (rad)."""
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def fix_accuracy(fix: Any) -> dict[str, float]:
    """OwnVehicleState accuracy fields from a NavSatFix covariance (ENU, m²)."""
    if int(fix.position_covariance_type) == _COVARIANCE_UNKNOWN:
        return {}
    c = fix.position_covariance
    ee, en, nn, uu = float(c[0]), float(c[1]), float(c[4]), float(c[8])
    mean, diff = (ee + nn) / 2.0, math.hypot((ee - nn) / 2.0, en)
    major, minor = mean + diff, max(mean - diff, 0.0)
    return {
        'position_accuracy_m': 2.0 * math.sqrt(max(ee, nn)),
        'elevation_accuracy_m': 2.0 * math.sqrt(uu) if uu > 0 else math.nan,
        'semi_major_m': math.sqrt(major),
        'semi_minor_m': math.sqrt(minor),
        'semi_major_yaw_rad': 0.5 * math.atan2(2.0 * en, ee - nn),
    }


class BsmGenerator(Component):
    """Fused state + vehicle data -> BSM (path history, prediction) at ``rate_hz``."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.framer = declare_framer(ctx, pseudonyms=True)
        self.rate_hz = ctx.declare_parameter(
            'rate_hz',
            10.0,
            'BSM rate (T/CSAE 53: 10 Hz); may change at run time',
            range=(1.0, 20.0),
            dynamic=True,
            on_change=self.set_rate,
        )
        self.id_change_period_ns = round(
            ctx.declare_parameter(
                'id_change_period_s',
                300.0,
                'Temporary id and pseudonym certificate change this often (0: never)',
                range=(0.0, 86400.0),
            )
            * NS_PER_S
        )
        self.size = (
            ctx.declare_parameter('length_m', 4.6, 'Vehicle length', range=(0.0, 40.95)),
            ctx.declare_parameter('width_m', 1.8, 'Vehicle width', range=(0.0, 10.23)),
            ctx.declare_parameter('height_m', 1.5, 'Vehicle height', range=(0.0, 6.35)),
        )
        self.vehicle_class = ctx.declare_parameter(
            'vehicle_class', 10, 'BasicVehicleClass (10: passenger vehicle)', range=(0, 255)
        )
        self.max_input_age_ns = round(
            ctx.declare_parameter(
                'max_input_age_s', 0.5, 'No BSM when the fused state is older', range=(0.05, 10.0)
            )
            * NS_PER_S
        )
        origin = (
            ctx.declare_parameter('origin_lat_deg', 0.0, 'map frame origin', range=(-90, 90)),
            ctx.declare_parameter('origin_lon_deg', 0.0, 'map frame origin', range=(-180, 180)),
            ctx.declare_parameter('origin_alt_m', 0.0, 'map origin height', range=(-400, 9000)),
        )
        self.origin = LocalFrame(*origin)
        ph = PathHistoryConfig()
        self.history = PathHistory(
            PathHistoryConfig(
                allowable_error_m=ctx.declare_parameter(
                    'ph_allowable_error_m',
                    ph.allowable_error_m,
                    'Path history chord error',
                    range=(0.1, 10.0),
                ),
                max_distance_m=ctx.declare_parameter(
                    'ph_max_distance_m',
                    ph.max_distance_m,
                    'Path history length',
                    range=(10.0, 1000.0),
                ),
                max_chord_m=ph.max_chord_m,
                max_points=ph.max_points,
            )
        )
        self.pub = ctx.create_publisher('v2x/tx', V2X_FRAME, QOS_RELIABLE)
        ctx.create_subscription(
            'localization/odometry', 'nav_msgs/msg/Odometry', self.on_odometry, QOS_SENSOR
        )
        ctx.create_subscription(
            'localization/fix', 'sensor_msgs/msg/NavSatFix', self.on_fix, QOS_SENSOR
        )
        ctx.create_subscription(
            'vehicle/status', 'v2x_stack/msg/VehicleStatus', self.on_status, QOS_SENSOR
        )
        self.last_sent_ns: int | None = None
        self._sent_odom_ns = -1  # the secMark source of the last BSM (the next needs a newer)
        self._odom_ns = -1  # stamp of the latest odometry
        self._fix_seen_ns = -1  # stamp of the latest fix message, valid or not
        self._fix_pending = False  # a fix message arrived while a BSM was due, not sent yet
        self.odometry: Any = None
        self.fix: Any = None
        self.status: Any = None
        self.yaw_rates: deque[tuple[int, float]] = deque()
        self._crumb_geodetic: dict[int, tuple[float, float, float] | None] = {}
        self.temporary_id = b''
        self.id_since_ns: int | None = None

    def start(self) -> None:
        """Compile the ASN.1 schema and build the BSM frame encoder now, not on the first BSM
        (0.3-2 s on the latency path)."""
        load_schema()
        uper.build_frame_encoders([MessageKind.BSM])

    # --- inputs -----------------------------------------------------------------------
    def on_odometry(self, odom: Any) -> None:
        stamp = m.to_ns(odom.header.stamp)
        pos = odom.pose.pose.position
        twist = odom.twist.twist
        values = (pos.x, pos.y, pos.z, twist.linear.x, twist.angular.z)
        if not all(math.isfinite(v) for v in values):
            self.ctx.diagnostics.reject('non_finite_odometry', f'odometry at {stamp} ns')
            return
        self.odometry = odom
        fix_behind = self._fix_seen_ns < self._odom_ns  # no fix came for the previous instant
        self._odom_ns = stamp
        speed = math.hypot(twist.linear.x, twist.linear.y)
        self.history.add(Crumb(stamp, pos.x, pos.y, pos.z, speed))
        self.yaw_rates.append((stamp, float(twist.angular.z)))
        while self.yaw_rates and stamp - self.yaw_rates[0][0] > NS_PER_S:
            self.yaw_rates.popleft()
        self.send_if_due(fix_behind)

    def on_fix(self, fix: Any) -> None:
        """A fused fix; one without a position (NO_FIX: dead reckoning) still completes its
        instant, sent with the last valid fix while that is fresh."""
        self._fix_seen_ns = m.to_ns(fix.header.stamp)
        if int(fix.status.status) < 0 or not (
            math.isfinite(fix.latitude) and math.isfinite(fix.longitude)
        ):
            self.ctx.diagnostics.count('skipped.no_fix')
        else:
            self.fix = fix
        self._fix_pending = True
        self.send_if_due()

    def on_status(self, status: Any) -> None:
        self.status = status

    # --- the message --------------------------------------------------------------------
    def _rotate_id(self, now: int) -> None:
        """New temporary id, new certificate, new msgCnt start, no path history linking the
        two (SAE J2945/1 privacy rules)."""
        first = self.id_since_ns is None
        self.temporary_id = self.ctx.random.bytes(8)
        self.id_since_ns = now
        self.framer.set_count(MessageKind.BSM, int(self.ctx.random.integers(0, 128)))
        if not first:
            self.framer.rotate()
            self.history.clear()
            self._crumb_geodetic = {}
            self.ctx.diagnostics.count('id_changes')
        self.ctx.diagnostics.set_value('temporary_id', self.temporary_id.hex())

    def set_rate(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz

    def send_if_due(self, fix_behind: bool = False) -> None:
        """Send a BSM if the period is over and an instant is complete (module docstring);
        ``fix_behind``: called for an odometry while no fix came for the previous instant.

        Called on every odometry and fix. Waiting for the other input of an instant is normal
        and not counted; a BSM due with a state older than ``max_input_age_s`` is
        (``skipped.stale_state``; e.g. the fix stopped or dead-reckons while the odometry goes
        on), and so is one due without any state (``skipped.no_state``).
        """
        now = self.ctx.now_ns()
        last = self.last_sent_ns
        if last is not None and now < last:  # the clock went back (a replay restarted): anew
            last = self.last_sent_ns = None
            self._sent_odom_ns = -1
        if last is not None and now - last < round(NS_PER_S / self.rate_hz) - SEND_SLACK_NS:
            self._fix_pending = False  # too early for this fix: the next one will do
            return
        diag = self.ctx.diagnostics
        odom, fix = self.odometry, self.fix
        if odom is None or fix is None:
            diag.count('skipped.no_state')
            return
        odom_ns, fix_ns = self._odom_ns, m.to_ns(fix.header.stamp)
        if now - odom_ns > self.max_input_age_ns or now - fix_ns > self.max_input_age_ns:
            diag.count('skipped.stale_state')
            self._fix_pending = False
            return
        complete = fix_behind or (self._fix_pending and odom_ns >= self._fix_seen_ns)
        if not complete or odom_ns <= self._sent_odom_ns:
            return  # waiting for the other input of this instant
        self._fix_pending = False  # this instant is used (or refused below, counted once)
        if self.id_since_ns is None or (
            self.id_change_period_ns and now - self.id_since_ns >= self.id_change_period_ns
        ):
            self._rotate_id(now)
        try:
            value = self.build(now, self.framer.next_count(MessageKind.BSM))
            frame = self.framer.frame(MessageKind.BSM, value, now, self.temporary_id.hex())
        except CodecError as err:
            diag.reject('encode', str(err))
            return
        except SecurityError as err:
            diag.reject('sign', str(err))
            return
        self.pub.publish(frame)
        self.last_sent_ns = now
        self._sent_odom_ns = odom_ns
        diag.count('sent.bsm')

    def state(self, msg_count: int) -> cv.OwnVehicleState:
        """The OwnVehicleState of the latest inputs."""
        odom, fix, status = self.odometry, self.fix, self.status
        twist = odom.twist.twist
        speed = math.hypot(twist.linear.x, twist.linear.y)
        yaw_rate = float(twist.angular.z)
        change = self.yaw_rates[-1][1] - self.yaw_rates[0][1] if self.yaw_rates else 0.0
        prediction = predict_path(speed, yaw_rate, change)
        extra: dict[str, Any] = {}
        if status is not None:
            extra = {
                'gear': int(status.gear),
                'accel_long_mps2': float(status.acceleration_mps2),
                'brake_pedal': bool(status.brake_applied),
                'lights': int(status.lights),
                'steering_wheel_angle_rad': math.nan,
            }
        return cv.OwnVehicleState(
            temporary_id=self.temporary_id,
            stamp_ns=m.to_ns(odom.header.stamp),
            lat_deg=float(fix.latitude),
            lon_deg=float(fix.longitude),
            alt_m=float(fix.altitude),
            heading_rad=yaw_of(odom.pose.pose.orientation),
            speed_mps=speed,
            msg_count=msg_count,
            yaw_rate_radps=yaw_rate,
            length_m=self.size[0],
            width_m=self.size[1],
            height_m=self.size[2],
            vehicle_class=self.vehicle_class,
            path_radius_m=prediction.radius_m,
            path_confidence=prediction.confidence,
            **fix_accuracy(fix),
            **extra,
        )

    def build(self, now: int, msg_count: int) -> dict[str, Any]:
        """The BasicSafetyMessage value, path history included."""
        state = self.state(msg_count)
        value = cv.bsm_from_state(state)
        odom = self.odometry
        pos = odom.pose.pose.position
        here = Crumb(state.stamp_ns, pos.x, pos.y, pos.z, state.speed_mps)
        points = self.history.points(here)
        if points:
            ref = GeoPoint(value['pos']['lat'], value['pos']['long'], value['pos'].get('elevation'))
            crumbs = []
            # a concise point is sent in up to 23 BSMs: its geodetic position is computed once
            geodetic = {c.stamp_ns: self._crumb_geodetic.get(c.stamp_ns) for c in points}
            for c in points:
                if geodetic[c.stamp_ns] is None:
                    geodetic[c.stamp_ns] = self.origin.geodetic_of(c.x_m, c.y_m, c.z_m)
                lat, lon, _alt = geodetic[c.stamp_ns]  # type: ignore[misc]
                crumbs.append(
                    {
                        'llvOffset': offset_llv(ref, lat, lon, math.nan),
                        'timeOffset': units.time_offset_from_seconds(
                            (state.stamp_ns - c.stamp_ns) / NS_PER_S
                        ),
                        'speed': units.speed_to_wire(c.speed_mps),
                    }
                )
            value.setdefault('safetyExt', {})['pathHistory'] = {'crumbData': crumbs}
            self._crumb_geodetic = geodetic  # only the points still sent stay cached
        return value

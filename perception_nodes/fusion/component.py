"""CooperativeFusion component: onboard tracks + roadside participants + remote vehicles →
one fused object list in the map frame.

Topics: in ``perception/objects`` (ParticipantArray, ``base_link`` or ``map``),
``v2x/roadside_participants`` and ``v2x/remote_vehicles`` (ParticipantArray, ``map``),
``localization/odometry`` (nav_msgs/msg/Odometry); out ``perception/fused_objects``
(ParticipantArray, ``map``, source SOURCE_FUSED, covariance filled, source_id lists the sources)
and ``perception/fused_markers`` (MarkerArray). Parameters: see the declarations.

Bad input is counted (``rejected.<reason>``) and the node goes on: ``stale``,
``future_stamp``, ``duplicate``, ``out_of_order``, ``misbehaving``, ``unverified`` (when
excluded), ``bad_object`` (NaN, bad covariance), ``unknown_frame``, ``no_odometry``,
``bad_odometry``. Reports that age beyond ``max_age_s`` before a cycle uses them count as
``expired``. A report that is the stored one again (the V2X receiver republishing an
unchanged table entry) is benign: counted as ``repeated.<source>``, no log line.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from perception_nodes.fusion.conversions import PARTICIPANT_ARRAY, fused_markers, fused_to_msg
from perception_nodes.fusion.engine import FusionConfig, FusionEngine
from perception_nodes.fusion.errors import FusionConfigError, ObjectInputError, TransformError
from perception_nodes.fusion.frames import EgoPose, PoseBuffer, body_to_map, pose_from_odometry
from perception_nodes.fusion.intersection import FusionMethod
from perception_nodes.fusion.reports import (
    TRUST_MISBEHAVING,
    TRUST_UNVERIFIED,
    CovarianceCache,
    CovariancePriors,
    ObjectReport,
    SourceKind,
)
from perception_nodes.fusion.shared import SHARED_REPORTS
from perception_nodes.fusion.store import Admission, ReportStore, StoreLimits
from perception_nodes.markers import MARKER_ARRAY
from v2x_runtime import QOS_SENSOR, Component, ComponentContext, ParameterError
from v2x_runtime import messages as m

ODOMETRY = 'nav_msgs/msg/Odometry'
_NAMES = {kind: kind.name.lower() for kind in SourceKind}
_TOPICS = {
    SourceKind.ONBOARD: 'perception/objects',
    SourceKind.ROADSIDE: 'v2x/roadside_participants',
    SourceKind.V2V: 'v2x/remote_vehicles',
}


class CooperativeFusion(Component):
    """Late (object-level) cooperative fusion. Topics: in `perception/objects`,
    `v2x/roadside_participants`, `v2x/remote_vehicles`, `localization/odometry`; out
    `perception/fused_objects`, `perception/fused_markers`. Parameters: see declarations."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        d = FusionConfig()
        rate_hz = p('rate_hz', 10.0, 'Fusion cycles per second', range=(0.5, 100.0))
        marker_hz = p(
            'marker_rate_hz',
            2.0,
            'MarkerArray updates per second (for people; 0 = none)',
            range=(0.0, 100.0),
        )
        self._marker_every_ns = round(1e9 / marker_hz) if marker_hz > 0 else 0
        self._next_marker_ns = 0
        self.map_frame = p('map_frame', 'map', 'Frame of the output and of V2X inputs')
        self.base_frame = p('base_frame', 'base_link', 'Vehicle frame of onboard objects')
        self.velocity_relative = p(
            'onboard_velocity_relative',
            True,
            'Onboard velocities in base_link are relative to the ego (add the ego motion)',
        )
        self.sender_sigma_m = {
            SourceKind.ONBOARD: 0.0,
            SourceKind.ROADSIDE: p(
                'rsu_position_sigma_m',
                0.3,
                'RSU position/calibration error (std, m)',
                range=(0.0, 20.0),
            ),
            SourceKind.V2V: p(
                'v2v_position_sigma_m',
                0.5,
                'BSM sender own position error beyond its stated accuracy (std, m)',
                range=(0.0, 20.0),
            ),
        }
        self.unverified_policy = p(
            'unverified_policy',
            'downweight',
            'Objects from TRUST_UNVERIFIED senders',
            choices=('downweight', 'exclude', 'accept'),
        )
        self.unverified_cov_scale = p(
            'unverified_cov_scale',
            4.0,
            'Covariance factor for down-weighted objects',
            range=(1.0, 1000.0),
        )
        self.ego_radius_m = p(
            'ego_suppress_radius_m',
            3.0,
            'Fused objects this close to the ego pose are the ego '
            'itself (as an RSU sees it) and are not output; 0 disables',
            range=(0.0, 20.0),
        )
        self.relevance_radius_m = p(
            'relevance_radius_m',
            0.0,
            'Reports farther than this from the ego pose are left out of the cycle (they stay '
            'stored); 0 fuses everything received',
            range=(0.0, 10000.0),
        )
        self.misbehaving_hold_ns = round(
            1e9
            * p(
                'misbehaving_hold_s',
                10.0,
                'A V2V sender (an RSU object) flagged TRUST_MISBEHAVING is ignored this long (s)',
                range=(0.0, 3600.0),
            )
        )
        # (kind, source id) of a V2V sender, (kind, RSU id, object id) of a roadside object
        self._banned: dict[tuple[int, str] | tuple[int, str, int], int] = {}  # -> until, ns
        self.priors = CovariancePriors(
            position_sigma_m=p(
                'default_position_sigma_m',
                1.0,
                'Where no position covariance is given (std, m)',
                range=(0.01, 100.0),
            ),
            velocity_sigma_mps=p(
                'default_velocity_sigma_mps',
                5.0,
                'Where no velocity covariance is given (std, m/s)',
                range=(0.01, 100.0),
            ),
        )
        self._covariances = CovarianceCache(self.priors)
        limits = StoreLimits(
            max_age_s=p(
                'max_age_s', 0.5, 'Older reports are refused / expire (s)', range=(0.01, 10.0)
            ),
            future_tolerance_s=p(
                'future_tolerance_s',
                0.05,
                'Reports stamped further ahead of the clock are refused (s)',
                range=(0.0, 5.0),
            ),
        )
        self.poses = PoseBuffer(
            max_gap_s=p(
                'odom_max_gap_s', 0.25, 'Largest stamp gap to an ego pose (s)', range=(0.001, 5.0)
            )
        )
        try:
            self.config = FusionConfig(
                gate_chi2=p(
                    'gate_chi2',
                    d.gate_chi2,
                    'Association gate (chi-square, 2 dof)',
                    range=(0.1, 1000.0),
                ),
                gate_max_m=p(
                    'gate_max_m',
                    d.gate_max_m,
                    'Largest association distance (m)',
                    range=(0.1, 100.0),
                ),
                accel_sigma_vehicle_mps2=p(
                    'accel_sigma_vehicle_mps2',
                    d.accel_sigma_vehicle_mps2,
                    'Vehicle manoeuvre noise for time alignment (m/s²)',
                    range=(0.01, 20.0),
                ),
                accel_sigma_vru_mps2=p(
                    'accel_sigma_vru_mps2',
                    d.accel_sigma_vru_mps2,
                    'Pedestrian/cyclist manoeuvre noise (m/s²)',
                    range=(0.01, 20.0),
                ),
                method=FusionMethod(
                    p(
                        'method',
                        'ci',
                        'Track-to-track fusion rule',
                        choices=tuple(f.value for f in FusionMethod),
                    )
                ),
                id_hold_s=p(
                    'id_hold_s',
                    d.id_hold_s,
                    'Lost fused ids kept for re-use (s)',
                    range=(0.0, 60.0),
                ),
            )
        except FusionConfigError as err:
            raise ParameterError(f'{ctx.name}: {err}') from err
        self.store = ReportStore(limits)
        self.engine = FusionEngine(self.config)
        self._list_stamp: dict[SourceKind, int] = {}
        self._ego_xy: np.ndarray | None = None
        self.pub = ctx.create_publisher('perception/fused_objects', PARTICIPANT_ARRAY, QOS_SENSOR)
        self.markers = ctx.create_publisher('perception/fused_markers', MARKER_ARRAY, QOS_SENSOR)
        for kind, topic in _TOPICS.items():
            ctx.create_subscription(
                topic, PARTICIPANT_ARRAY, lambda msg, k=kind: self.on_objects(msg, k), QOS_SENSOR
            )
        ctx.create_subscription('localization/odometry', ODOMETRY, self.on_odometry, QOS_SENSOR)
        ctx.create_timer(1.0 / rate_hz, self.on_cycle)

    # --- inputs -------------------------------------------------------------------------
    def on_odometry(self, msg: Any) -> None:
        try:
            self.poses.add(pose_from_odometry(msg))
        except ObjectInputError as err:
            self.ctx.diagnostics.reject('bad_odometry', str(err))

    def on_objects(self, msg: Any, kind: SourceKind) -> None:
        diag = self.ctx.diagnostics
        now = self.ctx.now_ns()
        name = _NAMES[kind]
        diag.count(f'received.{name}')
        frame = msg.header.frame_id
        array_ns = m.to_ns(msg.header.stamp)
        if frame not in (self.map_frame, self.base_frame) or (
            frame == self.base_frame and kind is not SourceKind.ONBOARD
        ):
            diag.reject(
                'unknown_frame',
                f'{kind.name.lower()}: frame {frame!r}, expected '
                f'{self.map_frame!r}'
                + (f' or {self.base_frame!r}' if kind is SourceKind.ONBOARD else ''),
            )
            return
        complete = kind is SourceKind.ONBOARD
        if complete and array_ns < self._list_stamp.get(kind, -1):
            diag.reject('out_of_order', f'onboard list at {array_ns} ns after a newer one')
            return
        reports = self._reports(msg, kind, array_ns)
        if frame == self.base_frame and reports:
            reports = self._to_map(reports)
        admit, accepted, observe = self.store.admit, 0, diag.observe
        for r in reports:
            outcome = admit(r, now)
            if outcome is Admission.ACCEPTED:
                accepted += 1
                observe('latency_s', (now - r.stamp_ns) * 1e-9)
            elif outcome is Admission.REPEATED:  # the stored report again: benign
                diag.count(f'repeated.{name}')
            else:
                diag.reject(
                    outcome.value,
                    f'{name} {r.source_id or "-"}/'
                    f'{r.object_id} stamped {r.stamp_ns} ns at {now} ns',
                )
        if accepted:
            diag.count('accepted', accepted)
        if complete:
            self._list_stamp[kind] = array_ns
            gone = self.store.replace_group((int(kind), ''), [r.key for r in reports])
            diag.count('dropped_by_source', gone)

    def _reports(self, msg: Any, kind: SourceKind, array_ns: int) -> list[ObjectReport]:
        diag = self.ctx.diagnostics
        now = self.ctx.now_ns()
        name = _NAMES[kind]
        parts = msg.participants
        trusts = [p.trust for p in parts]
        if self._banned:  # expired bans go: they no longer match, and keep the fast path off
            self._banned = {who: until for who, until in self._banned.items() if until >= now}
        if (
            not self._banned
            and TRUST_MISBEHAVING not in trusts
            and (self.unverified_policy != 'exclude' or TRUST_UNVERIFIED not in trusts)
        ):  # the common case: no trust rule drops anything
            if self.unverified_policy != 'downweight' or TRUST_UNVERIFIED not in trusts:
                shared = self._converted_all(parts, kind, array_ns)  # nor down-weights
                if shared is not None:
                    return shared
            return self._converted(parts, trusts, list(range(len(parts))), kind, array_ns)
        # pass 1, in message order: the trust rules (a ban holds for the rest of the array);
        # rejections wait in ``events`` so that they are reported in message order with the
        # conversion's below
        events: list[tuple[str, str] | int] = []  # (reason, text) or index into ``kept``
        kept: list[Any] = []
        for part in parts:
            # who is held responsible: a BSM sender describes itself (the sender is banned);
            # an RSU's flagged participant is one implausible track among its many (only that
            # object is banned: one track jumping after lost RSMs must not blind the vehicle
            # to the whole junction)
            sender: tuple[int, str] | tuple[int, str, int] = (int(kind), str(part.source_id))
            if kind is SourceKind.ROADSIDE:
                sender = (int(kind), str(part.source_id), int(part.id))
            if part.trust == TRUST_MISBEHAVING:
                events.append(('misbehaving', f'{name} {part.source_id}/{part.id}'))
                if self.misbehaving_hold_ns:
                    self._banned[sender] = now + self.misbehaving_hold_ns
                    diag.count('dropped_by_source', self.store.drop(*sender))
                continue
            if self._banned.get(sender, -1) >= now:
                events.append(
                    (
                        'misbehaving_sender',
                        f'{name} {part.source_id}/{part.id}: sender flagged in the last '
                        f'{self.misbehaving_hold_ns * 1e-9:g} s',
                    )
                )
                continue
            if part.trust == TRUST_UNVERIFIED and self.unverified_policy == 'exclude':
                events.append(('unverified', f'{name} {part.source_id}/{part.id}'))
                continue
            events.append(len(kept))
            kept.append(part)
        return self._converted(kept, [p.trust for p in kept], events, kind, array_ns)

    def _converted_all(
        self, parts: Any, kind: SourceKind, array_ns: int
    ) -> list[ObjectReport] | None:
        """``_converted`` of a whole array that no trust rule touches: the list of reports
        shared by the fusions given the same participants (``SharedReports.convert_all``),
        as it is (read only); None when a participant was refused, for ``_converted`` to
        report (its conversions are then the shared ones of each message)."""
        sigma = self.sender_sigma_m[kind]
        converted, clean = SHARED_REPORTS.convert_all(
            parts,
            kind,
            self.priors,
            array_ns,
            position_var_m2=sigma * sigma,
            cache=self._covariances,
        )
        return converted if clean else None  # type: ignore[return-value]

    def _converted(
        self, kept: list[Any], trusts: list[int], events: list[Any], kind: SourceKind, array_ns: int
    ) -> list[ObjectReport]:
        """Pass 2 of ``_reports``: every kept participant checked and converted at once;
        ``events`` in message order: an index into ``kept`` or a rejection (reason, text)."""
        diag = self.ctx.diagnostics
        sigma = self.sender_sigma_m[kind]
        scales = None
        unverified = [False] * len(kept)
        if self.unverified_policy == 'downweight' and TRUST_UNVERIFIED in trusts:
            unverified = [t == TRUST_UNVERIFIED for t in trusts]
            factor = self.unverified_cov_scale
            scales = [factor if u else 1.0 for u in unverified]
        converted = SHARED_REPORTS.convert(  # the reports of messages seen before: shared
            kept,
            kind,
            self.priors,
            array_ns,
            scales=scales,
            position_var_m2=sigma * sigma,
            cache=self._covariances,
        )
        out = []
        for ev in events:
            if not isinstance(ev, int):
                diag.reject(*ev)
                continue
            r = converted[ev]
            if isinstance(r, ObjectInputError):
                diag.reject('bad_object', str(r))
                continue
            if unverified[ev]:
                diag.count('unverified_downweighted')
            out.append(r)
        return out

    def _to_map(self, reports: list[ObjectReport]) -> list[ObjectReport]:
        out = []
        for stamp in sorted({r.stamp_ns for r in reports}):
            batch = [r for r in reports if r.stamp_ns == stamp]
            try:
                ego = self.poses.lookup(stamp)
            except TransformError as err:
                self.ctx.diagnostics.reject('no_odometry', f'{len(batch)} onboard objects: {err}')
                continue
            xs, ps = body_to_map(
                np.array([r.state for r in batch]),
                np.array([r.cov for r in batch]),
                ego,
                velocity_relative=self.velocity_relative,
            )
            out.extend(_with(r, state=x, cov=c) for r, x, c in zip(batch, xs, ps, strict=True))
        return out

    # --- the cycle ----------------------------------------------------------------------
    def on_cycle(self) -> None:
        diag = self.ctx.diagnostics
        now = self.ctx.now_ns()
        diag.count('expired', self.store.expire(now))
        reports = self.store.reports()
        ego: EgoPose | None = None
        if self.relevance_radius_m > 0.0 and reports:
            ego = self._ego(now)
            if ego is not None:
                reports = self._relevant(reports, ego)
        fused = self.engine.fuse(reports, now)
        if self.ego_radius_m > 0.0 and not fused:
            if self.poses.covers(now):
                diag.count('ego_suppressed', 0)
        elif self.ego_radius_m > 0.0:
            if ego is None:
                ego = self._ego(now)
            if ego is not None:
                r2 = self.ego_radius_m**2
                ex, ey = ego.x_m, ego.y_m
                keep = []
                for o in fused:
                    x, y = o.state[:2].tolist()
                    if (x - ex) ** 2 + (y - ey) ** 2 > r2:
                        keep.append(o)
                diag.count('ego_suppressed', len(fused) - len(keep))
                fused = keep
        diag.observe('fused_objects', len(fused))
        diag.observe('multi_source_objects', sum(len(o.kinds) > 1 for o in fused))
        msg = fused_to_msg(fused, now, self.map_frame)
        self.pub.publish(msg)
        if self._marker_every_ns and now >= self._next_marker_ns:
            self._next_marker_ns = now + self._marker_every_ns
            self.markers.publish(fused_markers(msg, lifetime_s=2.0 * self._marker_every_ns * 1e-9))

    def _ego(self, now: int) -> EgoPose | None:
        try:
            return self.poses.lookup(now)
        except TransformError:
            return None

    def _relevant(self, reports: list[ObjectReport], ego: EgoPose) -> list[ObjectReport]:
        """The reports within ``relevance_radius_m`` of the ego (at their reported position);
        the others are counted (``beyond_relevance``) and stay stored for later cycles."""
        r2 = self.relevance_radius_m**2
        ex, ey = ego.x_m, ego.y_m
        keep = []
        for r in reports:
            x, y = r.position_xy
            if (x - ex) ** 2 + (y - ey) ** 2 <= r2:
                keep.append(r)
        self.ctx.diagnostics.count('beyond_relevance', len(reports) - len(keep))
        return keep


def _with(r: ObjectReport, *, state: np.ndarray, cov: np.ndarray) -> ObjectReport:
    return replace(r, state=state, cov=cov)

"""ObjectTracker component: per-frame detections → tracked objects with velocity and covariance.

Topics: in ``perception/detections`` (v2x_stack/msg/ParticipantArray); out
``perception/objects`` (ParticipantArray: stable ids, velocity, [x, y, vx, vy] covariance,
heading and heading_variance, in the detections' frame) and ``perception/object_markers``
(visualization_msgs/msg/MarkerArray). Parameters: see the declarations below.

Bad input is counted and the node goes on: arrays older than the last (``time_backwards``),
participants with NaN/inf (dropped one by one, ``nonfinite_participant``), more than
``max_detections`` participants (``oversized``), a change of frame (``frame_changed``: the
tracks are reset, as their coordinates no longer apply).
"""

from __future__ import annotations

from typing import Any

from perception_nodes.markers import MARKER_ARRAY, MarkerThrottle, participant_markers
from perception_nodes.participants import (
    PARTICIPANT_ARRAY,
    SOURCE_LIDAR,
    detection_set_from_msg,
    tracks_to_msg,
)
from perception_nodes.tracking import (
    ImmParams,
    MultiObjectTracker,
    TrackerConfig,
    TrackerConfigError,
    TrackingError,
)
from v2x_runtime import QOS_SENSOR, Component, ComponentContext, ParameterError
from v2x_runtime import messages as m


class ObjectTracker(Component):
    """Multi-object tracking. Topics: in `perception/detections`, out `perception/objects`,
    `perception/object_markers`. Parameters: see declarations."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        d = TrackerConfig()
        i = ImmParams()
        try:
            self.config = TrackerConfig(
                gate_chi2=p(
                    'gate_chi2',
                    d.gate_chi2,
                    'Mahalanobis gate (chi-square, 2 dof)',
                    range=(0.1, 1000.0),
                ),
                gate_max_m=p(
                    'gate_max_m',
                    d.gate_max_m,
                    'Largest association distance (m)',
                    range=(0.1, 100.0),
                ),
                confirm_hits=p(
                    'confirm_hits', d.confirm_hits, 'Hits to confirm a track', range=(1, 100)
                ),
                tentative_max_misses=p(
                    'tentative_max_misses',
                    d.tentative_max_misses,
                    'Misses that drop a tentative track',
                    range=(1, 100),
                ),
                max_coast_s=p(
                    'max_coast_s',
                    d.max_coast_s,
                    'Lost tracks coast this long (s)',
                    range=(0.01, 60.0),
                ),
                position_std_m=p(
                    'position_std_m',
                    d.position_std_m,
                    'Detection position std at the sensor (m)',
                    range=(0.001, 10.0),
                ),
                position_std_per_m=p(
                    'position_std_per_m',
                    d.position_std_per_m,
                    'Added std per metre of range (m/m)',
                    range=(0.0, 1.0),
                ),
                imm=ImmParams(
                    accel_cv_mps2=p(
                        'accel_cv_mps2',
                        i.accel_cv_mps2,
                        'CV model acceleration noise std',
                        range=(0.01, 50.0),
                    ),
                    accel_ct_mps2=p(
                        'accel_ct_mps2',
                        i.accel_ct_mps2,
                        'CT model acceleration noise std',
                        range=(0.01, 50.0),
                    ),
                    omega_ct_rps2=p(
                        'turn_rate_noise_rps2',
                        i.omega_ct_rps2,
                        'CT turn-rate noise std',
                        range=(0.001, 10.0),
                    ),
                    switch_rate_hz=p(
                        'model_switch_rate_hz',
                        i.switch_rate_hz,
                        'Expected CV/CT switches per second',
                        range=(0.001, 10.0),
                    ),
                ),
            )
        except TrackerConfigError as err:
            raise ParameterError(f'{ctx.name}: {err}') from None
        self.max_detections = p(
            'max_detections', 2000, 'Arrays with more are rejected', range=(1, 100_000)
        )
        self.time_reset_s = p(
            'time_reset_s',
            5.0,
            'A stamp this far behind the last resets the tracks (replay loop, '
            'clock reset); smaller steps back are rejected',
            range=(0.0, 1e6),
        )
        self.marker_throttle = MarkerThrottle(
            p('markers_period_s', 0.5, 'Markers at most this often (0: every frame)',
              range=(0.0, 60.0))
        )  # fmt: skip
        self.publish_tentative = p('publish_tentative', False, 'Also publish tentative tracks')
        self.tracker = MultiObjectTracker(self.config)
        self.frame_id: str | None = None
        self.pub = ctx.create_publisher('perception/objects', PARTICIPANT_ARRAY, QOS_SENSOR)
        self.markers = ctx.create_publisher('perception/object_markers', MARKER_ARRAY, QOS_SENSOR)
        ctx.create_subscription(
            'perception/detections', PARTICIPANT_ARRAY, self.on_detections, QOS_SENSOR
        )

    def _reset_tracks(self) -> None:
        """Drop every track but keep counting ids, so no id means two objects downstream."""
        next_id = self.tracker.next_id
        self.tracker = MultiObjectTracker(self.config)
        self.tracker.next_id = next_id

    def on_detections(self, msg: Any) -> None:
        diag = self.ctx.diagnostics
        stamp_ns = m.to_ns(msg.header.stamp)
        n = len(msg.participants)
        if n > self.max_detections:
            diag.reject('oversized', f'{n} participants, maximum is {self.max_detections}')
            return
        frame = msg.header.frame_id
        if self.frame_id is not None and frame != self.frame_id:
            diag.reject('frame_changed', f'frame {frame!r} after {self.frame_id!r}: tracks reset')
            self._reset_tracks()
        self.frame_id = frame
        last = self.tracker.last_stamp_s
        if last is not None and last - stamp_ns / 1e9 > self.time_reset_s:
            diag.count('time_reset')
            self.ctx.logger.warning(
                f'detection stamps jumped back {last - stamp_ns / 1e9:.1f} s: tracks reset'
            )
            self._reset_tracks()
        det, bad = detection_set_from_msg(msg)
        for detail in bad:
            diag.reject('nonfinite_participant', detail)
        try:
            tracks = self.tracker.step(stamp_ns / 1e9, det)
        except TrackingError as err:
            diag.reject(err.reason, str(err))
            return
        diag.count('received')
        if self.publish_tentative:  # step returns the confirmed and lost ones
            tracks = self.tracker.tracks(stamp_ns / 1e9, include_tentative=True)
        diag.set_value('tracks', len(tracks))
        diag.observe('latency_s', (self.ctx.now_ns() - stamp_ns) / 1e9)
        sources = {p.source for p in msg.participants}
        source = sources.pop() if len(sources) == 1 else SOURCE_LIDAR
        out = tracks_to_msg(tracks, stamp_ns=stamp_ns, frame_id=frame, source=source)
        self.pub.publish(out)
        if self.marker_throttle.due(stamp_ns):
            self.markers.publish(
                participant_markers(
                    out, namespace='tracked_objects', lifetime_s=self.marker_throttle.lifetime_s
                )
            )

"""What the runner observes during a run: truth history, fixes, fused poses, warnings, tracks.

The probe only subscribes (``EmbeddedRuntime.subscribe``), it never publishes. Topics it
looks for after the stacks are built:
- ``v2x_stack/msg/Warning`` on any topic but the arbiter's relays (``hmi/``, ``*_log``): the
  warnings of the vehicle whose namespace it is in;
- ``nav_msgs/msg/Odometry`` / ``geometry_msgs/msg/PoseWithCovarianceStamped`` under
  ``/<vehicle>/localization/``: the fused position (map frame) compared with the truth;
- ``v2x_stack/msg/ParticipantArray`` on ``/<rsu>/rsu/participants`` (georeferenced, map
  frame) or else ``/<rsu>/perception/objects`` (the tracker's, in the lidar frame, moved to
  the map with the mount's true pose): the RSU's tracks, for MOTA / IDF1;
- ``v2x_stack/msg/LanePosition`` on ``/<vehicle>/localization/lane``: the map matcher's lanelet,
  scored against the true lanes (``lane_truth``) at the true position of the matched stamp;
- ``/<rsu>/v2x/tx`` and ``/<vehicle>/v2x/rx`` (V2xFrame): end-to-end latency per message type,
  reception stamp at the car minus the generation stamp of the same payload at the RSU;
- ``/<rsu>/rsu/events`` and ``/<vehicle>/v2x/events`` (RoadEventArray): RSU events raised and
  received (``rsu_events.RsuEventLog``).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geo.local_frame import LocalFrame
from sim_nodes.report.lane_truth import LaneTruth
from sim_nodes.report.mot_metrics import Frame
from sim_nodes.report.rsu_events import RsuEventLog
from v2x_runtime import messages as m
from v2x_runtime.identity_memo import IdentityMemo

FUSED_TYPES = ('nav_msgs/msg/Odometry', 'geometry_msgs/msg/PoseWithCovarianceStamped')
# an RSU's tracks: georeferenced participants when published, else the tracker's own output
TRACK_TOPICS = ('rsu/participants', 'perception/objects')
PARTICIPANTS = 'v2x_stack/msg/ParticipantArray'


def _interp(t: float, hist: list[tuple[float, float, float]]) -> tuple[float, float]:
    """(x, y) at ``t`` from (t, x, y) samples, as ``np.interp`` gives it (clamped at both ends,
    the same formula), without building arrays: called for every fix and odometry message."""
    if t < hist[0][0]:
        return hist[0][1], hist[0][2]
    if t >= hist[-1][0]:
        return hist[-1][1], hist[-1][2]
    j = bisect_right(hist, t, key=lambda h: h[0]) - 1  # hist[j].t <= t < hist[j + 1].t
    (t0, x0, y0), (t1, x1, y1) = hist[j], hist[j + 1]
    if t == t0:  # numpy takes the sample as it is (no 0 * inf where stamps nearly coincide)
        return x0, y0
    return _lerp(t, t0, t1, x0, x1), _lerp(t, t0, t1, y0, y1)


def _lerp(t: float, t0: float, t1: float, v0: float, v1: float) -> float:
    value = (v1 - v0) / (t1 - t0) * (t - t0) + v0
    if math.isnan(value):  # numpy's fallback for an infinite slope
        value = (v1 - v0) / (t1 - t0) * (t - t1) + v1
        if math.isnan(value) and v0 == v1:
            value = v0
    return value


def _relayed_warning(topic: str) -> bool:
    """The arbiter's re-publications of the applications' warnings (not counted twice)."""
    return '/hmi/' in topic or topic.endswith('_log')


LANE_TYPE = 'v2x_stack/msg/LanePosition'
FRAME_TYPE = 'v2x_stack/msg/V2xFrame'
MESSAGE_TYPES = {1: 'BSM', 2: 'MAP', 3: 'SPAT', 4: 'RSI', 5: 'RSM', 6: 'SSM'}
TX_MEMORY_S = 5.0  # an RSU frame older than this is no longer matched to receptions
MAX_PAYLOAD_KEYS = 4096  # payload objects kept with their bytes (~2 s of the dense run's frames)


@dataclass
class WarningRecord:
    vehicle: str
    t_s: float
    application: str
    level: int
    target: str
    ttc_s: float


@dataclass
class Probe:
    connected: set[str]
    rsus: set[str]
    frame: LocalFrame
    plot_period_s: float = 0.5
    trajectories: dict[str, list[tuple[float, float, float, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )  # name -> (t, x, y, speed) every plot_period_s
    classes: dict[str, int] = field(default_factory=dict)
    truth: dict[str, list[tuple[float, float, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    all_xy: list[tuple[float, dict[str, tuple[float, float]]]] = field(default_factory=list)
    # the fixes (lat, lon, alt) with the true (x, y) at their stamp: their errors are made in
    # one PROJ call when read (a call per fix cost ~0.1 ms; the same numbers either way)
    _fixes: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    _fix_errors: list[float] = field(default_factory=list)
    fused_errors_m: list[float] = field(default_factory=list)
    warnings: list[WarningRecord] = field(default_factory=list)
    track_frames: list[Frame] = field(default_factory=list)
    topics: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lane_truth: LaneTruth | None = None
    sensor_poses: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    # the matcher's outputs (vehicle, true x, y at the stamp, lanelet id), scored when read
    _lanes: list[tuple[str, float, float, int]] = field(default_factory=list)
    _lane_counts: list[int] = field(default_factory=lambda: [0, 0, 0])
    e2e_latency_s: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    rsu_events: RsuEventLog = field(default_factory=RsuEventLog)
    _rsu_tx: dict[bytes, tuple[float, int]] = field(default_factory=dict)
    # a frame's payload bytes by the payload object: the channel hands every receiver the sent
    # frame's payload array itself, so it is made into bytes once, not once per reception
    # (~2 µs each; the dense run's cars receive ~2 300 frames a second)
    _payload_keys: IdentityMemo[bytes] = field(
        default_factory=lambda: IdentityMemo(MAX_PAYLOAD_KEYS)
    )
    last_truth_t: float = -1.0
    _next_plot: float = 0.0
    _ids: dict[str, int] = field(default_factory=dict)

    def attach(self, runtime: Any) -> None:
        runtime.subscribe('/sim/ground_truth', 'v2x_stack/msg/ParticipantArray', self.on_truth)
        for name in sorted(self.connected):
            topic = f'/{name}/localization/gnss/fix'
            if topic in runtime.topics:
                runtime.subscribe(
                    topic, 'sensor_msgs/msg/NavSatFix', lambda msg, n=name: self.on_fix(n, msg)
                )
        for topic, info in sorted(runtime.topics.items()):
            ns = topic.split('/')[1] if topic.count('/') >= 2 else ''
            if info.msgtype == 'v2x_stack/msg/Warning' and not _relayed_warning(topic):
                self.topics['warnings'].append(topic)
                runtime.subscribe(topic, info.msgtype, lambda msg, n=ns: self.on_warning(n, msg))
            elif info.msgtype in FUSED_TYPES and ns in self.connected and '/localization/' in topic:
                self.topics['fused'].append(topic)
                runtime.subscribe(topic, info.msgtype, lambda msg, n=ns: self.on_fused(n, msg))
        for rsu in sorted(self.rsus):
            for relative in TRACK_TOPICS:  # the first one a component publishes
                info = runtime.topics.get(f'/{rsu}/{relative}')
                if info is not None and info.publishers and info.msgtype == PARTICIPANTS:
                    self.topics['tracks'].append(f'/{rsu}/{relative}')
                    runtime.subscribe(f'/{rsu}/{relative}', PARTICIPANTS, self.on_tracks)
                    break

        self._attach_stack_outputs(runtime)

    def _attach_stack_outputs(self, runtime: Any) -> None:
        for name in sorted(self.connected):
            topic = f'/{name}/localization/lane'
            info = runtime.topics.get(topic)
            if info is not None and info.msgtype == LANE_TYPE and self.lane_truth is not None:
                self.topics['lanes'].append(topic)
                runtime.subscribe(topic, LANE_TYPE, lambda msg, n=name: self.on_lane(n, msg))
            topic = f'/{name}/v2x/rx'
            if topic in runtime.topics:
                runtime.subscribe(topic, FRAME_TYPE, self.on_car_rx)
        for rsu in sorted(self.rsus):
            topic = f'/{rsu}/v2x/tx'
            if topic in runtime.topics:
                runtime.subscribe(topic, FRAME_TYPE, self.on_rsu_tx)
        self.topics['rsu_events'] = self.rsu_events.attach(
            runtime, sorted(self.rsus), sorted(self.connected)
        )

    def on_lane(self, vehicle: str, msg: Any) -> None:
        assert self.lane_truth is not None
        truth = self.truth_at(vehicle, m.to_ns(msg.header.stamp) / 1e9)
        if truth is None:
            return
        self._lanes.append((vehicle, *truth, int(msg.lanelet_id)))

    @property
    def lane_epochs(self) -> int:
        """Matcher outputs with a known true lane."""
        return self._lane_scores()[0]

    @property
    def lane_hits(self) -> int:
        """... on one of the true lanelets."""
        return self._lane_scores()[1]

    @property
    def lane_off_map(self) -> int:
        return self._lane_scores()[2]

    def _lane_scores(self) -> list[int]:
        """The matcher's outputs so far scored per vehicle in one array pass each."""
        pending, self._lanes = self._lanes, []
        by_vehicle: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
        for vehicle, x, y, lanelet in pending:
            by_vehicle[vehicle].append((x, y, lanelet))
        for vehicle, rows in by_vehicle.items():
            assert self.lane_truth is not None
            xs, ys, got = (np.array(column) for column in zip(*rows, strict=True))
            ids, near = self.lane_truth.near(vehicle, xs.astype(float), ys.astype(float))
            known = near.any(axis=1)
            hit = (near & (ids[None, :] == got[:, None])).any(axis=1)
            counts = self._lane_counts
            counts[0] += int(np.count_nonzero(known))
            counts[1] += int(np.count_nonzero(hit & known))
            counts[2] += int(np.count_nonzero((got < 0) & known))
        return self._lane_counts

    def _payload_key(self, payload: Any) -> bytes:
        """``bytes(payload)``, kept for the payload object."""
        key = self._payload_keys.get(payload)
        return self._payload_keys.put(payload, bytes(payload)) if key is None else key

    def on_rsu_tx(self, msg: Any) -> None:
        t = m.to_ns(msg.header.stamp) / 1e9
        self._rsu_tx[self._payload_key(msg.payload)] = (t, int(msg.message_type))
        if len(self._rsu_tx) > 4096:
            self._rsu_tx = {k: v for k, v in self._rsu_tx.items() if v[0] > t - TX_MEMORY_S}

    def on_car_rx(self, msg: Any) -> None:
        sent = self._rsu_tx.get(self._payload_key(msg.payload))
        if sent is None:
            return
        kind = MESSAGE_TYPES.get(sent[1], f'type_{sent[1]}')
        self.e2e_latency_s[kind].append(m.to_ns(msg.header.stamp) / 1e9 - sent[0])

    def on_truth(self, msg: Any) -> None:
        t = m.to_ns(msg.header.stamp) / 1e9
        self.last_truth_t = t
        record = t >= self._next_plot
        positions = {}
        for p in msg.participants:
            name = p.source_id
            x, y = p.position.x, p.position.y
            positions[name] = (x, y)
            self._ids[name] = p.id
            if name in self.connected:
                self.truth[name].append((t, x, y))
            if record:
                speed = float(np.hypot(p.velocity.x, p.velocity.y))
                self.trajectories[name].append((t, x, y, speed))
                self.classes[name] = p.participant_class
        self.all_xy.append((t, positions))
        if record:
            self._next_plot = t + self.plot_period_s

    def truth_at(self, name: str, t: float) -> tuple[float, float] | None:
        hist = self.truth.get(name)
        if not hist:
            return None
        recent = hist[-50:]
        if t < recent[0][0] - 0.2 or t > recent[-1][0] + 0.2:
            return None
        return _interp(t, recent)

    def on_fix(self, name: str, msg: Any) -> None:
        t = m.to_ns(msg.header.stamp) / 1e9
        truth = self.truth_at(name, t)
        if truth is None:
            return
        self._fixes.append((msg.latitude, msg.longitude, msg.altitude, *truth))

    @property
    def gnss_errors_m(self) -> list[float]:
        """Horizontal error of every fix against the truth at its stamp, in arrival order."""
        if len(self._fix_errors) < len(self._fixes):
            new = np.array(self._fixes[len(self._fix_errors) :], float).reshape(-1, 5)
            e, n, _ = self.frame.to_enu(new[:, 0], new[:, 1], new[:, 2])
            self._fix_errors += np.hypot(e - new[:, 3], n - new[:, 4]).tolist()
        return self._fix_errors

    def on_fused(self, name: str, msg: Any) -> None:
        t = m.to_ns(msg.header.stamp) / 1e9
        truth = self.truth_at(name, t)
        if truth is None or msg.header.frame_id not in ('map', '/map'):
            return
        pos = msg.pose.pose.position
        self.fused_errors_m.append(float(np.hypot(pos.x - truth[0], pos.y - truth[1])))

    def on_warning(self, vehicle: str, msg: Any) -> None:
        if msg.level == 0:
            return
        self.warnings.append(
            WarningRecord(
                vehicle,
                m.to_ns(msg.header.stamp) / 1e9,
                msg.application,
                msg.level,
                msg.target_id,
                float(msg.time_to_collision_s),
            )
        )

    def on_tracks(self, msg: Any) -> None:
        frame = msg.header.frame_id
        if (frame not in ('map', '/map') and frame not in self.sensor_poses) or not self.all_xy:
            return
        _, truth = self.all_xy[-1]
        xy = np.array([[p.position.x, p.position.y] for p in msg.participants]).reshape(-1, 2)
        if frame in self.sensor_poses:  # the mount's true pose (georeferencing is not scored)
            x0, y0, yaw = self.sensor_poses[frame]
            c, s = np.cos(yaw), np.sin(yaw)
            xy = np.column_stack(
                [c * xy[:, 0] - s * xy[:, 1] + x0, s * xy[:, 0] + c * xy[:, 1] + y0]
            )
        names = sorted(truth)
        self.track_frames.append(
            Frame(
                [self._ids.get(n, i) for i, n in enumerate(names)],
                np.array([truth[n] for n in names]).reshape(-1, 2),
                [p.id for p in msg.participants],
                xy,
            )
        )

"""EventDetector: tracked participants on the lane map → road events for RSI.

In: ``rsu/participants`` (ParticipantArray, map frame, tracked ids). Out: ``rsu/events``
(RoadEventArray) every ``1 / publish_rate_hz``: stopped vehicle in a lane, wrong-way driving,
congestion per approach (queue length, mean speed), pedestrian on the carriageway, static
obstacle, speeding; each with position, zone (radius or lane path), validity window
(start = raised, end = now + ``validity_s``, so receivers drop it if the RSU goes quiet),
hysteresis and stable ids. Rejected and counted: non-finite objects (``nan_position``),
stamps going backwards (``time_backwards``), old arrays (``stale``), other frames
(``wrong_frame``), values beyond 1e6 m or m/s (``out_of_range``); without input for
``input_timeout_s`` the conditions count as absent.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from geo import LocalFrame
from rsu_nodes.events.codes import DEFAULT_CODES, EventCode, EventKind, code_with
from rsu_nodes.events.errors import EventConfigError
from rsu_nodes.events.hysteresis import Entry, EventBook
from rsu_nodes.events.lanes import LaneIndex
from rsu_nodes.events.rules import OBSTACLE, UNKNOWN, Objects, Thresholds, evaluate
from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext, ParameterError
from v2x_runtime import messages as m
from v2x_runtime.resources import resource_path
from vehicle_nodes.hdmap.errors import HdMapError
from vehicle_nodes.hdmap.loader import load_map

ARRAY = 'v2x_stack/msg/ParticipantArray'
EVENTS = 'v2x_stack/msg/RoadEventArray'
EVENT = 'v2x_stack/msg/RoadEvent'
SOURCE_DETECTION = 5
STANDING_AMBIGUOUS = (UNKNOWN, OBSTACLE)
TURNS = (math.pi, math.pi / 2, -math.pi / 2)  # the headings a standing ambiguous box tries
MAX_ABS_VALUE = 1e6  # m, m/s: beyond any roadside scene (and keeps the KD-tree finite)
RAISE_DEFAULTS = {
    EventKind.STOPPED_VEHICLE: 10.0,
    EventKind.WRONG_WAY: 2.0,
    EventKind.CONGESTION: 60.0,
    EventKind.PEDESTRIAN: 1.0,
    EventKind.OBSTACLE: 5.0,
    EventKind.SPEEDING: 2.0,
}


def objects_of(msg: Any, keep: list[int]) -> Objects:
    ps = [msg.participants[i] for i in keep]
    return Objects(
        ids=np.array([p.id for p in ps], np.int64),
        cls=np.array([p.participant_class for p in ps], np.int64),
        pos=np.array([(p.position.x, p.position.y, p.position.z) for p in ps]).reshape(-1, 3),
        vel=np.array([(p.velocity.x, p.velocity.y, p.velocity.z) for p in ps]).reshape(-1, 3),
        yaw=np.array([p.heading_rad for p in ps], float),
        length_m=np.array([p.size.x for p in ps], float),
        width_m=np.array([p.size.y for p in ps], float),
        height_m=np.array([p.size.z for p in ps], float),
        geo=np.array([(p.latitude_deg, p.longitude_deg, p.altitude_m) for p in ps]).reshape(-1, 3),
    )


class EventDetector(Component):
    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        map_file = p('map_file', 'config/maps/intersection.osm', 'Lanelet2 map of the area')
        intersection_id = p('intersection_id', 1, 'Signalised intersection for the approaches')
        lat0 = p(
            'origin_lat_deg', 0.0, 'Map frame origin latitude (0, 0: unknown)', range=(-90, 90)
        )
        lon0 = p('origin_lon_deg', 0.0, 'Map frame origin longitude', range=(-180, 180))
        alt0 = p('origin_alt_m', 0.0, 'Map frame origin ellipsoidal height')
        self.map_frame = p('map_frame', 'map', 'Frame of the input and of the events')
        self.rate_hz = p('publish_rate_hz', 2.0, 'RoadEventArray rate', range=(0.1, 10.0))
        self.validity_s = p('validity_s', 10.0, 'End time = now + this', range=(1.0, 3600.0))
        self.max_age_s = p('max_age_s', 0.5, 'Older inputs are stale', range=(0.01, 60.0))
        self.input_timeout_s = p(
            'input_timeout_s', 2.0, 'No input this long: conditions absent', range=(0.1, 60.0)
        )
        clear_after = p('clear_after_s', 3.0, 'Absent this long: event withdrawn', range=(0, 600))
        dedup = p('dedup_radius_m', 5.0, 'Same-kind events this close merge', range=(0, 100))
        t = Thresholds(
            stopped_speed_mps=p('stopped_speed_mps', 0.5, 'Below: stopped', range=(0, 5)),
            wrong_way_speed_mps=p('wrong_way_speed_mps', 2.0, 'Wrong way above', range=(0, 20)),
            speeding_tolerance=p('speeding_tolerance', 0.1, 'Over the limit by', range=(0, 2)),
            obstacle_speed_mps=p('obstacle_speed_mps', 0.3, 'Obstacle below', range=(0, 5)),
            queue_speed_mps=p('queue_speed_mps', 2.0, 'Queued below', range=(0, 10)),
            queue_gap_m=p('queue_gap_m', 12.0, 'Max gap inside a queue', range=(1, 100)),
            congestion_queue_m=p('congestion_queue_m', 50.0, 'Queue at least', range=(0, 1e4)),
            congestion_speed_mps=p('congestion_speed_mps', 2.5, 'Mean below', range=(0, 30)),
            congestion_min_vehicles=p('congestion_min_vehicles', 6, 'At least', range=(1, 1000)),
        )
        self.thresholds = t
        raise_after = {
            k: p(f'{k.value}_after_s', v, f'{k.value}: condition held this long', range=(0, 3600))
            for k, v in RAISE_DEFAULTS.items()
        }
        self.codes: dict[EventKind, EventCode] = {}
        try:
            for kind, code in DEFAULT_CODES.items():
                values = p(f'codes_{kind.value}', [code.event_type, code.sign_type],
                           f'{kind.value}: [EventType, SignType]')  # fmt: skip
                self.codes[kind] = code_with(kind, list(values))
            hd = load_map(resource_path(map_file))
        except (EventConfigError, HdMapError) as err:
            raise ParameterError(f'{ctx.name}: {err}') from None
        self.index = LaneIndex(hd, intersection_id)
        self.frame = None if lat0 == 0.0 and lon0 == 0.0 else LocalFrame(lat0, lon0, alt0)
        self.book = EventBook(raise_after, clear_after, dedup)
        self.pub = ctx.create_publisher('rsu/events', EVENTS, QOS_RELIABLE)
        ctx.create_subscription('rsu/participants', ARRAY, self.on_participants, QOS_SENSOR)
        ctx.create_timer(1.0 / self.rate_hz, self.on_tick)
        self.last_stamp_ns: int | None = None
        self.last_input_ns: int | None = None

    def _check(self, msg: Any) -> bool:
        diag = self.ctx.diagnostics
        stamp = m.to_ns(msg.header.stamp)
        if msg.header.frame_id != self.map_frame:
            diag.reject('wrong_frame', f'{msg.header.frame_id!r}, expected {self.map_frame!r}')
            return False
        if self.last_stamp_ns is not None and stamp < self.last_stamp_ns:
            diag.reject('time_backwards', f'stamp {stamp} ns before {self.last_stamp_ns} ns')
            return False
        age_s = (self.ctx.now_ns() - stamp) / 1e9
        if age_s > self.max_age_s:
            diag.reject('stale', f'participants {age_s:.3f} s old > {self.max_age_s} s')
            return False
        return True

    def on_participants(self, msg: Any) -> None:
        if not self._check(msg):
            return
        stamp = m.to_ns(msg.header.stamp)
        self.last_stamp_ns = stamp
        self.last_input_ns = self.ctx.now_ns()
        keep = []
        for i, p in enumerate(msg.participants):
            values = (p.position.x, p.position.y, p.velocity.x, p.velocity.y)
            if not all(math.isfinite(v) for v in values):
                self.ctx.diagnostics.reject('nan_position', f'participant {p.id}: {values}')
            elif max(abs(v) for v in values) > MAX_ABS_VALUE:
                self.ctx.diagnostics.reject('out_of_range', f'participant {p.id}: {values}')
            else:
                keep.append(i)
        self.ctx.diagnostics.count('received')
        self.process(stamp, objects_of(msg, keep))

    def process(self, stamp_ns: int, objs: Objects) -> None:
        """One detection cycle (the hot path the benchmark measures)."""
        yaw = objs.motion_yaw()
        xy = objs.pos[:, :2]
        n = len(xy)
        # A standing box's heading is ambiguous (by pi, and by pi/2 when length and width swap):
        # an unclassified one that no heading puts on its lane tries the others in turn (a
        # queued car seen in part, or cars merged across lanes, see rules). An object's fix
        # depends on its own position and heading only, so every standing ambiguous object is
        # located under all of its headings in the one lookup: the turns are read from that
        # (what was up to three more lookups a cycle, each costing as much as the first).
        speed = objs.speed
        ambiguous = [
            i
            for i in range(n)
            if objs.cls[i] in STANDING_AMBIGUOUS and speed[i] < self.thresholds.obstacle_speed_mps
        ]
        if ambiguous:
            turned = [yaw[ambiguous] + turn for turn in TURNS]
            located = self.index.locate_many(
                np.concatenate([xy, *[xy[ambiguous]] * len(TURNS)]), np.concatenate([yaw, *turned])
            )
        else:
            located = self.index.locate_many(xy, yaw)
        fixes = located[:n]
        for k, i in enumerate(ambiguous):
            if not (fixes[i].on_road and fixes[i].approach < 0):
                continue
            for t in range(len(TURNS)):
                f = located[n + t * len(ambiguous) + k]
                if f.approach >= 0:
                    fixes[i] = f
                    break
        candidates, stats = evaluate(objs, fixes, self.index, self.thresholds)
        self.book.update(stamp_ns, candidates)
        for st in stats:
            self.ctx.diagnostics.set_value(
                f'approach_{st.arm}', f'queue {st.queue_m:.0f} m, mean {st.mean_speed_mps:.1f} m/s'
            )

    def on_tick(self) -> None:
        now = self.ctx.now_ns()
        if self.last_input_ns is not None and now - self.last_input_ns > self.input_timeout_s * 1e9:
            self.ctx.diagnostics.count('input_timeouts')
            self.book.update(now, [])
        events = [self._event(e, now) for e in self.book.active()]
        self.ctx.diagnostics.set_value('active_events', len(events))
        self.ctx.diagnostics.set_value('raised_total', self.book.raised_total)
        self.pub.publish(m.new(EVENTS, header=m.header(now, self.map_frame), events=events))

    def _event(self, e: Entry, now_ns: int) -> Any:
        c = e.candidate
        code = self.codes[c.kind]
        lat, lon, alt = c.geo
        if not math.isfinite(lat) and self.frame is not None:
            la, lo, al = self.frame.to_geodetic(*c.xyz)
            lat, lon, alt = float(la), float(lo), float(al)
        point = 'geometry_msgs/msg/Point'
        return m.new(
            EVENT,
            header=m.header(now_ns, self.map_frame),
            id=e.event_id,
            event_type=code.event_type,
            sign_type=code.sign_type,
            source=SOURCE_DETECTION,
            position=m.new(point, x=c.xyz[0], y=c.xyz[1], z=c.xyz[2]),
            latitude_deg=lat,
            longitude_deg=lon,
            altitude_m=alt,
            radius_m=code.radius_m,
            path=[m.new(point, x=x, y=y, z=0.0) for x, y in c.path],
            path_radius_m=c.path_radius_m,
            start_time=m.stamp(e.raised_ns or now_ns),
            end_time=m.stamp(now_ns + round(self.validity_s * 1e9)),
            priority=code.priority,
            description=c.text,
        )

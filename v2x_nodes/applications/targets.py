"""The table of remote targets: latest state per participant, with derived motion.

Participants arrive in ParticipantArray messages (BSM-derived remote vehicles, RSM/SSM
roadside participants). Each (source, source_id, id) owns one row; each cycle turns the
fresh rows into numpy columns, so the applications' math is vectorised over all targets.
Consecutive reports give the longitudinal acceleration (EBW) and the yaw rate (CLW), which
the Participant message does not carry. Rows not refreshed for ``expire_s`` are dropped.

Bad data is counted, never raised: non-finite position/velocity (``missing_fields``),
coordinates or speeds no road user has (``implausible``), reports older than the row's
(``out_of_order``). A report repeated with the same stamp (the receiver republishes every
sender's latest state at its own rate) changes nothing and does not count as a new message
for the ``min_seen`` rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from operator import attrgetter
from typing import Any, Protocol

import numpy as np

from v2x_nodes.applications.kinematics import BoolArray, FloatArray, travelled
from v2x_runtime import messages as m

CLASS_CAR = 1
CLASS_TRUCK = 2
CLASS_MOTORCYCLE = 3
CLASS_CYCLIST = 4
CLASS_PEDESTRIAN = 5
CLASS_OBSTACLE = 6
CLASS_EMERGENCY = 7
VRU_CLASSES = (CLASS_MOTORCYCLE, CLASS_CYCLIST, CLASS_PEDESTRIAN)
VEHICLE_CLASSES = (0, CLASS_CAR, CLASS_TRUCK, CLASS_EMERGENCY)
TRUST_VERIFIED = 1
TRUST_MISBEHAVING = 3

# Default footprint (length, width) by class when a report leaves size at 0.
DEFAULT_SIZE_M = {
    0: (4.5, 1.8),
    CLASS_CAR: (4.5, 1.8),
    CLASS_TRUCK: (10.0, 2.5),
    CLASS_MOTORCYCLE: (2.0, 0.8),
    CLASS_CYCLIST: (1.8, 0.6),
    CLASS_PEDESTRIAN: (0.5, 0.5),
    CLASS_OBSTACLE: (1.0, 1.0),
    CLASS_EMERGENCY: (5.5, 2.0),
}
ACCEL_SMOOTHING = 0.7  # EMA weight of the newest finite-difference estimate
MIN_DT_S = 0.03  # shorter report intervals give no derivative (noise), longer than:
MAX_DT_S = 1.0  # too long for one
MAX_COORD_M = 1e6  # map-frame coordinates beyond this are not a local map frame
MAX_SPEED_MPS = 120.0  # faster than any road user (430 km/h)
STILL_MPS = 2.0  # reported slower than this: standing (or crawling) since ``still_s``


class Origin(IntEnum):
    """Which topic a target came from."""

    REMOTE_VEHICLE = 0  # v2x/remote_vehicles (BSM)
    ROADSIDE = 1  # v2x/roadside_participants (RSM / SSM)


class Counter(Protocol):
    def count(self, key: str, n: int = 1) -> None: ...

    def reject(self, reason: str, detail: str) -> None: ...


@dataclass(frozen=True)
class Targets:
    """The live targets of one cycle (one entry per row in use, fresh enough)."""

    keys: list[str]
    x: FloatArray
    y: FloatArray
    speed: FloatArray
    course: FloatArray  # direction of motion (heading when nearly stopped)
    heading: FloatArray
    accel: FloatArray  # along the course, m/s²
    yaw_rate: FloatArray
    length: FloatArray
    width: FloatArray
    cls: np.ndarray
    trust: np.ndarray
    age_s: FloatArray
    still_s: FloatArray  # how long it has been reported slower than STILL_MPS (0: moving)
    seen: np.ndarray
    origin: np.ndarray
    usable: BoolArray  # passes the trust / repetition filter

    def __len__(self) -> int:
        return len(self.keys)

    def select(self, mask: BoolArray) -> Targets:
        idx = np.flatnonzero(mask)
        cols = {n: getattr(self, n)[idx] for n in _SELECTABLE}
        return Targets(keys=[self.keys[i] for i in idx], **cols)


_SELECTABLE = ('x', 'y', 'speed', 'course', 'heading', 'accel', 'yaw_rate', 'length', 'width',
               'cls', 'trust', 'age_s', 'still_s', 'seen', 'origin', 'usable')  # fmt: skip


@dataclass(frozen=True)
class FilterConfig:
    max_age_s: float = 1.0  # older reports are stale: ignored for triggering
    expire_s: float = 5.0  # rows not refreshed this long are dropped
    require_verified: bool = False  # only TRUST_VERIFIED targets seen in >= min_seen reports
    min_seen: int = 2


class _Row:
    """The latest state of one target (plain attributes: updates are the hot path)."""

    __slots__ = ('accel', 'cls', 'course', 'heading', 'key', 'length', 'origin', 'seen',
                 'speed', 'stamp_ns', 'still_ns', 'trust', 'width', 'x', 'y',
                 'yaw_rate')  # fmt: skip

    def __init__(self, key: str) -> None:
        self.key = key
        self.seen = 0
        self.accel = self.yaw_rate = 0.0
        self.stamp_ns = 0
        self.still_ns = 0  # first stamp of the current standstill (0: moving)


# the snapshot's columns, fetched per row in C (attrgetter) rather than a Python tuple each
_FLOATS = attrgetter('x', 'y', 'speed', 'course', 'heading', 'accel', 'yaw_rate', 'length',
                     'width')  # fmt: skip
_INTS = attrgetter('cls', 'trust', 'seen', 'origin', 'stamp_ns', 'still_ns')


def _wrap(a: float) -> float:
    return (a + math.pi) % (2.0 * math.pi) - math.pi


class TargetTable:
    """Rows of target state keyed by origin, source and participant id.

    Rows are small Python objects (an update touches a dozen attributes); the cycle's
    ``snapshot`` turns the fresh ones into numpy columns in one pass.
    """

    def __init__(self, config: FilterConfig) -> None:
        self.config = config
        self._rows: dict[tuple[int, str, int], _Row] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def ingest(self, msg: Any, origin: Origin, diag: Counter) -> None:
        """Update the rows from one ParticipantArray; bad participants are counted."""
        array_ns = m.to_ns(msg.header.stamp)
        for p in msg.participants:
            self.update(p, origin, array_ns, diag)

    def update(self, p: Any, origin: Origin, array_ns: int, diag: Counter) -> None:
        pos, vel = p.position, p.velocity
        x, y, vx, vy = pos.x, pos.y, vel.x, vel.y
        if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(vx)
                and math.isfinite(vy)):  # fmt: skip
            diag.reject('missing_fields', f'participant {p.source_id}:{p.id}: non-finite state')
            return
        speed = math.hypot(vx, vy)
        if abs(x) > MAX_COORD_M or abs(y) > MAX_COORD_M or speed > MAX_SPEED_MPS:
            diag.reject('implausible', f'participant {p.source_id}:{p.id}: ({x:.6g}, {y:.6g}) '
                        f'at {speed:.6g} m/s')  # fmt: skip
            return
        st = p.header.stamp
        stamp_ns = st.sec * 1_000_000_000 + st.nanosec or array_ns
        if stamp_ns <= 0:
            diag.reject('missing_fields', f'participant {p.source_id}:{p.id}: no stamp')
            return
        key = (int(origin), p.source_id, int(p.id))
        row = self._rows.get(key)
        heading = p.heading_rad if math.isfinite(p.heading_rad) else math.atan2(vy, vx)
        course = math.atan2(vy, vx) if speed > 0.5 else heading
        if row is None:
            row = self._rows[key] = _Row(f'{p.source_id or origin.name.lower()}:{p.id}')
        else:
            dt = (stamp_ns - row.stamp_ns) * 1e-9
            if dt == 0.0:  # the same report again (v2x_rx republishes the latest state)
                diag.count('repeated_reports')
                return
            if dt < 0.0:
                diag.reject('out_of_order', f'participant {row.key}: stamp older than the last')
                return
            if MIN_DT_S <= dt <= MAX_DT_S:
                row.accel += ACCEL_SMOOTHING * ((speed - row.speed) / dt - row.accel)
                rate = _wrap(heading - row.heading) / dt
                row.yaw_rate += ACCEL_SMOOTHING * (rate - row.yaw_rate)
            elif dt > MAX_DT_S:
                row.accel = row.yaw_rate = 0.0
        cls = int(p.participant_class)
        size = p.size
        row.x, row.y, row.speed, row.course, row.heading = x, y, speed, course, heading
        if size.x > 0 and size.y > 0:
            row.length, row.width = size.x, size.y
        else:
            row.length, row.width = DEFAULT_SIZE_M.get(cls, DEFAULT_SIZE_M[0])
        row.cls, row.trust, row.stamp_ns, row.origin = cls, int(p.trust), stamp_ns, int(origin)
        if speed >= STILL_MPS:
            row.still_ns = 0
        elif not row.still_ns:
            row.still_ns = stamp_ns
        row.seen += 1

    def snapshot(self, now_ns: int, diag: Counter) -> Targets:
        """The targets to evaluate now; forgets expired rows, counts stale/untrusted ones."""
        cfg = self.config
        expire_ns = now_ns - round(cfg.expire_s * 1e9)
        fresh_ns = now_ns - round(cfg.max_age_s * 1e9)
        for key in [k for k, r in self._rows.items() if r.stamp_ns < expire_ns]:
            del self._rows[key]
        rows = [r for r in self._rows.values() if r.stamp_ns >= fresh_ns]
        stale = len(self._rows) - len(rows)
        if stale:
            diag.count('stale_targets', stale)
        f = np.array(list(map(_FLOATS, rows)), dtype=float).reshape(len(rows), 9)
        i = np.array(list(map(_INTS, rows)), dtype=np.int64).reshape(len(rows), 6)
        stamp, still = i[:, 4], i[:, 5]
        age = (now_ns - stamp) * 1e-9
        still_s = np.where(still > 0, (stamp - still) * 1e-9, 0.0)
        trust, seen = i[:, 1], i[:, 2]
        usable = trust != TRUST_MISBEHAVING
        if cfg.require_verified:
            usable &= (trust == TRUST_VERIFIED) & (seen >= cfg.min_seen)
        untrusted = int((~usable).sum())
        if untrusted:
            diag.count('untrusted_targets', untrusted)
        return Targets(
            keys=[r.key for r in rows], x=f[:, 0], y=f[:, 1], speed=f[:, 2], course=f[:, 3],
            heading=f[:, 4], accel=f[:, 5], yaw_rate=f[:, 6], length=f[:, 7], width=f[:, 8],
            cls=i[:, 0], trust=trust, age_s=age, still_s=still_s, seen=seen, origin=i[:, 3],
            usable=usable,
        )  # fmt: skip


def extrapolate(t: Targets) -> tuple[FloatArray, FloatArray]:
    """Positions moved forward by each report's age (constant acceleration over the age)."""
    d = travelled(t.speed, t.accel, np.maximum(t.age_s, 0.0))
    return t.x + d * np.cos(t.course), t.y + d * np.sin(t.course)

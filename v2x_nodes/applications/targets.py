"""The table of remote targets: latest state per participant, with derived motion.

Participants arrive in ParticipantArray messages (BSM-derived remote vehicles, RSM/SSM
roadside participants). Each (source, source_id, id) owns one row of numpy columns, so the
applications' per-cycle math is vectorised over all targets. Consecutive reports give the
longitudinal acceleration (EBW) and the yaw rate (CLW), which the Participant message does
not carry. Rows not refreshed for ``expire_s`` are freed.

Bad data is counted, never raised: non-finite position/velocity (``missing_fields``),
reports older than the row's (``out_of_order``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol

import numpy as np

from v2x_nodes.applications.kinematics import BoolArray, FloatArray, travelled, wrap
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


class Origin(IntEnum):
    """Which topic a target came from."""

    REMOTE_VEHICLE = 0  # v2x/remote_vehicles (BSM)
    ROADSIDE = 1  # v2x/roadside_participants (RSM / SSM)


class Counter(Protocol):
    def count(self, key: str, n: int = 1) -> None: ...

    def reject(self, reason: str, detail: str) -> None: ...


_FLOAT_COLS = ('x', 'y', 'speed', 'course', 'heading', 'accel', 'yaw_rate', 'length', 'width')
_INT_COLS = ('cls', 'trust', 'stamp_ns', 'seen', 'origin')


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
               'cls', 'trust', 'age_s', 'seen', 'origin', 'usable')  # fmt: skip


@dataclass(frozen=True)
class FilterConfig:
    max_age_s: float = 1.0  # older reports are stale: ignored for triggering
    expire_s: float = 5.0  # rows not refreshed this long are dropped
    require_verified: bool = False  # only TRUST_VERIFIED targets seen in >= min_seen reports
    min_seen: int = 2


class TargetTable:
    """Rows of target state keyed by origin, source and participant id."""

    def __init__(self, config: FilterConfig, capacity: int = 256) -> None:
        self.config = config
        self._slot: dict[tuple[int, str, int], int] = {}
        self._keys: list[str] = [''] * capacity
        self._free: list[int] = list(range(capacity - 1, -1, -1))
        self._used = np.zeros(capacity, dtype=bool)
        self._f = {n: np.zeros(capacity) for n in _FLOAT_COLS}
        self._i = {n: np.zeros(capacity, dtype=np.int64) for n in _INT_COLS}

    def __len__(self) -> int:
        return len(self._slot)

    def _grow(self) -> None:
        old = len(self._used)
        self._used = np.concatenate((self._used, np.zeros(old, dtype=bool)))
        for cols in (self._f, self._i):
            for n, a in cols.items():
                cols[n] = np.concatenate((a, np.zeros_like(a)))
        self._keys.extend([''] * old)
        self._free.extend(range(2 * old - 1, old - 1, -1))

    def ingest(self, msg: Any, origin: Origin, diag: Counter) -> None:
        """Update the rows from one ParticipantArray; bad participants are counted."""
        array_ns = m.to_ns(msg.header.stamp)
        for p in msg.participants:
            self.update(p, origin, array_ns, diag)

    def update(self, p: Any, origin: Origin, array_ns: int, diag: Counter) -> None:
        pos, vel = p.position, p.velocity
        if not (math.isfinite(pos.x) and math.isfinite(pos.y)
                and math.isfinite(vel.x) and math.isfinite(vel.y)):  # fmt: skip
            diag.reject('missing_fields', f'participant {p.source_id}:{p.id}: non-finite state')
            return
        stamp_ns = m.to_ns(p.header.stamp) or array_ns
        if stamp_ns <= 0:
            diag.reject('missing_fields', f'participant {p.source_id}:{p.id}: no stamp')
            return
        key = (int(origin), p.source_id, int(p.id))
        slot = self._slot.get(key)
        f, i = self._f, self._i
        speed = math.hypot(vel.x, vel.y)
        heading = p.heading_rad if math.isfinite(p.heading_rad) else math.atan2(vel.y, vel.x)
        course = math.atan2(vel.y, vel.x) if speed > 0.5 else heading
        if slot is None:
            if not self._free:
                self._grow()
            slot = self._free.pop()
            self._slot[key] = slot
            self._keys[slot] = f'{p.source_id or origin.name.lower()}:{p.id}'
            self._used[slot] = True
            i['seen'][slot] = 0
            f['accel'][slot] = 0.0
            f['yaw_rate'][slot] = 0.0
        else:
            dt = (stamp_ns - i['stamp_ns'][slot]) * 1e-9
            if dt <= 0.0:
                diag.reject('out_of_order', f'participant {self._keys[slot]}: stamp not newer')
                return
            if MIN_DT_S <= dt <= MAX_DT_S:
                a = (speed - f['speed'][slot]) / dt
                r = float(wrap(heading - f['heading'][slot])) / dt
                f['accel'][slot] += ACCEL_SMOOTHING * (a - f['accel'][slot])
                f['yaw_rate'][slot] += ACCEL_SMOOTHING * (r - f['yaw_rate'][slot])
            elif dt > MAX_DT_S:
                f['accel'][slot] = 0.0
                f['yaw_rate'][slot] = 0.0
        cls = int(p.participant_class)
        dl, dw = DEFAULT_SIZE_M.get(cls, DEFAULT_SIZE_M[0])
        f['x'][slot] = pos.x
        f['y'][slot] = pos.y
        f['speed'][slot] = speed
        f['course'][slot] = course
        f['heading'][slot] = heading
        f['length'][slot] = p.size.x if p.size.x > 0 else dl
        f['width'][slot] = p.size.y if p.size.y > 0 else dw
        i['cls'][slot] = cls
        i['trust'][slot] = int(p.trust)
        i['stamp_ns'][slot] = stamp_ns
        i['seen'][slot] += 1
        i['origin'][slot] = int(origin)

    def snapshot(self, now_ns: int, diag: Counter) -> Targets:
        """The targets to evaluate now; frees expired rows, counts stale/untrusted ones."""
        cfg = self.config
        age = (now_ns - self._i['stamp_ns']) * 1e-9
        expired = self._used & (age > cfg.expire_s)
        if expired.any():
            dead = set(np.flatnonzero(expired).tolist())
            for key in [k for k, s in self._slot.items() if s in dead]:
                del self._slot[key]
            self._used[expired] = False
            self._free.extend(sorted(dead, reverse=True))
        live = self._used & (age <= cfg.max_age_s)
        stale = int((self._used & ~live).sum())
        if stale:
            diag.count('stale_targets', stale)
        idx = np.flatnonzero(live)
        trust = self._i['trust'][idx]
        seen = self._i['seen'][idx]
        usable = trust != TRUST_MISBEHAVING
        if cfg.require_verified:
            usable &= (trust == TRUST_VERIFIED) & (seen >= cfg.min_seen)
        untrusted = int((~usable).sum())
        if untrusted:
            diag.count('untrusted_targets', untrusted)
        f, i = self._f, self._i
        return Targets(
            keys=[self._keys[s] for s in idx],
            x=f['x'][idx], y=f['y'][idx], speed=f['speed'][idx], course=f['course'][idx],
            heading=f['heading'][idx], accel=f['accel'][idx], yaw_rate=f['yaw_rate'][idx],
            length=f['length'][idx], width=f['width'][idx], cls=i['cls'][idx], trust=trust,
            age_s=age[idx], seen=seen, origin=i['origin'][idx], usable=usable,
        )  # fmt: skip


def extrapolate(t: Targets) -> tuple[FloatArray, FloatArray]:
    """Positions moved forward by each report's age (constant acceleration over the age)."""
    d = travelled(t.speed, t.accel, np.maximum(t.age_s, 0.0))
    return t.x + d * np.cos(t.course), t.y + d * np.sin(t.course)

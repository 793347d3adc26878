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
from array import array
from dataclasses import dataclass
from enum import IntEnum
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
    usable: BoolArray  # passes the trust / repetition / velocity-certainty filter
    speed_var: FloatArray  # variance of the reported velocity, m²/s² (-1: not reported)

    def __len__(self) -> int:
        return len(self.keys)

    def select(self, mask: BoolArray) -> Targets:
        idx = np.flatnonzero(mask)
        cols = {n: getattr(self, n)[idx] for n in _SELECTABLE}
        return Targets(keys=[self.keys[i] for i in idx], **cols)


_SELECTABLE = ('x', 'y', 'speed', 'course', 'heading', 'accel', 'yaw_rate', 'length', 'width',
               'cls', 'trust', 'age_s', 'still_s', 'seen', 'origin', 'usable',
               'speed_var')  # fmt: skip


@dataclass(frozen=True)
class FilterConfig:
    max_age_s: float = 1.0  # older reports are stale: ignored for triggering
    expire_s: float = 5.0  # rows not refreshed this long are dropped
    require_verified: bool = False  # only TRUST_VERIFIED targets seen in >= min_seen reports
    min_seen: int = 2
    # a report whose velocity is less certain than this (a roadside track still converging
    # from rest: its first second reports a few m/s for a car at 10 m/s) is not used
    max_speed_sigma_mps: float = 1.5


_FLOAT_COLS = ('x', 'y', 'speed', 'course', 'heading', 'accel', 'yaw_rate', 'length', 'width',
               'speed_var')  # fmt: skip
_INT_COLS = ('cls', 'trust', 'seen', 'origin', 'stamp_ns', 'still_ns', 'used')


def _wrap(a: float) -> float:
    return (a + math.pi) % (2.0 * math.pi) - math.pi


class TargetTable:
    """Rows of target state keyed by origin, source and participant id.

    The rows are slots in typed columns (``array.array``: an update sets a dozen C values,
    as cheap as setting Python attributes) that the cycle's ``snapshot`` views as numpy
    arrays without converting each value: the hot paths are one Python update per report
    and one vectorised gather per cycle. Freed slots are reused.
    """

    def __init__(self, config: FilterConfig) -> None:
        self.config = config
        self._slot: dict[tuple[int, str, int], int] = {}
        self._keys: list[str] = []
        self._free: list[int] = []
        for name in _FLOAT_COLS:
            setattr(self, f'_{name}', array('d'))
        for name in _INT_COLS:
            setattr(self, f'_{name}', array('q'))

    def __len__(self) -> int:
        return len(self._slot)

    def _new_slot(self, key: tuple[int, str, int], label: str) -> int:
        if self._free:
            i = self._free.pop()
            self._keys[i] = label
            for name in _FLOAT_COLS:
                getattr(self, f'_{name}')[i] = 0.0
            for name in _INT_COLS:
                getattr(self, f'_{name}')[i] = 0
        else:
            i = len(self._keys)
            self._keys.append(label)
            for name in _FLOAT_COLS:
                getattr(self, f'_{name}').append(0.0)
            for name in _INT_COLS:
                getattr(self, f'_{name}').append(0)
        self._used[i] = 1
        self._slot[key] = i
        return i

    def ingest(self, msg: Any, origin: Origin, diag: Counter) -> None:
        """Update the rows from one ParticipantArray; bad participants are counted."""
        array_ns = m.to_ns(msg.header.stamp)
        update = self.update
        for p in msg.participants:
            update(p, origin, array_ns, diag)

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
        i = self._slot.get(key)
        heading = p.heading_rad if math.isfinite(p.heading_rad) else math.atan2(vy, vx)
        course = math.atan2(vy, vx) if speed > 0.5 else heading
        accel_col, rate_col = self._accel, self._yaw_rate
        if i is None:
            i = self._new_slot(key, f'{p.source_id or origin.name.lower()}:{p.id}')
        else:
            dt = (stamp_ns - self._stamp_ns[i]) * 1e-9
            if dt == 0.0:  # the same report again (v2x_rx republishes the latest state)
                diag.count('repeated_reports')
                return
            if dt < 0.0:
                diag.reject('out_of_order', f'participant {self._keys[i]}: stamp older than '
                            'the last')  # fmt: skip
                return
            if MIN_DT_S <= dt <= MAX_DT_S:
                accel_col[i] += ACCEL_SMOOTHING * ((speed - self._speed[i]) / dt - accel_col[i])
                rate = _wrap(heading - self._heading[i]) / dt
                rate_col[i] += ACCEL_SMOOTHING * (rate - rate_col[i])
            elif dt > MAX_DT_S:
                accel_col[i] = rate_col[i] = 0.0
        cls = int(p.participant_class)
        size = p.size
        self._x[i] = x
        self._y[i] = y
        self._speed[i] = speed
        self._course[i] = course
        self._heading[i] = heading
        if size.x > 0 and size.y > 0:
            self._length[i], self._width[i] = size.x, size.y
        else:
            self._length[i], self._width[i] = DEFAULT_SIZE_M.get(cls, DEFAULT_SIZE_M[0])
        self._cls[i] = cls
        self._trust[i] = int(p.trust)
        self._origin[i] = origin
        self._stamp_ns[i] = stamp_ns
        cov = p.covariance  # [x, y, vx, vy] row-major: vx at 10, vy at 15; -1 unknown
        var = max(cov[10], cov[15])
        self._speed_var[i] = -1.0 if math.isnan(var) else var  # NaN: not reported
        still = self._still_ns
        if speed >= STILL_MPS:
            still[i] = 0
        elif not still[i]:
            still[i] = stamp_ns
        self._seen[i] += 1

    def _col(self, name: str, dtype: type) -> np.ndarray:
        return np.frombuffer(getattr(self, f'_{name}'), dtype=dtype)

    def snapshot(self, now_ns: int, diag: Counter) -> Targets:
        """The targets to evaluate now; forgets expired rows, counts stale/untrusted ones."""
        cfg = self.config
        expire_ns = now_ns - round(cfg.expire_s * 1e9)
        fresh_ns = now_ns - round(cfg.max_age_s * 1e9)
        used = self._col('used', np.int64) > 0
        stamp = self._col('stamp_ns', np.int64)
        expired = np.flatnonzero(used & (stamp < expire_ns))
        if len(expired):
            gone = {int(i) for i in expired}
            for key in [k for k, i in self._slot.items() if i in gone]:
                del self._slot[key]
            for i in gone:
                self._used[i] = 0
                self._free.append(i)
            used = self._col('used', np.int64) > 0
        fresh = used & (stamp >= fresh_ns)
        idx = np.flatnonzero(fresh)
        stale = int(used.sum()) - len(idx)
        if stale:
            diag.count('stale_targets', stale)
        f = {n: self._col(n, np.float64)[idx] for n in _FLOAT_COLS}
        ints = {n: self._col(n, np.int64)[idx] for n in _INT_COLS}
        st, still = ints['stamp_ns'], ints['still_ns']
        trust, seen = ints['trust'], ints['seen']
        usable = trust != TRUST_MISBEHAVING
        if cfg.require_verified:
            usable &= (trust == TRUST_VERIFIED) & (seen >= cfg.min_seen)
        untrusted = int((~usable).sum())
        if untrusted:
            diag.count('untrusted_targets', untrusted)
        uncertain = f['speed_var'] > cfg.max_speed_sigma_mps**2
        if uncertain.any():
            diag.count('uncertain_velocity_targets', int(uncertain.sum()))
            usable &= ~uncertain
        keys = self._keys
        return Targets(
            keys=[keys[i] for i in idx.tolist()], **f, cls=ints['cls'], trust=trust,
            age_s=(now_ns - st) * 1e-9, still_s=np.where(still > 0, (st - still) * 1e-9, 0.0),
            seen=seen, origin=ints['origin'], usable=usable,
        )  # fmt: skip


def extrapolate(t: Targets) -> tuple[FloatArray, FloatArray]:
    """Positions moved forward by each report's age (constant acceleration over the age)."""
    d = travelled(t.speed, t.accel, np.maximum(t.age_s, 0.0))
    return t.x + d * np.cos(t.course), t.y + d * np.sin(t.course)

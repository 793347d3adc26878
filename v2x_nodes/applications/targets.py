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
from typing import Any, Protocol, TypeAlias

import numpy as np

from v2x_nodes.applications.kinematics import BoolArray, FloatArray, travelled, wrap
from v2x_runtime import messages as m
from v2x_runtime.identity_memo import IdentityMemo

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
    pos_var: FloatArray  # variance of the reported position, m² (-1: not reported)

    def __len__(self) -> int:
        return len(self.keys)

    def select(self, mask: BoolArray) -> Targets:
        idx = mask.nonzero()[0]
        cols = {n: getattr(self, n)[idx] for n in _SELECTABLE}
        return Targets(keys=[self.keys[i] for i in idx], **cols)


_SELECTABLE = ('x', 'y', 'speed', 'course', 'heading', 'accel', 'yaw_rate', 'length', 'width',
               'cls', 'trust', 'age_s', 'still_s', 'seen', 'origin', 'usable',
               'speed_var', 'pos_var')  # fmt: skip


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
               'speed_var', 'pos_var')  # fmt: skip
_INT_COLS = ('cls', 'trust', 'seen', 'origin', 'stamp_ns', 'still_ns', 'used')
# One pending report: the 9 values it sets (x, y, speed, course, heading, length, width, speed
# and position variance: ``_derive``) and 8 integers (class, trust, stamp sec, stamp nanosec,
# its check ``_OK``/``_NOT_FINITE``/``_IMPLAUSIBLE``, the array's stamp, origin, its row or -1:
# new).
_PF, _PI = 9, 8
_OK, _NOT_FINITE, _IMPLAUSIBLE = 0, 1, 2
_SPEED, _HEADING, _ACCEL, _YAW_RATE = (_FLOAT_COLS.index(n) for n in
                                        ('speed', 'heading', 'accel', 'yaw_rate'))  # fmt: skip
_SEEN, _STAMP, _STILL, _USED = (_INT_COLS.index(n) for n in
                                ('seen', 'stamp_ns', 'still_ns', 'used'))  # fmt: skip
# the columns a report sets, in the order of the flush's stacked new values
_SET_F = np.array([_FLOAT_COLS.index(n) for n in (
    'x', 'y', 'speed', 'course', 'heading', 'length', 'width', 'speed_var', 'pos_var'
)])[:, None]  # fmt: skip
_SET_SPEED, _SET_HEADING = 2, 4
_SET_I = np.array([_INT_COLS.index(n) for n in ('cls', 'trust', 'origin', 'stamp_ns')])[:, None]
_SET_STAMP = 3
_N_CLASSES = 256  # participant_class is a uint8
_DEFAULT_LENGTH_F = [DEFAULT_SIZE_M.get(c, DEFAULT_SIZE_M[0])[0] for c in range(_N_CLASSES)]
_DEFAULT_WIDTH_F = [DEFAULT_SIZE_M.get(c, DEFAULT_SIZE_M[0])[1] for c in range(_N_CLASSES)]
_X, _Y, _COURSE, _LENGTH, _WIDTH, _SPEED_VAR, _POS_VAR = (_FLOAT_COLS.index(n) for n in (
    'x', 'y', 'course', 'length', 'width', 'speed_var', 'pos_var'))  # fmt: skip
_CLS, _TRUST, _ORIGIN = (_INT_COLS.index(n) for n in ('cls', 'trust', 'origin'))
_TWO_PI = 2.0 * math.pi  # kinematics.wrap's period, as it computes it
isfinite, isnan = math.isfinite, math.isnan


# What the participants read lately give the pending buffers, by object: (the 9 values it
# sets and its class, trust, stamp and check, as the buffers' arrays, source id, id). The
# simulated cars' receivers share one decoded roadside participant (and one remote vehicle's
# participant is republished unchanged), so each is read and derived once, not once per car
# and report: a participant is one object, its values depend on it alone. Bounded at about 1
# s of the dense scenario's roadside and BSM participants.
_Read: TypeAlias = 'tuple[array[float], array[int], Any, Any]'
_READ: IdentityMemo[_Read] = IdentityMemo(4096)


def _read(p: Any) -> _Read:
    """The values participant ``p`` gives ``TargetTable.ingest``'s pending buffers, kept in
    ``_READ``. Raises what the buffers raise for a field that is no number (TypeError,
    OverflowError) and AttributeError for a missing one."""
    pos, vel, size, st = p.position, p.velocity, p.size, p.header.stamp
    cov = p.covariance  # [x, y, vx, vy] row-major: x at 0, y at 5, vx 10, vy 15
    raw = array('d', (pos.x, pos.y, vel.x, vel.y, p.heading_rad, size.x, size.y, cov[10],
                      cov[15], cov[0], cov[5]))  # fmt: skip
    head = array('q', (p.participant_class, p.trust, st.sec, st.nanosec, 0))
    f, head[4] = _derive(raw, head[0])
    return _READ.put(p, (f, head, p.source_id, p.id))


def _derive(raw: array[float], cls: int) -> tuple[array[float], int]:
    """The values a report sets (``_PF``) from its 11 raw fields (x, y, vx, vy, heading,
    size x, size y, the vx, vy, x and y variances) and its check: what the flush computed per
    report, the same numbers (speed and course from numpy's hypot and arctan2, the rest the
    same IEEE comparisons; the variances' larger as ``_flush_few`` takes it)."""
    x, y, vx, vy, heading, size_x, size_y, var_vx, var_vy, var_x, var_y = raw
    with np.errstate(invalid='ignore', over='ignore'):
        speed = float(np.hypot(vx, vy))
        course_new = float(np.arctan2(vy, vx))
    if not (isfinite(x) and isfinite(y) and isfinite(vx) and isfinite(vy)):
        check = _NOT_FINITE
    elif abs(x) <= MAX_COORD_M and abs(y) <= MAX_COORD_M and speed <= MAX_SPEED_MPS:
        check = _OK
    else:
        check = _IMPLAUSIBLE
    if not isfinite(heading):
        heading = course_new
    dflt = cls if 0 <= cls < _N_CLASSES else 0
    sized = size_x > 0 and size_y > 0
    var = var_vx if var_vx >= var_vy or isnan(var_vy) else var_vy  # np.fmax
    pvar = var_x if var_x >= var_y or isnan(var_y) else var_y
    return array('d', (
        x, y, speed, course_new if speed > 0.5 else heading, heading,
        size_x if sized else _DEFAULT_LENGTH_F[dflt], size_y if sized else _DEFAULT_WIDTH_F[dflt],
        -1.0 if isnan(var) else var, -1.0 if isnan(pvar) else pvar,
    )), check  # fmt: skip


class TargetTable:
    """Rows of target state keyed by origin, source and participant id.

    Receiving a ParticipantArray only copies each participant's fields into flat pending
    buffers (``array.array``); ``flush`` (at the start of every cycle) checks and applies
    them all at once with numpy, in arrival order per row (a row reported twice since the
    last flush is updated twice, in order). Rows are slots in numpy columns that
    ``snapshot`` gathers; freed slots are reused. Bad reports are counted at the flush.

    A flush of at most ``few_reports`` (a car's cycle: a handful of neighbours) applies them
    one by one in floats instead: some forty numpy calls on arrays of a few elements cost
    more than the arithmetic. The same numbers either way (the speed and course still come
    from numpy's hypot and arctan2, the rest is IEEE arithmetic in the same order), and the
    same diagnostics in the same order; a test holds the two paths equal.
    """

    few_reports = 32

    def __init__(self, config: FilterConfig) -> None:
        self.config = config
        self._slot: dict[tuple[int, str, int], int] = {}
        self._keys: list[str] = []
        self._free: list[int] = []
        self._n = 0  # slots in use or free: the columns' filled length
        self._f = np.zeros((len(_FLOAT_COLS), 16))  # one row per column, one column per slot
        self._i = np.zeros((len(_INT_COLS), 16), dtype=np.int64)
        self._pending_keys: list[tuple[int, str, int]] = []
        self._pending_f = array('d')
        self._pending_i = array('q')
        self._expire_ns = round(config.expire_s * 1e9)  # (snapshot's thresholds, from now)
        self._fresh_ns = round(config.max_age_s * 1e9)

    def __len__(self) -> int:
        return len(self._slot)

    def _new_slot(self, key: tuple[int, str, int], label: str) -> int:
        if self._free:
            i = self._free.pop()
            self._keys[i] = label
            self._f[:, i] = 0.0
            self._i[:, i] = 0
        else:
            i = self._n
            self._n += 1
            self._keys.append(label)
            if i == self._f.shape[1]:
                self._f = np.concatenate((self._f, np.zeros_like(self._f)), axis=1)
                self._i = np.concatenate((self._i, np.zeros_like(self._i)), axis=1)
        self._i[_USED, i] = 1
        self._slot[key] = i
        return i

    def ingest(self, msg: Any, origin: Origin, diag: Counter) -> None:
        """Queue the reports of one ParticipantArray for the next ``flush``.

        A participant's fields are read once per object (``_READ``), numbers converted."""
        array_ns = m.to_ns(msg.header.stamp)
        o = int(origin)
        keys, fl, ints = self._pending_keys, self._pending_f, self._pending_i
        slot_of = self._slot.get  # valid until the flush: rows expire only after it
        kept = _READ.get
        for p in msg.participants:
            try:
                f, head, source_id, pid = kept(p) or _read(p)
                key = (o, source_id, pid)
                slot = slot_of(key, -1)
                fl += f
                ints += head
                ints.extend((array_ns, o, slot))
            except (AttributeError, TypeError, OverflowError) as err:  # not a number
                del fl[_PF * len(keys) :], ints[_PI * len(keys) :]  # extend may stop halfway
                diag.reject('missing_fields', f'participant: {err}')
                continue
            keys.append(key)

    def flush(self, diag: Counter) -> None:
        """Apply the queued reports: bad ones are counted, repeated ones skipped."""
        keys = self._pending_keys
        n = len(keys)
        if not n:
            return
        if n <= self.few_reports:
            self._flush_few(diag)
            return
        fl = np.frombuffer(self._pending_f, dtype=np.float64).reshape(n, _PF).copy()
        ints = np.frombuffer(self._pending_i, dtype=np.int64).reshape(n, _PI).copy()
        self._pending_keys, self._pending_f, self._pending_i = [], array('d'), array('q')
        stamp = ints[:, 2] * 1_000_000_000 + ints[:, 3]
        stamp = np.where(stamp != 0, stamp, ints[:, 5])
        check = ints[:, 4]
        good = (check == _OK) & (stamp > 0)
        if not good.all():
            self._reject((~good).nonzero()[0].tolist(), keys, check != _NOT_FINITE,
                         check != _IMPLAUSIBLE, fl, fl[:, 2], diag)  # fmt: skip
        # a new key gets its slot at its first good report, in arrival order
        rows = good.nonzero()[0]
        slots = ints[rows, 7]  # looked up at ingest (-1: new then)
        first = slots < 0
        for j in first.nonzero()[0].tolist():
            slots[j], first[j] = self._slot_for(keys[int(rows[j])])
        # the new values of the columns a report sets, in the table's row order
        nf = fl.T
        ni = np.stack((ints[:, 0], ints[:, 1], ints[:, 6], stamp))
        # rounds: the k-th report of each row since the last flush goes in round k
        if len(slots) < 2 or np.bincount(slots).max() == 1:
            rounds = [np.arange(len(slots))]
        else:
            order = np.argsort(slots, kind='stable')
            ss = slots[order]
            start = np.r_[True, ss[1:] != ss[:-1]].nonzero()[0]
            rank = np.empty(len(ss), dtype=np.int64)
            rank[order] = np.arange(len(ss)) - np.repeat(start, np.diff(np.r_[start, len(ss)]))
            rounds = [(rank == k).nonzero()[0] for k in range(int(rank.max()) + 1)]
        for sel in rounds:
            self._apply(slots[sel], rows[sel], first[sel], nf, ni, diag)

    def _apply(  # noqa: PLR0917 (one round of the flush, its arrays as they are)
        self, s: np.ndarray, r: np.ndarray, new: np.ndarray, nf: np.ndarray, ni: np.ndarray,
        diag: Counter,
    ) -> None:  # fmt: skip
        """One round of updates: slots ``s`` (distinct) from reports ``r``."""
        f, ints = self._f, self._i
        stamp = ni[_SET_STAMP, r]
        dt = (stamp - ints[_STAMP, s]) * 1e-9
        old = ~new
        repeated = old & (dt == 0.0)  # the same report again (v2x_rx republishes it)
        n_rep = int(repeated.sum())
        if n_rep:
            diag.count('repeated_reports', n_rep)
        late = old & (dt < 0.0)
        self._out_of_order(s[late].tolist(), diag)
        take = new | (dt > 0.0)
        if not take.all():
            s, r, dt, old = s[take], r[take], dt[take], old[take]
        speed, heading = nf[_SET_SPEED, r], nf[_SET_HEADING, r]
        deriv = old & (dt >= MIN_DT_S) & (dt <= MAX_DT_S)
        if deriv.any():
            sd, dtd = s[deriv], dt[deriv]
            acc, rate = f[_ACCEL], f[_YAW_RATE]
            acc[sd] += ACCEL_SMOOTHING * ((speed[deriv] - f[_SPEED, sd]) / dtd - acc[sd])
            turn = wrap(heading[deriv] - f[_HEADING, sd]) / dtd
            rate[sd] += ACCEL_SMOOTHING * (turn - rate[sd])
        gone = s[old & (dt > MAX_DT_S)]
        f[_ACCEL, gone] = 0.0
        f[_YAW_RATE, gone] = 0.0
        f[_SET_F, s[None, :]] = nf[:, r]
        still = ints[_STILL, s]
        ints[_STILL, s] = np.where(speed >= STILL_MPS, 0, np.where(still != 0, still,
                                                                   ni[_SET_STAMP, r]))  # fmt: skip
        ints[_SET_I, s[None, :]] = ni[:, r]
        ints[_SEEN, s] += 1

    def _slot_for(self, key: tuple[int, str, int]) -> tuple[int, bool]:
        """The slot of a report whose key had none at ingest, and whether it is new: a key
        gets its slot at its first good report (a second one of the same flush finds it)."""
        i = self._slot.get(key)
        if i is None:
            return self._new_slot(key, f'{key[1] or Origin(key[0]).name.lower()}:{key[2]}'), True
        return i, False

    def _out_of_order(self, slots: list[int], diag: Counter) -> None:
        for i in slots:
            diag.reject('out_of_order', f'participant {self._keys[i]}: stamp older than the last')

    def _flush_few(self, diag: Counter) -> None:
        """``flush`` of a few reports, one by one in floats (the vector path's rules, in
        its order: bad reports rejected, new rows given slots, then the rounds)."""
        keys, pf, pi = self._pending_keys, self._pending_f, self._pending_i
        self._pending_keys, self._pending_f, self._pending_i = [], array('d'), array('q')
        n = len(keys)
        stamps = []
        for r in range(n):
            stamp = pi[_PI * r + 2] * 1_000_000_000 + pi[_PI * r + 3]
            stamps.append(stamp if stamp != 0 else pi[_PI * r + 5])
        checks = pi[4::_PI]
        good = [r for r in range(n) if checks[r] == _OK and stamps[r] > 0]
        if len(good) < n:
            bad = sorted(set(range(n)) - set(good))
            fl = np.frombuffer(pf, dtype=np.float64).reshape(n, _PF)
            self._reject(bad, keys, [c != _NOT_FINITE for c in checks],
                         [c != _IMPLAUSIBLE for c in checks], fl, pf[2::_PF], diag)  # fmt: skip
        if not good:
            return
        slots, new = [], []
        for r in good:
            i = pi[_PI * r + 7]
            slot, first = (i, False) if i >= 0 else self._slot_for(keys[r])
            slots.append(slot)
            new.append(first)
        # the touched rows as lists, updated in order, written back at once
        cols = sorted(set(slots))
        at = {i: j for j, i in enumerate(cols)}
        rows_f = self._f[:, cols].T.tolist()
        rows_i = self._i[:, cols].T.tolist()
        # rounds: the k-th report of each row since the last flush goes in round k
        rounds: list[list[int]] = []
        times: dict[int, int] = {}
        for j, i in enumerate(slots):
            k = times.get(i, 0)
            times[i] = k + 1
            if k == len(rounds):
                rounds.append([])
            rounds[k].append(j)
        for members in rounds:
            dts, n_rep, late = [], 0, []
            for j in members:
                dt = (stamps[good[j]] - rows_i[at[slots[j]]][_STAMP]) * 1e-9
                dts.append(dt)
                if not new[j] and dt <= 0.0:
                    if dt == 0.0:
                        n_rep += 1
                    else:
                        late.append(slots[j])
            if n_rep:
                diag.count('repeated_reports', n_rep)
            self._out_of_order(late, diag)
            for j, dt in zip(members, dts, strict=True):
                if new[j] or dt > 0.0:
                    r, row = good[j], at[slots[j]]
                    _apply_one(rows_f[row], rows_i[row], pf[_PF * r : _PF * r + _PF],
                               pi[_PI * r : _PI * r + _PI], stamps[r],
                               None if new[j] else dt)  # fmt: skip
        self._f[:, cols] = np.array(rows_f).T
        self._i[:, cols] = np.array(rows_i, dtype=np.int64).T

    def _reject(  # noqa: PLR0917 (the flush's columns, passed on as they are)
        self, bad: list[int], keys: list[tuple[int, str, int]], finite: Any,
        plausible: Any, fl: np.ndarray, speed: Any, diag: Counter,
    ) -> None:  # fmt: skip
        for r in bad:
            who = f'participant {keys[r][1]}:{keys[r][2]}'
            if not finite[r]:
                diag.reject('missing_fields', f'{who}: non-finite state')
            elif not plausible[r]:
                diag.reject('implausible', f'{who}: ({fl[r, 0]:.6g}, {fl[r, 1]:.6g}) '
                            f'at {speed[r]:.6g} m/s')  # fmt: skip
            else:
                diag.reject('missing_fields', f'{who}: no stamp')

    def snapshot(self, now_ns: int, diag: Counter) -> Targets:
        """The targets to evaluate now (after ``flush``); forgets expired rows, counts
        stale/untrusted ones."""
        self.flush(diag)
        cfg = self.config
        n = self._n
        used = self._i[_USED, :n] > 0
        stamp = self._i[_STAMP, :n]
        expired = (used & (stamp < now_ns - self._expire_ns)).nonzero()[0]
        if len(expired):
            gone = set(expired.tolist())
            for key in [k for k, i in self._slot.items() if i in gone]:
                del self._slot[key]
            for i in gone:
                self._i[_USED, i] = 0
                self._free.append(i)
            used = self._i[_USED, :n] > 0
        idx = (used & (stamp >= now_ns - self._fresh_ns)).nonzero()[0]
        stale = len(self._slot) - len(idx)  # (the slots in use are the keyed ones)
        if stale:
            diag.count('stale_targets', stale)
        # one gather each (rows are columns), unpacked into the columns' row views
        x, y, speed, course, heading, accel, yaw_rate, length, width, speed_var, pos_var = (
            self._f[:, idx])  # fmt: skip
        cls, trust, seen, origin, st, still, _ = self._i[:, idx]
        usable = trust != TRUST_MISBEHAVING
        if cfg.require_verified:
            usable &= (trust == TRUST_VERIFIED) & (seen >= cfg.min_seen)
        untrusted = len(idx) - int(np.count_nonzero(usable))
        if untrusted:
            diag.count('untrusted_targets', untrusted)
        uncertain = speed_var > cfg.max_speed_sigma_mps**2
        n_uncertain = int(np.count_nonzero(uncertain))
        if n_uncertain:
            diag.count('uncertain_velocity_targets', n_uncertain)
            usable &= ~uncertain
        keys = self._keys
        return Targets(
            keys=[keys[i] for i in idx.tolist()], x=x, y=y, speed=speed, course=course,
            heading=heading, accel=accel, yaw_rate=yaw_rate, length=length, width=width,
            cls=cls, trust=trust, age_s=(now_ns - st) * 1e-9,
            still_s=np.where(still > 0, (st - still) * 1e-9, 0.0), seen=seen, origin=origin,
            usable=usable, speed_var=speed_var, pos_var=pos_var,
        )  # fmt: skip


def _apply_one(  # noqa: PLR0917 (one report: its row, its values, as the flush has them)
    f: list[float], ints: list[int], fields: Any, codes: Any, stamp: int, dt: float | None
) -> None:  # fmt: skip
    """``TargetTable._apply`` for one report of the few-reports flush, in floats: the row's
    lists ``f``/``ints`` updated in place from the report's ``_PF`` values and ``_PI``
    integers; ``dt`` since its last report (None: a new row)."""
    x, y, speed, course, heading, length, width, speed_var, pos_var = fields
    if dt is not None:
        if MIN_DT_S <= dt <= MAX_DT_S:
            acc = f[_ACCEL]
            f[_ACCEL] = acc + ACCEL_SMOOTHING * ((speed - f[_SPEED]) / dt - acc)
            turn = ((heading - f[_HEADING] + math.pi) % _TWO_PI - math.pi) / dt  # wrap()
            rate = f[_YAW_RATE]
            f[_YAW_RATE] = rate + ACCEL_SMOOTHING * (turn - rate)
        elif dt > MAX_DT_S:
            f[_ACCEL] = f[_YAW_RATE] = 0.0
    f[_X], f[_Y], f[_SPEED], f[_COURSE], f[_HEADING] = x, y, speed, course, heading
    f[_LENGTH], f[_WIDTH], f[_SPEED_VAR], f[_POS_VAR] = length, width, speed_var, pos_var
    if speed >= STILL_MPS:
        ints[_STILL] = 0
    elif ints[_STILL] == 0:
        ints[_STILL] = stamp
    ints[_CLS], ints[_TRUST], ints[_ORIGIN], ints[_STAMP] = codes[0], codes[1], codes[6], stamp
    ints[_SEEN] += 1


def extrapolate(t: Targets) -> tuple[FloatArray, FloatArray]:
    """Positions moved forward by each report's age (constant acceleration over the age)."""
    d = travelled(t.speed, t.accel, np.maximum(t.age_s, 0.0))
    return t.x + d * np.cos(t.course), t.y + d * np.sin(t.course)

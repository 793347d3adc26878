"""Stable fused ids: a fused object keeps its id while any of its source objects continues.

Each cycle, a cluster of source objects inherits the id of the previous fused object that
shared the most source objects with it (ties: the older id). A cluster with no shared member
(every source re-initialised its track, or the object came back after a gap) may take the id
of a recently lost fused object within the gate, by one optimal assignment; otherwise it gets a
new id. Lost ids are remembered for ``hold_s`` for that purpose only, never output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from perception_nodes.fusion.association import assign, gated_costs
from perception_nodes.fusion.motion import predict_cv

MemberKey = tuple[int, str, int]


class _Cycle(NamedTuple):
    """The fused objects of one cycle, as the ids they were given remember them."""

    states: np.ndarray  # (N, 4), a copy
    covs: np.ndarray  # (N, 4, 4), a copy
    groups: list[int]
    stamp_ns: int


class IdentityKeeper:
    """Assigns fused ids to each cycle's clusters (ids start at 1, wrap below 2³²)."""

    def __init__(
        self, *, hold_s: float = 2.0, gate_chi2: float = 9.21, gate_max_m: float = 5.0
    ) -> None:
        self.hold_ns = int(hold_s * 1e9)
        self.gate_chi2 = gate_chi2
        self.gate_max_m = gate_max_m
        self._next_id = 1
        self._known: dict[int, tuple[_Cycle, int]] = {}  # fused id -> (its last cycle, row)
        self._owner: dict[MemberKey, int] = {}  # source object -> fused id last cycle

    def _new_id(self) -> int:
        while self._next_id in self._known or self._next_id == 0:
            self._next_id = (self._next_id + 1) % (1 << 32)
        out = self._next_id
        self._next_id = (self._next_id + 1) % (1 << 32)
        return out

    def assign(
        self,
        members: Sequence[Sequence[MemberKey]],
        states: np.ndarray,
        covs: np.ndarray,
        groups: np.ndarray,
        now_ns: int,
    ) -> list[int]:
        n = len(members)
        ids: list[int | None] = [None] * n
        # 1. inherit through shared source objects, strongest overlap first
        votes: list[tuple[int, int, int]] = []  # (-overlap, fused id, cluster)
        owner = self._owner
        for c, keys in enumerate(members):
            if len(keys) == 1:  # most clusters: one source object, one vote at most
                fid = owner.get(keys[0])
                if fid is not None:
                    votes.append((-1, fid, c))
                continue
            counts: dict[int, int] = {}
            for k in keys:
                fid = owner.get(k)
                if fid is not None:
                    counts[fid] = counts.get(fid, 0) + 1
            votes.extend((-cnt, fid, c) for fid, cnt in counts.items())
        taken: set[int] = set()
        for _, fid, c in sorted(votes):
            if ids[c] is None and fid not in taken:
                ids[c] = fid
                taken.add(fid)
        # 2. re-identify the rest against lost ids, by gated optimal assignment
        free = [c for c in range(n) if ids[c] is None]
        if free:
            lost = [fid for fid in self._known if fid not in taken]
            if lost:
                self._reidentify(
                    free=free,
                    lost=lost,
                    ids=ids,
                    taken=taken,
                    states=states,
                    covs=covs,
                    groups=groups,
                    now_ns=now_ns,
                )
        out = [i if i is not None else self._new_id() for i in ids]
        # 3. remember this cycle; forget ids lost for longer than hold_s
        self._owner = {k: fid for fid, keys in zip(out, members, strict=True) for k in keys}
        if n:  # one record per cycle; each id points at its row
            cycle = _Cycle(states.copy(), covs.copy(), groups.tolist(), now_ns)
            self._known.update({fid: (cycle, row) for row, fid in enumerate(out)})
        limit = now_ns - self.hold_ns
        for fid in [f for f, (c, _) in self._known.items() if c.stamp_ns < limit]:
            del self._known[fid]
        return out

    def _reidentify(
        self,
        *,
        free: list[int],
        lost: list[int],
        ids: list[int | None],
        taken: set[int],
        states: np.ndarray,
        covs: np.ndarray,
        groups: np.ndarray,
        now_ns: int,
    ) -> None:
        """Clusters ``free`` take ``lost`` ids within the gate (one optimal assignment)."""
        ks = [self._known[f] for f in lost]
        dt = np.array([(now_ns - c.stamp_ns) * 1e-9 for c, _ in ks])
        kx, kp = predict_cv(
            np.array([c.states[r] for c, r in ks]), np.array([c.covs[r] for c, r in ks]), dt, 1.0
        )
        cost = gated_costs(
            (kx, kp, np.array([c.groups[r] for c, r in ks])),
            (states[free], covs[free], groups[free]),
            gate_chi2=self.gate_chi2,
            gate_max_m=self.gate_max_m,
        )
        for r, c in zip(*assign(cost), strict=True):
            ids[free[c]] = lost[r]
            taken.add(lost[r])

"""The MapData a car has heard: the latest IntersectionMap of each node, dropped when stale.

An RSU repeats MapData (about once a second); a node not heard for ``timeout_s`` is no longer
in range or no longer broadcast and is dropped. The ingress lanes of every node still heard
are kept as flat segment arrays for ``mapdata_matching`` and rebuilt only when a node's
geometry or connections change (a repeated MAP only refreshes the time it was heard).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vehicle_nodes.hdmap.mapdata_lanes import IngressLane, NodeKey, NodeLanes, signature


@dataclass(frozen=True, eq=False)
class LaneSegments:
    """Every ingress lane's centre-line segments, flat; ``lane[i]`` indexes ``lanes``."""

    lanes: tuple[IngressLane, ...]
    a: np.ndarray  # (k, 2) segment starts
    d: np.ndarray  # (k, 2) segment vectors
    len2: np.ndarray
    length: np.ndarray
    heading: np.ndarray
    s0: np.ndarray  # arc length of the segment start along its lane
    lane: np.ndarray  # owning lane index
    first: np.ndarray  # bool: the lane's first segment
    last: np.ndarray  # bool: the lane's last segment (ends on the stop line)
    total: np.ndarray  # per lane: length to the stop line
    width_m: np.ndarray  # per lane; NaN: laneWidth absent
    index: dict[tuple[NodeKey, int], int]  # (node, lane id) → lane index
    lo: np.ndarray  # bounding box of every point
    hi: np.ndarray


def segments_of(lanes: tuple[IngressLane, ...]) -> LaneSegments | None:
    if not lanes:
        return None
    a, d, s0, owner, first, last, total = [], [], [], [], [], [], []
    for i, lane in enumerate(lanes):
        steps = np.diff(lane.xy, axis=0)
        seg_len = np.hypot(steps[:, 0], steps[:, 1])
        n = len(steps)
        a.append(lane.xy[:-1])
        d.append(steps)
        s0.append(np.concatenate(([0.0], np.cumsum(seg_len)[:-1])))
        owner.append(np.full(n, i, dtype=np.intp))
        mark = np.zeros(n, dtype=bool)
        first.append(mark.copy())
        first[-1][0] = True
        last.append(mark)
        last[-1][-1] = True
        total.append(float(seg_len.sum()))
    d_all = np.concatenate(d)
    len2 = np.einsum('ij,ij->i', d_all, d_all)
    points = np.concatenate([lane.xy for lane in lanes])
    return LaneSegments(
        lanes,
        np.concatenate(a),
        d_all,
        len2,
        np.sqrt(len2),
        np.arctan2(d_all[:, 1], d_all[:, 0]),
        np.concatenate(s0),
        np.concatenate(owner),
        np.concatenate(first),
        np.concatenate(last),
        np.array(total),
        np.array([lane.width_m for lane in lanes]),
        {(lane.node, lane.lane_id): i for i, lane in enumerate(lanes)},
        points.min(axis=0),
        points.max(axis=0),
    )


class MapDataStore:
    """Latest ``NodeLanes`` per node with the time it was heard (ns of the component's clock)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_ns = int(timeout_s * 1e9)
        self._nodes: dict[NodeKey, tuple[int, NodeLanes]] = {}
        self._message: dict[NodeKey, Any] = {}  # the last IntersectionMap object of each
        self._segments: LaneSegments | None = None
        self._start_heading: dict[NodeKey, dict[int, float]] = {}
        self._dirty = False
        self._oldest_ns: int | None = None

    def __len__(self) -> int:
        return len(self._nodes)

    def refresh(self, msg: Any, now_ns: int) -> NodeLanes | None:
        """The stored lanes of ``msg``'s node, its time renewed to ``now_ns``, when ``msg``
        is the message they came from again (a receiver re-publishes its shared conversion of
        an unchanged frame, and a published message never changes) or has their signature;
        None when the node is new or changed (parse it and ``put`` it)."""
        node = (int(msg.region), int(msg.node_id))
        old = self._nodes.get(node)
        if old is None:
            return None
        if self._message.get(node) is not msg:
            if old[1].signature != signature(msg):
                return None
            self._message[node] = msg
        self._nodes[node] = (now_ns, old[1])
        self._oldest_ns = min(t for t, _ in self._nodes.values())
        return old[1]

    def put(self, lanes: NodeLanes, now_ns: int, msg: Any = None) -> bool:
        """Store a node's lanes (parsed from ``msg``) heard at ``now_ns``; True when its
        content changed."""
        old = self._nodes.get(lanes.node)
        changed = old is None or old[1].signature != lanes.signature
        self._nodes[lanes.node] = (now_ns, lanes if changed else old[1])  # type: ignore[index]
        self._message[lanes.node] = msg
        if changed:
            self._dirty = True
        if self._oldest_ns is None or old is not None:
            self._oldest_ns = min(t for t, _ in self._nodes.values())
        return changed

    def prune(self, now_ns: int) -> list[NodeKey]:
        """Drop the nodes not heard for ``timeout_s``; returns them."""
        if self._oldest_ns is None or now_ns - self._oldest_ns <= self.timeout_ns:
            return []
        gone = [k for k, (t, _) in self._nodes.items() if now_ns - t > self.timeout_ns]
        for k in gone:
            del self._nodes[k]
            self._message.pop(k, None)
        self._dirty = True
        self._oldest_ns = min((t for t, _ in self._nodes.values()), default=None)
        return gone

    def _rebuild(self) -> None:
        nodes = [lanes for _, lanes in self._nodes.values()]
        self._segments = segments_of(tuple(ln for n in nodes for ln in n.ingress))
        self._start_heading = {n.node: n.start_heading_rad for n in nodes}
        self._dirty = False

    @property
    def segments(self) -> LaneSegments | None:
        """The ingress lanes of every node still heard (None when there is none)."""
        if self._dirty:
            self._rebuild()
        return self._segments

    @property
    def start_heading(self) -> dict[NodeKey, dict[int, float]]:
        """Per node, the start heading of each of its lanes (to classify connections)."""
        if self._dirty:
            self._rebuild()
        return self._start_heading

"""The ingress lanes of received MapData (``v2x_stack/msg/IntersectionMap``) as geometry.

A MapData node lists the lanes of every link that *enters* it (T/CSAE 53 Node → LinkList →
LaneList); each lane's PointList runs upstream to downstream and ends at the stop line, and its
``connectsTo`` entries name the lane it leads to beyond the node with the SPAT phase
(signal group) that controls the movement. A lane without connections leads nowhere through
its node (a road end, or the egress lanes an RSU lists under the arms' far nodes): its last
point is no stop line, so it is kept only as the target of other lanes' connections.

Lanes that cannot be used are reported, never raised: fewer than 2 points (a PointList is 0 or
2..31 points; 0 also when the receiver has no map origin), a point that is not finite, a
centre line of no length, or connection arrays of different lengths. Pure functions of the
message; ``mapdata_store`` keeps what they give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# MapLane.lane_type values a car drives in (TYPE_VEHICLE, TYPE_UNKNOWN: laneAttributes absent)
VEHICLE_LANE_TYPES = (0, 255)
MANEUVER_STRAIGHT, MANEUVER_LEFT, MANEUVER_RIGHT, MANEUVER_U_TURN = 1, 2, 4, 8
TURN_RAD = math.radians(30.0)  # heading change beyond which a movement is a turn
U_TURN_RAD = math.radians(150.0)

NodeKey = tuple[int, int]  # (region, node id): NodeReferenceID


@dataclass(frozen=True)
class Connection:
    """One ``connectsTo`` entry: the lane it leads to and the phase that controls it."""

    node: NodeKey
    lane_id: int  # 0: connectingLane absent
    phase_id: int  # 0: no signal group


@dataclass(frozen=True, eq=False)
class IngressLane:
    """A usable lane that enters ``node`` and connects through it; ``xy`` (n, 2) in the map
    frame, upstream to downstream, the last point on the stop line."""

    node: NodeKey
    lane_id: int
    xy: np.ndarray
    width_m: float  # NaN: laneWidth absent
    maneuvers: int  # AllowedManeuvers bits; 0: unknown
    speed_limit_mps: float  # NaN: none
    connections: tuple[Connection, ...]

    @property
    def final_heading_rad(self) -> float:
        """ENU yaw of the last segment (the direction at the stop line)."""
        d = self.xy[-1] - self.xy[-2]
        return math.atan2(float(d[1]), float(d[0]))


@dataclass(frozen=True)
class LaneProblem:
    """A lane that cannot be used: ``reason`` is the diagnostics key."""

    reason: str  # 'too_few_points' | 'not_finite' | 'no_length' | 'connections'
    detail: str


@dataclass(frozen=True)
class NodeLanes:
    """What one IntersectionMap gives: its usable ingress lanes, the start heading of every
    valid lane (the targets of connections, by lane id) and the lanes it refused."""

    node: NodeKey
    ingress: tuple[IngressLane, ...]
    start_heading_rad: dict[int, float]
    problems: tuple[LaneProblem, ...]
    signature: tuple[Any, ...]  # ``signature(msg)`` of the message it came from


def _value(v: float) -> float | None:
    return None if math.isnan(v) else v  # NaN (absent) compares equal to itself as None


def _seq(values: Any) -> tuple[Any, ...]:
    return tuple(values.tolist() if hasattr(values, 'tolist') else values)


def signature(msg: Any) -> tuple[Any, ...]:
    """Every value of an IntersectionMap that ``node_lanes`` reads, as plain Python: equal
    signatures give equal lanes, so a repeated MAP (an RSU sends it every second) is not
    parsed again. Costs a tenth of ``node_lanes``."""
    return (
        int(msg.region),
        int(msg.node_id),
        tuple(
            (
                lane.lane_id,
                lane.lane_type,
                _value(lane.width_m),
                lane.maneuvers,
                lane.maneuvers_known,
                _value(lane.speed_limit_mps),
                tuple((_value(p.x), _value(p.y)) for p in lane.points),
                _seq(lane.connection_region),
                _seq(lane.connection_node_id),
                _seq(lane.connection_lane_id),
                _seq(lane.connection_phase_id),
            )
            for lane in msg.lanes
        ),
    )


def _ints(values: Any) -> list[int]:
    return [int(v) for v in (values.tolist() if hasattr(values, 'tolist') else values)]


def node_lanes(msg: Any) -> NodeLanes:
    """Parse one IntersectionMap; never raises on lane content (problems are returned). The
    points of all its lanes are checked in one vectorised pass (a MAP repeats every second in
    every car)."""
    node = (int(msg.region), int(msg.node_id))
    lanes = msg.lanes
    counts = [len(lane.points) for lane in lanes]
    flat = np.array([(p.x, p.y) for lane in lanes for p in lane.points], dtype=np.float64)
    flat = flat.reshape(-1, 2)
    ends = np.cumsum(counts)
    step = np.hypot(*np.diff(flat, axis=0).T) if len(flat) > 1 else np.zeros(0)
    finite = np.isfinite(flat).all(axis=1).tolist()
    step_ok = (step > 0.0).tolist()  # a repeated point makes no segment
    ingress: list[IngressLane] = []
    headings: dict[int, float] = {}
    problems: list[LaneProblem] = []
    for lane, n, end in zip(lanes, counts, ends.tolist(), strict=True):
        begin = end - n
        lane_id = int(lane.lane_id)
        problem = ''
        if n < 2:
            problem, text = 'too_few_points', f'{n} points, need 2'
        elif not all(finite[begin:end]):
            problem, text = 'not_finite', 'a point is NaN or infinite'
        elif not any(step_ok[begin : end - 1]):
            problem, text = 'no_length', 'every point is the same'
        elif len({len(lane.connection_region), len(lane.connection_node_id),
                  len(lane.connection_lane_id), len(lane.connection_phase_id)}) > 1:  # fmt: skip
            problem, text = 'connections', 'connection arrays of different lengths'
        if problem:
            where = f'node {node[1]} (region {node[0]}) lane {lane_id}'
            problems.append(LaneProblem(problem, f'{where}: {text}'))
            continue
        keep = [begin] + [begin + 1 + i for i, ok in enumerate(step_ok[begin : end - 1]) if ok]
        xy = flat[keep]
        d0 = xy[1] - xy[0]
        headings[lane_id] = math.atan2(float(d0[1]), float(d0[0]))
        n_conn = len(lane.connection_phase_id)
        if n_conn == 0 or int(lane.lane_type) not in VEHICLE_LANE_TYPES:
            continue
        connections = tuple(  # numpy arrays from the receiver: Python ints first
            Connection((r, k), ln, ph)
            for r, k, ln, ph in zip(
                _ints(lane.connection_region),
                _ints(lane.connection_node_id),
                _ints(lane.connection_lane_id),
                _ints(lane.connection_phase_id),
                strict=True,
            )
        )
        width = float(lane.width_m)
        ingress.append(
            IngressLane(
                node,
                lane_id,
                xy,
                width if math.isfinite(width) and width > 0.0 else math.nan,
                int(lane.maneuvers) if lane.maneuvers_known else 0,
                float(lane.speed_limit_mps),
                connections,
            )
        )
    return NodeLanes(node, tuple(ingress), headings, tuple(problems), signature(msg))


def _wrap(a: float) -> float:
    return (a + math.pi) % (2.0 * math.pi) - math.pi


def turn_of(change_rad: float) -> int:
    """The maneuver bit of a heading change (ENU: left is positive)."""
    c = _wrap(change_rad)
    if abs(c) >= U_TURN_RAD:
        return MANEUVER_U_TURN
    if c > TURN_RAD:
        return MANEUVER_LEFT
    if c < -TURN_RAD:
        return MANEUVER_RIGHT
    return MANEUVER_STRAIGHT


def connection_maneuver(
    lane: IngressLane, conn: Connection, start_heading: dict[NodeKey, dict[int, float]]
) -> int:
    """The maneuver of one connection: the lane's only allowed maneuver when it has one, else
    the heading change from the lane's stop line to the start of the lane it connects to (when
    that node's MAP was heard), else 0 (unknown)."""
    bits = lane.maneuvers & 0x0F
    if bits in (MANEUVER_STRAIGHT, MANEUVER_LEFT, MANEUVER_RIGHT, MANEUVER_U_TURN):
        return bits
    target = start_heading.get(conn.node, {}).get(conn.lane_id) if conn.lane_id else None
    if target is None:
        return 0
    return turn_of(target - lane.final_heading_rad)


def choose_phase(
    lane: IngressLane, turn: int, start_heading: dict[NodeKey, dict[int, float]]
) -> int:
    """The signal group of the ego's movement: every connection's phase when they agree; else
    the phase of the connection whose maneuver is ``turn`` (a MANEUVER_* bit, 0: unknown), else
    of the straight connection; 0 when none fits (the ego cannot tell which light is its)."""
    phases = {c.phase_id for c in lane.connections}
    if len(phases) == 1:
        return phases.pop()
    by_maneuver: dict[int, set[int]] = {}
    for c in lane.connections:
        by_maneuver.setdefault(connection_maneuver(lane, c, start_heading), set()).add(c.phase_id)
    for want in (turn, MANEUVER_STRAIGHT) if turn else (MANEUVER_STRAIGHT,):
        found = by_maneuver.get(want, set())
        if len(found) == 1:
            return found.pop()
    return 0

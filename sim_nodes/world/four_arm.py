"""A generated four-arm signalised intersection (right-hand traffic), the default world map.

Arms: east (+x), north (+y), west, south, each with ``lanes`` incoming and outgoing lanes.
Lane ids: ``<arm>_in_<k>`` (towards the centre, k = 0 innermost), ``<arm>_out_<k>``, and the
movements ``<arm>_<turn>_<k>`` (turn: straight, left, right) through the junction, which
start at the stop line. Signal groups (vehicle): through+right of arm i = 2 i + 1, left of arm
i = 2 i + 2 with i = east 0, north 1, west 2, south 3. Pedestrian group of the crossing over
arm i = 11 + i. ``default_plan`` is the matching four-stage plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim_nodes.world.lanes import Crosswalk, Lane, LaneNetwork

ARMS: dict[str, np.ndarray] = {
    'east': np.array([1.0, 0.0]),
    'north': np.array([0.0, 1.0]),
    'west': np.array([-1.0, 0.0]),
    'south': np.array([0.0, -1.0]),
}
ARM_INDEX = {name: i for i, name in enumerate(ARMS)}


def _rot(v: np.ndarray, quarter_turns: int) -> np.ndarray:
    c, s = [(1, 0), (0, 1), (-1, 0), (0, -1)][quarter_turns % 4]
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


def _arm_of(direction: np.ndarray) -> str:
    return next(name for name, d in ARMS.items() if np.allclose(d, direction))


def through_group(arm: str) -> int:
    return 2 * ARM_INDEX[arm] + 1


def left_group(arm: str) -> int:
    return 2 * ARM_INDEX[arm] + 2


def crosswalk_group(arm: str) -> int:
    return 11 + ARM_INDEX[arm]


@dataclass(frozen=True)
class FourArmGeometry:
    arm_length_m: float = 150.0
    lanes: int = 2
    lane_width_m: float = 3.5
    speed_limit_mps: float = 13.9
    turn_speed_mps: float = 7.0
    buildings: bool = True
    intersection_id: int = 1

    @property
    def box_half_m(self) -> float:
        return self.lanes * self.lane_width_m + 1.5

    @property
    def crosswalk_m(self) -> float:
        return self.box_half_m + 2.5

    @property
    def stop_line_m(self) -> float:
        return self.box_half_m + 5.5


def _bezier(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, n: int = 12) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def build_four_arm(geometry: FourArmGeometry | None = None, **kwargs: Any) -> LaneNetwork:
    """Generate the lane network (see the module docstring for names and groups)."""
    g = geometry or FourArmGeometry(**kwargs)
    w, n, far, stop = g.lane_width_m, g.lanes, g.arm_length_m, g.stop_line_m
    lanes: dict[str, Lane] = {}
    in_end: dict[tuple[str, int], np.ndarray] = {}
    out_start: dict[tuple[str, int], np.ndarray] = {}
    for arm, d in ARMS.items():
        right_in = np.array([-d[1], d[0]])  # right of travel direction -d
        right_out = np.array([d[1], -d[0]])  # right of travel direction +d
        for k in range(n):
            off = (k + 0.5) * w
            a, b = d * far + right_in * off, d * stop + right_in * off
            in_end[arm, k] = b
            lanes[f'{arm}_in_{k}'] = Lane(
                f'{arm}_in_{k}', np.array([a, b]), (), w, g.speed_limit_mps
            )
            a, b = d * stop + right_out * off, d * far + right_out * off
            out_start[arm, k] = a
            lanes[f'{arm}_out_{k}'] = Lane(
                f'{arm}_out_{k}', np.array([a, b]), (), w, g.speed_limit_mps
            )
    successors: dict[str, list[str]] = {lid: [] for lid in lanes}
    for arm, d in ARMS.items():
        travel = -d
        moves = {
            'straight': (_arm_of(travel), list(range(n)), through_group(arm)),
            'left': (_arm_of(_rot(travel, 1)), [0], left_group(arm)),
            'right': (_arm_of(_rot(travel, -1)), [n - 1], through_group(arm)),
        }
        for turn, (to_arm, ks, group) in moves.items():
            for k in ks:
                p0, p2 = in_end[arm, k], out_start[to_arm, k]
                if turn == 'straight':
                    line = np.array([p0, p2])
                    limit = g.speed_limit_mps
                else:
                    corner = _line_meet(p0, travel, p2, ARMS[to_arm])
                    line = _bezier(p0, corner, p2)
                    limit = g.turn_speed_mps * (1.0 if turn == 'left' else 0.8)
                lid = f'{arm}_{turn}_{k}'
                lanes[lid] = Lane(
                    lid, line, (f'{to_arm}_out_{k}',), w, limit, group, g.intersection_id
                )
                successors[f'{arm}_in_{k}'].append(lid)
    lanes = {
        lid: Lane(
            lane.id,
            lane.centreline,
            tuple(successors.get(lid, ())) or lane.successors,
            lane.width_m,
            lane.speed_limit_mps,
            lane.signal_group,
            lane.intersection_id,
        )
        for lid, lane in lanes.items()
    }
    crosswalks = {}
    half = n * w + 2.0
    for arm, d in ARMS.items():
        perp = np.array([-d[1], d[0]])
        centre = d * g.crosswalk_m
        crosswalks[arm] = Crosswalk(
            arm, np.array([centre - perp * half, centre + perp * half]), crosswalk_group(arm)
        )
    buildings = []
    if g.buildings:
        inner = stop + 4.0
        for sx in (-1, 1):
            for sy in (-1, 1):
                a = np.array([sx * inner, sy * inner])
                b = np.array([sx * (inner + 40.0), sy * (inner + 40.0)])
                lo, hi = np.minimum(a, b), np.maximum(a, b)
                buildings.append(
                    np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
                )
    return LaneNetwork(lanes, crosswalks, buildings, intersections={g.intersection_id: np.zeros(2)})


def _line_meet(p: np.ndarray, u: np.ndarray, q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Where the line p + a u meets the line q + b v (they are perpendicular here)."""
    mat = np.array([u, -v]).T
    a, _ = np.linalg.solve(mat, q - p)
    return p + a * u


def default_plan(
    *, through_green_s: float = 22.0, left_green_s: float = 10.0, offset_s: float = 0.0
) -> dict[str, Any]:
    """The four-stage plan matching the generated groups (as a plan config mapping)."""

    def stage(groups: list[int], peds: list[int], green: float) -> dict[str, Any]:
        return {
            'green_s': green,
            'vehicle_groups': groups,
            'pedestrian_groups': peds,
            'yellow_s': 3.0,
            'all_red_s': 2.0,
            'ped_clearance_s': min(6.0, green),
        }

    ns_through = [through_group('north'), through_group('south')]
    ew_through = [through_group('east'), through_group('west')]
    return {
        'intersection_id': 1,
        'offset_s': offset_s,
        'stages': [
            stage(ns_through, [crosswalk_group('east'), crosswalk_group('west')], through_green_s),
            stage([left_group('north'), left_group('south')], [], left_green_s),
            stage(
                ew_through, [crosswalk_group('north'), crosswalk_group('south')], through_green_s
            ),
            stage([left_group('east'), left_group('west')], [], left_green_s),
        ],
    }

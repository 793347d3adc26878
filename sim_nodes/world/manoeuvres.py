"""Scripted driver actions beyond lane keeping: overtaking into the lane to the left, loss of
control (a spin), turn indicators, and the inputs of a connected driver (speed advice) or of
the by-wire kit (gated commands).

Overtaking: the pure-pursuit target moves one lane width to the left of the route (ramped in
and out over ``RAMP_S``) while the vehicle stays on its route: on a two-lane road that is the
oncoming lane, which is what DNPW scenarios need. While out, it ignores the vehicle it passes.

Loss of control: from ``skid_at_s`` the body yaws at ``skid_yaw_rate_radps`` while the vehicle
slides on along the course it had, decelerating at ``SKID_DECEL_MPS2`` (tyres sliding on a wet
road) to a stop: the yaw rate and sideslip a CLW receiver sees in its BSMs.

Indicators (``VehicleStatus.LIGHT_*`` bits): left/right within ``TURN_SIGNAL_M`` before a
turning movement and while on it, ``INDICATOR_LEAD_S`` before a scripted lane change until it
ends, and for an overtake (left out, right back in).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim_nodes.world.batch import PolylineBatch
from sim_nodes.world.lanes import route_path

if TYPE_CHECKING:
    from sim_nodes.world.vehicles import VehicleFleet

LIGHT_LEFT, LIGHT_RIGHT = 1, 2
TURN_LEFT, TURN_RIGHT = 1, 2
RAMP_S = 3.0  # lateral move out and back of an overtake
INDICATOR_LEAD_S = 3.0  # indicator before a lane change or overtake (rules ask for "in time")
TURN_SIGNAL_M = 40.0  # indicator before a turn
TURN_MIN_RAD = np.radians(45.0)  # heading change that makes a lane a turn
SKID_DECEL_MPS2 = 3.0
ADVICE_TAU_S = 2.0  # a driver closes the gap to the advised speed in about 2 s


def lane_turn(centreline: np.ndarray) -> int:
    """TURN_LEFT / TURN_RIGHT for a lane whose heading changes by 45° or more, else 0."""
    d0, d1 = centreline[1] - centreline[0], centreline[-1] - centreline[-2]
    change = np.arctan2(d0[0] * d1[1] - d0[1] * d1[0], d0 @ d1)
    if change >= TURN_MIN_RAD:
        return TURN_LEFT
    if change <= -TURN_MIN_RAD:
        return TURN_RIGHT
    return 0


class Manoeuvres:
    """Per-vehicle state of the scripted manoeuvres and of the external inputs."""

    def __init__(self, fleet: VehicleFleet) -> None:
        specs, n = fleet.specs, fleet.n
        codes = fleet.lane_codes
        self.turn_by_code = np.zeros(len(codes) + 1, dtype=np.int64)
        for lid, code in codes.items():
            self.turn_by_code[code] = lane_turn(fleet.network.lanes[lid].centreline)
        self.overtakes = [s.overtakes for s in specs]
        self.overtaking = np.array([bool(o) for o in self.overtakes], dtype=bool).reshape(n)
        self.lane_width = np.array(
            [fleet.network.lanes[s.route[0]].width_m if s.route else 3.5 for s in specs]
        )
        self.skid_at = np.array([s.skid_at_s for s in specs], dtype=float)
        self.skid_rate = np.array([s.skid_yaw_rate_radps for s in specs], dtype=float)
        self.course = np.full(n, np.nan)  # frozen course while skidding
        self.advice_mps = np.full(n, np.nan)  # set by the world component (follow_advice)
        self.command_mps2 = np.full(n, np.nan)  # set by the world component (by_wire)
        self._change_side: dict[tuple[int, float], int] = {}

    # --- overtaking ------------------------------------------------------------------
    def overtake_share(self, rows: np.ndarray, at_s: np.ndarray) -> np.ndarray:
        """0..1: how far out in the lane to the left each row is (ramped) at ``at_s``."""
        out = np.zeros(rows.size)
        for j in np.flatnonzero(self.overtaking[rows]).tolist():  # the rest stay 0
            i = rows[j]
            for a, d in self.overtakes[i]:
                t = at_s[j]
                out[j] += np.clip((t - a) / RAMP_S, 0, 1) * np.clip((a + d - t) / RAMP_S, 0, 1)
        return out

    def target_shift(self, rows: np.ndarray, at_s: np.ndarray, heading: np.ndarray) -> np.ndarray:
        """Pursuit-target offset (M, 2): the left normal of the path times the share."""
        if not self.overtaking[rows].any():
            return np.zeros((rows.size, 2))
        w = self.overtake_share(rows, at_s) * self.lane_width[rows]
        return np.column_stack([-np.sin(heading), np.cos(heading)]) * w[:, None]

    # --- loss of control -------------------------------------------------------------
    def skid(self, fleet: VehicleFleet, act: np.ndarray, t_s: float) -> np.ndarray:
        """Mask over ``act`` of the vehicles skidding now (their course frozen at the start)."""
        mask = t_s >= self.skid_at[act]
        rows = act[mask & np.isnan(self.course[act])]
        self.course[rows] = fleet.yaw[rows]
        return mask

    def slide(  # noqa: PLR0917 (the state of the rows, read positionally)
        self, fleet: VehicleFleet, rows: np.ndarray, x0: np.ndarray, y0: np.ndarray,
        yaw0: np.ndarray, v_mid: np.ndarray, dt: float,
    ) -> None:  # fmt: skip
        """Move skidding ``rows`` along their frozen course while the body spins."""
        c = self.course[rows]
        fleet.x[rows] = x0 + v_mid * np.cos(c) * dt
        fleet.y[rows] = y0 + v_mid * np.sin(c) * dt
        rate = np.where(v_mid > 0.0, self.skid_rate[rows], 0.0)
        fleet.yaw[rows] = (yaw0 + rate * dt + np.pi) % (2 * np.pi) - np.pi
        fleet.yaw_rate[rows] = rate

    def heading_of_motion(self, fleet: VehicleFleet) -> np.ndarray:
        return np.where(np.isnan(self.course), fleet.yaw, self.course)

    # --- driver inputs ---------------------------------------------------------------
    def external_accel(self, fleet: VehicleFleet, act: np.ndarray, accel: np.ndarray) -> np.ndarray:
        """Speed advice caps the driver's acceleration; a gated command replaces it."""
        v = fleet.v[act]
        adv = self.advice_mps[act]
        a_adv = np.clip((adv - v) / ADVICE_TAU_S, -fleet.b_comf[act], fleet.a_max[act])
        accel = np.where(np.isfinite(adv), np.minimum(accel, a_adv), accel)
        cmd = np.clip(self.command_mps2[act], -fleet.MAX_DECEL, fleet.a_max[act])
        return np.where(np.isfinite(cmd), cmd, accel)

    # --- indicators ------------------------------------------------------------------
    def indicators(self, fleet: VehicleFleet, t_s: float) -> np.ndarray:
        """``LIGHT_*`` bits of every vehicle now."""
        lights = np.zeros(fleet.n, dtype=np.uint8)
        act = np.flatnonzero(fleet.active)
        if act.size == 0:
            return lights
        k = fleet.lane_index[act]
        codes = fleet.route_code[act]
        turns = np.where(codes >= 0, self.turn_by_code[codes], 0)
        r_idx = np.arange(codes.shape[1])
        dist = fleet.route_start[act, :-1] - (fleet.s[act] + fleet.length[act] / 2)[:, None]
        on = r_idx[None, :] == k[:, None]
        near = on | ((r_idx[None, :] > k[:, None]) & (dist <= TURN_SIGNAL_M))
        for turn, bit in ((TURN_LEFT, LIGHT_LEFT), (TURN_RIGHT, LIGHT_RIGHT)):
            lights[act[((turns == turn) & near).any(axis=1)]] |= bit
        self._lane_change_lights(fleet, t_s, lights)
        for i in act[self.overtaking[act]]:
            for a, d in self.overtakes[i]:
                if a - INDICATOR_LEAD_S <= t_s < a + RAMP_S:
                    lights[i] |= LIGHT_LEFT
                elif a + d - RAMP_S <= t_s < a + d:
                    lights[i] |= LIGHT_RIGHT
        return lights

    def _lane_change_lights(self, fleet: VehicleFleet, t_s: float, lights: np.ndarray) -> None:
        lc = fleet.lane_changes
        for at_s, i, chain in lc.pending:
            if at_s - INDICATOR_LEAD_S > t_s:
                break
            if fleet.active[i]:
                key = (i, at_s)
                if key not in self._change_side:
                    self._change_side[key] = self._side(fleet, i, chain)
                lights[i] |= self._change_side[key]
        for t0, i in lc.done:
            if t0 <= t_s < t0 + lc.duration[i] and fleet.active[i]:
                off = lc.offset[i]
                cross = np.cos(fleet.yaw[i]) * off[1] - np.sin(fleet.yaw[i]) * off[0]
                lights[i] |= LIGHT_RIGHT if cross > 0 else LIGHT_LEFT

    @staticmethod
    def _side(fleet: VehicleFleet, i: int, chain: tuple[str, ...]) -> int:
        """The indicator towards the lane chain ``chain`` from where vehicle ``i`` is."""
        new = route_path(fleet.network, chain)
        single = PolylineBatch([new.points], [new.s])
        here = np.array([[fleet.x[i], fleet.y[i]]])
        s_new, _ = single.project(here)
        foot, _ = single.at(np.array([0]), s_new[0])
        off = here[0] - foot[0]
        cross = np.cos(fleet.yaw[i]) * off[1] - np.sin(fleet.yaw[i]) * off[0]
        return LIGHT_RIGHT if cross > 0 else LIGHT_LEFT

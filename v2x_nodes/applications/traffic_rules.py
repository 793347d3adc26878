"""What other road users are expected to do at stop lines: the rules of the road as the
applications' prediction needs them.

A CTRA prediction carries a car that approaches its red light at speed straight into the
junction; in signalised traffic that is the commonest false intersection-collision alarm.
A law-abiding driver who can still stop comfortably will stop, so a crossing vehicle is only
predicted into the conflict zone when its light is not red at its arrival or when it can no
longer stop (it needs harder braking than ``stop_decel_mps2`` and is not braking that hard):
the red-light runner. Likewise a vehicle standing at a stop line, or at the tail of such a
queue, is waiting, not abnormal (AVW).

Per target these need the lanelet it is on (``Scene.lane_key``), the stop line ahead of it
on the map and the SPAT phase of that stop line's signal group.
"""

from __future__ import annotations

import math

import numpy as np

from v2x_nodes.applications.kinematics import BoolArray, member, time_to_reach
from v2x_nodes.applications.scene import Scene
from v2x_nodes.applications.signals import find_phase, is_red_at
from v2x_nodes.applications.targets import VRU_CLASSES

MAX_STOP_LINE_M = 150.0  # stop lines farther ahead of a target do not matter this cycle


def stop_line_distances(scene: Scene, idx: np.ndarray) -> tuple[np.ndarray, list]:
    """Distance along its lanes from each target ``idx`` to the next stop line (inf: none,
    or no map) and that stop line's traffic light (None: none / stop sign)."""
    dist = np.full(len(idx), math.inf)
    lights: list = [None] * len(idx)
    lanes = scene.lanes
    if lanes is None:
        return dist, lights
    for j, i in enumerate(idx):
        key = int(scene.lane_key[i])
        if not key:
            continue
        s = lanes.project(key, float(scene.x[i]), float(scene.y[i]))
        ahead = lanes.map.next_stop_line(key, s, horizon_m=MAX_STOP_LINE_M)
        dist[j], lights[j] = ahead.distance_m, ahead.light
    return dist, lights


def expected_to_stop(
    scene: Scene, idx: np.ndarray, *, stop_decel_mps2: float, spat_max_age_s: float
) -> BoolArray:
    """Targets ``idx`` that face red at their arrival at the stop line ahead and can still
    stop before it braking no harder than ``stop_decel_mps2`` (or already brake that hard)."""
    out = np.zeros(len(idx), dtype=bool)
    if not len(idx) or not scene.spat or scene.lanes is None:
        return out
    t = scene.targets
    dist, lights = stop_line_distances(scene, idx)
    for j, i in enumerate(idx):
        light, d = lights[j], float(dist[j])
        if light is None or not math.isfinite(d) or light.signal_group <= 0:
            continue
        inter = light.intersection_id if light.intersection_id >= 0 else scene.ego.intersection_id
        ph = find_phase(scene.spat, inter, light.signal_group, scene.now_ns, spat_max_age_s)
        if ph is None:
            continue
        v, a = float(t.speed[i]), float(t.accel[i])
        arrival = float(time_to_reach(d, v, max(a, 0.0)))
        if not math.isfinite(arrival) or not is_red_at(ph, arrival):
            continue
        need = v * v / (2.0 * max(d, 0.1))
        out[j] = need <= stop_decel_mps2 or -a >= need
    return out


def waiting(scene: Scene, idx: np.ndarray, *, queue_gap_m: float, slow_mps: float) -> BoolArray:
    """Targets ``idx`` that stand at a stop line (within ``queue_gap_m`` before it) or in a
    queue that reaches one: followed forward from the target, each next slow vehicle (not a
    road user on foot or on a bicycle) in the same lane is within ``queue_gap_m``."""
    out = np.zeros(len(idx), dtype=bool)
    if not len(idx):
        return out
    t = scene.targets
    slow = np.flatnonzero((t.speed <= slow_mps) & ~member(t.cls, VRU_CLASSES))
    lon, lat = scene.lon[slow], scene.lat[slow]
    half = 0.5 * scene.ego.lane_width
    at_line: dict[int, bool] = {}

    def held_at_line(i: int) -> bool:
        if i not in at_line:
            if scene.lanes is None:  # geometry only: the own lane's stop line
                d = scene.ego.stop_line_m - float(scene.lon[i])
            else:
                d = float(stop_line_distances(scene, np.array([i]))[0][0])
            at_line[i] = d <= queue_gap_m
        return at_line[i]

    for j, i in enumerate(idx):
        cur = int(i)
        for _ in range(len(slow) + 1):
            if held_at_line(cur):
                out[j] = True
                break
            ahead = lon - float(scene.lon[cur])
            near = (ahead > 0.0) & (ahead <= queue_gap_m) & (np.abs(lat - scene.lat[cur]) < half)
            if not near.any():
                break
            cur = int(slow[near][np.argmin(ahead[near])])
    return out

"""The one adapter from the HD map (Lanelet2 via ``vehicle_nodes.hdmap``) to the lane network.

Each drivable lanelet becomes a ``Lane`` (id = lanelet id as text, resampled centre line,
routing-graph successors, mean width, speed limit or 13.9 m/s when the map has none). A
traffic light's stop line at the end of its lanelet makes the lanelets that follow it the
signalised movements (``signal_group``, ``intersection_id`` of the light): entering them
needs the group's green; a stop line at a lanelet's start signalises that lanelet itself
(what ``lanelet2_export`` writes for the generated worlds). A stop line inside a lanelet
splits it there (``<id>`` up to the line, ``<id>_after`` beyond it, which then carries the
group). Crosswalk lanelets become
``Crosswalk``s (unsignalised unless a light regulates them). The map has no building
footprints: radio obstruction and lidar occlusion by buildings are absent on such maps.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sim_nodes.errors import MapError
from sim_nodes.world.lanes import Crosswalk, Lane, LaneNetwork

DEFAULT_SPEED_MPS = 13.9
END_TOLERANCE_M = 0.5


def network_from_lanelet2(path: Path) -> LaneNetwork:
    try:
        from vehicle_nodes.hdmap import HdMapError, load_map
    except ImportError:
        raise MapError(
            f'{path}: the Lanelet2 loader (vehicle_nodes.hdmap) is not installed'
        ) from None
    try:
        hd = load_map(path)
    except (HdMapError, OSError) as err:
        raise MapError(f'{path}: {err}') from None
    lanes: dict[str, Lane] = {}
    entry_group: dict[int, tuple[int, int]] = {}  # lanelet key -> (group, intersection)
    tail: dict[int, str] = {}  # key -> id of its last piece (successors attach there)
    crosswalks: dict[str, Crosswalk] = {}
    drivable = {k: ll for k, ll in hd.lanelets.items() if ll.drivable}
    for ll in hd.lanelets.values():
        if ll.subtype == 'crosswalk':
            crosswalks[str(ll.id)] = Crosswalk(
                str(ll.id), ll.centre_xy[[0, -1]], 0, float(np.mean(ll.width_m))
            )
    for key, ll in drivable.items():
        light = ll.traffic_light
        if light is None:
            continue
        stop = ll.stop_line_s_m if math.isfinite(ll.stop_line_s_m) else float(ll.s_m[-1])
        if stop >= ll.s_m[-1] - END_TOLERANCE_M:
            for succ in hd.routing.following(key):
                entry_group.setdefault(succ, (light.signal_group, light.intersection_id))
    for key, ll in drivable.items():
        width = float(np.mean(ll.width_m))
        limit = ll.speed_limit_mps if math.isfinite(ll.speed_limit_mps) else DEFAULT_SPEED_MPS
        group, iid = entry_group.get(key, (0, -1))
        light = ll.traffic_light
        stop = (
            ll.stop_line_s_m if light is not None and math.isfinite(ll.stop_line_s_m) else math.inf
        )
        if light is not None and stop <= END_TOLERANCE_M:  # the light guards its own entry
            group, iid = light.signal_group, light.intersection_id
        lid = str(ll.id)
        if stop < ll.s_m[-1] - END_TOLERANCE_M and stop > END_TOLERANCE_M:
            cut = int(np.searchsorted(ll.s_m, stop))
            before = np.vstack([ll.centre_xy[:cut], _at(ll.centre_xy, ll.s_m, stop)])
            after = np.vstack([_at(ll.centre_xy, ll.s_m, stop), ll.centre_xy[cut:]])
            lanes[lid] = Lane(lid, before, (f'{lid}_after',), width, limit, group, iid)
            lanes[f'{lid}_after'] = Lane(
                f'{lid}_after', after, (), width, limit, light.signal_group, light.intersection_id
            )
            tail[key] = f'{lid}_after'
        else:
            lanes[lid] = Lane(lid, np.asarray(ll.centre_xy, float), (), width, limit, group, iid)
            tail[key] = lid
    for key in drivable:
        last = lanes[tail[key]]
        succ = tuple(str(hd.lanelets[s].id) for s in hd.routing.following(key) if s in drivable)
        lanes[last.id] = Lane(
            last.id,
            last.centreline,
            succ,
            last.width_m,
            last.speed_limit_mps,
            last.signal_group,
            last.intersection_id,
        )
    if not lanes:
        raise MapError(f'{path}: no drivable lanelets')
    centres = {}
    for lane in lanes.values():
        if lane.signal_group:
            centres.setdefault(lane.intersection_id, []).append(lane.centreline.mean(axis=0))
    return LaneNetwork(
        lanes, crosswalks, [], intersections={i: np.mean(c, axis=0) for i, c in centres.items()}
    )


def _at(points: np.ndarray, s: np.ndarray, where: float) -> np.ndarray:
    return np.array([[np.interp(where, s, points[:, 0]), np.interp(where, s, points[:, 1])]])

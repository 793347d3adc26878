"""Helpers of the false-alarm tests of the applications: a run with roadside arrays of the
test's own, a roadside participant, and the simulator's four-arm junction written as a
Lanelet2 map (crosswalks, turning lanelets, stop lines, signal groups) with lane paths
through it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from apps_world import NS, START_NS, Run, World, schedule

from geo import LocalFrame
from sim_nodes.world.four_arm import build_four_arm
from sim_nodes.world.lanelet2_export import write_lanelet2
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.hdmap import load_map
from vehicle_nodes.hdmap.node import MapMatcher

ORIGIN = (31.2837, 121.1638, 0.0)


def run_with(world, component, duration_s, map_path, extra=(), params=None) -> Run:
    """apps_world.run plus ``extra`` roadside arrays (time s, [Participant]) of our own."""
    rt = EmbeddedRuntime(seed=world.seed, start_ns=START_NS)
    rt.add_component(MapMatcher, name='map_matcher', namespace=NS,
                     parameters={'map_file': str(map_path)})  # fmt: skip
    rt.add_component(component, name='app0', namespace=NS,
                     parameters={'map_file': str(map_path), **(params or {})})  # fmt: skip
    out = Run(rt, [], [], [])
    rt.subscribe(f'{NS}/v2x/warnings', 'v2x_stack/msg/Warning', out.warnings.append)
    schedule(rt, world, duration_s)
    for t, parts in extra:
        t_ns = START_NS + round(t * 1e9)
        rt.publish(f'{NS}/v2x/roadside_participants',
                   m.new('v2x_stack/msg/ParticipantArray', header=m.header(t_ns, 'map'),
                         participants=parts), at_ns=t_ns + 50_000_000)  # fmt: skip
    rt.run(duration_s=duration_s)
    return out


def roadside(t: float, pid: int, x: float, y: float, vx: float, vy: float, var: float) -> object:
    """A car as the RSU reports it at ``t`` (velocity variance ``var``)."""
    cov = np.zeros(16)
    cov[0] = cov[5] = 0.25
    cov[10] = cov[15] = var
    return m.new(
        'v2x_stack/msg/Participant', header=m.header(START_NS + round(t * 1e9), 'map'), id=pid,
        participant_class=1, source=6, source_id='rsu1', position=m.new(
            'geometry_msgs/msg/Point', x=x, y=y), heading_rad=math.atan2(vy, vx) if vx or vy
        else 0.0, velocity=m.new('geometry_msgs/msg/Vector3', x=vx, y=vy),
        size=m.new('geometry_msgs/msg/Vector3', x=4.5, y=1.8, z=1.5), covariance=cov,
        latitude_deg=math.nan, longitude_deg=math.nan, altitude_m=math.nan,
    )  # fmt: skip


@pytest.fixture(scope='module')
def junction(tmp_path_factory):
    """(network, map path) of the simulator's four-arm junction."""
    network = build_four_arm()
    path = tmp_path_factory.mktemp('four_arm') / 'map.osm'
    write_lanelet2(network, path, LocalFrame(*ORIGIN))
    assert any(ll.subtype == 'crosswalk' for ll in load_map(path).lanelets.values())
    return network, path


def junction_path(network, lanes: list[str]) -> np.ndarray:
    """The centre line through the network's lanes ``lanes`` (one polyline)."""
    parts = [network.lanes[lanes[0]].centreline]
    parts += [network.lanes[k].centreline[1:] for k in lanes[1:]]
    return np.concatenate(parts)


__all__ = ['World', 'junction', 'junction_path', 'roadside', 'run_with']

"""MarkerArrays for RViz/Foxglove: the map once (lanes, crosswalks, buildings), actors per tick."""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

from rsu_nodes.signals.plan import Light
from sim_nodes.msg_template import Template
from sim_nodes.world.lanes import LaneNetwork
from sim_nodes.world.world import Snapshot
from v2x_runtime import messages as m

CUBE, LINE_STRIP, SPHERE_LIST, TEXT = 1, 4, 7, 9
CLASS_COLOURS = {
    1: (0.2, 0.5, 1.0),
    2: (0.6, 0.4, 0.2),
    3: (0.8, 0.2, 0.8),
    4: (1.0, 0.6, 0.0),
    5: (1.0, 0.9, 0.1),
    7: (1.0, 0.1, 0.1),
}
LIGHT_COLOURS = {
    int(Light.RED): (1.0, 0.0, 0.0),
    int(Light.YELLOW): (1.0, 0.8, 0.0),
    int(Light.PROTECTED_GREEN): (0.0, 0.9, 0.0),
    int(Light.PERMISSIVE_GREEN): (0.4, 1.0, 0.4),
    int(Light.FLASHING_GREEN): (0.6, 1.0, 0.6),
}


@cache
def _colour(rgb: tuple[float, float, float], a: float = 1.0) -> Any:
    """Shared per colour: published messages are immutable."""
    return m.msg_class('std_msgs/msg/ColorRGBA')(r=rgb[0], g=rgb[1], b=rgb[2], a=a)


def _pose(x: float, y: float, z: float, yaw: float) -> Any:
    point = m.msg_class('geometry_msgs/msg/Point')(x=x, y=y, z=z)
    quat = m.msg_class('geometry_msgs/msg/Quaternion')(
        x=0.0, y=0.0, z=math.sin(yaw / 2), w=math.cos(yaw / 2)
    )
    return m.msg_class('geometry_msgs/msg/Pose')(position=point, orientation=quat)


def _points(xy: np.ndarray, z: float = 0.05) -> list[Any]:
    point = m.msg_class('geometry_msgs/msg/Point')
    return [point(x=p[0], y=p[1], z=z) for p in np.asarray(xy, dtype=float).tolist()]


@cache
def _template() -> Template:
    """A Marker whose unused nested parts (pose, scale, texture, mesh) are shared defaults:
    published messages are immutable."""
    return Template(
        m.new(
            'visualization_msgs/msg/Marker',
            pose=_pose(0.0, 0.0, 0.0, 0.0),
            scale=m.msg_class('geometry_msgs/msg/Vector3')(x=1.0, y=1.0, z=1.0),
        )
    )


def _marker(header: Any, ns: str, mid: int, kind: int, **fields: Any) -> Any:
    """A Marker in ``header`` (one shared by every marker of an array)."""
    fields.setdefault('points', [])
    return _template()(header=header, ns=ns, id=mid, type=kind, action=0, **fields)


def map_markers(network: LaneNetwork, stamp_ns: int) -> Any:
    vec = m.msg_class('geometry_msgs/msg/Vector3')
    header = m.header(stamp_ns, 'map')
    out = []
    for i, lane in enumerate(sorted(network.lanes.values(), key=lambda lane: lane.id)):
        grey = (0.5, 0.5, 0.5) if lane.signal_group == 0 else (0.35, 0.35, 0.6)
        out.append(
            _marker(
                header,
                'lanes',
                i,
                LINE_STRIP,
                scale=vec(x=0.15, y=0.0, z=0.0),
                color=_colour(grey),
                points=_points(lane.centreline),
            )
        )
    for i, cw in enumerate(sorted(network.crosswalks.values(), key=lambda c: c.id)):
        out.append(
            _marker(
                header,
                'crosswalks',
                i,
                LINE_STRIP,
                scale=vec(x=cw.width_m, y=0.0, z=0.0),
                color=_colour((0.9, 0.9, 0.9), 0.4),
                points=_points(cw.path, 0.02),
            )
        )
    h = network.building_height_m
    for i, poly in enumerate(network.buildings):
        lo, hi = poly.min(axis=0), poly.max(axis=0)
        c = (lo + hi) / 2
        out.append(
            _marker(
                header,
                'buildings',
                i,
                CUBE,
                pose=_pose(float(c[0]), float(c[1]), h / 2, 0.0),
                scale=vec(x=float(hi[0] - lo[0]), y=float(hi[1] - lo[1]), z=h),
                color=_colour((0.6, 0.6, 0.65), 0.5),
            )
        )
    return m.new('visualization_msgs/msg/MarkerArray', markers=out)


def actor_markers(
    snap: Snapshot, connected: set[str], stop_lights: list[tuple[np.ndarray, int]], stamp_ns: int
) -> Any:
    """A DELETEALL first, then one cube per actor, labels for connected ones, signal heads."""
    vec = m.msg_class('geometry_msgs/msg/Vector3')
    header = m.header(stamp_ns, 'map')
    out = [m.new('visualization_msgs/msg/Marker', header=header, action=3)]
    label_colour = _colour((1.0, 1.0, 1.0))
    for name, ident, klass, (x, y, z), yaw, _velocity, (sl, sw, sh) in snap.rows:
        linked = name in connected
        rgb = (0.1, 0.9, 0.9) if linked else CLASS_COLOURS.get(klass, (0.7, 0.7, 0.7))
        out.append(
            _marker(
                header,
                'actors',
                ident,
                CUBE,
                pose=_pose(x, y, z, yaw),
                scale=vec(x=sl, y=sw, z=sh),
                color=_colour(rgb, 0.9),
            )
        )
        if linked:
            out.append(
                _marker(
                    header,
                    'labels',
                    ident,
                    TEXT,
                    pose=_pose(x, y, z + 2.0, 0.0),
                    scale=vec(x=0.0, y=0.0, z=1.5),
                    color=label_colour,
                    text=name,
                )
            )
    if stop_lights:
        xy = np.array([h[0] for h in stop_lights])
        out.append(
            _marker(
                header,
                'signals',
                0,
                SPHERE_LIST,
                scale=vec(x=0.8, y=0.8, z=0.8),
                color=_colour((1.0, 1.0, 1.0)),
                points=_points(xy, 4.0),
                colors=[_colour(LIGHT_COLOURS.get(h[1], (0.3, 0.3, 0.3))) for h in stop_lights],
            )
        )
    return m.new('visualization_msgs/msg/MarkerArray', markers=out)

"""Scene → visualization_msgs/MarkerArray for RViz and Foxglove (frame ``map``).

Namespaces: ``lanes`` (one LINE_LIST of every boundary), ``stop_lines`` (one LINE_LIST per
lanelet, coloured by its signal group's light), ``ego`` (CUBE), ``targets`` (CUBE per
target), ``target_ids`` (TEXT_VIEW_FACING), ``warning`` (TEXT_VIEW_FACING over the ego).
Markers of targets that vanished are sent once with DELETE, so nothing lingers; ids are
stable per target key for as long as the builder lives.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from v2x_nodes.hmi.protocol import is_warned
from v2x_nodes.hmi.scene import LaneGeometry, Scene, Target
from v2x_runtime import messages as m

MARKER = 'visualization_msgs/msg/Marker'
ADD, DELETE = 0, 2
CUBE, LINE_LIST, TEXT = 1, 5, 9

Rgba = tuple[float, float, float, float]
LIGHT_COLOURS: dict[int, Rgba] = {
    2: (0.9, 0.1, 0.1, 1.0),
    3: (0.9, 0.1, 0.1, 1.0),
    4: (0.1, 0.8, 0.2, 1.0),
    5: (0.1, 0.8, 0.2, 1.0),
    6: (0.1, 0.8, 0.2, 1.0),
    7: (1.0, 0.8, 0.0, 1.0),
    8: (1.0, 0.8, 0.0, 1.0),
}
UNKNOWN_LIGHT: Rgba = (0.6, 0.6, 0.6, 1.0)
LEVEL_COLOURS: dict[int, Rgba] = {
    1: (0.3, 0.6, 1.0, 1.0),
    2: (1.0, 0.8, 0.0, 1.0),
    3: (1.0, 0.3, 0.1, 1.0),
    4: (1.0, 0.0, 0.0, 1.0),
}
CLASS_COLOURS: dict[int, Rgba] = {
    5: (1.0, 0.6, 0.0, 0.9),  # pedestrian
    4: (1.0, 0.6, 0.0, 0.9),  # cyclist
    3: (0.9, 0.5, 0.9, 0.9),  # motorcycle
    7: (0.9, 0.2, 0.9, 0.9),  # emergency
}
TARGET_COLOUR: Rgba = (0.2, 0.8, 0.9, 0.8)
WARNED_COLOUR: Rgba = (1.0, 0.1, 0.1, 0.95)
EGO_COLOUR: Rgba = (0.2, 0.4, 1.0, 1.0)
LANE_COLOUR: Rgba = (0.85, 0.85, 0.85, 1.0)


# Fields the HMI never sets, built once and shared (they are large: an image, a mesh).
_UNUSED = {
    'texture': m.new('sensor_msgs/msg/CompressedImage'),
    'mesh_file': m.new('visualization_msgs/msg/MeshFile'),
    'lifetime': m.new('builtin_interfaces/msg/Duration'),
}


# Small types are built with their dataclass directly (every field given): ~8x faster than
# m.new, which matters with hundreds of targets per cycle.
_Point = m.msg_class('geometry_msgs/msg/Point')
_Quaternion = m.msg_class('geometry_msgs/msg/Quaternion')
_Pose = m.msg_class('geometry_msgs/msg/Pose')
_Vector3 = m.msg_class('geometry_msgs/msg/Vector3')
_ColorRGBA = m.msg_class('std_msgs/msg/ColorRGBA')


def _pose(x: float, y: float, z: float, yaw: float) -> Any:
    return _Pose(
        position=_Point(x=float(x), y=float(y), z=float(z)),
        orientation=_Quaternion(x=0.0, y=0.0, z=math.sin(yaw / 2.0), w=math.cos(yaw / 2.0)),
    )


def _scale(x: float = 0.0, y: float = 0.0, z: float = 0.0) -> Any:
    return _Vector3(x=float(x), y=float(y), z=float(z))


def _colour(rgba: Rgba) -> Any:
    r, g, b, a = rgba
    return _ColorRGBA(r=float(r), g=float(g), b=float(b), a=float(a))


def _point(x: float, y: float, z: float = 0.0) -> Any:
    return _Point(x=float(x), y=float(y), z=float(z))


class MarkerBuilder:
    """Builds the marker array of each cycle; remembers target ids to delete vanished ones."""

    def __init__(self, lanes: LaneGeometry, frame_id: str = 'map') -> None:
        self.lanes = lanes
        self.frame_id = frame_id
        self._ids: dict[str, int] = {}
        self._live: set[int] = set()
        self._warning_live = False
        self._header_cache: tuple[int, Any] | None = None

    def _header(self, stamp_ns: int) -> Any:
        # One header per cycle, shared by its markers (messages are never mutated).
        if self._header_cache is None or self._header_cache[0] != stamp_ns:
            self._header_cache = (stamp_ns, m.header(stamp_ns, self.frame_id))
        return self._header_cache[1]

    def _marker(self, ns: str, mid: int, kind: int, stamp_ns: int, **fields: Any) -> Any:
        return m.new(
            MARKER,
            header=self._header(stamp_ns),
            ns=ns,
            id=mid,
            type=kind,
            action=ADD,
            **_UNUSED,
            **fields,
        )

    def _delete(self, ns: str, mid: int, stamp_ns: int) -> Any:
        return m.new(MARKER, header=self._header(stamp_ns), ns=ns, id=mid, action=DELETE, **_UNUSED)

    def build(self, scene: Scene, stamp_ns: int, *, with_lanes: bool) -> Any:
        markers: list[Any] = []
        if with_lanes and self.lanes.boundaries:
            markers.append(self._lane_marker(stamp_ns))
        for stop in self.lanes.stop_lines:
            light = scene.light_of(stop.signal_group) if stop.signal_group else None
            (a, b) = stop.points_xy[0], stop.points_xy[-1]
            markers.append(
                self._marker(
                    'stop_lines',
                    stop.lanelet_id,
                    LINE_LIST,
                    stamp_ns,
                    pose=_pose(0, 0, 0, 0),
                    scale=_scale(x=0.5),
                    color=_colour(
                        LIGHT_COLOURS.get(light, UNKNOWN_LIGHT) if light else UNKNOWN_LIGHT
                    ),
                    points=[_point(a[0], a[1], 0.05), _point(b[0], b[1], 0.05)],
                )
            )
        if scene.ego is not None:
            e = scene.ego
            markers.append(
                self._marker(
                    'ego',
                    0,
                    CUBE,
                    stamp_ns,
                    pose=_pose(e.x_m, e.y_m, 0.75, e.yaw_rad),
                    scale=_scale(x=e.length_m, y=e.width_m, z=1.5),
                    color=_colour(EGO_COLOUR),
                )
            )
        markers += self._targets(scene, stamp_ns)
        markers += self._warning(scene, stamp_ns)
        return m.new('visualization_msgs/msg/MarkerArray', markers=markers)

    def _lane_marker(self, stamp_ns: int) -> Any:
        points = []
        for line in self.lanes.boundaries:
            for a, b in itertools.pairwise(line):
                points += [_point(a[0], a[1]), _point(b[0], b[1])]
        return self._marker(
            'lanes',
            0,
            LINE_LIST,
            stamp_ns,
            pose=_pose(0, 0, 0, 0),
            scale=_scale(x=0.15),
            color=_colour(LANE_COLOUR),
            points=points,
        )

    def _target_id(self, target: Target) -> int:
        mid = self._ids.get(target.key)
        if mid is None:
            mid = self._ids[target.key] = len(self._ids) + 1
        return mid

    def _targets(self, scene: Scene, stamp_ns: int) -> list[Any]:
        out = []
        live = set()
        warned_id = scene.warning.target_id if scene.warning is not None else ''
        for t in scene.targets:
            mid = self._target_id(t)
            live.add(mid)
            colour = (
                WARNED_COLOUR
                if is_warned(t, warned_id)
                else CLASS_COLOURS.get(t.participant_class, TARGET_COLOUR)
            )
            out.append(
                self._marker(
                    'targets',
                    mid,
                    CUBE,
                    stamp_ns,
                    pose=_pose(t.x_m, t.y_m, 0.75, t.yaw_rad),
                    scale=_scale(x=t.length_m, y=t.width_m, z=1.5),
                    color=_colour(colour),
                )
            )
            out.append(
                self._marker(
                    'target_ids',
                    mid,
                    TEXT,
                    stamp_ns,
                    pose=_pose(t.x_m, t.y_m, 2.5, 0.0),
                    scale=_scale(z=1.0),
                    color=_colour((1, 1, 1, 1)),
                    text=t.key,
                )
            )
        for gone in sorted(self._live - live):
            out += [
                self._delete('targets', gone, stamp_ns),
                self._delete('target_ids', gone, stamp_ns),
            ]
        self._live = live
        return out

    def _warning(self, scene: Scene, stamp_ns: int) -> list[Any]:
        w = scene.warning
        if w is None or scene.ego is None:
            was, self._warning_live = self._warning_live, False
            return [self._delete('warning', 0, stamp_ns)] if was else []
        self._warning_live = True
        ttc = f' TTC {w.time_to_collision_s:.1f} s' if math.isfinite(w.time_to_collision_s) else ''
        return [
            self._marker(
                'warning',
                0,
                TEXT,
                stamp_ns,
                pose=_pose(scene.ego.x_m, scene.ego.y_m, 5.0, 0.0),
                scale=_scale(z=2.0),
                color=_colour(LEVEL_COLOURS.get(w.level, LEVEL_COLOURS[3])),
                text=f'{w.application} {w.level_name}: {w.text}{ttc}',
            )
        ]

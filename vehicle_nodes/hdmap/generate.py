"""Generate the project's example Lanelet2 maps (and the grid map the benchmark uses).

    python -m vehicle_nodes.hdmap.generate --out config/maps

writes ``intersection.osm`` (a four-arm signalised junction with left/straight/right turn
lanes in and two lanes out per arm), ``road_segment.osm`` (3 + 3 lanes over 1 km) and
``intersection.json`` (the intersection export the RSU's MAP builder reads). Geometry is
synthetic, placed at real coordinates in Anting, Jiading District, Shanghai (home of the
National Intelligent Connected Vehicle Pilot Zone): see ``INTERSECTION_ORIGIN`` and
``ROAD_ORIGIN``. The local frame's origin is the junction centre / the road's west end.
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geo import LocalFrame
from vehicle_nodes.hdmap.frame import GeodeticFrame
from vehicle_nodes.hdmap.geometry import FloatArray
from vehicle_nodes.hdmap.osm_writer import OsmWriter

LANE_WIDTH_M = 3.5
INTERSECTION_ORIGIN = (31.283700, 121.163800)  # lat, lon (WGS84) of the junction centre
ROAD_ORIGIN = (31.291000, 121.172000)  # lat, lon of the road segment's west end
GRID_ORIGIN = (31.300000, 121.180000)
MOVEMENT_INDEX = {'left': 0, 'straight': 1, 'right': 2}
TURN_BEARING_DEG = {'left': -90.0, 'straight': 180.0, 'right': 90.0}


@dataclass(frozen=True)
class ArmSpec:
    """One arm: outward bearing (ENU, deg, 0 = east), inbound lanes from the median outwards
    (the movements each serves), outbound lane count, length from the centre, and the length
    of solid lane dividers before the stop line (0: one section)."""

    bearing_deg: float
    in_lanes: tuple[tuple[str, ...], ...]
    out_lanes: int
    length_m: float
    solid_m: float = 0.0


@dataclass(frozen=True)
class JunctionSpec:
    centre_xy: tuple[float, float]
    arms: tuple[ArmSpec, ...]
    box_m: float  # centre → stop line distance
    intersection_id: int
    signalised: bool
    speed_kmh: float = 50.0
    turn_speed_kmh: float = 30.0


def signal_group(arm_index: int, movement: str) -> int:
    """SPAT signal group (phase id) of a movement: 1 + 3 * arm + (left 0, straight 1, right 2)."""
    return 1 + 3 * arm_index + MOVEMENT_INDEX[movement]


def _bezier(p0: FloatArray, t0: FloatArray, p3: FloatArray, t3: FloatArray, n: int = 25):  # type: ignore[no-untyped-def]
    """Cubic curve from p0 leaving along t0 to p3 arriving along t3 (unit tangents)."""
    c = 0.4 * float(np.hypot(*(p3 - p0)))
    p1, p2 = p0 + c * t0, p3 - c * t3
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3


class _Arm:
    def __init__(self, centre: tuple[float, float], spec: ArmSpec) -> None:
        b = math.radians(spec.bearing_deg)
        self.spec = spec
        self.c = np.asarray(centre, float)
        self.eu = np.array([math.cos(b), math.sin(b)])
        self.ev = np.array([-math.sin(b), math.cos(b)])

    def at(self, u: float, v: float) -> FloatArray:
        return self.c + u * self.eu + v * self.ev

    def line(self, u0: float, u1: float, v: float) -> FloatArray:
        return np.array([self.at(u0, v), self.at(u1, v)])


def _line_tags(kind: str) -> dict[str, str]:
    if kind == 'border':
        return {'type': 'road_border'}
    if kind == 'virtual':
        return {'type': 'virtual'}
    return {'type': 'line_thin', 'subtype': kind}


def _lanelet(w: OsmWriter, left: int, right: int, speed_kmh: float, **tags: str) -> int:
    base = {'type': 'lanelet', 'subtype': 'road', 'location': 'urban', 'one_way': 'yes',
            'speed_limit': f'{speed_kmh:g}'}  # fmt: skip
    return w.relation([('way', left, 'left'), ('way', right, 'right')], **{**base, **tags})


def add_junction(w: OsmWriter, spec: JunctionSpec) -> None:
    """Draw the arms (lanes in and out, stop lines, lights) and the connecting lanelets."""
    W = LANE_WIDTH_M  # noqa: N806
    arms = [_Arm(spec.centre_xy, a) for a in spec.arms]
    for ai, arm in enumerate(arms):
        a = arm.spec
        n_in, n_out = len(a.in_lanes), a.out_lanes
        stop = 0
        if spec.signalised:
            stop_xy = np.array([arm.at(spec.box_m, 0.0), arm.at(spec.box_m, n_in * W)])
            stop = w.way(stop_xy, type='stop_line')
        cuts = [spec.box_m, a.length_m]
        if a.solid_m > 0.0 and a.length_m - spec.box_m > a.solid_m:
            cuts.insert(1, spec.box_m + a.solid_m)
        for si in range(len(cuts) - 1):
            u0, u1 = cuts[si], cuts[si + 1]
            near = si == 0 and len(cuts) > 2
            lines = {}
            for k in range(-n_out, n_in + 1):
                if k in (-n_out, n_in):
                    kind = 'border'
                elif k == 0:
                    kind = 'solid_solid'
                else:
                    kind = 'solid' if near and k > 0 else 'dashed'
                lines[k] = w.way(arm.line(u0, u1, k * W), **_line_tags(kind))
            for j in range(n_out):
                _lanelet(w, lines[-j], lines[-j - 1], spec.speed_kmh)
            for i in range(n_in):
                rel = _lanelet(w, lines[i], lines[i + 1], spec.speed_kmh)
                if si == 0 and spec.signalised:
                    _add_light(w, spec, arm=arm, ai=ai, lane=i, rel=rel, stop=stop)
    for ai, arm in enumerate(arms):
        for i, movements in enumerate(arm.spec.in_lanes):
            for mv in movements:
                _add_connector(w, spec, arms=arms, ai=ai, lane=i, mv=mv)


def _add_light(
    w: OsmWriter, spec: JunctionSpec, *, arm: _Arm, ai: int, lane: int, rel: int, stop: int
) -> None:
    """A traffic-light regulatory element for inbound lane ``lane`` (relation ``rel``)."""
    W = LANE_WIDTH_M  # noqa: N806
    group = signal_group(ai, arm.spec.in_lanes[lane][0])
    far = -spec.box_m - 2.0
    light = w.way(np.array([arm.at(far, lane * W + 1.0), arm.at(far, lane * W + 2.5)]),
                  type='traffic_light', subtype='red_yellow_green', height='1.2',
                  signal_group=str(group))  # fmt: skip
    reg = w.relation(
        [('way', stop, 'ref_line'), ('way', light, 'refers')],
        type='regulatory_element', subtype='traffic_light', signal_group=str(group),
        intersection_id=str(spec.intersection_id),
    )  # fmt: skip
    w.add_member(rel, 'relation', reg, 'regulatory_element')


def _add_connector(
    w: OsmWriter, spec: JunctionSpec, *, arms: Sequence[_Arm], ai: int, lane: int, mv: str
) -> None:
    W = LANE_WIDTH_M  # noqa: N806
    src = arms[ai]
    want = (src.spec.bearing_deg + TURN_BEARING_DEG[mv]) % 360.0
    diffs = [abs((a.spec.bearing_deg - want + 180.0) % 360.0 - 180.0) for a in arms]
    bi = int(np.argmin(diffs))
    if diffs[bi] > 20.0:
        return
    dst = arms[bi]
    n_out = dst.spec.out_lanes
    j = {'left': 0, 'right': n_out - 1}.get(mv, min(lane, n_out - 1))
    bounds = []
    for v_in, v_out in ((lane * W, -j * W), ((lane + 1) * W, -(j + 1) * W)):
        pts = _bezier(src.at(spec.box_m, v_in), -src.eu, dst.at(spec.box_m, v_out), dst.eu)
        bounds.append(w.way(pts, type='virtual'))
    speed = spec.speed_kmh if mv == 'straight' else spec.turn_speed_kmh
    _lanelet(w, bounds[0], bounds[1], speed, turn_direction=mv)


def intersection_spec(intersection_id: int = 1) -> JunctionSpec:
    """The example: arms E, N, W, S of 160 m; in: left, straight, right; out: 2 lanes."""
    lanes = (('left',), ('straight',), ('right',))
    arms = tuple(ArmSpec(b, lanes, 2, 160.0, solid_m=40.0) for b in (0.0, 90.0, 180.0, 270.0))
    return JunctionSpec((0.0, 0.0), arms, box_m=16.0, intersection_id=intersection_id,
                        signalised=True)  # fmt: skip


def write_intersection(path: str | Path, frame: GeodeticFrame | None = None) -> None:
    w = OsmWriter()
    add_junction(w, intersection_spec())
    w.write(path, frame or LocalFrame(*INTERSECTION_ORIGIN))


def write_road_segment(
    path: str | Path, frame: GeodeticFrame | None = None, *, lanes: int = 3,
    length_m: float = 1000.0, section_m: float = 250.0, speed_kmh: float = 80.0,
) -> None:  # fmt: skip
    """Both directions, ``lanes`` each, along +x from the origin, split every ``section_m``."""
    w = OsmWriter()
    W = LANE_WIDTH_M  # noqa: N806
    cuts = np.arange(0.0, length_m + 0.5 * section_m, section_m)
    for x0, x1 in itertools.pairwise(cuts):
        lines = {}
        for k in range(-lanes, lanes + 1):
            kind = 'border' if abs(k) == lanes else ('solid_solid' if k == 0 else 'dashed')
            lines[k] = w.way(np.array([[x0, k * W], [x1, k * W]]), **_line_tags(kind))
        for k in range(lanes):
            _lanelet(w, lines[-k], lines[-k - 1], speed_kmh, location='nonurban')
            _lanelet(w, lines[k], lines[k + 1], speed_kmh, location='nonurban')
    w.write(path, frame or LocalFrame(*ROAD_ORIGIN))


def write_grid(path: str | Path, *, size_m: float = 1000.0, spacing_m: float = 100.0) -> None:
    """A street grid (1 lane each way, every turn allowed, unsignalised) over size_m²."""
    w = OsmWriter()
    every = (('left', 'straight', 'right'),)
    arms = tuple(ArmSpec(b, every, 1, 0.5 * spacing_m) for b in (0.0, 90.0, 180.0, 270.0))
    ticks = np.arange(0.0, size_m + 0.5 * spacing_m, spacing_m)
    for x in ticks:
        for y in ticks:
            add_junction(w, JunctionSpec((float(x), float(y)), arms, box_m=8.0,
                                         intersection_id=0, signalised=False))  # fmt: skip
    w.write(path, LocalFrame(*GRID_ORIGIN))


def main(argv: Sequence[str] | None = None) -> None:
    from vehicle_nodes.hdmap.export import export_intersection, write_export
    from vehicle_nodes.hdmap.loader import load_map

    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='config/maps', help='output folder')
    parser.add_argument('--grid', help='also write the benchmark grid map to this path')
    args = parser.parse_args(argv)
    out = Path(args.out)
    write_intersection(out / 'intersection.osm')
    write_road_segment(out / 'road_segment.osm')
    hd = load_map(out / 'intersection.osm', LocalFrame(*INTERSECTION_ORIGIN))
    write_export(export_intersection(hd, 1, name='Anting example junction'),
                 out / 'intersection.json')  # fmt: skip
    if args.grid:
        write_grid(args.grid)


if __name__ == '__main__':
    main()

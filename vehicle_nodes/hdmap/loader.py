"""Lanelet2 OSM → ``HdMap``: lanelets with centre lines, traffic lights, speed limits, routing.

Conventions read (Lanelet2's tagging, plus two project tags):
- lanelet relations ``type=lanelet`` with one ``left`` and one ``right`` way member; bounds
  are flipped so that both run one way with the left bound on the left (as Lanelet2's
  loader does); ``one_way=no`` adds an inverted twin; ``subtype`` road/highway/play_street (or
  ``participant:vehicle=yes``) marks it drivable; ``turn_direction`` is kept;
- speed limit: the lanelet's ``speed_limit`` tag (km/h, unit suffix allowed), else a
  ``speed_limit`` regulatory element (its own ``speed_limit`` tag, or a sign subtype such as
  ``de274-60``; ``de274_1`` zone = 30 km/h);
- regulatory elements ``subtype=traffic_light``: ``ref_line`` = stop line, ``refers`` = the
  lights; the project tags ``signal_group`` (SPAT phase id) and ``intersection_id`` on the
  element (or ``signal_group`` on a light);
- boundaries: ``lane_change`` / ``lane_change:left`` / ``lane_change:right`` tags, else
  ``line_thin``/``line_thick`` with subtype dashed (crossable), solid_dashed / dashed_solid
  (crossable from the dashed side), anything else not crossable (Lanelet2's default).
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import OrderedDict
from dataclasses import is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vehicle_nodes.hdmap import geometry as geo
from vehicle_nodes.hdmap.errors import MapParseError
from vehicle_nodes.hdmap.frame import GeodeticFrame
from vehicle_nodes.hdmap.lanemap import HdMap
from vehicle_nodes.hdmap.model import Lanelet, LineMarking, TrafficLight
from vehicle_nodes.hdmap.osm import OsmDocument, OsmRelation, OsmWay, read_osm

DRIVABLE_SUBTYPES = frozenset({'road', 'highway', 'play_street'})
_SPEED = re.compile(r'^\s*([0-9]+(?:\.[0-9]+)?)\s*(km/h|kmh|kph|mph|m/s|mps)?\s*$')
_SIGN_SPEED = re.compile(r'^de274[-_ ]([0-9]{2,3})$')
_ZONE_30 = frozenset({'de274_1', 'de274.1'})
KMH = 1.0 / 3.6


def parse_speed_mps(text: str) -> float:
    """'50', '50 km/h', '30 mph', '13.9 m/s' → m/s; NaN when it is not a speed."""
    m = _SPEED.match(text)
    if not m:
        return math.nan
    value = float(m.group(1))
    unit = m.group(2) or 'km/h'
    if unit == 'mph':
        return value * 0.44704
    if unit in ('m/s', 'mps'):
        return value
    return value * KMH


def _node_xy(doc: OsmDocument, frame: GeodeticFrame | None) -> dict[int, tuple[float, float]]:
    ids = list(doc.nodes)
    if frame is None:
        out = {}
        for nid in ids:
            tags = doc.nodes[nid].tags
            if 'local_x' not in tags or 'local_y' not in tags:
                raise MapParseError(
                    doc.path, f'node {nid}', 'no frame given and no local_x/local_y tags'
                )
            try:
                out[nid] = (float(tags['local_x']), float(tags['local_y']))
            except ValueError:
                raise MapParseError(
                    doc.path, f'node {nid}', f'local_x/local_y must be numbers, got {tags}'
                ) from None
        return out
    lat = np.array([doc.nodes[i].lat_deg for i in ids])
    lon = np.array([doc.nodes[i].lon_deg for i in ids])
    east, north, _ = frame.to_enu(lat, lon, np.zeros_like(lat))
    return {nid: (float(e), float(n)) for nid, e, n in zip(ids, east, north, strict=True)}


class _Builder:
    def __init__(self, doc: OsmDocument, xy: dict[int, tuple[float, float]], step_m: float):
        self.doc = doc
        self.xy = xy
        self.step_m = step_m
        self.lights: dict[int, TrafficLight] = {}

    def fail(self, element: str, problem: str) -> MapParseError:
        return MapParseError(self.doc.path, element, problem)

    def way(self, where: str, way_id: int) -> OsmWay:
        way = self.doc.ways.get(way_id)
        if way is None:
            raise self.fail(where, f'refers to missing way {way_id}')
        if len(way.node_ids) < 2:
            raise self.fail(f'way {way_id}', f'needs at least 2 nodes, has {len(way.node_ids)}')
        return way

    def way_xy(self, way: OsmWay) -> geo.FloatArray:
        return np.array([self.xy[n] for n in way.node_ids], dtype=float)

    def traffic_light(self, rel: OsmRelation) -> TrafficLight:
        if rel.id in self.lights:
            return self.lights[rel.id]
        where = f'relation {rel.id}'
        ref_lines = rel.refs('ref_line')
        stop_xy = self.way_xy(self.way(where, ref_lines[0])) if ref_lines else None
        lights = tuple(rel.refs('refers'))
        group_text = rel.tags.get('signal_group')
        for wid in lights:
            if group_text is None and wid in self.doc.ways:
                group_text = self.doc.ways[wid].tags.get('signal_group')
        try:
            group = int(group_text) if group_text is not None else 0
            inter = int(rel.tags.get('intersection_id', '-1'))
        except ValueError:
            raise self.fail(
                where, f'signal_group/intersection_id must be integers, got {rel.tags}'
            ) from None
        if not 0 <= group <= 255:
            raise self.fail(where, f'signal_group must be within 0..255, got {group}')
        tl = TrafficLight(rel.id, stop_xy, lights, group, inter)
        self.lights[rel.id] = tl
        return tl

    def speed_limit(self, rel: OsmRelation, regs: list[OsmRelation]) -> float:
        if 'speed_limit' in rel.tags:
            value = parse_speed_mps(rel.tags['speed_limit'])
            if math.isnan(value):
                raise self.fail(
                    f'relation {rel.id}',
                    f'speed_limit must be a speed, got {rel.tags["speed_limit"]!r}',
                )
            return value
        for reg in regs:
            if reg.tags.get('subtype') != 'speed_limit':
                continue
            if 'speed_limit' in reg.tags:
                return parse_speed_mps(reg.tags['speed_limit'])
            for wid in reg.refs('refers'):
                sign = self.doc.ways.get(wid)
                sub = sign.tags.get('subtype', '') if sign else ''
                if sub in _ZONE_30:
                    return 30.0 * KMH
                m = _SIGN_SPEED.match(sub)
                if m:
                    return float(m.group(1)) * KMH
        return math.nan

    def lanelets(self, rel: OsmRelation) -> list[Lanelet]:
        where = f'relation {rel.id}'
        lefts, rights = rel.refs('left'), rel.refs('right')
        if len(lefts) != 1 or len(rights) != 1:
            raise self.fail(
                where, f'a lanelet needs one left and one right way, got {lefts} / {rights}'
            )
        lw, rw = self.way(where, lefts[0]), self.way(where, rights[0])
        left_xy, right_xy = self.way_xy(lw), self.way_xy(rw)
        left_rev, right_rev = _orientation(left_xy, right_xy)
        if left_rev:
            left_xy = left_xy[::-1]
        if right_rev:
            right_xy = right_xy[::-1]
        ln = lw.node_ids[::-1] if left_rev else lw.node_ids
        rn = rw.node_ids[::-1] if right_rev else rw.node_ids
        regs = [
            self.doc.relations[r]
            for r in rel.refs('regulatory_element', 'relation')
            if r in self.doc.relations
        ]
        subtype = rel.tags.get('subtype', 'road')
        vehicle = rel.tags.get('participant:vehicle')
        drivable = vehicle == 'yes' if vehicle else subtype in DRIVABLE_SUBTYPES
        one_way = rel.tags.get('one_way', 'yes') not in ('no', 'false')
        speed = self.speed_limit(rel, regs)
        light = next(
            (self.traffic_light(r) for r in regs if r.tags.get('subtype') == 'traffic_light'),
            None,
        )
        common = dict(
            id=rel.id, subtype=subtype, drivable=drivable,
            turn_direction=rel.tags.get('turn_direction', ''), speed_limit_mps=speed,
            regulatory_ids=tuple(r.id for r in regs),
        )  # fmt: skip
        fwd = self._lanelet(
            key=rel.id, inverted=False, left=_marking(lw, left_rev, towards_left=True),
            right=_marking(rw, right_rev, towards_left=False), left_xy=left_xy,
            right_xy=right_xy, end_nodes=(ln[0], ln[-1], rn[0], rn[-1]),
            light=light, **common,
        )  # fmt: skip
        out = [fwd]
        if not one_way and drivable:
            out.append(
                self._lanelet(
                    key=-rel.id, inverted=True,
                    left=_marking(rw, not right_rev, towards_left=True),
                    right=_marking(lw, not left_rev, towards_left=False),
                    left_xy=right_xy[::-1].copy(), right_xy=left_xy[::-1].copy(),
                    end_nodes=(rn[-1], rn[0], ln[-1], ln[0]),
                    light=None, **common,
                )
            )  # fmt: skip
        return out

    def _lanelet(self, *, left_xy, right_xy, light, **fields) -> Lanelet:  # type: ignore[no-untyped-def]
        length = max(geo.arc_length(left_xy)[-1], geo.arc_length(right_xy)[-1])
        if length <= 0.0:
            raise self.fail(f'relation {fields["id"]}', 'lanelet bounds have zero length')
        count = max(2, math.ceil(length / self.step_m) + 1)
        lb, rb = geo.resample_count(left_xy, count), geo.resample_count(right_xy, count)
        raw_centre = 0.5 * (lb + rb)
        raw_width = np.hypot(*(lb - rb).T)
        raw_s = geo.arc_length(raw_centre)
        centre = geo.resample(raw_centre, self.step_m)
        s = geo.arc_length(centre)
        width = np.interp(s * (raw_s[-1] / max(s[-1], 1e-9)), raw_s, raw_width)
        heading = geo.segment_headings(centre)
        for arr in (left_xy, right_xy, centre, s, width, heading):
            arr.setflags(write=False)
        stop_s = self._stop_s(centre, s, width, light) if light is not None else math.nan
        return Lanelet(
            left_xy=left_xy, right_xy=right_xy, centre_xy=centre, s_m=s, width_m=width,
            heading_rad=heading, traffic_light=light, stop_line_s_m=stop_s, **fields,
        )  # fmt: skip

    @staticmethod
    def _stop_s(centre: geo.FloatArray, s: geo.FloatArray, width: geo.FloatArray,
                light: TrafficLight) -> float:  # fmt: skip
        """Arc length where the stop line crosses the centre line; the end when it misses."""
        if light.stop_line_xy is None:
            return float(s[-1])
        samples = geo.resample(light.stop_line_xy, 0.25)
        # every sample against every segment in one pass; the first nearest sample wins,
        # as the per-sample loop it replaces (14 % of a map load) did
        s_m, dist_m = geo.project_many(centre, s, samples)
        best = int(np.argmin(dist_m))
        if dist_m[best] > 0.5 * float(np.max(width)) + 1.0:
            return float(s[-1])
        return float(s_m[best])


def _orientation(left_xy: geo.FloatArray, right_xy: geo.FloatArray) -> tuple[bool, bool]:
    """Which bounds to flip so both run one way with the left bound on the left.

    Bounds running against each other get one flipped; bounds whose "left" lies on the
    right of their common direction get both flipped (what Lanelet2's loader yields).
    """
    direct = np.hypot(*(left_xy[0] - right_xy[0])) + np.hypot(*(left_xy[-1] - right_xy[-1]))
    crossed = np.hypot(*(left_xy[0] - right_xy[-1])) + np.hypot(*(left_xy[-1] - right_xy[0]))
    right_rev = bool(crossed < direct)
    r = right_xy[::-1] if right_rev else right_xy
    travel = 0.5 * (left_xy[-1] + r[-1] - left_xy[0] - r[0])
    beside = left_xy.mean(axis=0) - r.mean(axis=0)
    if travel[0] * beside[1] - travel[1] * beside[0] >= 0.0:
        return False, right_rev
    return True, not right_rev


def _marking(way: OsmWay, reversed_: bool, *, towards_left: bool) -> LineMarking:
    """The boundary ``way`` as seen from the lanelet; ``towards_left``: the neighbour lies to
    the lanelet's left. ``reversed_``: the way runs against the lanelet."""
    to_way_left = towards_left != reversed_
    tags = way.tags
    side = 'lane_change:left' if to_way_left else 'lane_change:right'
    if side in tags:
        crossable = tags[side] == 'yes'
    elif 'lane_change' in tags:
        crossable = tags['lane_change'] == 'yes'
    elif tags.get('type') in ('line_thin', 'line_thick'):
        sub = tags.get('subtype', '')
        crossable = (
            sub == 'dashed'
            or (sub == 'solid_dashed' and to_way_left)
            or (sub == 'dashed_solid' and not to_way_left)
        )
    else:
        crossable = False
    return LineMarking(way.id, tags.get('type', ''), tags.get('subtype', ''), crossable)


_CACHE: OrderedDict[tuple[Any, ...], HdMap] = OrderedDict()
_CACHE_SIZE = 8
_CACHE_LOCK = threading.Lock()  # components may start on executor threads


def _cache_key(path: Path, frame: GeodeticFrame | None, step_m: float) -> tuple[Any, ...] | None:
    """(file, digest of its bytes, frame, step), or None when the frame has no value identity
    (only frozen dataclasses such as ``geo.LocalFrame`` compare by value) or the file is
    unreadable (``read_osm`` then raises the error). The digest, not the mtime: two writes
    within one file-system clock tick keep the mtime (a millisecond of hashing per load)."""
    if frame is not None and not (is_dataclass(frame) and frame.__dataclass_params__.frozen):  # type: ignore[attr-defined]
        return None
    try:
        digest = hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
    except OSError:
        return None
    return (str(path.resolve()), digest, frame, float(step_m))


def load_map(
    path: str | Path, frame: GeodeticFrame | None = None, *, step_m: float = 1.0,
    cache: bool = True,
) -> HdMap:  # fmt: skip
    """Load a Lanelet2 OSM map into local ENU metres.

    The map is a read-only value, so loads of the same file with the same bytes, frame and
    step share one ``HdMap``: in the simulator every connected vehicle's map matcher and
    application suite and the RSU load the same file, a quarter of a second each. Nobody
    may modify the returned map.

    :param frame: projects the nodes' lat/lon; ``None`` takes every node's ``local_x`` /
        ``local_y`` tags (metres) instead.
    :param step_m: spacing of the resampled centre lines.
    :param cache: False parses the file again whatever the cache holds.
    :raises MapParseError: the file and element that do not parse.
    """
    key = _cache_key(Path(path), frame, step_m) if cache else None
    if key is not None:
        with _CACHE_LOCK:
            if key in _CACHE:
                _CACHE.move_to_end(key)
                return _CACHE[key]
    hd = _load(path, frame, step_m)
    if key is not None:
        with _CACHE_LOCK:
            _CACHE[key] = hd
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return hd


def _load(path: str | Path, frame: GeodeticFrame | None, step_m: float) -> HdMap:
    doc = read_osm(path)
    builder = _Builder(doc, _node_xy(doc, frame), step_m)
    lanelets: dict[int, Lanelet] = {}
    for rel in doc.relations.values():
        if rel.tags.get('type') == 'lanelet':
            for ll in builder.lanelets(rel):
                lanelets[ll.key] = ll
    if not lanelets:
        raise MapParseError(doc.path, 'osm', 'the map has no lanelet relations')
    return HdMap.build(doc.path, lanelets, builder.lights, frame)

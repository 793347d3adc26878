"""Write Lanelet2 OSM from geometry in local ENU metres (used by the map generator).

Nodes are shared by position (1 mm grid), so two lanelets drawn to meet at the same point
are connected in the routing graph without bookkeeping. Every node carries lat/lon (from
the frame) and ``local_x``/``local_y``/``ele`` tags. One id space for all primitives.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vehicle_nodes.hdmap.frame import GeodeticFrame
from vehicle_nodes.hdmap.geometry import FloatArray


@dataclass
class _Way:
    id: int
    nodes: list[int]
    tags: dict[str, str]


@dataclass
class _Relation:
    id: int
    members: list[tuple[str, int, str]]
    tags: dict[str, str]


@dataclass
class OsmWriter:
    """Collects nodes, ways and relations, then writes them as one OSM XML file."""

    next_id: int = 1000
    nodes: dict[tuple[int, int], int] = field(default_factory=dict)
    node_xy: dict[int, tuple[float, float]] = field(default_factory=dict)
    ways: list[_Way] = field(default_factory=list)
    relations: list[_Relation] = field(default_factory=list)

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def node(self, x: float, y: float) -> int:
        key = (round(x * 1000.0), round(y * 1000.0))
        nid = self.nodes.get(key)
        if nid is None:
            nid = self._new_id()
            self.nodes[key] = nid
            self.node_xy[nid] = (key[0] / 1000.0, key[1] / 1000.0)
        return nid

    def way(self, points: FloatArray, **tags: str) -> int:
        ids = [self.node(float(x), float(y)) for x, y in points]
        ids = [n for i, n in enumerate(ids) if i == 0 or n != ids[i - 1]]
        wid = self._new_id()
        self.ways.append(_Way(wid, ids, dict(tags)))
        return wid

    def relation(self, members: list[tuple[str, int, str]], **tags: str) -> int:
        rid = self._new_id()
        self.relations.append(_Relation(rid, list(members), dict(tags)))
        return rid

    def add_member(self, relation_id: int, kind: str, ref: int, role: str) -> None:
        for rel in self.relations:
            if rel.id == relation_id:
                rel.members.append((kind, ref, role))
                return
        raise KeyError(relation_id)

    def write(self, path: str | Path, frame: GeodeticFrame) -> None:
        ids = list(self.node_xy)
        xy = np.array([self.node_xy[i] for i in ids])
        lat, lon, _ = frame.to_geodetic(xy[:, 0], xy[:, 1], np.zeros(len(ids)))
        root = ET.Element('osm', version='0.6', generator='v2x_stack vehicle_nodes.hdmap')
        for nid, (x, y), la, lo in zip(ids, xy, lat, lon, strict=True):
            el = ET.SubElement(root, 'node', id=str(nid), lat=f'{la:.10f}', lon=f'{lo:.10f}')
            for k, v in (('ele', '0.0'), ('local_x', f'{x:.3f}'), ('local_y', f'{y:.3f}')):
                ET.SubElement(el, 'tag', k=k, v=v)
        for w in self.ways:
            el = ET.SubElement(root, 'way', id=str(w.id))
            for n in w.nodes:
                ET.SubElement(el, 'nd', ref=str(n))
            for k, v in sorted(w.tags.items()):
                ET.SubElement(el, 'tag', k=k, v=v)
        for r in self.relations:
            el = ET.SubElement(root, 'relation', id=str(r.id))
            for kind, ref, role in r.members:
                ET.SubElement(el, 'member', type=kind, ref=str(ref), role=role)
            for k, v in sorted(r.tags.items()):
                ET.SubElement(el, 'tag', k=k, v=v)
        ET.indent(root)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(root).write(path, encoding='UTF-8', xml_declaration=True)

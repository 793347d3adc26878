"""OSM XML as Lanelet2 writes it, read into plain records (nodes, ways, relations).

Only structure is checked here (ids, coordinates, references of ways to nodes); what the
primitives mean is the loader's job. Every problem raises ``MapParseError`` naming the file
and the element.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from vehicle_nodes.hdmap.errors import MapParseError


@dataclass(frozen=True)
class OsmNode:
    id: int
    lat_deg: float
    lon_deg: float
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OsmWay:
    id: int
    node_ids: tuple[int, ...]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OsmMember:
    kind: str  # 'node', 'way' or 'relation'
    ref: int
    role: str


@dataclass(frozen=True)
class OsmRelation:
    id: int
    members: tuple[OsmMember, ...]
    tags: dict[str, str] = field(default_factory=dict)

    def refs(self, role: str, kind: str = 'way') -> list[int]:
        """Ids of the members with ``role`` and ``kind``, in file order."""
        return [mb.ref for mb in self.members if mb.role == role and mb.kind == kind]


@dataclass(frozen=True)
class OsmDocument:
    path: str
    nodes: dict[int, OsmNode]
    ways: dict[int, OsmWay]
    relations: dict[int, OsmRelation]


def _int(path: str, element: str, text: str | None, what: str) -> int:
    try:
        return int(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MapParseError(path, element, f'{what} must be an integer, got {text!r}') from None


def _float(path: str, element: str, text: str | None, what: str) -> float:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise MapParseError(path, element, f'{what} must be a number, got {text!r}') from None
    if not math.isfinite(value):
        raise MapParseError(path, element, f'{what} must be finite, got {text!r}')
    return value


def _tags(elem: ET.Element) -> dict[str, str]:
    return {t.get('k', ''): t.get('v', '') for t in elem.findall('tag')}


def read_osm(path: str | Path) -> OsmDocument:
    """Parse an OSM XML file.

    :raises MapParseError: unreadable file, malformed XML, a bad id or coordinate, a way that
        refers to a node the file does not have.
    """
    name = str(path)
    try:
        root = ET.parse(name).getroot()
    except OSError as err:
        raise MapParseError(name, 'file', f'cannot read: {err.strerror or err}') from None
    except ET.ParseError as err:
        line, col = err.position
        raise MapParseError(name, f'line {line} column {col}', f'malformed XML ({err})') from None
    if root.tag != 'osm':
        raise MapParseError(name, f'<{root.tag}>', 'expected an <osm> root element')

    nodes: dict[int, OsmNode] = {}
    for el in root.iter('node'):
        where = f'node {el.get("id")!s}'
        nid = _int(name, where, el.get('id'), 'id')
        lat = _float(name, where, el.get('lat'), 'lat')
        lon = _float(name, where, el.get('lon'), 'lon')
        if abs(lat) > 90.0 or abs(lon) > 180.0:
            raise MapParseError(name, where, f'lat/lon out of range, got {lat}, {lon}')
        nodes[nid] = OsmNode(nid, lat, lon, _tags(el))

    ways: dict[int, OsmWay] = {}
    for el in root.iter('way'):
        where = f'way {el.get("id")!s}'
        wid = _int(name, where, el.get('id'), 'id')
        refs = tuple(_int(name, where, nd.get('ref'), 'nd ref') for nd in el.findall('nd'))
        missing = [r for r in refs if r not in nodes]
        if missing:
            raise MapParseError(name, where, f'refers to missing node(s) {missing[:5]}')
        ways[wid] = OsmWay(wid, refs, _tags(el))

    relations: dict[int, OsmRelation] = {}
    for el in root.iter('relation'):
        where = f'relation {el.get("id")!s}'
        rid = _int(name, where, el.get('id'), 'id')
        members = tuple(
            OsmMember(
                mb.get('type', ''),
                _int(name, where, mb.get('ref'), 'member ref'),
                mb.get('role', ''),
            )
            for mb in el.findall('member')
        )
        relations[rid] = OsmRelation(rid, members, _tags(el))
    return OsmDocument(name, nodes, ways, relations)

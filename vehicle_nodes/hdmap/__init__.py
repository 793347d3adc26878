"""HD map: Lanelet2 OSM loading, routing graph, lane-level map matching, intersection export."""

from vehicle_nodes.hdmap.errors import ExportError, HdMapError, MapParseError, RoutingError
from vehicle_nodes.hdmap.frame import GeodeticFrame
from vehicle_nodes.hdmap.lanemap import HdMap, StopLineAhead
from vehicle_nodes.hdmap.loader import load_map
from vehicle_nodes.hdmap.matching import LaneMatch, LaneMatcher, MatcherConfig
from vehicle_nodes.hdmap.model import Lanelet, LineMarking, TrafficLight

__all__ = [
    'ExportError',
    'GeodeticFrame',
    'HdMap',
    'HdMapError',
    'LaneMatch',
    'LaneMatcher',
    'Lanelet',
    'LineMarking',
    'MapParseError',
    'MatcherConfig',
    'RoutingError',
    'StopLineAhead',
    'TrafficLight',
    'load_map',
]

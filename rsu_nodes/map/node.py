"""MapSource: the intersection's geometry → ``v2x/map_out`` (IntersectionMap) at 1 Hz.

Input is either the HD map's intersection export (``export_file``, JSON, see docs/hdmap.md)
or a Lanelet2 map (``map_file``) exported on start with ``vehicle_nodes.hdmap.export``. The
topic is transient-local, so a transmitter that starts later still gets the map; it is
republished every ``1 / rate_hz`` with a fresh stamp (MapData is broadcast periodically).
A map that cannot be read fails at start naming the file.
"""

from __future__ import annotations

from typing import Any

from geo import LocalFrame
from rsu_nodes.map.build import MAP, MapBuilder
from v2x_runtime import QOS_LATCHED, Component, ComponentContext, ParameterError
from v2x_runtime.resources import resource_path
from vehicle_nodes.hdmap.errors import HdMapError
from vehicle_nodes.hdmap.export import IntersectionExport, export_intersection, read_export
from vehicle_nodes.hdmap.loader import load_map


class MapSource(Component):
    """Intersection export or Lanelet2 map → IntersectionMap list on ``v2x/map_out``."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        p = ctx.declare_parameter
        export_file = p('export_file', 'config/maps/intersection.json', 'Intersection export')
        map_file = p('map_file', '', 'Lanelet2 OSM map (used instead of export_file when set)')
        intersection_id = p(
            'intersection_id', 1, 'Intersection to export from map_file', range=(0, 65535)
        )
        lat0 = p('origin_lat_deg', 0.0, 'Map frame origin latitude (0, 0: unset)', range=(-90, 90))
        lon0 = p('origin_lon_deg', 0.0, 'Map frame origin longitude', range=(-180, 180))
        self.rate_hz = p('rate_hz', 1.0, 'MAP broadcast rate', range=(0.1, 10.0))
        region = p('region', 0, 'NodeReferenceID.region', range=(0, 65535))
        frame_id = p('frame_id', 'map', 'Frame of the lane points')
        export = self._load(ctx.name, export_file, map_file, intersection_id)
        ref_lat, ref_lon = export.ref_lat_deg, export.ref_lon_deg
        if ref_lat is None or ref_lon is None:
            if lat0 == 0.0 and lon0 == 0.0:
                raise ParameterError(
                    f'{ctx.name}: the map has no geodetic reference; set origin_lat_deg and '
                    'origin_lon_deg (the map frame origin)'
                )
            la, lo, _ = LocalFrame(lat0, lon0, 0.0).to_geodetic(*export.ref_xy_m, 0.0)
            ref_lat, ref_lon = float(la), float(lo)
        self.builder = MapBuilder(export, ref_lat, ref_lon, region=region, frame_id=frame_id)
        self.pub = ctx.create_publisher('v2x/map_out', MAP, QOS_LATCHED)
        ctx.create_timer(1.0 / self.rate_hz, self.on_tick)
        ctx.logger.info(
            f'intersection {export.intersection_id}: {len(export.lanes)} lanes, '
            f'{len(export.movements)} movements'
        )

    @staticmethod
    def _load(
        name: str, export_file: str, map_file: str, intersection_id: int
    ) -> IntersectionExport:
        try:
            if map_file:
                return export_intersection(load_map(resource_path(map_file)), intersection_id)
            return read_export(resource_path(export_file))
        except HdMapError as err:
            raise ParameterError(f'{name}: {err}') from None
        except OSError as err:
            raise ParameterError(f'{name}: {map_file or export_file}: {err.strerror}') from None

    def start(self) -> None:
        self.on_tick()  # the map is there from the first moment

    def on_tick(self) -> None:
        for item in self.builder.maps(self.ctx.now_ns()):
            self.pub.publish(item)
        self.ctx.diagnostics.count('maps')

    def maps(self) -> list[Any]:
        return self.builder.maps(self.ctx.now_ns())

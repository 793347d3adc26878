"""MapMatcher with an HD map and received MAP: the HD map's stop line is kept where it has one,
and MAP gives the signal group and intersection where the HD map has none."""

import re

import pytest
from test_hdmap_mapdata import rx_frame
from test_hdmap_node import ns, odometry, routes_from_east

from rsu_nodes.map.build import MapBuilder
from v2x_nodes.codec import uper
from v2x_nodes.codec.convert import map_from_intersections
from v2x_nodes.rx import V2xReceiver
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.hdmap.export import read_export
from vehicle_nodes.hdmap.generate import INTERSECTION_ORIGIN
from vehicle_nodes.hdmap.node import MapMatcher
from vehicle_nodes.hdmap.trajectory import drive

LANE = 'v2x_stack/msg/LanePosition'
FIELDS = ('lanelet_id', 'arc_length_m', 'lateral_offset_m', 'lane_heading_rad', 'lane_width_m',
          'stop_line_distance_m', 'signal_group', 'intersection_id', 'confidence')  # fmt: skip


def example_mapdata(maps_dir) -> bytes:
    """The MAP an RSU builds from the example map's export (config/maps/intersection.json)."""
    export = read_export(maps_dir / 'intersection.json')
    maps = MapBuilder(export, export.ref_lat_deg, export.ref_lon_deg).maps(0)
    return uper.encode_frame(uper.MessageKind.MAP, map_from_intersections(maps, msg_count=1))


def lane_positions(maps_dir, map_file, route_index: int, *, with_map: bool) -> list:
    """The car's lane positions along one route from the east arm (left, straight, right)."""
    from vehicle_nodes.hdmap import load_map

    hd = load_map(maps_dir / 'intersection.osm')
    route = routes_from_east(hd)[route_index]
    d = drive(hd, route, speed_mps=10.0, dt_s=0.1)
    with EmbeddedRuntime(seed=1) as rt:
        origin = {'origin_lat_deg': INTERSECTION_ORIGIN[0],
                  'origin_lon_deg': INTERSECTION_ORIGIN[1]}  # fmt: skip
        rt.add_component(V2xReceiver, name='v2x_rx', namespace='/car',
                         parameters={'security': 'none', **origin})  # fmt: skip
        rt.add_component(MapMatcher, name='map_matcher', namespace='/car',
                         parameters={'map_file': str(map_file)})  # fmt: skip
        out: list = []
        rt.subscribe('/car/localization/lane', LANE, out.append)
        if with_map:  # an RSU repeats its MAP every second
            data = example_mapdata(maps_dir)
            for second in range(int(d.t_s[-1]) + 1):
                rt.publish('/car/v2x/rx', rx_frame(data, ns(second)), at_ns=ns(second))
        for i, t in enumerate(d.t_s):
            x, y = d.xy_m[i]
            rt.publish('/car/localization/odometry', odometry(t + 0.05, x, y, d.yaw_rad[i], 10.0),
                       at_ns=ns(t + 0.05))  # fmt: skip
        rt.run(duration_s=float(d.t_s[-1]) + 0.5)
    assert len(out) == len(d.t_s)
    return out


@pytest.mark.parametrize('route_index', [0, 1, 2])
def test_the_hd_maps_stop_lines_stay_when_a_map_is_heard(maps_dir, route_index):
    osm = maps_dir / 'intersection.osm'
    alone = lane_positions(maps_dir, osm, route_index, with_map=False)
    heard = lane_positions(maps_dir, osm, route_index, with_map=True)
    for a, b in zip(alone, heard, strict=True):
        assert [getattr(a, f) for f in FIELDS] == [getattr(b, f) for f in FIELDS]


@pytest.mark.parametrize('route_index', [0, 1, 2])
def test_an_hd_map_without_signal_groups_gets_them_from_the_map(maps_dir, tmp_path, route_index):
    text = (maps_dir / 'intersection.osm').read_text(encoding='utf-8')
    bare = re.sub(r'\s*<tag k="(signal_group|intersection_id)" v="\d+" />', '', text)
    assert 'signal_group' not in bare
    osm = tmp_path / 'no_signal_groups.osm'
    osm.write_text(bare, encoding='utf-8')
    full = lane_positions(maps_dir, maps_dir / 'intersection.osm', route_index, with_map=False)
    without = lane_positions(maps_dir, osm, route_index, with_map=False)
    heard = lane_positions(maps_dir, osm, route_index, with_map=True)
    before_line = [i for i, p in enumerate(full) if p.stop_line_distance_m < 1e9]
    assert len(before_line) > 50
    for i in before_line:
        assert without[i].signal_group == 0  # what the car had before: no light to look up
        assert heard[i].lanelet_id == full[i].lanelet_id  # the HD map's lane fields stay
        assert heard[i].signal_group == full[i].signal_group
        assert heard[i].intersection_id == full[i].intersection_id == 1
        # the MAP's lane ends at the HD map's stop line, within 5 cm (export simplification)
        # on the left and straight lanes; the example export's right-turn lane ends 0.98 m
        # further on (where its lanelet ends: config/maps/intersection.json, lane 3)
        tol = 1.0 if route_index == 2 else 0.05
        assert heard[i].stop_line_distance_m == pytest.approx(full[i].stop_line_distance_m, abs=tol)

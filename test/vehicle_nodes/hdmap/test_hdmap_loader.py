import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vehicle_nodes.hdmap import MapParseError, load_map
from vehicle_nodes.hdmap.loader import parse_speed_mps

# A two-lanelet map: lanelet 100 (left bound way 10, right 11) followed by 101 (12, 13).
SMALL = """<?xml version='1.0'?>
<osm version='0.6'>
  <node id='1' lat='0' lon='0'><tag k='local_x' v='0'/><tag k='local_y' v='3'/></node>
  <node id='2' lat='0' lon='0'><tag k='local_x' v='10'/><tag k='local_y' v='3'/></node>
  <node id='3' lat='0' lon='0'><tag k='local_x' v='0'/><tag k='local_y' v='0'/></node>
  <node id='4' lat='0' lon='0'><tag k='local_x' v='10'/><tag k='local_y' v='0'/></node>
  <node id='5' lat='0' lon='0'><tag k='local_x' v='20'/><tag k='local_y' v='3'/></node>
  <node id='6' lat='0' lon='0'><tag k='local_x' v='20'/><tag k='local_y' v='0'/></node>
  <way id='10'><nd ref='1'/><nd ref='2'/><tag k='type' v='line_thin'/></way>
  <way id='11'><nd ref='4'/><nd ref='3'/><tag k='type' v='road_border'/></way>
  <way id='12'><nd ref='2'/><nd ref='5'/></way>
  <way id='13'><nd ref='4'/><nd ref='6'/></way>
  <relation id='100'>
    <member type='way' ref='10' role='left'/><member type='way' ref='11' role='right'/>
    <member type='relation' ref='200' role='regulatory_element'/>
    <tag k='type' v='lanelet'/><tag k='subtype' v='road'/><tag k='speed_limit' v='36'/>
  </relation>
  <relation id='101'>
    <member type='way' ref='12' role='left'/><member type='way' ref='13' role='right'/>
    <tag k='type' v='lanelet'/><tag k='subtype' v='road'/>
  </relation>
  <relation id='200'>
    <member type='way' ref='14' role='ref_line'/>
    <tag k='type' v='regulatory_element'/><tag k='subtype' v='traffic_light'/>
    <tag k='signal_group' v='7'/><tag k='intersection_id' v='3'/>
  </relation>
  <way id='14'><nd ref='2'/><nd ref='4'/><tag k='type' v='stop_line'/></way>
</osm>
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / 'map.osm'
    path.write_text(text)
    return path


def test_small_map_loads_with_local_xy(tmp_path):
    hd = load_map(write(tmp_path, SMALL))
    a, b = hd.lanelets[100], hd.lanelets[101]
    # Right bound 11 runs backwards and is flipped; the lanelet runs +x.
    np.testing.assert_allclose(a.centre_xy[[0, -1]], [[0.0, 1.5], [10.0, 1.5]])
    np.testing.assert_allclose(a.width_m, 3.0)
    assert a.length_m == pytest.approx(10.0)
    assert a.heading_at(5.0) == pytest.approx(0.0)
    assert a.speed_limit_mps == pytest.approx(10.0)
    assert math.isnan(b.speed_limit_mps)
    assert hd.routing.following(100) == (101,)
    assert hd.routing.predecessors[101] == (100,)
    assert a.traffic_light.signal_group == 7
    assert a.traffic_light.intersection_id == 3
    assert a.stop_line_s_m == pytest.approx(10.0)
    ahead = hd.next_stop_line(100, 4.0)
    assert ahead.distance_m == pytest.approx(6.0)
    assert hd.next_stop_line(101, 1.0).distance_m == math.inf


@pytest.mark.parametrize(
    ('text', 'element', 'problem'),
    [
        ('<osm><node id="x" lat="0" lon="0"/></osm>', 'node x', 'id must be an integer'),
        ('<osm><node id="1" lat="nan" lon="0"/></osm>', 'node 1', 'lat must be finite'),
        ('<osm><node id="1" lat="91" lon="0"/></osm>', 'node 1', 'out of range'),
        ('<osm><way id="5"><nd ref="9"/></way></osm>', 'way 5', 'missing node'),
        ('<osm><node id="1"', 'line 1 column', 'malformed XML'),
        ('<map/>', '<map>', 'expected an <osm> root'),
        ('<osm></osm>', 'osm', 'no lanelet relations'),
    ],
)
def test_structural_errors_name_file_and_element(tmp_path, text, element, problem):
    path = write(tmp_path, text)
    with pytest.raises(MapParseError, match=problem) as info:
        load_map(path)
    assert info.value.path == str(path)
    assert element in info.value.element
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ('old', 'new', 'element', 'problem'),
    [
        ("ref='11' role='right'", "ref='99' role='right'", 'relation 100', 'missing way 99'),
        ("ref='11' role='right'", "ref='12' role='left'", 'relation 100', 'one left and one right'),
        ("v='36'", "v='fast'", 'relation 100', 'speed_limit must be a speed'),
        ("k='signal_group' v='7'", "k='signal_group' v='300'", 'relation 200', '0..255'),
        ("k='signal_group' v='7'", "k='signal_group' v='g7'", 'relation 200', 'integers'),
        ("<tag k='local_x' v='0'/><tag k='local_y' v='3'/>", '', 'node 1', 'local_x/local_y'),
        ("<tag k='local_x' v='20'/>", "<tag k='local_x' v='east'/>", 'node 5', 'numbers'),
        (
            "<way id='12'><nd ref='2'/><nd ref='5'/>",
            "<way id='12'><nd ref='2'/>",
            'way 12',
            '2 nodes',
        ),
    ],
)
def test_semantic_errors_name_the_element(tmp_path, old, new, element, problem):
    assert old in SMALL
    with pytest.raises(MapParseError, match=problem) as info:
        load_map(write(tmp_path, SMALL.replace(old, new, 1)))
    assert info.value.element == element


def test_missing_file(tmp_path):
    with pytest.raises(MapParseError, match='cannot read'):
        load_map(tmp_path / 'nope.osm')


@pytest.mark.parametrize(
    ('text', 'mps'),
    [('50', 50 / 3.6), ('50 km/h', 50 / 3.6), ('30mph', 30 * 0.44704), ('13.5 m/s', 13.5)],
)
def test_parse_speed(text, mps):
    assert parse_speed_mps(text) == pytest.approx(mps)


def test_parse_speed_rejects_words():
    assert math.isnan(parse_speed_mps('fast'))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_fuzz_mutated_maps_load_or_raise_map_parse_error(tmp_path, data):
    raw = bytearray(SMALL.encode())
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(['flip', 'delete', 'insert']))
        i = data.draw(st.integers(0, len(raw) - 1))
        if op == 'flip':
            raw[i] = data.draw(st.integers(0, 255))
        elif op == 'delete':
            del raw[i : i + data.draw(st.integers(1, 20))]
        else:
            raw[i:i] = data.draw(st.binary(min_size=1, max_size=10))
        if not raw:
            raw = bytearray(b'<')
    path = tmp_path / 'fuzz.osm'
    path.write_bytes(bytes(raw))
    try:
        hd = load_map(path)
    except MapParseError:
        return
    for ll in hd.lanelets.values():
        assert np.all(np.isfinite(ll.centre_xy))


def test_same_file_and_frame_share_one_map_until_the_bytes_change(tmp_path):
    path = tmp_path / 'small.osm'
    path.write_text(SMALL)
    first = load_map(path)
    assert load_map(path) is first
    assert load_map(path, cache=False) is not first
    assert load_map(path, step_m=0.5) is not first
    path.write_text(SMALL.replace("v='36'", "v='54'"))  # same size, maybe the same mtime
    changed = load_map(path)
    assert changed is not first
    assert changed.lanelets[100].speed_limit_mps == pytest.approx(15.0)
    assert first.lanelets[100].speed_limit_mps == pytest.approx(10.0)


def test_geodetic_frames_share_a_map_by_origin():
    from geo import LocalFrame

    path = Path(__file__).resolve().parents[3] / 'config' / 'maps' / 'intersection.osm'
    a = load_map(path, LocalFrame(31.2837, 121.1638))
    assert load_map(path, LocalFrame(31.2837, 121.1638)) is a
    assert load_map(path, LocalFrame(31.2838, 121.1638)) is not a

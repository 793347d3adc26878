"""EventDetector: each event raised in its scene and not in its benign twin; hysteresis,
de-duplication, bad input, and the events through the codec's RSI."""

import math
from pathlib import Path

import pytest
import rsu_event_scenes as scenes
from rsu_event_scenes import CAR, PEDESTRIAN, array

from geo import LocalFrame
from rsu_nodes.events.codes import EventKind
from rsu_nodes.events.hysteresis import EventBook
from rsu_nodes.events.node import EventDetector
from rsu_nodes.events.rules import Candidate
from v2x_nodes.codec import uper
from v2x_nodes.codec.convert import events_from_rsi, rsi_from_events
from v2x_nodes.codec.offsets import GeoPoint
from v2x_runtime import ParameterError
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

ROOT = Path(__file__).resolve().parents[3]
EVENTS = 'v2x_stack/msg/RoadEventArray'
ORIGIN = (31.2837, 121.1638, 0.0)
KIND_CODES = {'stopped': 900, 'wrong': 900, 'congestion': 707, 'speeding': 901}


def run(scene, duration_s: float, params: dict | None = None, rate_hz: float = 10.0):
    rt = EmbeddedRuntime(seed=1)
    params = {'origin_lat_deg': ORIGIN[0], 'origin_lon_deg': ORIGIN[1], **(params or {})}
    node = rt.add_component(EventDetector, name='events', parameters=params)
    out: list = []
    rt.subscribe('/rsu/events', EVENTS, out.append)
    for k in range(round(duration_s * rate_hz)):
        t = k / rate_hz
        objs = scene(t)
        if objs is not None:
            rt.publish('/rsu/participants', array(t, objs), at_ns=round(t * 1e9))
    rt.run(duration_s=duration_s)
    rt.close()
    return node, out


def raised(out, text: str) -> list:
    return [e for a in out for e in a.events if text in e.description]


@pytest.mark.parametrize(
    'scene, twin, duration_s, text, event_type, sign_type',
    [
        (scenes.stopped_car, scenes.waiting_at_red, 14.0, 'stopped vehicle', 900, 0),
        (scenes.wrong_way, scenes.right_way, 5.0, 'wrong-way', 900, 0),
        (scenes.jam, scenes.free_flow, 24.0, 'congestion', 707, 0),
        (scenes.pedestrian_on_road, scenes.pedestrian_on_sidewalk, 4.0, 'pedestrian', 0, 10),
        (scenes.debris, scenes.debris_off_road, 8.0, 'obstacle', 0, 36),
        (scenes.speeding, scenes.at_the_limit, 5.0, 'speeding', 901, 0),
    ],
)
def test_event_raised_in_its_scene_and_not_in_its_twin(
    scene, twin, duration_s, text, event_type, sign_type
):
    params = {'congestion_after_s': 20.0}  # the default 60 s is tested below
    _, out = run(scene, duration_s, params)
    hits = raised(out, text)
    assert hits, f'{text} not raised'
    ids = {e.id for e in hits}
    assert len(ids) == 1  # one stable event while it lasts
    e = hits[-1]
    assert (e.event_type, e.sign_type, e.source) == (event_type, sign_type, 5)
    assert math.isfinite(e.latitude_deg) and math.isfinite(e.longitude_deg)
    assert m.to_ns(e.start_time) <= m.to_ns(e.header.stamp) < m.to_ns(e.end_time)
    assert e.radius_m > 0 or len(e.path) >= 2
    # No other kind fires in the scene (queued cars are not stopped vehicles, etc.).
    assert all(text in x.description for a in out for x in a.events)
    _, benign = run(twin, duration_s, params)
    assert not [x for a in benign for x in a.events], f'{text} twin raised events'


def test_congestion_reports_queue_length_mean_speed_and_the_lane_path():
    node, out = run(scenes.jam, 64.0)
    (e,) = out[-1].events
    assert 'queue 82 m' in e.description and 'arm 0' in e.description
    assert e.path[0].x == pytest.approx(16.0, abs=0.1)  # from the stop line upstream
    assert e.path[-1].x == pytest.approx(16.0 + 79.5 + 2.25, abs=0.1)
    assert e.path_radius_m == pytest.approx(3 * 3.5 / 2)
    assert 'queue 82 m' in node.ctx.diagnostics.values['approach_0']
    # Before 60 s of congestion it is not raised (a long red must not count).
    assert not [x for a in out if m.to_ns(a.header.stamp) < 59.5e9 for x in a.events]


def test_short_red_queue_is_neither_congestion_nor_stopped_vehicles():
    _, out = run(scenes.short_red_queue, 65.0)
    assert not [x for a in out for x in a.events]


def test_queued_partial_car_is_not_an_obstacle():
    """Issue 7: in the default simulator scenario a queued car seen only in part (unknown class)
    stood still for 5 s behind the queue and was raised as an obstacle."""
    node, out = run(scenes.queued_partial_car, 14.0)
    assert not [x for a in out for x in a.events]
    assert 'queue 16 m' in node.ctx.diagnostics.values['approach_0']  # it counts (12 m without)


def test_cars_merged_across_lanes_at_the_line_are_not_an_obstacle():
    """Issue 7, the default simulator scenario at 42 s: object 148, 5.36 x 4.41 x 1.51 m at
    (16.7, 3.4), two queued cars merged across the lane boundary, raised as an obstacle."""
    _, out = run(scenes.merged_pair_at_the_line, 10.0)
    assert not [x for a in out for x in a.events]


@pytest.mark.parametrize(
    'scene',
    [scenes.debris_ahead_of_queue, scenes.unknown_debris, scenes.low_wide_debris_at_the_line],
)
def test_unknown_debris_not_behind_a_queued_vehicle_is_an_obstacle(scene):
    node, out = run(scene, 8.0)
    hits = raised(out, 'obstacle')
    assert hits and {e.id for e in hits} == {hits[0].id}
    assert any(f'id {k}' in hits[-1].description for k in (53, 54, 61))
    assert len(out[-1].events) == 1
    assert node.ctx.diagnostics.values['approach_0'].startswith('queue ')


def test_hysteresis_raise_delay_gaps_and_withdrawal():
    # Present 0.6 s: shorter than the 1 s raise delay, then gone: never raised.
    _, out = run(lambda t: scenes.pedestrian_on_road(t) if t < 0.6 else [], 5.0)
    assert not raised(out, 'pedestrian')
    # Present 0..6 s with one frame in five missing: one event, withdrawn 3 s after 6 s.
    flicker = lambda t: (  # noqa: E731
        [] if round(t * 10) % 5 == 4 or t >= 6.0 else scenes.pedestrian_on_road(t)
    )
    _, out = run(flicker, 12.0)
    stamps = [m.to_ns(a.header.stamp) / 1e9 for a in out if raised([a], 'pedestrian')]
    assert len({e.id for e in raised(out, 'pedestrian')}) == 1
    assert stamps[0] <= 1.5 and 8.4 <= stamps[-1] <= 9.0
    assert all(stamps[k + 1] - stamps[k] < 0.6 for k in range(len(stamps) - 1))  # no gap


def test_track_id_switch_keeps_one_event():
    def switch(t):
        ident = 1 if t < 15.0 else 77
        return [(ident, CAR, 80.0 + (0.3 if ident == 77 else 0.0), 5.25, 0.0, 0.0)]

    node, out = run(switch, 20.0)
    hits = raised(out, 'stopped vehicle')
    assert {e.id for e in hits} == {hits[0].id}
    assert any('id 77' in e.description for e in hits)
    assert node.book.merged_total == 1


def test_two_events_get_distinct_stable_ids():
    def both(t):
        return scenes.pedestrian_on_road(t) + scenes.speeding(t)

    _, out = run(both, 5.0)
    last = out[-1].events
    assert len(last) == 2 and len({e.id for e in last}) == 2
    firsts = {e.description.split(' (')[0][:8]: e.id for e in last}
    for a in out:
        for e in a.events:
            assert firsts[e.description.split(' (')[0][:8]] == e.id


def test_book_ids_wrap_without_collisions():
    book = EventBook({EventKind.OBSTACLE: 0.0}, 0.0, 0.0)
    for k in range(600):
        cands = [Candidate(EventKind.OBSTACLE, k, (k * 10.0, 0.0, 0.0), (0, 0, 0), 'x')]
        book.update(k, cands)
        ids = [e.event_id for e in book.active()]
        assert len(ids) == len(set(ids)) and all(1 <= i <= 255 for i in ids)


def test_bad_input_is_counted_and_the_node_goes_on():
    rt = EmbeddedRuntime(seed=1)
    node = rt.add_component(EventDetector, name='events', parameters={})
    out: list = []
    rt.subscribe('/rsu/events', EVENTS, out.append)
    ped = scenes.pedestrian_on_road
    nan = [(99, PEDESTRIAN, math.nan, 4.0, 0.0, 0.0)]
    for k in range(40):
        t = k / 10
        rt.publish('/rsu/participants', array(t, ped(t) + nan), at_ns=round(t * 1e9))
    rt.publish('/rsu/participants', array(1.0, ped(1.0)), at_ns=round(4.05e9))  # backwards
    rt.publish('/rsu/participants', array(4.1, ped(4.1), 'lidar'), at_ns=round(4.1e9))
    rt.publish('/rsu/participants', array(3.0, ped(3.0)), at_ns=round(4.2e9))  # stale-ish
    rt.run(duration_s=12.0)  # input stops at 3.9 s: events withdrawn after the timeout
    rt.close()
    c = node.ctx.diagnostics.counters
    assert c['rejected.nan_position'] == 40
    assert c['rejected.time_backwards'] == 2
    assert c['rejected.wrong_frame'] == 1
    assert c['input_timeouts'] > 0
    assert raised(out, 'pedestrian') and not out[-1].events


def test_stale_input_is_rejected():
    rt = EmbeddedRuntime(seed=1)
    node = rt.add_component(EventDetector, name='events', parameters={'max_age_s': 0.2})
    rt.publish('/rsu/participants', array(1.0, scenes.debris(1.0)), at_ns=round(1.5e9))
    rt.run(duration_s=2.0)
    rt.close()
    assert node.ctx.diagnostics.counters['rejected.stale'] == 1


@pytest.mark.parametrize(
    'params, match',
    [
        ({'map_file': '/nonexistent/map.osm'}, '/nonexistent/map.osm'),
        ({'codes_congestion': [707]}, 'codes_congestion'),
        ({'codes_speeding': [901, 70000]}, 'codes_speeding'),
        ({'codes_obstacle': [0, 0]}, 'codes_obstacle'),
    ],
)
def test_bad_config_fails_at_start(params, match):
    rt = EmbeddedRuntime(seed=1)
    with pytest.raises(ParameterError, match=match):
        rt.add_component(EventDetector, name='events', parameters=params)


def test_events_encode_to_rsi_with_the_expected_fields():
    def scene(t):
        return scenes.jam(t) + scenes.pedestrian_on_road(t) + scenes.debris(t)

    _, out = run(scene, 8.0, {'codes_obstacle': [0, 38], 'congestion_after_s': 5.0})
    array_msg = out[-1]
    assert len(array_msg.events) == 3
    ref = GeoPoint.from_degrees(31.2840, 121.1640, 10.0)
    origin = LocalFrame(*ORIGIN)
    value = rsi_from_events(array_msg, rsu_id='0a0b0c0d', ref=ref, origin=origin, msg_count=9)
    data = uper.encode_frame(uper.MessageKind.RSI, value)
    frame = uper.decode_frame(data)
    assert frame.kind == uper.MessageKind.RSI
    back = events_from_rsi(frame.value, m.to_ns(array_msg.header.stamp), origin=origin)
    assert back.source_id == '000000000a0b0c0d'
    sent = {e.id: e for e in array_msg.events}
    assert sorted(e.id for e in back.events) == sorted(sent)
    for b in back.events:
        a = sent[b.id]
        assert (b.event_type, b.sign_type, b.priority) == (a.event_type, a.sign_type, a.priority)
        assert b.description == a.description
        assert math.dist((b.position.x, b.position.y), (a.position.x, a.position.y)) < 0.2
        if a.event_type:  # RTEData has eventRadius; RTSData has no radius
            assert b.radius_m == pytest.approx(a.radius_m, abs=0.1)
        assert abs(m.to_ns(b.end_time) - m.to_ns(a.end_time)) < 60e9  # minute of the year
        if a.event_type:
            assert b.source == 5
    jam = next(b for b in back.events if b.event_type == 707)
    assert len(jam.path) == len(sent[jam.id].path) >= 2
    for p, q in zip(jam.path, sent[jam.id].path, strict=True):
        assert math.dist((p.x, p.y), (q.x, q.y)) < 0.2
    assert jam.path_radius_m == pytest.approx(5.25, abs=0.1)  # 0.1 m LSB
    signs = [b for b in back.events if b.event_type == 0]
    assert sorted(b.sign_type for b in signs) == [10, 38]


def test_map_file_resolves_package_relative():
    assert (ROOT / 'config' / 'maps' / 'intersection.osm').exists()
    _, out = run(scenes.debris, 1.0, {'map_file': 'config/maps/intersection.osm'})
    assert out

"""hmi/markers for RViz/Foxglove, and the conversions and JSON encoding they share with the page."""

import json
import math
from pathlib import Path

from hmi_support import odometry, participant, participants, spat, warning
from hypothesis import given
from hypothesis import strategies as st

from v2x_nodes.hmi import HmiServer, WarningArbiter
from v2x_nodes.hmi.conversions import target_from_participant, yaw_from_quaternion
from v2x_nodes.hmi.protocol import encode, state_message
from v2x_nodes.hmi.scene import Ego, Scene, ShownWarning, Target
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

ROOT = Path(__file__).resolve().parents[3]
MAP = ROOT / 'config' / 'maps' / 'intersection.osm'
CUBE, LINE_LIST, TEXT, ADD, DELETE = 1, 5, 9, 0, 2


class Markers:
    def __init__(self, **params):
        self.rt = EmbeddedRuntime(diagnostics_period_s=0)
        params = {'serve': False, 'map_file': str(MAP), 'markers_period_s': 0.2, **params}
        self.hmi = self.rt.add_component(HmiServer, name='hmi', parameters=params)
        self.rt.add_component(WarningArbiter, name='arbiter', parameters={'min_display_s': 0.5})
        self.arrays = []
        self.rt.subscribe('/hmi/markers', 'visualization_msgs/msg/MarkerArray', self.arrays.append)

    def last(self, ns, mid=None):
        found = [
            mk for mk in self.arrays[-1].markers if mk.ns == ns and (mid is None or mk.id == mid)
        ]
        return found


def test_markers_show_lanes_ego_targets_ids_signals_and_the_warning():
    mk = Markers()
    rt = mk.rt
    rt.publish('/localization/odometry', odometry(0, -40.0, -5.25, 0.3, 10.0))
    rt.publish(
        '/v2x/remote_vehicles',
        participants(0, [participant(7, -25.0, -5.25, 0.0, source_id='a1b2c3d4', source=1)]),
    )
    rt.publish(
        '/v2x/roadside_participants', participants(0, [participant(3, -8.0, 20.0, 0.0, cls=5)])
    )
    rt.publish('/v2x/spat', spat(0, [(8, 6, 9.0), (7, 3, 12.0)]))
    rt.publish('/v2x/warnings', warning('FCW', 4, target='a1b2c3d4', ttc_s=1.8, text='Brake!'))
    rt.run(duration_s=0.2)
    first = mk.arrays[0]
    lanes = [x for x in first.markers if x.ns == 'lanes']
    assert len(lanes) == 1 and lanes[0].type == LINE_LIST and lanes[0].header.frame_id == 'map'
    assert len(lanes[0].points) % 2 == 0 and len(lanes[0].points) > 1000
    ego = mk.last('ego')[0]
    assert ego.type == CUBE and (ego.pose.position.x, ego.pose.position.y) == (-40.0, -5.25)
    assert math.isclose(
        yaw_from_quaternion(0, 0, ego.pose.orientation.z, ego.pose.orientation.w), 0.3
    )
    assert (ego.scale.x, ego.scale.y) == (4.6, 1.9)
    boxes = {x.id: x for x in mk.last('targets')}
    labels = {x.id: x.text for x in mk.last('target_ids')}
    assert sorted(labels.values()) == ['a1b2c3d4:7', 'rsu1:3'] and set(boxes) == set(labels)
    warned = next(i for i, t in labels.items() if t == 'a1b2c3d4:7')
    assert (boxes[warned].color.r, boxes[warned].color.g) == (1.0, 0.1)  # the warned one is red
    stops = {x.id: x for x in mk.last('stop_lines')}
    assert len(stops) == 12
    by_group = {s.signal_group: s.lanelet_id for s in mk.hmi.lanes.stop_lines}
    green, red = stops[by_group[8]].color, stops[by_group[7]].color
    assert green.g > green.r and red.r > red.g
    (text,) = mk.last('warning')
    assert text.type == TEXT and text.text == 'FCW CRITICAL: Brake! TTC 1.8 s'
    rt.run(duration_s=0.2)
    assert mk.last('lanes') == []  # lanes are re-sent every lanes_period_s only


def test_vanished_targets_and_a_cleared_warning_are_deleted_once():
    mk = Markers(target_timeout_s=0.5)
    rt = mk.rt
    rt.publish('/localization/odometry', odometry(0, 0.0, 0.0, 0.0, 0.0))
    rt.publish(
        '/v2x/roadside_participants',
        participants(0, [participant(1, 5.0, 0.0, 0.0), participant(2, 9.0, 0.0, 0.0)]),
    )
    rt.publish('/v2x/warnings', warning('VRUCW', 3, target='rsu1:2'))
    rt.run(duration_s=0.2)
    ids = sorted(x.id for x in mk.last('targets'))
    rt.run(duration_s=0.2)
    rt.publish(
        '/v2x/roadside_participants', participants(rt.now_ns(), [participant(1, 5.0, 0.0, 0.0)])
    )
    rt.publish('/v2x/warnings', warning('VRUCW', 0, target='rsu1:2', now_ns=rt.now_ns()))
    rt.run(duration_s=0.2)
    gone = [x for x in mk.arrays[-1].markers if x.action == DELETE]
    assert sorted((x.ns, x.id) for x in gone) == [
        ('target_ids', ids[1]),
        ('targets', ids[1]),
        ('warning', 0),  # cleared at 0.4 s, held to 0.5 s (min_display_s)
    ]
    assert [x.id for x in mk.last('targets') if x.action == ADD] == [ids[0]]
    rt.run(duration_s=0.6)  # nothing is deleted twice; target 1 expires (0.4 s + 0.5 s)
    later = [(x.ns, x.id) for a in mk.arrays[-3:] for x in a.markers if x.action == DELETE]
    assert sorted(later) == [('target_ids', ids[0]), ('targets', ids[0])]
    assert mk.last('warning') == []


@given(st.floats(-math.pi + 1e-6, math.pi - 1e-6))
def test_yaw_survives_the_quaternion_round_trip(yaw):
    back = yaw_from_quaternion(0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))
    assert math.isclose(back, yaw, abs_tol=1e-9)


FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)


@given(FLOATS, FLOATS, FLOATS, FLOATS, FLOATS, st.text(max_size=30))
def test_any_numbers_encode_as_strict_json(x, y, ttc, dist, speed, text):
    scene = Scene(
        t_s=1.0,
        ego=Ego(x, y, 0.0, speed, 4.6, 1.9),
        targets=(
            Target('s:1', 1, 's', 1, x, y, 0.0, speed, 4.0, 1.8, 6, 0, 'v2x/remote_vehicles'),
        ),
        warning=ShownWarning('FCW', 3, 's:1', ttc, dist, text),
    )
    decoded = json.loads(encode(state_message(scene, 1)))
    for value, got in ((x, decoded['ego']['x']), (ttc, decoded['warning']['ttc'])):
        assert got is None if not math.isfinite(value) else isinstance(got, float)
    assert decoded['warning']['text'] == text and decoded['targets'][0]['warned']


def test_markers_roundtrip_through_cdr():
    mk = Markers()
    mk.rt.publish('/localization/odometry', odometry(0, 1.0, 2.0, 0.0, 0.0))
    mk.rt.run(duration_s=0.2)
    array = mk.arrays[0]
    back = m.deserialize(m.serialize(array), 'visualization_msgs/msg/MarkerArray')
    assert [(x.ns, x.id, x.type) for x in back.markers] == [
        (x.ns, x.id, x.type) for x in array.markers
    ]


def test_target_keys_follow_the_applications_naming():
    def key(source_id, pid, topic):
        p = participant(pid, 0.0, 0.0, 0.0, source_id=source_id)
        return target_from_participant(p, topic).key

    assert key('', 5, 'v2x/remote_vehicles') == 'remote_vehicle:5'
    assert key('', 3, 'v2x/roadside_participants') == 'roadside:3'
    assert key('rsu7', 3, 'v2x/roadside_participants') == 'rsu7:3'

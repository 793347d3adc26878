"""The generated CDR codecs write exactly rosbags' bytes and read them back, for every type."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rosbags.interfaces import Nodetype

from v2x_runtime import MessageError
from v2x_runtime import messages as m

STANDARD = [
    'sensor_msgs/msg/PointCloud2',
    'sensor_msgs/msg/NavSatFix',
    'sensor_msgs/msg/Imu',
    'nav_msgs/msg/Odometry',
    'diagnostic_msgs/msg/DiagnosticArray',
    'visualization_msgs/msg/MarkerArray',
    'tf2_msgs/msg/TFMessage',
    'std_msgs/msg/Bool',
    'geometry_msgs/msg/TwistWithCovarianceStamped',
    'rosgraph_msgs/msg/Clock',
]
PROJECT = sorted(t for t in m.typestore().types if t.startswith('v2x_stack/'))

# byte/char: rosbags packs them signed, rclpy unsigned; the common range 0..127 agrees.
_INTS = {
    'int8': (-128, 127),
    'uint8': (0, 255),
    'byte': (0, 127),
    'char': (0, 127),
    'octet': (0, 255),
    'int16': (-(2**15), 2**15 - 1),
    'uint16': (0, 2**16 - 1),
    'int32': (-(2**31), 2**31 - 1),
    'uint32': (0, 2**32 - 1),
    'int64': (-(2**63), 2**63 - 1),
    'uint64': (0, 2**64 - 1),
}
_DT = {
    'float32': np.float32,
    'float64': np.float64,
    'bool': np.bool_,
    'int8': np.int8,
    'uint8': np.uint8,
    'byte': np.uint8,
    'char': np.uint8,
    'octet': np.uint8,
    'int16': np.int16,
    'uint16': np.uint16,
    'int32': np.int32,
    'uint32': np.uint32,
    'int64': np.int64,
    'uint64': np.uint64,
}


def scalar(base):
    if base == 'string':
        return st.text(max_size=12)
    if base == 'bool':
        return st.booleans()
    if base == 'float32':
        return st.floats(width=32, allow_nan=False)
    if base == 'float64':
        return st.floats(allow_nan=False)
    return st.integers(*_INTS[base])


def message(msgtype, depth=0):
    """Any value of ``msgtype`` (nested sequences kept short)."""
    fields = {}
    for name, (kind, detail) in m.typestore().fielddefs[msgtype][1]:
        if kind == Nodetype.BASE:
            fields[name] = scalar(detail[0])
        elif kind == Nodetype.NAME:
            fields[name] = message(detail, depth + 1)
        else:
            (ekind, edetail), count = detail
            size = (
                {'min_size': count, 'max_size': count}
                if kind == Nodetype.ARRAY
                else {'max_size': 0 if depth > 1 else 3}
            )
            if ekind == Nodetype.NAME:
                fields[name] = st.lists(message(edetail, depth + 1), **size)
            elif edetail[0] == 'string':
                fields[name] = st.lists(scalar('string'), **size)
            else:
                dtype = _DT[edetail[0]]
                fields[name] = st.lists(scalar(edetail[0]), **size).map(
                    lambda xs, dtype=dtype: np.array(xs, dtype=dtype)
                )
    return st.fixed_dictionaries(fields).map(lambda kw: m.new(msgtype, **kw))


@pytest.mark.parametrize('msgtype', PROJECT + STANDARD)
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_bytes_equal_rosbags_and_round_trip(msgtype, data):
    msg = data.draw(message(msgtype))
    ours = m.serialize(msg)
    assert ours == bytes(m.typestore().serialize_cdr(msg, msgtype))
    back = m.deserialize(ours, msgtype)
    assert m.serialize(back) == ours


@given(st.binary(max_size=300))
def test_random_bytes_raise_message_error_or_decode(data):
    for msgtype in ('v2x_stack/msg/ParticipantArray', 'v2x_stack/msg/V2xFrame'):
        try:
            msg = m.deserialize(b'\x00\x01\x00\x00' + data, msgtype)
        except MessageError:
            continue
        assert msg.__msgtype__ == msgtype


def test_wrong_field_values_are_message_errors():
    with pytest.raises(MessageError, match='covariance: expected 16 elements'):
        m.serialize(m.new('v2x_stack/msg/Participant', covariance=np.zeros(3)))
    with pytest.raises(MessageError, match='cannot serialize v2x_stack/msg/Participant'):
        m.serialize(m.new('v2x_stack/msg/Participant', id=-1))
    with pytest.raises(MessageError, match='not a message'):
        m.serialize(3)


def test_big_endian_cdr_is_read_through_rosbags():
    msg = m.new('v2x_stack/msg/Warning', text='be', distance_m=2.5)
    data = bytes(m.typestore().serialize_cdr(msg, msg.__msgtype__, little_endian=False))
    assert data[1] == 0
    back = m.deserialize(data, msg.__msgtype__)
    assert (back.text, back.distance_m) == ('be', 2.5)


def test_strided_and_list_arrays_serialise_like_contiguous_ones():
    base = np.arange(32, dtype=np.float64)
    strided = m.new('v2x_stack/msg/Participant', covariance=base[::2])
    listed = m.new('v2x_stack/msg/Participant', covariance=list(base[::2]))
    plain = m.new('v2x_stack/msg/Participant', covariance=base[::2].copy())
    assert m.serialize(strided) == m.serialize(listed) == m.serialize(plain)
    assert m.serialize(plain) == bytes(m.typestore().serialize_cdr(plain, plain.__msgtype__))


@settings(max_examples=40, deadline=None)
@given(
    ns=st.text(max_size=7),
    points=st.lists(st.tuples(*[st.floats(allow_nan=False)] * 3), max_size=40),
    colors=st.lists(st.tuples(*[st.floats(width=32, allow_nan=False)] * 4), max_size=40),
    path=st.lists(st.tuples(*[st.floats(allow_nan=False)] * 3), max_size=40),
)
def test_runs_of_fixed_size_elements_are_one_pack_with_rosbags_bytes(ns, points, colors, path):
    """Points and colours after strings of any length (any alignment), longer than the
    generic property test draws: the one-pack path writes what rosbags writes, element by
    element."""
    pt = 'geometry_msgs/msg/Point'
    marker = m.new(
        'visualization_msgs/msg/Marker',
        ns=ns,
        points=[m.new(pt, x=x, y=y, z=z) for x, y, z in points],
        colors=[m.new('std_msgs/msg/ColorRGBA', r=r, g=g, b=b, a=a) for r, g, b, a in colors],
    )
    event = m.new('v2x_stack/msg/RoadEvent', path=[m.new(pt, x=x, y=y, z=z) for x, y, z in path])
    for msg in (marker, m.new('visualization_msgs/msg/MarkerArray', markers=[marker] * 2), event):
        ours = m.serialize(msg)
        assert ours == bytes(m.typestore().serialize_cdr(msg, msg.__msgtype__))
        assert m.serialize(m.deserialize(ours, msg.__msgtype__)) == ours


def test_a_wrong_element_in_a_packed_run_is_a_message_error():
    marker = m.new('visualization_msgs/msg/Marker', points=[m.new('geometry_msgs/msg/Point'), 3])
    with pytest.raises(MessageError, match='cannot serialize visualization_msgs/msg/Marker'):
        m.serialize(marker)
    marker.points = [m.new('geometry_msgs/msg/Point', x='a')]
    with pytest.raises(MessageError, match='cannot serialize visualization_msgs/msg/Marker'):
        m.serialize(marker)

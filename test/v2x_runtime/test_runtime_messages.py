"""The message layer: project types from msg/, defaults, CDR round trips, errors."""

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from v2x_runtime import MessageError
from v2x_runtime import messages as m

MSG_DIR = Path(__file__).resolve().parents[2] / 'msg'


def test_every_msg_file_is_a_registered_type_with_defaults():
    names = sorted(p.stem for p in MSG_DIR.glob('*.msg'))
    assert 'V2xFrame' in names and 'Participant' in names
    for name in names:
        msgtype = f'v2x_stack/msg/{name}'
        message = m.new(msgtype)
        assert m.deserialize(m.serialize(message), msgtype).__msgtype__ == msgtype


def test_constants_and_nested_defaults():
    p = m.new('v2x_stack/msg/Participant', id=4, participant_class=5)
    assert p.CLASS_PEDESTRIAN == p.participant_class == 5
    assert p.covariance.shape == (16,) and p.covariance.dtype == np.float64
    assert p.header.stamp.sec == 0 and p.source_id == ''
    frame = m.new('v2x_stack/msg/V2xFrame')
    assert frame.payload.dtype == np.uint8 and len(frame.payload) == 0


def test_unknown_types_and_fields_are_errors():
    with pytest.raises(MessageError, match="unknown message type 'v2x_stack/msg/Nope'"):
        m.new('v2x_stack/msg/Nope')
    with pytest.raises(MessageError, match=r"has no field\(s\) \['speed'\]"):
        m.new('v2x_stack/msg/Participant', speed=1.0)


def test_truncated_cdr_is_an_error():
    data = m.serialize(m.new('v2x_stack/msg/Warning', text='abc'))
    with pytest.raises(MessageError, match='cannot deserialize v2x_stack/msg/Warning'):
        m.deserialize(data[:10], 'v2x_stack/msg/Warning')


def test_time_helpers():
    assert m.to_ns(m.stamp(1_234_567_890_123)) == 1_234_567_890_123
    h = m.header(2_500_000_000, 'map')
    assert (h.stamp.sec, h.stamp.nanosec, h.frame_id) == (2, 500_000_000, 'map')
    assert m.finite(1.0, 2.0) and not m.finite(1.0, math.nan)


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(
    ident=st.integers(0, 2**32 - 1),
    cls=st.integers(0, 7),
    xyz=st.tuples(finite, finite, finite),
    cov=st.lists(finite, min_size=16, max_size=16),
    source_id=st.text(alphabet='0123456789abcdef', max_size=16),
    stamp_ns=st.integers(0, 2**40),
)
def test_participant_round_trip(ident, cls, xyz, cov, source_id, stamp_ns):
    p = m.new(
        'v2x_stack/msg/Participant',
        header=m.header(stamp_ns, 'map'),
        id=ident,
        participant_class=cls,
        source_id=source_id,
        position=m.new('geometry_msgs/msg/Point', x=xyz[0], y=xyz[1], z=xyz[2]),
        covariance=np.array(cov),
    )
    arr = m.new('v2x_stack/msg/ParticipantArray', participants=[p, p])
    back = m.deserialize(m.serialize(arr), 'v2x_stack/msg/ParticipantArray').participants[1]
    assert (back.id, back.participant_class, back.source_id) == (ident, cls, source_id)
    assert (back.position.x, back.position.y, back.position.z) == xyz
    assert back.covariance.tolist() == cov
    assert m.to_ns(back.header.stamp) == stamp_ns


@given(payload=st.binary(max_size=2000), rssi=st.floats(width=32, allow_nan=False))
def test_v2x_frame_round_trip(payload, rssi):
    frame = m.new(
        'v2x_stack/msg/V2xFrame',
        message_type=1,
        rssi_dbm=rssi,
        payload=np.frombuffer(payload, dtype=np.uint8),
    )
    back = m.deserialize(m.serialize(frame), 'v2x_stack/msg/V2xFrame')
    assert back.payload.tobytes() == payload and back.rssi_dbm == rssi


def test_new_builds_what_the_dataclass_constructor_builds():
    """new() fills the instance dict directly; it must equal the class's own construction."""
    import dataclasses

    store = m.typestore()
    for msgtype in sorted(store.types):
        made = m.new(msgtype)
        cls = m.msg_class(msgtype)
        reference = cls(**{name: getattr(made, name) for name, _ in store.fielddefs[msgtype][1]})
        assert type(made) is cls
        assert vars(made).keys() == vars(reference).keys(), msgtype
        for field in dataclasses.fields(cls):
            if field.default is not dataclasses.MISSING:  # constants and __msgtype__
                assert getattr(made, field.name) == field.default, (msgtype, field.name)
        assert m.serialize(made) == m.serialize(reference), msgtype


def test_new_makes_fresh_mutable_defaults():
    first, second = m.new('visualization_msgs/msg/Marker'), m.new('visualization_msgs/msg/Marker')
    first.points.append(m.new('geometry_msgs/msg/Point', x=1.0))
    first.header.frame_id = 'map'
    assert second.points == [] and second.header.frame_id == ''
    assert first.texture.data is not second.texture.data
    assert first.pose is not second.pose


def test_replace_is_a_shallow_copy_with_changes():
    frame = m.new('v2x_stack/msg/V2xFrame', psid=32, header=m.header(5, 'map'))
    copy = m.replace(frame, rssi_dbm=-70.0)
    assert copy == dataclasses.replace(frame, rssi_dbm=-70.0)
    assert frame.rssi_dbm == 0.0 and copy is not frame and copy.header is frame.header
    with pytest.raises(MessageError, match='no field'):
        m.replace(frame, rssi=1.0)

"""Bags written by the runtime are real rosbag2 MCAP; damaged bags are read as far as possible."""

import sqlite3

import numpy as np
import pytest
from mcap.reader import make_reader
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import Writer
from rosbags.rosbag2.enums import StoragePlugin
from v2x_test_components import WARNING, Talker

from v2x_runtime import BagError
from v2x_runtime import messages as m
from v2x_runtime.bag import KEEP_MIN_BYTES, BagReadReport, BagRecorder, read_bag
from v2x_runtime.embedded import EmbeddedRuntime
from v2x_runtime.qos import QOS_RELIABLE


@pytest.fixture
def bag(tmp_path):
    path = tmp_path / 'bag'
    rt = EmbeddedRuntime(seed=1)
    rt.add_component(Talker, name='talker', namespace='car1', parameters={'rate_hz': 50.0})
    rt.record(path)
    rt.run(duration_s=2.0)
    rt.close()
    return path


def test_rosbags_reads_the_bag_with_its_types(bag):
    with AnyReader([bag]) as reader:
        topics = {c.topic: c.msgtype for c in reader.connections}
        assert topics == {
            '/car1/chatter': WARNING,
            '/car1/diagnostics': 'diagnostic_msgs/msg/DiagnosticArray',
        }
        chatter = [c for c in reader.connections if c.topic == '/car1/chatter']
        texts = [
            reader.deserialize(raw, WARNING).text
            for _, _, raw in reader.messages(connections=chatter)
        ]
    assert texts == [f'hello {i}' for i in range(1, 101)]


def test_mcap_reader_sees_embedded_message_definitions(bag):
    (mcap_file,) = bag.glob('*.mcap')
    with mcap_file.open('rb') as stream:
        reader = make_reader(stream)
        summary = reader.get_summary()
        schemas = {s.name: s for s in summary.schemas.values()}
        assert schemas[WARNING].encoding == 'ros2msg'
        text = schemas[WARNING].data.decode()
        assert 'float64 time_to_collision_s' in text and 'MSG: std_msgs/Header' in text
        assert {c.message_encoding for c in summary.channels.values()} == {'cdr'}
        count = sum(1 for _ in reader.iter_messages(topics=['/car1/chatter']))
    assert count == 100


def test_a_truncated_bag_yields_what_is_readable_and_reports_the_damage(tmp_path):
    bag = tmp_path / 'big'
    rt = EmbeddedRuntime(diagnostics_period_s=0)
    text = 'x' * 4000  # about 4 MB in all: several 1 MiB chunks
    rt.add_component(Talker, name='talker', parameters={'rate_hz': 500.0, 'text': text})
    rt.record(bag)
    rt.run(duration_s=2.0)
    rt.close()
    (mcap_file,) = bag.glob('*.mcap')
    data = mcap_file.read_bytes()
    mcap_file.write_bytes(data[: len(data) * 2 // 3])
    report = BagReadReport(bag)
    records = list(read_bag(bag, report))
    assert 200 < len(records) < 1000
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f'{mcap_file}: record ')
    assert 'unreadable from here on' in report.errors[0]
    texts = [m.deserialize(r.data, r.msgtype).text for r in records]
    assert texts == [f'{text} {i}' for i in range(1, len(records) + 1)]


def test_sqlite3_bags_are_read_too(tmp_path):
    path = tmp_path / 'sq'
    with Writer(path, version=9, storage_plugin=StoragePlugin.SQLITE3) as writer:
        conn = writer.add_connection('/x', WARNING, typestore=m.typestore())
        for i in range(3):
            writer.write(conn, i * 10, m.serialize(m.new(WARNING, text=str(i))))
    records = list(read_bag(path))
    assert [(r.topic, r.stamp_ns, m.deserialize(r.data, r.msgtype).text) for r in records] == [
        ('/x', 0, '0'),
        ('/x', 10, '1'),
        ('/x', 20, '2'),
    ]


def test_a_corrupt_sqlite3_row_is_reported_and_the_rest_read(tmp_path):
    path = tmp_path / 'sq'
    with Writer(path, version=9, storage_plugin=StoragePlugin.SQLITE3) as writer:
        conn = writer.add_connection('/x', WARNING, typestore=m.typestore())
        for i in range(3):
            writer.write(conn, i, m.serialize(m.new(WARNING, text=str(i))))
    (db,) = path.glob('*.db3')
    with sqlite3.connect(db) as con:
        con.execute('UPDATE messages SET topic_id = 99 WHERE timestamp = 1')
    report = BagReadReport(path)
    records = list(read_bag(path, report))
    assert [r.stamp_ns for r in records] == [0, 2]
    assert report.errors == [f'{db}: row 1: unknown topic id 99']


def test_a_missing_bag_is_an_error_naming_the_path(tmp_path):
    with pytest.raises(BagError, match=f'{tmp_path}/nope: no such bag'):
        list(read_bag(tmp_path / 'nope'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(BagError, match='no .mcap or .db3 storage file'):
        list(read_bag(tmp_path / 'empty'))


def test_a_large_message_published_again_is_written_with_the_same_bytes(tmp_path):
    """The recorder keeps the bytes of large messages with them: the same object published
    again (a shared decoded MAP) is written from them, other objects are serialised."""
    recorder = BagRecorder(tmp_path / 'bag')
    lanes = [m.new('v2x_stack/msg/MapLane', lane_id=i, latitude_deg=np.ones(8)) for i in range(4)]
    shared = m.new('v2x_stack/msg/IntersectionMap', name='arm', lanes=lanes)
    other = m.new('v2x_stack/msg/IntersectionMap', name='arm 2', lanes=lanes[:1])
    assert len(m.serialize(shared)) >= KEEP_MIN_BYTES
    for stamp in range(3):
        for msg in (shared, other, shared):
            recorder.write_message('/map', msg.__msgtype__, QOS_RELIABLE, stamp, msg)
    recorder.close()
    records = list(read_bag(tmp_path / 'bag'))
    expected = [bytes(m.typestore().serialize_cdr(x, x.__msgtype__)) for x in (shared, other)]
    assert [r.data for r in records] == [expected[0], expected[1], expected[0]] * 3

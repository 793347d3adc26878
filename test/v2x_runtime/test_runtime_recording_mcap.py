"""The lean MCAP writer: bags of several chunks that rosbags, the mcap reader and our own
reader open with every message, its QoS and counts; an empty bag is still a valid bag."""

import yaml
from mcap.reader import make_reader
from rosbags.highlevel import AnyReader
from rosbags.interfaces import QosDurability, QosReliability

from v2x_runtime import messages as m
from v2x_runtime.bag import BagReadReport, BagRecorder, read_bag
from v2x_runtime.qos import QOS_RELIABLE, QosProfile, Reliability

FIX = 'sensor_msgs/msg/NavSatFix'
TEXT = 'std_msgs/msg/String'
BEST_EFFORT = QosProfile(depth=5, reliability=Reliability.BEST_EFFORT)


def write_bag(path, n=3000):
    """n fixes and n/10 strings of 5 kB, interleaved (about 2 MB: two chunks)."""
    rec = BagRecorder(path)
    for i in range(n):
        fix = m.new(FIX, header=m.header(i * 10_000_000, 'gnss'), latitude=30.0 + i * 1e-6)
        fix.position_covariance[:] = i
        rec.write(f'/car{i % 3}/fix', FIX, BEST_EFFORT, i * 10_000_000, fix)
        if i % 10 == 0:
            text = m.new(TEXT, data=f'line {i} ' + 'x' * 5000)
            rec.write('/log', TEXT, QOS_RELIABLE, i * 10_000_000, text)
    rec.close()
    return path


def test_rosbags_reads_every_message_in_order_with_its_qos(tmp_path):
    bag = write_bag(tmp_path / 'bag')
    with AnyReader([bag]) as reader:
        assert reader.message_count == 3300
        by_topic = {c.topic: c for c in reader.connections}
        assert set(by_topic) == {'/car0/fix', '/car1/fix', '/car2/fix', '/log'}
        qos = by_topic['/car1/fix'].ext.offered_qos_profiles[0]
        assert qos.depth == 5 and qos.reliability == QosReliability.BEST_EFFORT
        assert by_topic['/log'].ext.offered_qos_profiles[0].durability == QosDurability.VOLATILE
        lats = [
            reader.deserialize(raw, FIX).latitude
            for _, _, raw in reader.messages(connections=[by_topic['/car2/fix']])
        ]
    assert lats == [30.0 + i * 1e-6 for i in range(2, 3000, 3)]


def test_mcap_summary_and_index_agree_with_the_records(tmp_path):
    bag = write_bag(tmp_path / 'bag')
    (mcap_file,) = bag.glob('*.mcap')
    with mcap_file.open('rb') as stream:
        reader = make_reader(stream)
        summary = reader.get_summary()
        assert len(summary.chunk_indexes) >= 2
        assert summary.statistics.message_count == 3300
        assert summary.statistics.message_start_time == 0
        assert summary.statistics.message_end_time == 2999 * 10_000_000
        counts = summary.statistics.channel_message_counts
        assert sorted(counts.values()) == [300, 1000, 1000, 1000]
        stamps = [msg.log_time for _, _, msg in reader.iter_messages(topics=['/log'])]
    assert stamps == [i * 10_000_000 for i in range(0, 3000, 10)]
    info = yaml.safe_load((bag / 'metadata.yaml').read_text())['rosbag2_bagfile_information']
    assert info['version'] == 9 and info['message_count'] == 3300
    assert info['duration']['nanoseconds'] == 2999 * 10_000_000
    topics = {t['topic_metadata']['name']: t for t in info['topics_with_message_count']}
    assert topics['/log']['message_count'] == 300
    assert topics['/log']['topic_metadata']['offered_qos_profiles'][0]['reliability'] == 'reliable'
    report = BagReadReport(bag)
    assert sum(1 for _ in read_bag(bag, report)) == 3300 and report.errors == []


def test_an_empty_bag_is_complete(tmp_path):
    BagRecorder(tmp_path / 'empty').close()
    with AnyReader([tmp_path / 'empty']) as reader:
        assert reader.message_count == 0 and reader.connections == []
    (mcap_file,) = (tmp_path / 'empty').glob('*.mcap')
    with mcap_file.open('rb') as stream:
        assert make_reader(stream).get_summary().statistics.message_count == 0


def test_metadata_yaml_is_pyyamls_own_nested_dump(tmp_path):
    """metadata.yaml is made from the one dump of the record's metadata, nested by hand:
    the text PyYAML gives for the nested mapping, byte for byte."""
    from v2x_runtime.recording_mcap import dump_yaml

    rec = BagRecorder(tmp_path / 'bag')
    writer = rec._writer  # its metadata after close: what the file must say
    for i in range(20):
        fix = m.new(FIX, header=m.header(i * 10_000_000, 'gnss'))
        rec.write(f'/car_{i % 7}/localization/gnss/fix', FIX, BEST_EFFORT, i * 10_000_000, fix)
    rec.close()
    expected = dump_yaml({'rosbag2_bagfile_information': writer.metadata()})
    assert (tmp_path / 'bag' / 'metadata.yaml').read_text() == expected
    assert yaml.safe_load(expected)['rosbag2_bagfile_information']['message_count'] == 20

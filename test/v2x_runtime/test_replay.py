"""Replay of a recorded bag through a topology reproduces the reviewed outputs."""

import json
from pathlib import Path

from v2x_runtime import messages as m
from v2x_runtime.bag import read_bag
from v2x_runtime.replay import replay
from v2x_runtime.topology import load_topology

DATA = Path(__file__).resolve().parents[1] / 'data' / 'replay'


def outputs(bag: Path) -> dict[str, list]:
    result: dict[str, list] = {}
    for record in read_bag(bag):
        result.setdefault(record.topic, []).append(m.deserialize(record.data, record.msgtype))
    return result


def test_replay_reproduces_the_expected_outputs(tmp_path):
    expected = json.loads((DATA / 'expected.json').read_text())
    result = replay(DATA / 'input_bag', load_topology(DATA / 'topology.yaml'), tmp_path / 'out')
    assert result.input_messages == 5 and not result.read_errors and not result.skipped
    got = outputs(tmp_path / 'out')
    arrays = [
        [[p.id, p.position.x, p.position.y] for p in a.participants]
        for a in got['/car1/objects_out']
    ]
    assert arrays == expected['/car1/objects_out']
    stamps = [m.to_ns(a.header.stamp) for a in got['/car1/objects_out']]
    assert stamps == [1_700_000_000_000_000_000 + k * 100_000_000 for k in range(5)]
    last = got['/car1/diagnostics'][-1].status[0]
    assert {kv.key: kv.value for kv in last.values}['rejected.nan_position'] == expected[
        'rejected.nan_position'
    ]
    assert '/car1/objects_in' not in got  # inputs are not re-recorded


def test_replay_is_deterministic(tmp_path):
    topology = load_topology(DATA / 'topology.yaml')
    for name in ('a', 'b'):
        (tmp_path / name).mkdir()
        replay(DATA / 'input_bag', topology, tmp_path / name / 'out')
    files = [sorted((tmp_path / n / 'out').iterdir()) for n in ('a', 'b')]
    assert [f.read_bytes() for f in files[0]] == [f.read_bytes() for f in files[1]]


def test_a_damaged_bag_is_replayed_as_far_as_it_reads(tmp_path):
    (source,) = (DATA / 'input_bag').glob('*.mcap')
    damaged = tmp_path / 'damaged.mcap'
    data = source.read_bytes()
    # cut inside the summary section: every message chunk stays intact
    damaged.write_bytes(data[: len(data) - 200])
    result = replay(damaged, load_topology(DATA / 'topology.yaml'), tmp_path / 'out')
    assert result.input_messages == 5
    assert len(result.read_errors) == 1 and str(damaged) in result.read_errors[0]
    assert len(outputs(tmp_path / 'out')['/car1/objects_out']) == 5

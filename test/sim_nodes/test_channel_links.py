"""The radio channel's links and deliveries against a link-by-link reference: the link table of
the nodes in the world is the full table's rows and columns for them, bit for bit; each
delivery is the one the per-link draws give; a received frame is the sent one with the
reception's header, RSSI and status."""

import heapq
import logging
from collections import deque

import numpy as np
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sim_test_components import Beacon

from sim_nodes.channel.component import LinkTable, RadioChannel
from sim_nodes.channel.model import ChannelModel, Footprints, LinkRandom
from sim_nodes.scenarios.schema import ChannelConfig
from v2x_runtime import messages as m
from v2x_runtime.diagnostics import Diagnostics, ThrottledLogger
from v2x_runtime.embedded import EmbeddedRuntime

coordinate = st.floats(-600.0, 600.0, allow_nan=False)


@st.composite
def layouts(draw):
    n = draw(st.integers(1, 12))
    xy = np.array(draw(st.lists(st.tuples(coordinate, coordinate), min_size=n, max_size=n)))
    present = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    boxes = []
    for _ in range(draw(st.integers(0, 4))):
        x, y = draw(coordinate), draw(coordinate)
        w, h = draw(st.floats(1.0, 80.0)), draw(st.floats(1.0, 80.0))
        boxes.append(np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]))
    return xy, present, boxes


@settings(max_examples=150, deadline=None)
@given(layouts())
def test_the_table_of_the_nodes_in_the_world_is_the_full_tables_part(layout):
    xy, present, boxes = layout
    model = ChannelModel(ChannelConfig(max_range_m=700.0))
    footprints = Footprints(boxes)
    full = LinkTable.of(model, footprints, xy)
    members = np.flatnonzero(present)
    part = LinkTable.of(model, footprints, xy[members])
    for name in ('distance', 'in_range', 'pdr', 'rssi'):
        want = getattr(full, name)[np.ix_(members, members)]
        assert getattr(part, name).tobytes() == want.tobytes(), name


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.floats(-1e3, 1e3, allow_nan=False), max_size=30), max_size=6),
    st.integers(1, 40),
)
def test_observe_many_is_observe_one_by_one(batches, window):
    logger = ThrottledLogger(logging.getLogger('test'), lambda: 0)
    one, many = Diagnostics('a', logger, window=window), Diagnostics('a', logger, window=window)
    for batch in batches:
        for value in batch:
            one.observe('latency_s', value)
        many.observe_many('latency_s', batch)
    assert {k: list(v) for k, v in one.samples.items() if v} == {
        k: list(v) for k, v in many.samples.items() if v
    }
    assert one.key_values() == many.key_values()


SENDERS = {'tx_a': (0.0, 0.0), 'tx_b': (300.0, 0.0)}
RECEIVERS = {'r1': (120.0, 0.0), 'r2': (0.0, 450.0), 'r3': (-650.0, 0.0)}


def run(tmp_path, seconds=3.0):
    nodes = {**SENDERS, **RECEIVERS}
    data = {
        'duration_s': 10,
        'seed': 7,
        'map': {'kind': 'four_arm'},
        'rsus': [
            {'name': n, 'position_m': [x, y, 5.0], 'stack': False} for n, (x, y) in nodes.items()
        ],
    }
    path = tmp_path / 'links.yaml'
    path.write_text(yaml.safe_dump(data))
    rt = EmbeddedRuntime(seed=7, diagnostics_period_s=0)
    params = {'scenario': str(path), 'sets': [''], 'seed': -1}
    channel = rt.add_component(
        RadioChannel, name='radio_channel', namespace='/sim', parameters=params
    )
    sent = []
    for name, rate in (('tx_a', 40.0), ('tx_b', 25.0)):
        rt.add_component(Beacon, name='beacon', namespace=f'/{name}', parameters={'rate_hz': rate})
        rt.subscribe(f'/{name}/v2x/tx', 'v2x_stack/msg/V2xFrame', sent.append)
    received = []
    for name in channel.nodes:
        rt.subscribe(
            f'/{name}/v2x/rx',
            'v2x_stack/msg/V2xFrame',
            lambda msg, name=name: received.append((name, msg)),
        )
    rt.run(duration_s=seconds)
    rt.close()
    return channel, sent, received


def reference(channel, sent, end_ns):
    """Every delivery by ``end_ns``, link by link: each link in range draws a uniform then a
    normal from its own stream, in node order; (arrival ns, seq, receiver, frame, rssi) in
    the order they arrive."""
    cfg = channel.model.cfg
    model, links = ChannelModel(cfg), LinkRandom(7)
    nodes = channel.nodes
    xy = np.array([channel.xy[channel.index[n]] for n in nodes])
    table = LinkTable.of(model, channel.footprints, xy)
    recent, queue, seq = deque(), [], 0
    for frame in sent:
        now = m.to_ns(frame.header.stamp)
        i = nodes.index(frame.source_id)
        recent.append(now)
        while recent[0] <= now - round(cfg.cbr_window_s * 1e9):
            recent.popleft()
        factor = 1.0 - model.congestion_loss(len(recent) / cfg.cbr_capacity)
        for j in range(len(nodes)):
            if j == i or not table.in_range[i, j]:
                continue
            rng = links(nodes[i], nodes[j])
            delivered = rng.random() < table.pdr[i, j] * factor
            latency = float(model.latency_from_normal(rng.standard_normal()))
            if delivered:
                seq += 1
                when = now + round(latency * 1e9)
                heapq.heappush(queue, (when, seq, nodes[j], frame, float(table.rssi[i, j])))
    arrivals = [heapq.heappop(queue) for _ in range(len(queue))]
    return [arrival for arrival in arrivals if arrival[0] <= end_ns]


def test_deliveries_are_the_per_link_draws_and_copies_of_the_sent_frame(tmp_path):
    channel, sent, received = run(tmp_path)
    want = reference(channel, sent, round(3.0 * 1e9))
    assert len(received) == len(want) > 100
    tick_ns = round(0.005 * 1e9)
    for (name, rx), (when, _, to, frame, rssi) in zip(received, want, strict=True):
        assert name == to
        assert rx is not frame
        assert rx.rssi_dbm == rssi
        assert rx.security_status == 0  # unsigned
        assert 0 <= m.to_ns(rx.header.stamp) - when < tick_ns  # the tick after it arrives
        assert rx.header.frame_id == frame.header.frame_id
        for field in m.field_names(rx.__msgtype__):
            if field not in ('header', 'rssi_dbm', 'security_status'):
                assert getattr(rx, field) is getattr(frame, field), field
        assert m.serialize(rx) == m.serialize(
            m.replace(frame, header=rx.header, rssi_dbm=rssi, security_status=0)
        )
    by_frame = {}
    for _name, rx in received:  # one frame's copies at one tick: one header, their own RSSI
        key = (id(rx.payload), m.to_ns(rx.header.stamp))
        by_frame.setdefault(key, []).append(rx)
    shared = [copies for copies in by_frame.values() if len(copies) > 1]
    assert shared
    for copies in shared:
        assert len({id(c) for c in copies}) == len(copies)
        assert all(c.header is copies[0].header for c in copies)
    stats = channel.stats
    assert stats.delivered == len(reference(channel, sent, 2**62))  # arriving later too
    assert sum(d for _, d in stats.by_pair.values()) == stats.delivered
    assert sum(a for a, _ in stats.by_pair.values()) == stats.attempts

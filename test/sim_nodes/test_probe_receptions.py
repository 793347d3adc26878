"""The probe's RSU-to-car latency: receptions matched to the RSU's frames by payload bytes,
with each payload object made into bytes once (the channel hands receivers the sent array)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.local_frame import LocalFrame
from sim_nodes.report import probe as probe_module
from sim_nodes.report.probe import MESSAGE_TYPES, Probe
from v2x_runtime import messages as m

FRAME = 'v2x_stack/msg/V2xFrame'


def frame(payload, t_ns, message_type=3):
    return m.new(FRAME, header=m.header(t_ns, 'rsu'), payload=payload, message_type=message_type)


def latencies_by_bytes(events):
    """The matching as it was: ``bytes(payload)`` looked up at every reception."""
    sent, out = {}, {}
    for kind, msg in events:
        t = m.to_ns(msg.header.stamp) / 1e9
        if kind == 'tx':
            sent[bytes(msg.payload)] = (t, int(msg.message_type))
        elif (hit := sent.get(bytes(msg.payload))) is not None:
            name = MESSAGE_TYPES.get(hit[1], f'type_{hit[1]}')
            out.setdefault(name, []).append(t - hit[0])
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5))
def test_receptions_match_the_latest_frame_with_their_bytes(seed, bound):
    """Payload objects received by several cars, equal bytes sent again in a new object (the
    later stamp wins), car frames no RSU sent, a payload table emptied when full: the same
    latencies as looking the bytes up at every reception."""
    rng = np.random.default_rng(seed)
    payloads = [np.frombuffer(bytes(rng.integers(0, 4, 3).tolist()), np.uint8).copy()
                for _ in range(6)]  # fmt: skip
    events, t = [], 1_000_000_000
    for _ in range(40):
        t += int(rng.integers(1, 50)) * 1_000_000
        payload = payloads[int(rng.integers(0, len(payloads)))]
        if rng.random() < 0.3:  # the same bytes in a fresh array
            payload = payload.copy()
        kind = 'tx' if rng.random() < 0.4 else 'rx'
        events.append((kind, frame(payload, t, int(rng.integers(1, 8)))))
        if kind == 'tx':  # some cars receive it later (the sent frame, the same payload)
            for k in range(int(rng.integers(0, 4))):
                rx = m.replace(events[-1][1], header=m.header(t + (k + 1) * 7_000_000, 'car'))
                events.append(('rx', rx))
    old_bound, probe_module.MAX_PAYLOAD_KEYS = probe_module.MAX_PAYLOAD_KEYS, bound
    try:
        probe = Probe(set(), set(), LocalFrame(48.0, 11.0, 500.0))  # its table of ``bound``
    finally:
        probe_module.MAX_PAYLOAD_KEYS = old_bound
    for kind, msg in events:
        (probe.on_rsu_tx if kind == 'tx' else probe.on_car_rx)(msg)
    assert dict(probe.e2e_latency_s) == latencies_by_bytes(events)

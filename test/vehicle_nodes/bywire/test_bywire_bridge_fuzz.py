"""Fuzz: whatever arrives on the bus, the bridge neither crashes nor loses a frame uncounted."""

from __future__ import annotations

import itertools

import can
from hypothesis import given, settings
from hypothesis import strategies as st

from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.bywire import CanBridge

KIT_IDS = [0x110, 0x111, 0x112, 0x113, 0x114, 0x210, 0x211, 0x212, 0x300]
_runs = itertools.count()

frames = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(KIT_IDS), st.integers(0, 0x7FF)),
        st.booleans(),  # extended identifier
        st.binary(max_size=8),
    ),
    max_size=60,
)


@settings(max_examples=40, deadline=None)
@given(frames)
def test_random_frames_are_all_counted(batch: list[tuple[int, bool, bytes]]) -> None:
    channel = f'bywire-fuzz-{next(_runs)}'
    rt = EmbeddedRuntime(seed=0)
    bridge = rt.add_component(CanBridge, name='bridge', parameters={'channel': channel})
    with can.Bus(interface='virtual', channel=channel) as attacker:

        def inject() -> None:
            for frame_id, extended, data in batch:
                attacker.send(
                    can.Message(arbitration_id=frame_id, is_extended_id=extended, data=data)
                )

        rt.add_timer(300_000_000, inject, None)
        rt.run(duration_s=0.5)
    rt.close()
    assert rt.handler_errors == 0
    counters = rt.contexts[0].diagnostics.counters
    rejected = sum(n for k, n in counters.items() if k.startswith('rejected.frame_'))
    assert counters['frames_rx'] + rejected == len(batch)
    assert bridge.ids.frames == len(batch)  # type: ignore[attr-defined]

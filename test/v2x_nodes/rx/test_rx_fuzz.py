"""Fuzz through V2xReceiver: random and mutated datagrams, unsigned and signed links. Every
datagram is accounted for (accepted or rejected with a reason), no exception escapes, and
what reaches a typed topic came from an accepted frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from v2x_link_fixtures import NOW_NS, frame, make_pki_dir, origin_parameters, signer

from v2x_nodes.rx import V2xReceiver
from v2x_nodes.security import Algorithm
from v2x_nodes.tx import DEFAULT_PSIDS
from v2x_runtime.embedded import EmbeddedRuntime

DATA = Path(__file__).resolve().parents[2] / 'data' / 'codec'
TYPED = {
    '/v2x/remote_vehicles': 'v2x_stack/msg/ParticipantArray',
    '/v2x/roadside_participants': 'v2x_stack/msg/ParticipantArray',
    '/v2x/spat': 'v2x_stack/msg/IntersectionState',
    '/v2x/map': 'v2x_stack/msg/IntersectionMap',
    '/v2x/events': 'v2x_stack/msg/RoadEventArray',
    '/v2x/verified': 'v2x_stack/msg/V2xFrame',
}
PSIDS = {int(kind): psid for kind, psid in DEFAULT_PSIDS.items()}


def corpus() -> list[bytes]:
    """The hand-derived frames of the codec tests: every message type, two each."""
    frames = [bytes.fromhex(p.read_text().split()[0]) for p in sorted(DATA.glob('*.hex'))]
    return [f for f in frames if f]


def mutate(rng: np.random.Generator, seed_frames: list[bytes], n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        base = bytearray(seed_frames[rng.integers(len(seed_frames))])
        how = rng.integers(6)
        if how == 0:  # flip 1..8 bits
            for _ in range(rng.integers(1, 9)):
                base[rng.integers(len(base))] ^= 1 << int(rng.integers(8))
        elif how == 1:  # truncate
            base = base[: rng.integers(0, len(base))]
        elif how == 2:  # append garbage
            base += rng.bytes(int(rng.integers(1, 20)))
        elif how == 3:  # overwrite a run
            start = rng.integers(len(base))
            run = rng.bytes(int(rng.integers(1, 8)))
            base[start : start + len(run)] = run
        elif how == 4:  # random bytes of a plausible length
            base = bytearray(rng.bytes(int(rng.integers(0, 300))))
        out.append(bytes(base))  # how == 5: the frame as it is
    return out


def run_through(datagrams: list[bytes], **params) -> tuple[V2xReceiver, int, EmbeddedRuntime]:
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    rx = rt.add_component(V2xReceiver, name='v2x_rx', parameters={**origin_parameters(), **params})
    outputs = []
    for topic, msgtype in TYPED.items():
        rt.subscribe(topic, msgtype, outputs.append)
    for k, data in enumerate(datagrams):
        rt.publish('/v2x/rx', frame(data, NOW_NS), at_ns=NOW_NS + k * 100_000)
    rt.run(duration_s=len(datagrams) * 1e-4 + 0.2)
    rt.close()
    return rx, len(outputs), rt


def check_accounting(rx: V2xReceiver, n: int, outputs: int, rt: EmbeddedRuntime) -> None:
    c = rx.ctx.diagnostics.counters
    accepted = sum(v for k, v in c.items() if k.startswith('accepted.'))
    assert rt.handler_errors == 0
    assert c['received'] == n
    assert accepted + rx.ctx.diagnostics.rejected_total() == n, dict(c)
    verified_outputs = c['received'] - rx.ctx.diagnostics.rejected_total()
    assert outputs <= 3 * verified_outputs + 100  # typed outputs only from accepted frames


def test_fuzz_unsigned_link() -> None:
    rng = np.random.default_rng(53)
    frames = corpus()
    datagrams = frames + mutate(rng, frames, 3000)
    rx, outputs, rt = run_through(datagrams)
    check_accounting(rx, len(datagrams), outputs, rt)
    c = rx.ctx.diagnostics.counters
    assert c['rejected.decode_error'] > 1000 and c['accepted.bsm'] >= 2


@pytest.mark.parametrize('algorithm', [Algorithm.ECDSA_P256_SHA256])
def test_fuzz_signed_link(tmp_path, algorithm) -> None:
    rng = np.random.default_rng(54)
    pki_dir = make_pki_dir(tmp_path, algorithm, pseudonyms=0)
    s = signer(pki_dir, certificate_interval_s=0.5)
    from v2x_nodes.codec import uper

    signed = []
    for k, data in enumerate(corpus()):
        kind = uper.decode_frame(data).kind
        signed.append(s.sign(data, PSIDS[int(kind)], NOW_NS + k * 1000))
    datagrams = signed + mutate(rng, signed, 1500)
    rx, outputs, rt = run_through(datagrams, security='verify', pki_dir=str(pki_dir))
    check_accounting(rx, len(datagrams), outputs, rt)
    c = rx.ctx.diagnostics.counters
    assert c['rejected.malformed'] > 100 and c['rejected.replay'] > 10

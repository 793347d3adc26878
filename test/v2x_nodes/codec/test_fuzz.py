"""Fuzzing every decoder with mutated and random frames.

For each decoder (the MessageFrame decoder and one per message type) frames are mutated from
valid seeds (bit flips, byte changes, truncation, insertion, deletion, appended bytes, spliced
seeds) or drawn at random. Every frame must end decoded (and convertible to ROS messages) or
rejected with a DecodeError that states a reason; any other exception fails the test. The
whole run covers >= 100,000 frames.
"""

from __future__ import annotations

import collections
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from asn_strategies import for_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import LocalFrame
from v2x_nodes.codec import DecodeError, uper
from v2x_nodes.codec import convert as cv

REF_NS = 1_764_000_000_000_000_000
FRAMES_PER_DECODER = {
    'MessageFrame': 40_000,
    'BasicSafetyMessage': 10_000,
    'MapData': 10_000,
    'SPAT': 10_000,
    'RoadSideInformation': 10_000,
    'RoadsideSafetyMessage': 10_000,
    'SensorSharingMsg': 10_000,
}
TO_ROS: dict[uper.MessageKind, Callable[[Any], Any]] = {
    uper.MessageKind.BSM: lambda v: cv.participant_from_bsm(v, REF_NS),
    uper.MessageKind.MAP: lambda v: cv.intersections_from_map(v, REF_NS),
    uper.MessageKind.SPAT: lambda v: cv.intersections_from_spat(v, REF_NS),
    uper.MessageKind.RSI: lambda v: cv.events_from_rsi(v, REF_NS, origin=LocalFrame(31, 121)),
    uper.MessageKind.RSM: lambda v: cv.participants_from_rsm(v, REF_NS),
    uper.MessageKind.SSM: lambda v: cv.participants_from_ssm(v, REF_NS),
}
KIND_OF_TYPE = {name: kind for kind, name in uper.TYPE_NAMES.items()}


def _seeds(type_name: str, count: int = 12) -> list[bytes]:
    found: list[bytes] = []

    @settings(
        max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(st.data())
    def collect(data):
        if type_name == 'MessageFrame':
            kind = data.draw(st.sampled_from(list(uper.MessageKind)))
            value = data.draw(for_type(uper.TYPE_NAMES[kind]))
            found.append(uper.encode_frame(kind, value))
        else:
            found.append(uper.encode(type_name, data.draw(for_type(type_name))))

    collect()
    return found


def _mutate(rng: np.random.Generator, seeds: list[bytes]) -> bytes:
    data = bytearray(seeds[rng.integers(len(seeds))])
    op = rng.integers(8)
    if op == 0 or not data:
        return rng.bytes(int(rng.integers(0, 64)))  # random frame
    if op == 1:
        for _ in range(int(rng.integers(1, 4))):  # bit flips
            i = int(rng.integers(len(data) * 8))
            data[i // 8] ^= 0x80 >> (i % 8)
    elif op == 2:
        data[int(rng.integers(len(data)))] = int(rng.integers(256))
    elif op == 3:
        data = data[: int(rng.integers(len(data)))]  # truncation
    elif op == 4:
        data += rng.bytes(int(rng.integers(1, 8)))  # oversized
    elif op == 5:
        i = int(rng.integers(len(data) + 1))
        data[i:i] = rng.bytes(int(rng.integers(1, 4)))
    elif op == 6:
        i = int(rng.integers(len(data)))
        del data[i : i + int(rng.integers(1, 4))]
    else:
        other = seeds[rng.integers(len(seeds))]
        cut = int(rng.integers(len(data) + 1))
        data = data[:cut] + other[min(cut, len(other)) :]
    return bytes(data)


def _reason_class(reason: str) -> str:
    """A short class of a rejection reason, for the printed tally."""
    for key in ('out of data', 'Expected', 'trailing', 'extension', 'unsupported', 'length'):
        if key in reason:
            return key
    return reason.split(':', maxsplit=1)[0][:30]


@pytest.mark.parametrize('type_name', list(FRAMES_PER_DECODER))
def test_fuzz_decoder(type_name: str) -> None:
    rng = np.random.default_rng(zlib.crc32(type_name.encode()))
    seeds = _seeds(type_name)
    outcomes: collections.Counter[str] = collections.Counter()
    total = FRAMES_PER_DECODER[type_name]
    for _ in range(total):
        frame = _mutate(rng, seeds)
        try:
            if type_name == 'MessageFrame':
                decoded = uper.decode_frame(frame)
                kind, value = decoded.kind, decoded.value
            else:
                kind, value = KIND_OF_TYPE[type_name], uper.decode(type_name, frame)
        except DecodeError as err:
            assert err.reason, 'a rejection must say why'
            outcomes['rejected: ' + _reason_class(err.reason)] += 1
            continue
        TO_ROS[kind](value)  # a value that decoded must also convert, without exception
        outcomes['decoded'] += 1
    assert sum(outcomes.values()) == total  # every frame accounted for
    assert outcomes['decoded'] > 0 and outcomes['decoded'] < total
    print(type_name, dict(outcomes.most_common(6)))

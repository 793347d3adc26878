"""RTCM 3 framing and CRC-24Q: cross-checked with pyrtcm, real streams, garbage, truncation."""

import io

import numpy as np
import pyrtcm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vehicle_nodes.ntrip.crc24q import MAX_CRC_SPAN, crc24q, crc24q_many
from vehicle_nodes.ntrip.rtcm import RtcmFramer, encode_frame

STREAMS = [
    'gpsd_rtcm3-2.log',
    'gpsd_rtcm3-2.rtcm3',
    'gpsd_rtcm3.2.log',
    'gpsd_rtcm3.2.rtcm3',
    'pygpsdata-1240-1264.log',
    'pygpsdata-NTRIP-1300-1302.log',
    'pygpsdata-NTRIP-4076.log',
    'pygpsdata-NTRIP-USCL00CHL0.log',
    'pygpsdata-RTCM3.log',
    'pygpsdata-RTCMMSM3.log',
    'rtklib_GMSD7_20121014.rtcm3',
]


def pyrtcm_frames(data: bytes) -> list[bytes]:
    return [raw for raw, _ in pyrtcm.RTCMReader(io.BytesIO(data), quitonerror=0, parsed=0)]


def payload_of_type(message_type: int, size: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    body = bytearray(rng.integers(0, 256, max(size, 2), dtype=np.uint8).tobytes())
    body[0] = message_type >> 4
    body[1] = ((message_type & 0xF) << 4) | (body[1] & 0x0F)
    return bytes(body)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1100))
def test_crc24q_matches_pyrtcm(data):
    assert crc24q(data) == pyrtcm.calc_crc24q(data)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=MAX_CRC_SPAN), min_size=1, max_size=8))
def test_vectorised_crc_equals_table_crc(parts):
    data = b''.join(parts)
    starts = np.cumsum([0] + [len(p) for p in parts[:-1]])
    lengths = np.array([len(p) for p in parts])
    got = crc24q_many(np.frombuffer(data, np.uint8), starts, lengths)
    assert [int(v) for v in got] == [crc24q(p) for p in parts]


def test_crc24q_check_value():
    # A frame's CRC over itself including the 3 CRC bytes is zero: the defining property.
    frame = encode_frame(b'\x3e\xd0' + bytes(17))
    assert crc24q(frame) == 0
    assert frame[:3] == bytes([0xD3, 0x00, 19])


@pytest.mark.parametrize('name', STREAMS)
def test_real_streams_framed_bit_exact_like_pyrtcm(rtcm_dir, name):
    data = (rtcm_dir / name).read_bytes()
    framer = RtcmFramer()
    frames = framer.feed(data) + framer.flush()
    reference = pyrtcm_frames(data)
    assert len(reference) > 0
    assert [f.data for f in frames] == reference
    assert all(crc24q(f.data) == 0 for f in frames)
    assert framer.stats['frames'] == len(frames)
    assert sum(framer.types.values()) == len(frames)


def test_truncated_tail_is_counted_and_earlier_frames_kept(rtcm_dir):
    data = (rtcm_dir / 'rtklib_GMSD7_20121014.rtcm3').read_bytes()
    framer = RtcmFramer()
    frames = framer.feed(data) + framer.flush()
    assert (
        framer.stats['truncated_bytes']
        == len(data) - sum(len(f.data) for f in frames) - (framer.stats['garbage_bytes'])
    )
    assert framer.stats['truncated_bytes'] > 0
    assert {1077, 1087, 1117, 1127, 1019, 1020}.issubset(framer.types)


def test_unknown_types_pass_and_keep_sync(rtcm_dir):
    data = (rtcm_dir / 'pygpsdata-NTRIP-4076.log').read_bytes()
    framer = RtcmFramer()
    frames = framer.feed(data) + framer.flush()
    assert {f.message_type for f in frames} == {4076}
    made_up = [encode_frame(payload_of_type(t, 40, t)) for t in (4095, 0, 2000, 1005)]
    frames = framer.feed(b''.join(made_up)) + framer.flush()
    assert [f.message_type for f in frames] == [4095, 0, 2000, 1005]


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_any_chunking_and_garbage_between_frames(usc_frames, data):
    """Frames survive any split into chunks and non-preamble garbage between them."""
    frames = usc_frames
    garbage = st.binary(max_size=40).map(lambda b: b.replace(b'\xd3', b'\x00'))
    stream = b''.join(data.draw(garbage) + f for f in frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=30)))
    framer = RtcmFramer()
    out = []
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += framer.feed(stream[a:b])
    out += framer.flush()
    assert [f.data for f in out] == frames


@pytest.fixture(scope='module')
def usc_frames(rtcm_dir):
    return pyrtcm_frames((rtcm_dir / 'pygpsdata-NTRIP-USCL00CHL0.log').read_bytes())


def test_corrupted_frame_costs_only_itself(usc_frames):
    frames = usc_frames
    broken = bytearray(frames[3])
    broken[10] ^= 0x40
    stream = b''.join(frames[:3]) + bytes(broken) + b''.join(frames[4:])
    framer = RtcmFramer()
    out = framer.feed(stream) + framer.flush()
    assert [f.data for f in out] == frames[:3] + frames[4:]
    assert framer.stats['crc_errors'] >= 1


def test_garbage_containing_preambles_and_a_truncated_frame_mid_stream(usc_frames):
    frames = usc_frames
    junk = bytes([0xD3, 0x03, 0xFF, 0xD3, 0x00, 0x10]) + b'\xd3' * 5
    cut = frames[5][: len(frames[5]) // 2]
    stream = b''.join(frames[:5]) + junk + cut + b''.join(frames[6:])
    framer = RtcmFramer()
    out = framer.feed(stream) + framer.flush()
    assert [f.data for f in out] == frames[:5] + frames[6:]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_fuzz_random_bytes_never_raise_and_yield_only_valid_frames(data):
    framer = RtcmFramer()
    out = framer.feed(data) + framer.flush()
    assert all(crc24q(f.data) == 0 for f in out)
    assert framer.pending_bytes == 0


def test_payload_too_long_is_refused():
    with pytest.raises(ValueError, match='at most 1023 bytes, got 1024'):
        encode_frame(bytes(1024))

"""RTCM 3 framing: preamble 0xD3, 6 reserved zero bits, 10-bit length, payload, CRC-24Q.

The framer takes arbitrary chunks and returns whole, CRC-checked frames, bit-exact. It finds
the candidate frames of a buffer in one pass, checks all their CRCs in one vectorised call,
and, at the first failure, drops one byte and searches again from there — so garbage, a
corrupted or truncated frame and unknown message types never cost more than that frame.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from vehicle_nodes.ntrip.crc24q import crc24q_many

PREAMBLE = 0xD3
HEADER_BYTES = 3
CRC_BYTES = 3
MAX_PAYLOAD = 1023


@dataclass(frozen=True)
class RtcmFrame:
    """One whole frame (preamble to CRC) and its message type (None for an empty frame)."""

    data: bytes

    @property
    def message_type(self) -> int | None:
        if len(self.data) < HEADER_BYTES + 2 + CRC_BYTES:
            return None
        return (self.data[3] << 4) | (self.data[4] >> 4)

    @property
    def payload(self) -> bytes:
        return self.data[HEADER_BYTES:-CRC_BYTES]


def frame_length(payload_length: int) -> int:
    return HEADER_BYTES + payload_length + CRC_BYTES


def encode_frame(payload: bytes) -> bytes:
    """Wrap a payload (≤ 1023 bytes) into a frame with its CRC-24Q."""
    from vehicle_nodes.ntrip.crc24q import crc24q

    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f'RTCM 3 payload is at most {MAX_PAYLOAD} bytes, got {len(payload)}')
    header = bytes([PREAMBLE, len(payload) >> 8, len(payload) & 0xFF])
    return header + payload + crc24q(header + payload).to_bytes(3, 'big')


@dataclass
class RtcmFramer:
    """Feed bytes, get frames. ``stats``: frames, per-type counts, crc_errors, garbage_bytes,
    reserved_bits_set, truncated_bytes."""

    stats: Counter[str] = field(default_factory=Counter)
    types: Counter[int] = field(default_factory=Counter)
    _buf: bytearray = field(default_factory=bytearray)
    _skip_key: str = 'garbage_bytes'  # what skipped bytes count as (the tail at flush)

    def feed(self, chunk: bytes) -> list[RtcmFrame]:
        self._buf += chunk
        return self._drain(final=False)

    def flush(self) -> list[RtcmFrame]:
        """End of stream: recover what frames remain; the rest is a truncated tail."""
        frames = self._drain(final=True)
        self._skip_key = 'garbage_bytes'
        if self._buf:
            self.stats['truncated_bytes'] += len(self._buf)
            self._buf.clear()
        return frames

    @property
    def pending_bytes(self) -> int:
        return len(self._buf)

    def _drain(self, *, final: bool) -> list[RtcmFrame]:
        frames: list[RtcmFrame] = []
        while True:
            starts, lengths, resume, complete = self._candidates()
            accepted = self._check(starts, lengths)
            for start, length in zip(starts[:accepted], lengths[:accepted], strict=True):
                frames.append(RtcmFrame(bytes(self._buf[start : start + frame_length(length)])))
            if accepted < len(starts):  # a CRC failure: drop one byte there, search again
                self.stats['crc_errors'] += 1
                bad = starts[accepted]
                self.stats['garbage_bytes'] += 1
                del self._buf[: bad + 1]
                continue
            if not complete and final and resume < len(self._buf):
                # an incomplete frame at the end of the stream: a truncated tail, or garbage
                # that hides whole frames behind it; look past its preamble for them
                self._skip_key = 'truncated_bytes'
                self.stats['truncated_bytes'] += 1
                del self._buf[: resume + 1]
                continue
            del self._buf[:resume]
            break
        for frame in frames:
            self.types[frame.message_type if frame.message_type is not None else -1] += 1
        self.stats['frames'] += len(frames)
        self.stats['frame_bytes'] += sum(len(f.data) for f in frames)
        return frames

    def _candidates(self) -> tuple[list[int], list[int], int, bool]:
        """Frames as their headers say, back to back; where to resume; whether all fit."""
        buf = self._buf
        size = len(buf)
        starts: list[int] = []
        lengths: list[int] = []
        pos = 0
        while True:
            p = buf.find(PREAMBLE, pos)
            if p < 0:
                self.stats[self._skip_key] += size - pos
                return starts, lengths, size, True
            if p > pos:
                self.stats[self._skip_key] += p - pos
            if p + HEADER_BYTES > size:
                return starts, lengths, p, False
            if buf[p + 1] & 0xFC:
                self.stats['reserved_bits_set'] += 1
                self.stats[self._skip_key] += 1
                pos = p + 1
                continue
            length = ((buf[p + 1] & 0x03) << 8) | buf[p + 2]
            end = p + frame_length(length)
            if end > size:
                return starts, lengths, p, False
            starts.append(p)
            lengths.append(length)
            pos = end

    def _check(self, starts: list[int], lengths: list[int]) -> int:
        """How many leading candidates have a valid CRC."""
        if not starts:
            return 0
        data = np.frombuffer(self._buf, dtype=np.uint8)
        spans = np.asarray(lengths, dtype=np.int64) + HEADER_BYTES
        s = np.asarray(starts, dtype=np.int64)
        computed = crc24q_many(data, s, spans)
        ends = s + spans
        given = (
            (data[ends].astype(np.uint32) << 16)
            | (data[ends + 1].astype(np.uint32) << 8)
            | data[ends + 2].astype(np.uint32)
        )
        bad = np.flatnonzero(computed != given)
        del data  # release the buffer export before the bytearray is resized
        return int(bad[0]) if len(bad) else len(starts)

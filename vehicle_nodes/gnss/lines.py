"""Byte stream → NMEA lines: the one line-assembly loop every transport shares.

Receivers interleave NMEA with binary protocols and lose bytes; the assembler cuts at line
feeds, drops bytes before the last ``$`` of a line (counted as garbage), caps the length of a
line that never ends, and keeps the partial tail for the next chunk.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MAX_LINE_BYTES = 512  # NMEA says 82; real receivers' proprietary lines run longer


@dataclass
class LineAssembler:
    """Feed byte chunks, get complete lines (str, without line endings)."""

    max_line_bytes: int = MAX_LINE_BYTES
    stats: Counter[str] = field(default_factory=Counter)
    _tail: bytearray = field(default_factory=bytearray)

    def feed(self, chunk: bytes) -> list[str]:
        self._tail += chunk
        parts = self._tail.split(b'\n')
        self._tail = bytearray(parts.pop())
        if len(self._tail) > self.max_line_bytes:
            self.stats['line_too_long'] += 1
            self.stats['garbage_bytes'] += len(self._tail)
            self._tail.clear()
        lines = []
        for raw in parts:
            line = self._clean(bytes(raw))
            if line is not None:
                lines.append(line)
        return lines

    def flush(self) -> list[str]:
        """End of stream: hand out a final unterminated line, if any."""
        if not self._tail:
            return []
        raw, self._tail = bytes(self._tail), bytearray()
        line = self._clean(raw)
        return [] if line is None else [line]

    def _clean(self, raw: bytes) -> str | None:
        raw = raw.strip(b'\r\n\x00 ')
        if not raw:
            return None
        if len(raw) > self.max_line_bytes:
            self.stats['line_too_long'] += 1
            self.stats['garbage_bytes'] += len(raw)
            return None
        start = raw.rfind(b'$')
        if start > 0:
            self.stats['garbage_bytes'] += start
            raw = raw[start:]
        elif start < 0:
            self.stats['not_nmea_lines'] += 1
            self.stats['garbage_bytes'] += len(raw)
            return None
        self.stats['lines'] += 1
        return raw.decode('ascii', errors='replace')

"""Bytes → lines → records → fixes, with every drop counted: what all transports feed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from vehicle_nodes.gnss.epoch import EpochAssembler, record_kind
from vehicle_nodes.gnss.lines import LineAssembler
from vehicle_nodes.gnss.nmea import Rejection, parse_sentence
from vehicle_nodes.gnss.records import GnssFix, Record


@dataclass
class NmeaStream:
    """The shared decoding loop. ``feed`` returns the fixes completed by a chunk of bytes.

    ``counts`` holds accepted sentence kinds (``sentence_GGA``), rejection reasons
    (``rejected_bad_checksum``), skipped kinds (``skipped_unsupported``) and the line
    assembler's byte-level counters; ``last_rejection`` keeps the latest detail for logs.
    """

    require_checksum: bool = True
    lines: LineAssembler = field(default_factory=LineAssembler)
    epochs: EpochAssembler = field(default_factory=EpochAssembler)
    counts: Counter[str] = field(default_factory=Counter)
    records: list[Record] = field(default_factory=list)
    keep_records: bool = False
    last_rejection: Rejection | None = None

    def feed(self, chunk: bytes) -> list[GnssFix]:
        return self.feed_lines(self.lines.feed(chunk))

    def feed_lines(self, lines: Iterable[str]) -> list[GnssFix]:
        fixes: list[GnssFix] = []
        for line in lines:
            outcome = parse_sentence(line, require_checksum=self.require_checksum)
            if isinstance(outcome, Rejection):
                prefix = 'rejected_' if outcome.reason.is_error else 'skipped_'
                self.counts[prefix + outcome.reason.value] += 1
                if outcome.reason.is_error:
                    self.last_rejection = outcome
                continue
            self.counts['sentence_' + record_kind(outcome)] += 1
            if self.keep_records:
                self.records.append(outcome)
            fixes.extend(self.epochs.add(outcome))
        return fixes

    def flush(self) -> list[GnssFix]:
        """End of a burst or stream: decode a final partial line and close the epoch."""
        fixes = self.feed_lines(self.lines.flush())
        fix = self.epochs.flush()
        return [*fixes, fix] if fix is not None else fixes

    def stats(self) -> Counter[str]:
        return self.counts + self.lines.stats + self.epochs.stats

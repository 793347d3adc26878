"""Bounded caches of the verifier: trusted certificates by HashedId8, and seen messages.

``CertificateStore`` keeps certificates whose chain to a trust anchor has been verified, with the
intersection of the validity periods along that chain, so that a later message signed by digest
costs a dictionary look-up and one signature verification (the 1609.2 practice of sending the
full certificate about once a second and the digest otherwise). Anchors and CA certificates
added by the operator are pinned; certificates learned from messages are evicted LRU.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

from v2x_nodes.security.algorithms import hash_for
from v2x_nodes.security.certificates import CertificateInfo


@dataclass(frozen=True)
class TrustedCertificate:
    """A certificate with a verified chain; [start_s, end_s) is valid along the whole chain."""

    cert: CertificateInfo
    start_s: int
    end_s: int
    raw_hash: bytes  # hash of the certificate with its key's suite: the message signer input
    depth: int  # 0 for an anchor
    # How many certificates may still follow below this one down to the end entity, by the
    # minChainLength/chainLengthRange of it and of every CA above it (inf = unbounded).
    below_min: int
    below_max: float

    def valid_at(self, posix_s: float) -> bool:
        """True when the whole chain is valid at ``posix_s``."""
        return self.start_s <= posix_s < self.end_s


def trusted(cert: CertificateInfo, issuer: TrustedCertificate | None) -> TrustedCertificate:
    """A store entry for ``cert`` under ``issuer`` (None for a trust anchor)."""
    start, end = cert.start_s, cert.end_s
    depth = 0
    own_max = math.inf if cert.chain_max is None else cert.chain_max
    below_min, below_max = (cert.chain_min, own_max) if cert.is_ca else (0, 0.0)
    if issuer is not None:
        start, end = max(start, issuer.start_s), min(end, issuer.end_s)
        depth = issuer.depth + 1
        below_min, below_max = issuer.below_min - 1, issuer.below_max - 1
        if cert.is_ca:
            below_min, below_max = max(below_min, cert.chain_min), min(below_max, own_max)
    # Messages signed with this certificate's key hash it with that key's suite (5.3.1).
    raw_hash = hash_for(cert.key_algorithm, cert.raw)
    return TrustedCertificate(cert, start, end, raw_hash, depth, below_min, below_max)


class CertificateStore:
    """Verified certificates by HashedId8: pinned ones plus an LRU of ``capacity`` learned ones."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._pinned: dict[bytes, TrustedCertificate] = {}
        self._learned: OrderedDict[bytes, TrustedCertificate] = OrderedDict()
        # raw bytes -> certificate, per certificate length: ``known_at`` tries one slice per
        # length present (a handful), where a prefix index scans every certificate of an issuer
        self._by_length: dict[int, dict[bytes, CertificateInfo]] = {}

    def __len__(self) -> int:
        return len(self._pinned) + len(self._learned)

    def get(self, hashed_id8: bytes) -> TrustedCertificate | None:
        """The entry for ``hashed_id8``, refreshing its LRU position."""
        entry = self._pinned.get(hashed_id8)
        if entry is not None:
            return entry
        entry = self._learned.get(hashed_id8)
        if entry is not None:
            self._learned.move_to_end(hashed_id8)
        return entry

    def add(self, entry: TrustedCertificate, *, pinned: bool = False) -> None:
        """Store ``entry``; the least recently used learned entry goes when full."""
        key = entry.cert.hashed_id8
        if pinned:
            self._learned.pop(key, None)
            self._pinned[key] = entry
        elif key not in self._pinned:
            self._learned[key] = entry
            self._learned.move_to_end(key)
            while len(self._learned) > self.capacity:
                _, old = self._learned.popitem(last=False)
                self._forget_prefix(old.cert)
        self._by_length.setdefault(len(entry.cert.raw), {})[entry.cert.raw] = entry.cert

    def prefix_entries(self) -> int:
        """How many certificates the byte index holds (each stored one exactly once)."""
        return sum(map(len, self._by_length.values()))

    def _forget_prefix(self, cert: CertificateInfo) -> None:
        bucket = self._by_length.get(len(cert.raw), {})
        if bucket.get(cert.raw) is cert and cert.hashed_id8 not in self._pinned:
            del bucket[cert.raw]
        if not bucket:
            self._by_length.pop(len(cert.raw), None)

    def known_at(self, data: bytes, pos: int) -> CertificateInfo | None:
        """A stored certificate whose exact bytes start ``data`` at ``pos``."""
        for length, bucket in self._by_length.items():
            cert = bucket.get(data[pos : pos + length])
            if cert is not None:
                return cert
        return None


class ReplayCache:
    """Recently accepted messages keyed by (signer, generation time, message hash).

    Entries older than ``window_us`` (the generation-time window: older messages are rejected
    as too old anyway) and beyond ``capacity`` are dropped, oldest first.
    """

    def __init__(self, window_us: int, capacity: int = 65536) -> None:
        self.window_us = window_us
        self.capacity = capacity
        self._seen: OrderedDict[tuple[bytes, int, bytes], int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def seen(self, key: tuple[bytes, int, bytes]) -> bool:
        """True when ``key`` was recorded and not yet dropped."""
        return key in self._seen

    def record(self, key: tuple[bytes, int, bytes], now_us: int) -> None:
        """Remember ``key`` (its generation time is ``key[1]``) and drop stale entries."""
        self._seen[key] = key[1]
        oldest_allowed = now_us - self.window_us
        while self._seen:
            first_key = next(iter(self._seen))
            if self._seen[first_key] >= oldest_allowed and len(self._seen) <= self.capacity:
                break
            del self._seen[first_key]

"""Signing of outgoing messages: payload + psid + time -> a COER ``Ieee1609Dot2Data``.

The signer identifies itself by the full certificate at most every ``certificate_interval_s``
(and whenever asked to, e.g. after a neighbour reported an unknown digest) and by its HashedId8
otherwise, as SAE J2945/1 and 1609.2 practise it: the certificate costs ~130 bytes on air.
"""

from __future__ import annotations

from dataclasses import dataclass

from v2x_nodes.security.algorithms import Signer
from v2x_nodes.security.certificates import CertificateInfo, message_hash
from v2x_nodes.security.errors import ConfigError, SigningError
from v2x_nodes.security.secured_message import (
    assemble,
    build_tbs,
    encode_signature,
    encode_signer_certificates,
    encode_signer_digest,
)
from v2x_nodes.security.time_tai import time64_from_posix_ns

_NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class Credentials:
    """A signing certificate, its private key, and optionally the CA certificates above it."""

    certificate: CertificateInfo
    signer: Signer
    chain: tuple[CertificateInfo, ...] = ()

    def __post_init__(self) -> None:
        if self.certificate.key_algorithm is not self.signer.algorithm:
            raise SigningError(
                f'certificate holds a {self.certificate.key_algorithm.value} key, the private '
                f'key is {self.signer.algorithm.value}'
            )
        if (
            self.certificate.verifier.compressed_point()
            != self.signer.verifier().compressed_point()
        ):
            raise SigningError('private key does not match the certificate')


class MessageSigner:
    """Signs payloads with one set of credentials."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        certificate_interval_s: float = 1.0,
        lifetime_s: float | None = None,
        include_chain: bool = False,
    ) -> None:
        """``certificate_interval_s`` 0 sends the certificate every time; ``lifetime_s`` sets
        headerInfo.expiryTime that long after generation; ``include_chain`` sends the CA
        certificates with the signer's."""
        if not certificate_interval_s >= 0:
            raise ConfigError(f'certificate_interval_s must be >= 0, got {certificate_interval_s}')
        if lifetime_s is not None and not lifetime_s > 0:
            raise ConfigError(f'lifetime_s must be > 0 or None, got {lifetime_s}')
        self.credentials = credentials
        self.certificate_interval_ns = round(certificate_interval_s * _NS_PER_S)
        self.lifetime_us = None if lifetime_s is None else round(lifetime_s * 1e6)
        cert = credentials.certificate
        chain = (cert, *credentials.chain) if include_chain else (cert,)
        self._signer_cert = encode_signer_certificates([c.raw for c in chain])
        self._signer_digest = encode_signer_digest(cert.hashed_id8)
        self._last_certificate_ns: int | None = None
        self._last_generation_us = -1

    def request_certificate(self) -> None:
        """Send the full certificate with the next message."""
        self._last_certificate_ns = None

    def on_learning_request(self, hashed_id3: bytes) -> bool:
        """A neighbour asked for the certificate with this HashedId3 (1609.2 peer-to-peer
        certificate distribution, ``VerifyOutcome.p2pcd_request``): when it is ours, the next
        message carries it. True when it was ours."""
        if hashed_id3 == self.credentials.certificate.hashed_id8[-3:]:
            self.request_certificate()
            return True
        return False

    def sign(
        self, payload: bytes, psid: int, now_ns: int, *, p2pcd_request: bytes | None = None
    ) -> bytes:
        """The signed SPDU for ``payload`` under ``psid``, generated at POSIX time ``now_ns``.

        ``p2pcd_request``: the HashedId8 (or HashedId3) of a neighbour's certificate this node
        does not know (``VerifyOutcome.signer_id`` of an ``unknown_signer`` outcome), asked for
        in headerInfo.p2pcdLearningRequest. Raises SigningError when the certificate does not
        permit ``psid`` or is not valid at ``now_ns``.
        """
        payload = bytes(payload)  # a numpy uint8 array (V2xFrame.payload) works too
        cert = self.credentials.certificate
        if psid not in cert.app_psids:
            raise SigningError(
                f'psid {psid} not in the certificate permissions {sorted(cert.app_psids)}'
            )
        if not cert.valid_at(now_ns / _NS_PER_S):
            raise SigningError(
                f'certificate {cert.hashed_id8.hex()} is not valid at {now_ns / _NS_PER_S:.0f} s '
                f'(valid {cert.start_s} .. {cert.end_s})'
            )
        try:
            generation_us = time64_from_posix_ns(now_ns)
        except ValueError as err:
            raise SigningError(f'cannot sign at {now_ns} ns: {err}') from None
        # Two messages in the same microsecond would look like a replay: keep times distinct.
        generation_us = max(generation_us, self._last_generation_us + 1)
        self._last_generation_us = generation_us
        expiry_us = None if self.lifetime_us is None else generation_us + self.lifetime_us
        request = None if p2pcd_request is None else p2pcd_request[-3:]
        tbs = build_tbs(payload, psid, generation_us, expiry_us, request)
        last = self._last_certificate_ns
        if last is None or now_ns - last >= self.certificate_interval_ns or now_ns < last:
            signer_field = self._signer_cert
            self._last_certificate_ns = now_ns
        else:
            signer_field = self._signer_digest
        algorithm = self.credentials.signer.algorithm
        signature = self.credentials.signer.sign(message_hash(algorithm, tbs, cert.raw))
        return assemble(algorithm, tbs, signer_field, encode_signature(algorithm, signature))

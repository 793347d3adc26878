"""Verification of received signed SPDUs: an outcome value with a reason, never an exception.

Steps, in order (the first failure is the outcome's reason):
1. parse (``malformed`` / ``unsupported``);
2. signer: a digest must name a certificate seen before (``unknown_signer``); full certificates
   are chained to a trust anchor, each link checked for issue permission, chain length and
   signature (``untrusted_chain``, ``issuer_not_permitted``, ``bad_certificate_signature``) and
   cached;
3. algorithms agree: hashId, key and signature (``algorithm_mismatch``); the CAs above allow
   the signer to end the chain (``issuer_not_permitted``);
4. generation time present and inside [now - max_age, now + max_future] (``no_generation_time``,
   ``too_old``, ``from_future``), expiry time after it and not passed (``message_expired``);
5. chain valid at the generation time (``certificate_expired``, ``certificate_not_yet_valid``);
6. psid in the signer's appPermissions (``psid_not_permitted``);
7. not seen before (``replay``);
8. signature (``bad_signature``): skipped when the caller defers it (verify-on-demand), then
   done later by ``confirm``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from v2x_nodes.security.algorithms import HASHES, Algorithm, RawSignature
from v2x_nodes.security.certificates import CertificateInfo, parse_certificate, signature_valid
from v2x_nodes.security.errors import ConfigError, DecodeError, SecurityError, UnsupportedError
from v2x_nodes.security.secured_message import SignedMessage, SignerKind, parse_signed
from v2x_nodes.security.stores import CertificateStore, ReplayCache, TrustedCertificate, trusted
from v2x_nodes.security.time_tai import (
    EPOCH_2004_POSIX_S,
    posix_ns_from_time64,
    time64_from_posix_ns,
)

_NS_PER_S = 1_000_000_000


class VerifyReason(enum.Enum):
    """Why a message was accepted (``ok``) or rejected; values are diagnostics counter names."""

    OK = 'ok'
    MALFORMED = 'malformed'
    UNSUPPORTED = 'unsupported'
    UNKNOWN_SIGNER = 'unknown_signer'
    UNTRUSTED_CHAIN = 'untrusted_chain'
    ISSUER_NOT_PERMITTED = 'issuer_not_permitted'
    BAD_CERTIFICATE_SIGNATURE = 'bad_certificate_signature'
    ALGORITHM_MISMATCH = 'algorithm_mismatch'
    NO_GENERATION_TIME = 'no_generation_time'
    TOO_OLD = 'too_old'
    FROM_FUTURE = 'from_future'
    MESSAGE_EXPIRED = 'message_expired'
    CERTIFICATE_EXPIRED = 'certificate_expired'
    CERTIFICATE_NOT_YET_VALID = 'certificate_not_yet_valid'
    PSID_NOT_PERMITTED = 'psid_not_permitted'
    REPLAY = 'replay'
    BAD_SIGNATURE = 'bad_signature'


class SecurityStatus(enum.IntEnum):
    """The ``security_status`` values of ``v2x_stack/msg/V2xFrame`` (same numbers)."""

    NONE = 0
    VERIFIED = 1
    FAILED = 2
    UNVERIFIED = 3


_OK = VerifyReason.OK
_VERIFIED, _FAILED, _UNVERIFIED = (
    SecurityStatus.VERIFIED,
    SecurityStatus.FAILED,
    SecurityStatus.UNVERIFIED,
)


@dataclass(frozen=True)
class VerifyConfig:
    """Acceptance parameters of the verifier."""

    max_age_s: float = 5.0  # generation time may be this far in the past ...
    max_future_s: float = 1.0  # ... and this far in the future (clock skew)
    certificate_cache_size: int = 4096
    replay_cache_size: int = 65536

    def __post_init__(self) -> None:
        for name in ('max_age_s', 'max_future_s'):
            if not getattr(self, name) >= 0:
                raise ConfigError(f'VerifyConfig.{name} must be >= 0, got {getattr(self, name)}')
        for name in ('certificate_cache_size', 'replay_cache_size'):
            if getattr(self, name) < 1:
                raise ConfigError(f'VerifyConfig.{name} must be >= 1, got {getattr(self, name)}')


@dataclass(slots=True)
class _Pending:
    """What ``confirm`` needs of a message whose signature was deferred."""

    entry: TrustedCertificate
    tbs_hash: bytes  # the message hash is H(tbs_hash || H(signer)): made only if confirmed
    signature: RawSignature
    replay_key: tuple[bytes, int, bytes]


@dataclass(slots=True)  # one per received message: a frozen dataclass costs ~5x to build
class VerifyOutcome:
    """The result of verifying one message. ``payload`` is set only when ``ok``. Not to be
    mutated."""

    reason: VerifyReason
    detail: str = ''
    payload: bytes = b''
    psid: int = 0
    generation_time_ns: int | None = None
    signer_id: bytes | None = None  # HashedId8 of the signing certificate
    algorithm: Algorithm | None = None
    signature_checked: bool = False
    p2pcd_request: bytes | None = None  # HashedId3 the (verified) sender asks to learn
    _pending: _Pending | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when every check that was asked for passed."""
        return self.reason is VerifyReason.OK

    @property
    def status(self) -> SecurityStatus:
        """What ``V2xFrame.security_status`` should say about this message (asked of every
        accepted frame: the members are module names, an enum member lookup costs ~40 ns)."""
        if self.reason is not _OK:
            return _FAILED
        return _VERIFIED if self.signature_checked else _UNVERIFIED


def _time64_clamped(now_ns: int) -> int:
    """Time64 of ``now_ns``, clamped to the Time64 range (a clock before 2004 makes every
    message look generated in the future instead of raising)."""
    try:
        return time64_from_posix_ns(now_ns)
    except ValueError:
        return 0 if now_ns < EPOCH_2004_POSIX_S * _NS_PER_S else 2**64 - 1


def _reject(reason: VerifyReason, detail: str, **known: object) -> VerifyOutcome:
    return VerifyOutcome(reason, detail, **known)  # type: ignore[arg-type]


class MessageVerifier:
    """Verifies signed SPDUs against trust anchors (root certificates)."""

    def __init__(
        self,
        anchors: Iterable[CertificateInfo | bytes],
        *,
        config: VerifyConfig | None = None,
    ) -> None:
        """Trust ``anchors`` (self-signed roots, checked here); raises SecurityError if one is
        not a valid self-signed certificate."""
        self.config = config or VerifyConfig()
        self.store = CertificateStore(self.config.certificate_cache_size)
        self.replays = ReplayCache(
            round(self.config.max_age_s * 1e6), self.config.replay_cache_size
        )
        self._max_age_us = self.config.max_age_s * 1e6
        self._max_future_us = self.config.max_future_s * 1e6
        for anchor in anchors:
            cert = parse_certificate(anchor) if isinstance(anchor, bytes) else anchor
            if cert.issuer_id is not None or not signature_valid(cert, None):
                raise SecurityError(
                    f'trust anchor {cert.hashed_id8.hex()} is not a valid self-signed certificate'
                )
            self.store.add(trusted(cert, None), pinned=True)

    def add_certificate(self, cert: CertificateInfo | bytes) -> VerifyReason:
        """Add a CA (or any) certificate received out of band, after checking its chain.

        Returns ``VerifyReason.OK`` or the reason it was refused; accepted ones are pinned.
        """
        try:
            info = parse_certificate(cert) if isinstance(cert, bytes) else cert
        except UnsupportedError:
            return VerifyReason.UNSUPPORTED
        except DecodeError:
            return VerifyReason.MALFORMED
        reason, entry = self._chain(info)
        if entry is not None:
            self.store.add(entry, pinned=True)
        return reason

    def _chain(self, cert: CertificateInfo) -> tuple[VerifyReason, TrustedCertificate | None]:
        known = self.store.get(cert.hashed_id8)
        if known is not None and known.cert.raw == cert.raw:
            return VerifyReason.OK, known
        if cert.issuer_id is None:
            return VerifyReason.UNTRUSTED_CHAIN, None  # self-signed but not an anchor
        issuer = self.store.get(cert.issuer_id)
        if issuer is None:
            return VerifyReason.UNTRUSTED_CHAIN, None
        if not issuer.cert.may_issue(cert.app_psids | cert.issue_psids) or (
            cert.issue_all and not issuer.cert.issue_all
        ):
            return VerifyReason.ISSUER_NOT_PERMITTED, None
        entry = trusted(cert, issuer)
        if entry.below_max < 0 or entry.below_min > entry.below_max:
            return VerifyReason.ISSUER_NOT_PERMITTED, None  # chain longer than CAs allow
        if not signature_valid(cert, issuer.cert):
            return VerifyReason.BAD_CERTIFICATE_SIGNATURE, None
        return VerifyReason.OK, entry

    def _signer(self, msg: SignedMessage) -> tuple[VerifyReason, str, TrustedCertificate | None]:
        if msg.signer_kind is SignerKind.DIGEST:
            assert msg.signer_digest is not None
            entry = self.store.get(msg.signer_digest)
            if entry is None:
                return VerifyReason.UNKNOWN_SIGNER, f'digest {msg.signer_digest.hex()}', None
            return VerifyReason.OK, '', entry
        entry = None
        for cert in reversed(msg.certificates):  # issuers last: add them first
            reason, entry = self._chain(cert)
            if entry is None:
                return reason, f'certificate {cert.hashed_id8.hex()}', None
            self.store.add(entry)
        return VerifyReason.OK, '', entry

    def verify(self, data: bytes, now_ns: int, *, check_signature: bool = True) -> VerifyOutcome:
        """Verify one secured message received at POSIX time ``now_ns``.

        With ``check_signature=False`` every check but the signature runs (verify-on-demand);
        the outcome then has ``signature_checked`` False and ``confirm`` finishes it.
        """
        try:
            msg = parse_signed(data, self.store.known_at)
        except UnsupportedError as err:
            return _reject(VerifyReason.UNSUPPORTED, str(err))
        except DecodeError as err:
            return _reject(VerifyReason.MALFORMED, str(err))
        if msg.signer_kind is SignerKind.DIGEST:  # the common case, inline
            entry = self.store.get(msg.signer_digest)  # type: ignore[arg-type]
            if entry is None:  # an unknown digest is kept, so that the caller can ask for it
                return VerifyOutcome(
                    VerifyReason.UNKNOWN_SIGNER,
                    f'digest {msg.signer_digest.hex()}',  # type: ignore[union-attr]
                    psid=msg.psid,
                    signer_id=msg.signer_digest,
                )
        else:
            reason, detail, entry = self._signer(msg)
            if entry is None:
                return _reject(reason, detail, psid=msg.psid, signer_id=msg.signer_digest)
        cert = entry.cert
        algorithm = msg.algorithm
        if not (algorithm is cert.key_algorithm is msg.signature_algorithm):
            return self._fail(
                msg,
                cert,
                VerifyReason.ALGORITHM_MISMATCH,
                f'hashId {algorithm.value}, key {cert.key_algorithm.value}, '
                f'signature {msg.signature_algorithm.value}',
            )
        if entry.below_min > 0:
            return self._fail(
                msg,
                cert,
                VerifyReason.ISSUER_NOT_PERMITTED,
                f'a CA above the signer requires {entry.below_min} more certificate(s) below',
            )
        generation_us = msg.generation_time_us
        if generation_us is None:
            return self._fail(
                msg, cert, VerifyReason.NO_GENERATION_TIME, 'headerInfo.generationTime absent'
            )
        now_us = _time64_clamped(now_ns)
        age_us = now_us - generation_us
        generation_ns = posix_ns_from_time64(generation_us)
        if age_us > self._max_age_us:
            return self._fail(
                msg,
                cert,
                VerifyReason.TOO_OLD,
                f'generated {age_us / 1e6:.3f} s ago',
                generation_ns,
            )
        if -age_us > self._max_future_us:
            return self._fail(
                msg,
                cert,
                VerifyReason.FROM_FUTURE,
                f'generated {-age_us / 1e6:.3f} s ahead',
                generation_ns,
            )
        expiry_us = msg.expiry_time_us
        if expiry_us is not None:
            if expiry_us <= generation_us:  # 1609.2 6.3.9: invalid
                detail = 'expiryTime not after generationTime'
                return self._fail(msg, cert, VerifyReason.MESSAGE_EXPIRED, detail, generation_ns)
            if expiry_us < now_us:
                detail = 'expiryTime has passed'
                return self._fail(msg, cert, VerifyReason.MESSAGE_EXPIRED, detail, generation_ns)
        generation_s = generation_ns / _NS_PER_S
        if not entry.start_s <= generation_s < entry.end_s:
            reason = (
                VerifyReason.CERTIFICATE_EXPIRED
                if generation_s >= entry.end_s
                else VerifyReason.CERTIFICATE_NOT_YET_VALID
            )
            detail = (
                f'generated at {generation_s:.0f} s, signer chain valid '
                f'{entry.start_s} .. {entry.end_s} s (POSIX)'
            )
            return self._fail(msg, cert, reason, detail, generation_ns)
        if msg.psid not in cert.app_psids:
            return self._fail(
                msg,
                cert,
                VerifyReason.PSID_NOT_PERMITTED,
                f'psid {msg.psid} not in {sorted(cert.app_psids)}',
                generation_ns,
            )
        hasher = HASHES[algorithm]
        tbs_hash = hasher(msg.tbs_raw)
        replay_key = (cert.hashed_id8, generation_us, tbs_hash[:16])
        if self.replays.seen(replay_key):
            return self._fail(
                msg,
                cert,
                VerifyReason.REPLAY,
                'same signer, time and content seen',
                generation_ns,
            )
        if not check_signature:
            return VerifyOutcome(
                VerifyReason.OK,
                '',
                msg.payload,
                msg.psid,
                generation_ns,
                cert.hashed_id8,
                algorithm,
                False,
                msg.p2pcd_request,
                _Pending(entry, tbs_hash, msg.signature, replay_key),
            )
        if not cert.verifier.verify(hasher(tbs_hash + entry.raw_hash), msg.signature):
            return VerifyOutcome(
                VerifyReason.BAD_SIGNATURE,
                'signature does not verify',
                psid=msg.psid,
                generation_time_ns=generation_ns,
                signer_id=cert.hashed_id8,
                algorithm=algorithm,
                signature_checked=True,
            )
        self.replays.record(replay_key, now_us)
        return VerifyOutcome(
            VerifyReason.OK,
            '',
            msg.payload,
            msg.psid,
            generation_ns,
            cert.hashed_id8,
            algorithm,
            True,
            msg.p2pcd_request,
        )

    @staticmethod
    def _fail(
        msg: SignedMessage,
        cert: CertificateInfo,
        reason: VerifyReason,
        detail: str,
        generation_ns: int | None = None,
    ) -> VerifyOutcome:
        """A rejection with what is known of the signer (for diagnostics and P2PCD)."""
        return VerifyOutcome(
            reason,
            detail,
            psid=msg.psid,
            generation_time_ns=generation_ns,
            signer_id=cert.hashed_id8,
            algorithm=msg.algorithm,
        )

    def confirm(self, outcome: VerifyOutcome, now_ns: int) -> VerifyOutcome:
        """Check the deferred signature of an outcome from ``verify(check_signature=False)``."""
        pending = outcome._pending
        if outcome.signature_checked or pending is None:
            return outcome
        if self.replays.seen(pending.replay_key):
            return _reject(
                VerifyReason.REPLAY,
                'same signer, time and content seen',
                psid=outcome.psid,
                signer_id=outcome.signer_id,
            )
        entry = pending.entry
        digest = HASHES[entry.cert.key_algorithm](pending.tbs_hash + entry.raw_hash)
        if not entry.cert.verifier.verify(digest, pending.signature):
            return VerifyOutcome(
                VerifyReason.BAD_SIGNATURE,
                'signature does not verify',
                psid=outcome.psid,
                generation_time_ns=outcome.generation_time_ns,
                signer_id=outcome.signer_id,
                algorithm=outcome.algorithm,
                signature_checked=True,
            )
        self.replays.record(pending.replay_key, _time64_clamped(now_ns))
        return VerifyOutcome(
            VerifyReason.OK,
            '',
            outcome.payload,
            outcome.psid,
            outcome.generation_time_ns,
            outcome.signer_id,
            outcome.algorithm,
            signature_checked=True,
            p2pcd_request=outcome.p2pcd_request,
        )

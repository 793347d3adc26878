"""The receive path without the component around it: bytes -> verify -> UPER decode.

``ReceivePipeline.process`` returns an ``Accepted`` frame (message kind and decoded value,
constraints checked) or a ``Rejected`` one with the diagnostics reason; it never raises on
input. The component (``receiver.py``) adds the typed outputs; the benchmark times this.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from v2x_nodes.codec import DecodeError, uper
from v2x_nodes.codec.uper import MessageKind
from v2x_nodes.security import MessageVerifier, SecurityStatus, VerifyOutcome, VerifyReason
from v2x_runtime.identity_memo import IdentityMemo


@lru_cache(maxsize=1024)
def _decode_frame(frame: bytes) -> uper.Frame:
    """``uper.decode_frame`` memoised on the bytes: a broadcast frame reaches every receiver in
    range (in the simulator, one process hosts them all), and decoding is the receiver's main
    cost. The decoded value is shared, so it is only read. Errors are not cached (re-raised).
    """
    return uper.decode_frame(frame)


@lru_cache(maxsize=1024)
def _accepted_unsigned(frame: bytes) -> Accepted:
    """The ``Accepted`` of a bare frame (security ``none``), memoised on the bytes like the
    decode: every receiver of a broadcast frame gets the same one, which nobody changes
    (``confirm`` makes a new one). Its ``frame`` is then one bytes object, whose hash the
    shared conversions' keys reuse. Errors are not cached (re-raised)."""
    decoded = _decode_frame(frame)
    return Accepted(decoded.kind, decoded.value, frame, SecurityStatus.NONE, 0, None, None)


# payload object -> its Accepted: ``ReceivePipeline.process_payload``, security none
_BY_PAYLOAD: IdentityMemo[Accepted] = IdentityMemo(1024)


class RxSecurity(enum.Enum):
    """What the receiver demands of a frame."""

    NONE = 'none'  # frames are bare MessageFrames, nothing is verified
    VERIFY = 'verify'  # every frame is a signed SPDU, fully verified before decoding
    VERIFY_ON_DEMAND = 'verify_on_demand'  # all checks but the signature; ``confirm`` later


# VerifyReason -> rejection counter (``rejected.<reason>``); unlisted reasons keep their name.
_SECURITY_REASONS = {
    VerifyReason.TOO_OLD: 'stale',
    VerifyReason.FROM_FUTURE: 'stale',
    VerifyReason.MESSAGE_EXPIRED: 'expired',
    VerifyReason.CERTIFICATE_EXPIRED: 'expired',
    VerifyReason.CERTIFICATE_NOT_YET_VALID: 'not_yet_valid',
    VerifyReason.PSID_NOT_PERMITTED: 'psid_not_permitted',
}


def security_reason(reason: VerifyReason) -> str:
    """The rx counter name of a verifier outcome."""
    return _SECURITY_REASONS.get(reason, reason.value)


@dataclass(slots=True)  # one per received frame: a frozen dataclass costs ~5x to build
class Accepted:
    """A frame that passed every check asked for; ``value`` is the decoded message."""

    kind: MessageKind
    value: dict[str, Any]
    frame: bytes  # the UPER MessageFrame
    status: SecurityStatus
    psid: int = 0
    signer_id: bytes | None = None
    outcome: VerifyOutcome | None = None  # for ``confirm`` in verify-on-demand
    # what the receivers made of this very object (``receiver.py``: the typed output and its
    # facts), kept on it: in security ``none`` every receiver of a broadcast gets this object
    shared: Any = None


@dataclass(slots=True)
class Rejected:
    """A frame refused; ``reason`` is the diagnostics counter suffix."""

    reason: str
    detail: str


def decode_reason(err: DecodeError) -> str:
    """``constraint`` (well-formed bits, value out of range), ``unsupported`` (a message type
    or extension this stack does not carry) or ``decode_error`` (malformed bits)."""
    if err.constraint:
        return 'constraint'
    if 'unsupported extension' in err.reason or 'extension alternative' in err.reason:
        return 'unsupported'
    return 'decode_error'


class ReceivePipeline:
    """Verify (per ``mode``) and decode one frame at a time."""

    def __init__(
        self,
        mode: RxSecurity,
        verifier: MessageVerifier | None,
        psids: dict[MessageKind, int],
    ) -> None:
        if mode is not RxSecurity.NONE and verifier is None:
            raise ValueError(f'security {mode.value} needs a verifier')
        self.mode = mode
        self.verifier = verifier
        self.psids = psids

    def process_payload(self, payload: Any, now_ns: int) -> Accepted | Rejected:
        """``process(bytes(payload), now_ns)`` of a received frame's payload (any bytes-like
        object). Security ``none``: an accepted payload *object* seen before gives the same
        ``Accepted`` again without copying and hashing its bytes (the radio hands the
        receivers of a broadcast one array; a received message is never changed)."""
        if self.mode is not RxSecurity.NONE:
            return self.process(bytes(payload), now_ns)
        kept = _BY_PAYLOAD.get(payload)
        if kept is not None:
            return kept
        result = self.process(bytes(payload), now_ns)
        if result.__class__ is Accepted:  # refusals are not kept (as ``_accepted_unsigned``)
            _BY_PAYLOAD.put(payload, result)  # type: ignore[arg-type]
        return result

    def process(self, data: bytes, now_ns: int) -> Accepted | Rejected:
        """Check and decode ``data`` (received at ``now_ns``)."""
        if self.mode is RxSecurity.NONE:
            try:
                return _accepted_unsigned(data)
            except DecodeError as err:
                return Rejected(decode_reason(err), str(err))
        assert self.verifier is not None
        outcome = self.verifier.verify(data, now_ns, check_signature=self.mode is RxSecurity.VERIFY)
        if outcome.reason is not VerifyReason.OK:
            if outcome.reason in (VerifyReason.MALFORMED, VerifyReason.UNSUPPORTED):
                try:  # a bare frame where a signed one was required
                    uper.decode_frame(data)
                except DecodeError:
                    pass
                else:
                    return Rejected('unsigned', 'an unsigned MessageFrame, signing is required')
            return Rejected(security_reason(outcome.reason), outcome.detail)
        result = self._decode(
            outcome.payload,
            status=outcome.status,
            psid=outcome.psid,
            signer_id=outcome.signer_id,
            outcome=outcome,
        )
        if result.__class__ is Accepted and self.psids.get(result.kind) != outcome.psid:
            return Rejected(
                'wrong_psid',
                f'{result.kind.name} signed under psid {outcome.psid}, '  # type: ignore[union-attr]
                f'expected {self.psids.get(result.kind)}',  # type: ignore[union-attr]
            )
        return result

    def confirm(self, accepted: Accepted, now_ns: int) -> Accepted | Rejected:
        """Check the signature deferred by verify-on-demand (no-op when already checked)."""
        if accepted.outcome is None or accepted.outcome.signature_checked:
            return accepted
        assert self.verifier is not None
        outcome = self.verifier.confirm(accepted.outcome, now_ns)
        if not outcome.ok:
            return Rejected(security_reason(outcome.reason), outcome.detail)
        return Accepted(
            accepted.kind,
            accepted.value,
            accepted.frame,
            outcome.status,
            accepted.psid,
            accepted.signer_id,
            outcome,
        )

    @staticmethod
    def _decode(
        frame: bytes,
        *,
        status: SecurityStatus,
        psid: int,
        signer_id: bytes | None,
        outcome: VerifyOutcome | None,
    ) -> Accepted | Rejected:
        try:
            decoded = _decode_frame(frame)
        except DecodeError as err:
            return Rejected(decode_reason(err), str(err))
        return Accepted(decoded.kind, decoded.value, frame, status, psid, signer_id, outcome)

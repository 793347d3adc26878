"""Typed value -> UPER MessageFrame -> signed SPDU -> ``V2xFrame``: the one transmit path.

``V2xTransmitter`` and ``vehicle_nodes.bsm.BsmGenerator`` both build their frames here, with
the same parameters (``declare_framer``), so a message is encoded and signed the same way
whichever component sends it. Per message type it keeps the rolling msgCnt (0..127).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from v2x_nodes.codec import uper
from v2x_nodes.codec.uper import MessageKind
from v2x_nodes.security import MessageSigner, SecurityError, SecurityStatus
from v2x_nodes.security.pki import load_credentials
from v2x_runtime import ComponentContext, ParameterError
from v2x_runtime import messages as m

V2X_FRAME = 'v2x_stack/msg/V2xFrame'

# AID/PSID per message type (1609.2 headerInfo.psid; YD/T 3957 calls it AID). Defaults: the
# ISO/IEEE ITS-AID registry entries (docs/security.md, "AID/PSID values", gives the sources):
# BSM 0x20 vehicle-to-vehicle safety and awareness (SAE J2945/1); SPAT and MAP 0x82
# intersection safety and awareness (SAE J2735); RSI 0x83 traveller information and roadside
# signage (SAE J2735); RSM and SSM 0x90 sensor sharing service (SAE J3224). China's own AID
# table (YD/T 3707 annex) could not be confirmed from any source at hand: a deployment sets
# its registry's values through the psid_<type> parameters.
DEFAULT_PSIDS: dict[MessageKind, int] = {
    MessageKind.BSM: 0x20,
    MessageKind.MAP: 0x82,
    MessageKind.SPAT: 0x82,
    MessageKind.RSI: 0x83,
    MessageKind.RSM: 0x90,
    MessageKind.SSM: 0x90,
}


class TxSecurity(enum.Enum):
    """What the transmit path does after encoding."""

    NONE = 'none'  # send the bare MessageFrame
    SIGN = 'sign'  # send a 1609.2 signed SPDU


def psid_parameter(kind: MessageKind) -> str:
    """Name of the parameter holding the PSID of ``kind`` (``psid_bsm``, ``psid_spat``, ...)."""
    return f'psid_{kind.name.lower()}'


def declare_psids(ctx: ComponentContext) -> dict[MessageKind, int]:
    """Declare ``psid_<type>`` for every message type; the rx node uses the same names."""
    return {
        kind: ctx.declare_parameter(
            psid_parameter(kind),
            default,
            f'AID/PSID that {kind.name} messages are signed under',
            range=(0, 2**32 - 1),
        )
        for kind, default in DEFAULT_PSIDS.items()
    }


@dataclass
class Framer:
    """Encodes and (optionally) signs; one instance per sending component."""

    signers: list[MessageSigner]  # empty: unsigned; several: a pseudonym pool to rotate
    psids: dict[MessageKind, int]
    active: int = 0
    _counts: dict[MessageKind, int] = field(default_factory=dict)

    @property
    def signing(self) -> bool:
        return bool(self.signers)

    def next_count(self, kind: MessageKind) -> int:
        """The msgCnt of the next ``kind`` message: 0..127, rolling."""
        count = self._counts.get(kind, -1)
        count = (count + 1) % 128
        self._counts[kind] = count
        return count

    def set_count(self, kind: MessageKind, count: int) -> None:
        """Restart ``kind``'s msgCnt sequence (a pseudonym change restarts it randomly)."""
        self._counts[kind] = (count - 1) % 128

    def rotate(self) -> int:
        """Switch to the next certificate of the pool; returns its index."""
        if self.signers:
            self.active = (self.active + 1) % len(self.signers)
            self.signers[self.active].request_certificate()  # new pseudonym: announce it
        return self.active

    def frame(self, kind: MessageKind, value: dict[str, Any], now_ns: int, source_id: str) -> Any:
        """A V2xFrame for ``value`` (the message, e.g. a BasicSafetyMessage dict).

        :raises v2x_nodes.codec.CodecError: the value breaks the schema.
        :raises v2x_nodes.security.SecurityError: signing failed (PSID not permitted, the
            certificate not valid now).
        """
        payload = uper.encode_frame(kind, value)
        secured = b''
        status = SecurityStatus.NONE
        psid = 0
        if self.signers:
            psid = self.psids[kind]
            secured = self.signers[self.active].sign(payload, psid, now_ns)
            status = SecurityStatus.VERIFIED
        return m.new(
            V2X_FRAME,
            header=m.header(now_ns, ''),
            message_type=int(kind),
            source_id=source_id,
            rssi_dbm=float('nan'),
            security_status=int(status),
            psid=psid,
            payload=np.frombuffer(payload, np.uint8),
            secured=np.frombuffer(secured, np.uint8),
        )


def declare_framer(ctx: ComponentContext, *, pseudonyms: bool = False) -> Framer:
    """Declare the transmit security parameters on ``ctx`` and build the framer.

    Parameters: ``security`` (none | sign), ``pki_dir``, ``credential`` (the name under
    ``PKI_DIR/issued/``; with ``pseudonyms`` and ``pseudonym_count`` K > 0 the pool
    ``credential-0 .. credential-(K-1)`` that ``v2x-stack pki issue --count K`` writes),
    ``certificate_interval_s``, ``psid_<type>``.

    :raises ParameterError: naming the parameter, when the credentials cannot be loaded.
    """
    mode = TxSecurity(
        ctx.declare_parameter(
            'security', 'none', 'Sign outgoing frames', choices=[s.value for s in TxSecurity]
        )
    )
    pki_dir = ctx.declare_parameter('pki_dir', '', 'PKI directory (v2x-stack pki init)')
    credential = ctx.declare_parameter(
        'credential', '', 'Signing certificate name under PKI_DIR/issued/'
    )
    count = 0
    if pseudonyms:
        count = ctx.declare_parameter(
            'pseudonym_count',
            0,
            'Pseudonym pool size (credential-0 ..); 0: the single certificate `credential`',
            range=(0, 10000),
        )
    interval_s = ctx.declare_parameter(
        'certificate_interval_s',
        1.0,
        'Send the full certificate at most this often (digest otherwise)',
        range=(0.0, 60.0),
    )
    psids = declare_psids(ctx)
    if mode is TxSecurity.NONE:
        return Framer([], psids)
    if not pki_dir or not credential:
        raise ParameterError(
            f'{ctx.name}: security=sign needs pki_dir and credential '
            f'(got pki_dir={pki_dir!r}, credential={credential!r})'
        )
    names = [f'{credential}-{k}' for k in range(count)] if count else [credential]
    signers = []
    for name in names:
        try:
            credentials = load_credentials(Path(pki_dir), name)
        except (SecurityError, OSError) as err:
            raise ParameterError(
                f'{ctx.name}: credential {name!r} in pki_dir {pki_dir}: {err}'
            ) from None
        signers.append(MessageSigner(credentials, certificate_interval_s=interval_s))
    return Framer(signers, psids)

"""Helpers of the security tests: a small PKI (root -> PCA -> end entity) at a fixed time.

A module with a unique name (not ``conftest``), so that test modules import it unambiguously.
"""

from __future__ import annotations

from dataclasses import dataclass

from v2x_nodes.security import Algorithm, Credentials, MessageSigner, MessageVerifier
from v2x_nodes.security.pki import Issued, issue_certificate, make_authorization_ca, make_root_ca

NOW_S = 1_780_000_000  # 2026-05-28, after the last leap second
NOW_NS = NOW_S * 1_000_000_000
PSID_BSM = 32
PSID_SPAT = 35
PSID_OTHER = 99


@dataclass(frozen=True)
class Pki:
    algorithm: Algorithm
    root: Issued
    pca: Issued
    ee: Issued

    def signer(self, **options: object) -> MessageSigner:
        credentials = Credentials(self.ee.certificate, self.ee.signer, (self.pca.certificate,))
        return MessageSigner(credentials, **options)  # type: ignore[arg-type]

    def verifier(self, **options: object) -> MessageVerifier:
        verifier = MessageVerifier([self.root.certificate], **options)  # type: ignore[arg-type]
        verifier.add_certificate(self.pca.certificate)
        return verifier


def make_pki(algorithm: Algorithm, *, ee_days: float = 7.0, start_s: int = NOW_S - 3600) -> Pki:
    root = make_root_ca(algorithm, start_posix_s=start_s)
    pca = make_authorization_ca(root, start_posix_s=start_s)
    ee = issue_certificate(
        pca,
        psids=[PSID_BSM, PSID_SPAT],
        start_posix_s=start_s,
        duration_s=round(ee_days * 86400),
        name='obu1',
    )
    return Pki(algorithm, root, pca, ee)

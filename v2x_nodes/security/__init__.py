"""C-V2X security: IEEE 1609.2 / YD/T 3957 signed messages (COER), ECDSA P-256 and SM2,
certificate chains, replay and misbehaviour checks. Pure Python, no ROS; see docs/security.md.

What the rx/tx nodes use::

    signer = MessageSigner(pki.load_credentials(pki_dir, 'obu1'))
    secured = signer.sign(uper_frame, psid, now_ns)            # bytes on the air

    root, pca = pki.load_trust(pki_dir)
    verifier = MessageVerifier([root])
    verifier.add_certificate(pca)
    outcome = verifier.verify(secured, now_ns)                 # never raises
    if outcome.ok: use(outcome.payload, outcome.psid)
    else: diagnostics.reject(outcome.reason.value, outcome.detail)
"""

from v2x_nodes.security.algorithms import Algorithm, Signer, Verifier
from v2x_nodes.security.certificates import CertificateInfo, parse_certificate
from v2x_nodes.security.errors import (
    ConfigError,
    DecodeError,
    EncodeError,
    KeyMaterialError,
    PkiError,
    SecurityError,
    SigningError,
    UnsupportedError,
)
from v2x_nodes.security.signing import Credentials, MessageSigner
from v2x_nodes.security.verification import (
    MessageVerifier,
    SecurityStatus,
    VerifyConfig,
    VerifyOutcome,
    VerifyReason,
)

__all__ = [
    'Algorithm',
    'CertificateInfo',
    'ConfigError',
    'Credentials',
    'DecodeError',
    'EncodeError',
    'KeyMaterialError',
    'MessageSigner',
    'MessageVerifier',
    'PkiError',
    'SecurityError',
    'SecurityStatus',
    'Signer',
    'SigningError',
    'UnsupportedError',
    'Verifier',
    'VerifyConfig',
    'VerifyOutcome',
    'VerifyReason',
    'parse_certificate',
]

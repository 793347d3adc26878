"""Signature algorithms of the security layer: ECDSA P-256/SHA-256 and SM2/SM3, one interface.

``Signer.sign(message_hash)`` and ``Verifier.verify(message_hash, signature)`` take the
1609.2 *message hash* M = H(H(tbs) || H(signer)) (clause 5.3.1) and a raw ``r || s`` signature:

* ECDSA P-256 (``cryptography``): M is the ECDSA input digest e itself (prehashed), as 1609.2
  prescribes for ECDSA.
* SM2 (``tongsuopy``, Tongsuo's OpenSSL): M is the SM2 *message*; Tongsuo computes
  e = SM3(Z_A || M) with Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA) and the default
  distinguishing identifier ``1234567812345678`` (GB/T 32918.2, GM/T 0009), which is what
  1609.2-2022 and YD/T 3957 specify for SM2. The tests check this against an independent
  implementation of the GB/T 32918 verification equation.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes as c_hashes
from cryptography.hazmat.primitives import serialization as c_ser
from cryptography.hazmat.primitives.asymmetric import ec as c_ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from v2x_nodes.security.errors import KeyMaterialError

SM2_DEFAULT_ID = b'1234567812345678'
_COORD_BYTES = 32


class Algorithm(enum.Enum):
    """A signature suite: curve, signature scheme and hash (1609.2 HashAlgorithm)."""

    ECDSA_P256_SHA256 = 'p256'
    SM2_SM3 = 'sm2'

    @property
    def hash_name(self) -> str:
        """The 1609.2 HashAlgorithm enumerator for this suite (``sha256`` or ``sm3``)."""
        return 'sha256' if self is Algorithm.ECDSA_P256_SHA256 else 'sm3'

    @classmethod
    def parse(cls, text: str) -> Algorithm:
        """The algorithm named ``p256`` or ``sm2``; raises KeyMaterialError with the choices."""
        try:
            return cls(text.lower())
        except ValueError:
            choices = ', '.join(a.value for a in cls)
            raise KeyMaterialError(
                f'unknown algorithm {text!r}; expected one of: {choices}'
            ) from None


def _sm3_digest(data: bytes) -> bytes:
    return hashlib.new('sm3', data).digest()


def _sm3_digest_tongsuo(data: bytes) -> bytes:
    from tongsuopy.crypto import hashes as t_hashes

    h = t_hashes.Hash(t_hashes.SM3())
    h.update(data)
    return h.finalize()


try:  # The system OpenSSL usually has SM3; Tongsuo always has it.
    hashlib.new('sm3')
    sm3 = _sm3_digest
except ValueError:  # pragma: no cover - depends on the system OpenSSL
    sm3 = _sm3_digest_tongsuo


def sha256(data: bytes) -> bytes:
    """SHA-256 of ``data``."""
    return hashlib.sha256(data).digest()


def hash_for(algorithm: Algorithm, data: bytes) -> bytes:
    """The suite's 32-byte hash of ``data`` (SHA-256 or SM3)."""
    return sha256(data) if algorithm is Algorithm.ECDSA_P256_SHA256 else sm3(data)


# The suite's hash function by algorithm (``hash_for`` without the dispatch, per message).
HASHES = {Algorithm.ECDSA_P256_SHA256: sha256, Algorithm.SM2_SM3: sm3}


@dataclass(frozen=True)
class RawSignature:
    """An (r, s) signature as two 32-byte big-endian integers (1609.2 x-only r, s)."""

    r: bytes
    s: bytes


class Verifier(Protocol):
    """A public key that checks signatures over a 1609.2 message hash."""

    algorithm: Algorithm

    def verify(self, message_hash: bytes, signature: RawSignature) -> bool:
        """True when ``signature`` is valid for ``message_hash``; never raises on bad input."""
        ...

    def compressed_point(self) -> bytes:
        """The public key as a 33-byte SEC1 compressed point (02/03 || x)."""
        ...


class Signer(Protocol):
    """A private key that signs a 1609.2 message hash."""

    algorithm: Algorithm

    def sign(self, message_hash: bytes) -> RawSignature:
        """Sign ``message_hash`` (see the module docstring for what each suite hashes)."""
        ...

    def verifier(self) -> Verifier:
        """The matching public key."""
        ...

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM."""
        ...


def _split_der(der: bytes) -> RawSignature:
    r, s = decode_dss_signature(der)
    return RawSignature(r.to_bytes(_COORD_BYTES, 'big'), s.to_bytes(_COORD_BYTES, 'big'))


def _join_der(signature: RawSignature) -> bytes:
    return encode_dss_signature(
        int.from_bytes(signature.r, 'big'), int.from_bytes(signature.s, 'big')
    )


class P256Verifier:
    """ECDSA P-256 public key (cryptography)."""

    algorithm = Algorithm.ECDSA_P256_SHA256
    _scheme = c_ec.ECDSA(Prehashed(c_hashes.SHA256()))

    def __init__(self, key: c_ec.EllipticCurvePublicKey) -> None:
        self._key = key

    def verify(self, message_hash: bytes, signature: RawSignature) -> bool:
        try:
            self._key.verify(_join_der(signature), message_hash, self._scheme)
        except (InvalidSignature, ValueError):
            return False
        return True

    def compressed_point(self) -> bytes:
        return self._key.public_bytes(c_ser.Encoding.X962, c_ser.PublicFormat.CompressedPoint)


class P256Signer:
    """ECDSA P-256 private key (cryptography)."""

    algorithm = Algorithm.ECDSA_P256_SHA256
    _scheme = c_ec.ECDSA(Prehashed(c_hashes.SHA256()))

    def __init__(self, key: c_ec.EllipticCurvePrivateKey) -> None:
        self._key = key

    def sign(self, message_hash: bytes) -> RawSignature:
        return _split_der(self._key.sign(message_hash, self._scheme))

    def verifier(self) -> P256Verifier:
        return P256Verifier(self._key.public_key())

    def private_pem(self) -> bytes:
        return self._key.private_bytes(
            c_ser.Encoding.PEM, c_ser.PrivateFormat.PKCS8, c_ser.NoEncryption()
        )


class Sm2Verifier:
    """SM2 public key (tongsuopy); verifies e = SM3(Z_A || M) with the default user id."""

    algorithm = Algorithm.SM2_SM3

    def __init__(self, key: object) -> None:
        from tongsuopy.crypto import hashes as t_hashes
        from tongsuopy.crypto.asymciphers import ec as t_ec

        self._key = key
        self._scheme = t_ec.ECDSA(t_hashes.SM3())

    def verify(self, message_hash: bytes, signature: RawSignature) -> bool:
        from tongsuopy.crypto.exceptions import InvalidSignature as TInvalidSignature

        try:
            self._key.verify(_join_der(signature), message_hash, self._scheme)  # type: ignore[attr-defined]
        except (TInvalidSignature, ValueError):
            return False
        return True

    def compressed_point(self) -> bytes:
        from tongsuopy.crypto import serialization as t_ser

        return self._key.public_bytes(  # type: ignore[attr-defined, no-any-return]
            t_ser.Encoding.X962, t_ser.PublicFormat.CompressedPoint
        )


class Sm2Signer:
    """SM2 private key (tongsuopy, SM3 with the GB/T 32918 Z_A digest)."""

    algorithm = Algorithm.SM2_SM3

    def __init__(self, key: object) -> None:
        from tongsuopy.crypto import hashes as t_hashes
        from tongsuopy.crypto.asymciphers import ec as t_ec

        self._key = key
        self._scheme = t_ec.ECDSA(t_hashes.SM3())

    def sign(self, message_hash: bytes) -> RawSignature:
        return _split_der(self._key.sign(message_hash, self._scheme))  # type: ignore[attr-defined]

    def verifier(self) -> Sm2Verifier:
        return Sm2Verifier(self._key.public_key())  # type: ignore[attr-defined]

    def private_pem(self) -> bytes:
        from tongsuopy.crypto import serialization as t_ser

        return self._key.private_bytes(  # type: ignore[attr-defined, no-any-return]
            t_ser.Encoding.PEM, t_ser.PrivateFormat.PKCS8, t_ser.NoEncryption()
        )


def generate_signer(algorithm: Algorithm) -> Signer:
    """A fresh private key for ``algorithm``."""
    if algorithm is Algorithm.ECDSA_P256_SHA256:
        return P256Signer(c_ec.generate_private_key(c_ec.SECP256R1()))
    from tongsuopy.crypto.asymciphers import ec as t_ec

    return Sm2Signer(t_ec.generate_private_key(t_ec.SM2()))


def load_signer_pem(pem: bytes, *, source: str = '<pem>') -> Signer:
    """The PKCS#8 PEM private key ``pem`` (P-256 or SM2); KeyMaterialError names ``source``."""
    try:
        key = c_ser.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        key = None  # not a key cryptography knows: perhaps SM2, tried below
    if isinstance(key, c_ec.EllipticCurvePrivateKey) and isinstance(key.curve, c_ec.SECP256R1):
        return P256Signer(key)
    try:
        from tongsuopy.crypto import serialization as t_ser
        from tongsuopy.crypto.asymciphers import ec as t_ec

        t_key = t_ser.load_pem_private_key(pem, password=None)
    except Exception as err:
        raise KeyMaterialError(f'{source}: not a P-256 or SM2 private key in PEM ({err})') from None
    if isinstance(t_key, t_ec.EllipticCurvePrivateKey) and t_key.curve.name == 'SM2':
        return Sm2Signer(t_key)
    raise KeyMaterialError(f'{source}: key is neither P-256 nor SM2')


def verifier_from_point(algorithm: Algorithm, point: bytes) -> Verifier:
    """A public key from a 33-byte compressed or 65-byte uncompressed SEC1 point.

    Raises KeyMaterialError when the point is not on the curve.
    """
    try:
        if algorithm is Algorithm.ECDSA_P256_SHA256:
            return P256Verifier(
                c_ec.EllipticCurvePublicKey.from_encoded_point(c_ec.SECP256R1(), point)
            )
        from tongsuopy.crypto.asymciphers import ec as t_ec

        return Sm2Verifier(t_ec.EllipticCurvePublicKey.from_encoded_point(t_ec.SM2(), point))
    except Exception as err:
        raise KeyMaterialError(
            f'public key is not a point on the {algorithm.value} curve: {point.hex()} ({err})'
        ) from None

"""Both signature suites: sign/verify, keys in PEM, and SM2 checked against GB/T 32918 itself."""

from __future__ import annotations

import hashlib

import pytest

from v2x_nodes.security.algorithms import (
    SM2_DEFAULT_ID,
    Algorithm,
    RawSignature,
    generate_signer,
    hash_for,
    load_signer_pem,
    sm3,
    verifier_from_point,
)
from v2x_nodes.security.errors import KeyMaterialError

# GB/T 32918.5 recommended curve parameters, for an independent SM2 verification.
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = P - 3
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
G = (
    0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
)


def _add(p1, p2):  # type: ignore[no-untyped-def]
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % P == 0:
        return None
    if p1 == p2:
        slope = (3 * x1 * x1 + A) * pow(2 * y1, -1, P) % P
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (slope * slope - x1 - x2) % P
    return x3, (slope * (x1 - x3) - y1) % P


def _mul(k, point):  # type: ignore[no-untyped-def]
    result = None
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


def _b32(value: int) -> bytes:
    return value.to_bytes(32, 'big')


def _sm2_reference_verify(message: bytes, sig: RawSignature, x: int, y: int, uid: bytes) -> bool:
    """GB/T 32918.2 clause 7: e = SM3(Z_A || M), t = r + s, R = e + x1 of [s]G + [t]P_A."""
    z = hashlib.new(
        'sm3',
        (len(uid) * 8).to_bytes(2, 'big')
        + uid
        + _b32(A)
        + _b32(B)
        + _b32(G[0])
        + _b32(G[1])
        + _b32(x)
        + _b32(y),
    ).digest()
    e = int.from_bytes(hashlib.new('sm3', z + message).digest(), 'big')
    r, s = int.from_bytes(sig.r, 'big'), int.from_bytes(sig.s, 'big')
    if not (1 <= r < N and 1 <= s < N):
        return False
    t = (r + s) % N
    point = _add(_mul(s, G), _mul(t, (x, y)))
    return point is not None and (e + point[0]) % N == r


def _decompress(compressed: bytes) -> tuple[int, int]:
    x = int.from_bytes(compressed[1:], 'big')
    y = pow((x * x * x + A * x + B) % P, (P + 1) // 4, P)
    if y % 2 != compressed[0] - 2:
        y = P - y
    return x, y


@pytest.mark.parametrize('algorithm', list(Algorithm), ids=lambda a: a.value)
def test_sign_then_verify_and_reject_other_message(algorithm: Algorithm) -> None:
    signer = generate_signer(algorithm)
    digest = hash_for(algorithm, b'payload')
    signature = signer.sign(digest)
    assert len(signature.r) == len(signature.s) == 32
    verifier = signer.verifier()
    assert verifier.verify(digest, signature)
    assert not verifier.verify(hash_for(algorithm, b'other'), signature)
    assert not verifier.verify(digest, RawSignature(signature.s, signature.r))
    assert not verifier.verify(digest, RawSignature(b'\x00' * 32, b'\x00' * 32))
    assert not verifier.verify(digest, RawSignature(b'\xff' * 32, b'\xff' * 32))
    assert not generate_signer(algorithm).verifier().verify(digest, signature)


@pytest.mark.parametrize('algorithm', list(Algorithm), ids=lambda a: a.value)
def test_pem_and_point_round_trip(algorithm: Algorithm) -> None:
    signer = generate_signer(algorithm)
    again = load_signer_pem(signer.private_pem())
    assert again.algorithm is algorithm
    point = signer.verifier().compressed_point()
    assert len(point) == 33 and point[0] in (2, 3)
    assert again.verifier().compressed_point() == point
    digest = hash_for(algorithm, b'x')
    assert verifier_from_point(algorithm, point).verify(digest, again.sign(digest))


def test_tongsuo_signs_real_sm2_with_the_default_user_id_z_digest() -> None:
    signer = generate_signer(Algorithm.SM2_SM3)
    x, y = _decompress(signer.verifier().compressed_point())
    for message in (b'', b'abc', bytes(range(32)), b'v2x' * 100):
        signature = signer.sign(message)
        assert _sm2_reference_verify(message, signature, x, y, SM2_DEFAULT_ID)
        # Neither a plain SM3(M) (no Z_A) nor another user id verifies: the Z digest is there.
        assert not _sm2_reference_verify(message, signature, x, y, b'')
        assert not _sm2_reference_verify(message, signature, x, y, b'ALICE123@YAHOO.COM')


def test_sm3_known_answer() -> None:
    # GB/T 32905 example 1: SM3("abc").
    assert sm3(b'abc').hex() == '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0'


def test_bad_keys_raise_key_material_error() -> None:
    with pytest.raises(KeyMaterialError, match='not a point'):
        verifier_from_point(Algorithm.ECDSA_P256_SHA256, b'\x02' + b'\xff' * 32)
    with pytest.raises(KeyMaterialError, match='not a point'):
        verifier_from_point(Algorithm.SM2_SM3, b'\x05' + b'\x00' * 32)
    with pytest.raises(KeyMaterialError, match=r'key\.pem'):
        load_signer_pem(
            b'-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', source='key.pem'
        )
    with pytest.raises(KeyMaterialError, match='expected one of'):
        Algorithm.parse('rsa')


def test_sm3_fallback_agrees_with_hashlib() -> None:
    from v2x_nodes.security.algorithms import _sm3_digest_tongsuo

    for data in (b'', b'abc', bytes(range(256)) * 3):
        assert _sm3_digest_tongsuo(data) == sm3(data) == hashlib.new('sm3', data).digest()

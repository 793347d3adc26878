"""Fuzz: mutated and random secured messages and certificates never raise anything but ours.

Every case is accounted for: the verifier returns an outcome (counted per reason), and the
decoders either decode or raise ``DecodeError``.
"""

from __future__ import annotations

import random
from collections import Counter

from security_pki import NOW_NS, PSID_BSM, Pki

from v2x_nodes.security import VerifyOutcome, VerifyReason
from v2x_nodes.security.certificates import parse_certificate
from v2x_nodes.security.errors import DecodeError
from v2x_nodes.security.secured_message import parse_signed

CASES_PER_SEED = 1500


def _mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        pos = rng.randrange(len(out)) if out else 0
        if kind == 0 and out:  # flip bits
            out[pos] ^= rng.randint(1, 255)
        elif kind == 1:  # truncate
            del out[pos:]
        elif kind == 2:  # insert random bytes
            out[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif kind == 3 and out:  # delete a run
            del out[pos : pos + rng.randint(1, 8)]
        elif kind == 4 and out:  # set a length-like byte to an extreme
            out[pos] = rng.choice((0x00, 0x7F, 0x80, 0x81, 0x82, 0x84, 0x88, 0xFF))
        elif kind == 5:  # splice with another valid message
            other = rng.choice(pool)
            cut = rng.randrange(len(other))
            out[pos:] = other[cut:]
        else:  # duplicate a slice
            out[pos:pos] = out[pos : pos + rng.randint(1, 16)]
    return bytes(out)


def test_mutated_and_random_messages(pki: Pki) -> None:
    rng = random.Random(4 + len(pki.algorithm.value))
    signer = pki.signer(certificate_interval_s=0.3)
    pool = [
        signer.sign(rng.randbytes(rng.randint(0, 60)), PSID_BSM, NOW_NS + i * 10**8)
        for i in range(8)
    ]
    verifier = pki.verifier()
    reasons: Counter[VerifyReason] = Counter()
    parse_errors = 0
    for index in range(CASES_PER_SEED):
        if index % 5 == 4:
            data = rng.randbytes(rng.randint(0, 300))
            if rng.random() < 0.5:  # plausible start so that the parser goes deeper
                data = b'\x03\x81' + bytes((rng.choice((0, 2)),)) + data
        else:
            data = _mutate(rng, rng.choice(pool), pool)
        outcome = verifier.verify(data, NOW_NS + 10**9)
        assert isinstance(outcome, VerifyOutcome)
        assert not outcome.ok or data in pool
        reasons[outcome.reason] += 1
        try:
            parse_signed(data)
        except DecodeError:
            parse_errors += 1
    assert sum(reasons.values()) == CASES_PER_SEED
    assert reasons[VerifyReason.MALFORMED] > CASES_PER_SEED // 3
    assert parse_errors >= reasons[VerifyReason.MALFORMED]


def test_mutated_certificates_only_raise_decode_error(pki: Pki) -> None:
    rng = random.Random(7)
    pool = [pki.root.certificate.raw, pki.pca.certificate.raw, pki.ee.certificate.raw]
    outcomes: Counter[str] = Counter()
    for _ in range(CASES_PER_SEED):
        data = _mutate(rng, rng.choice(pool), pool)
        try:
            parse_certificate(data)
            outcomes['decoded'] += 1
        except DecodeError:
            outcomes['rejected'] += 1
    assert sum(outcomes.values()) == CASES_PER_SEED and outcomes['rejected'] > 0


def test_asn1tools_decoder_of_whole_messages_only_raises_decode_error(pki: Pki) -> None:
    """The reference decoder (asn1tools + canonical check) is held to the same rule."""
    from v2x_nodes.security import asn1spec

    rng = random.Random(11)
    signer = pki.signer(certificate_interval_s=0.3)
    pool = [signer.sign(rng.randbytes(20), PSID_BSM, NOW_NS + i * 10**8) for i in range(6)]
    outcomes: Counter[str] = Counter()
    for _ in range(CASES_PER_SEED // 2):
        data = _mutate(rng, rng.choice(pool), pool)
        try:
            asn1spec.decode('Ieee1609Dot2Data', data)
            outcomes['decoded'] += 1
        except DecodeError:
            outcomes['rejected'] += 1
    assert sum(outcomes.values()) == CASES_PER_SEED // 2 and outcomes['rejected'] > 0

"""Verifier: every rejection reason on real signed bytes, caches, verify-on-demand."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from security_pki import NOW_NS, NOW_S, PSID_BSM, PSID_OTHER, PSID_SPAT, Pki, make_pki

from v2x_nodes.security import (
    Algorithm,
    ConfigError,
    Credentials,
    MessageSigner,
    MessageVerifier,
    SecurityError,
    SecurityStatus,
    SigningError,
    VerifyConfig,
    VerifyReason,
    asn1spec,
)
from v2x_nodes.security.algorithms import generate_signer
from v2x_nodes.security.certificates import build_certificate
from v2x_nodes.security.pki import issue_certificate
from v2x_nodes.security.secured_message import (
    assemble,
    encode_signature,
    encode_signer_certificates,
)

MS = 1_000_000
PAYLOAD = bytes(range(40))


def test_sign_and_verify_both_ways_of_naming_the_signer(pki: Pki) -> None:
    signer, verifier = pki.signer(), pki.verifier()
    first = signer.sign(PAYLOAD, PSID_BSM, NOW_NS)
    second = signer.sign(PAYLOAD, PSID_SPAT, NOW_NS + 100 * MS)
    assert len(second) < len(first)  # digest instead of certificate
    outcome = verifier.verify(first, NOW_NS + MS)
    assert outcome.ok and outcome.signature_checked, outcome
    assert outcome.payload == PAYLOAD and outcome.psid == PSID_BSM
    assert outcome.generation_time_ns == NOW_NS and outcome.algorithm is pki.algorithm
    assert outcome.signer_id == pki.ee.certificate.hashed_id8
    assert verifier.verify(second, NOW_NS + 101 * MS).ok


def test_certificate_sent_again_after_the_interval_and_on_request(pki: Pki) -> None:
    signer = pki.signer(certificate_interval_s=0.5)
    sizes = [len(signer.sign(PAYLOAD, PSID_BSM, NOW_NS + i * 100 * MS)) for i in range(7)]
    big, small = max(sizes), min(sizes)
    verifier = pki.verifier()
    for i in range(5):  # the same certificate again and again is indexed once
        data = pki.signer(certificate_interval_s=0).sign(PAYLOAD, PSID_BSM, NOW_NS + i * MS)
        assert verifier.verify(data, NOW_NS + i * MS).ok
    assert verifier.store.prefix_entries() == len(verifier.store) == 3
    assert [s == big for s in sizes] == [True, False, False, False, False, True, False]
    signer.request_certificate()
    assert len(signer.sign(PAYLOAD, PSID_BSM, NOW_NS + 800 * MS)) == big > small


def test_digest_of_a_never_seen_certificate_is_unknown_signer(pki: Pki) -> None:
    signer = pki.signer()
    signer.sign(PAYLOAD, PSID_BSM, NOW_NS)  # the certificate went to someone else
    outcome = pki.verifier().verify(signer.sign(PAYLOAD, PSID_BSM, NOW_NS + MS), NOW_NS + 2 * MS)
    assert outcome.reason is VerifyReason.UNKNOWN_SIGNER
    assert pki.ee.certificate.hashed_id8.hex() in outcome.detail


def test_every_single_bit_flip_is_rejected(pki: Pki) -> None:
    signer = pki.signer()
    with_cert = signer.sign(PAYLOAD, PSID_BSM, NOW_NS)
    with_digest = signer.sign(PAYLOAD, PSID_BSM, NOW_NS + MS)
    verifier = pki.verifier()
    reasons: set[VerifyReason] = set()
    for data in (with_cert, with_digest):
        for bit in range(len(data) * 8):
            mutated = bytearray(data)
            mutated[bit // 8] ^= 0x80 >> (bit % 8)
            outcome = verifier.verify(bytes(mutated), NOW_NS + 2 * MS)
            assert not outcome.ok, f'bit {bit} flipped and still accepted'
            reasons.add(outcome.reason)
        if data is with_cert:  # let the verifier learn the certificate for the digest form
            assert verifier.verify(with_cert, NOW_NS + 2 * MS).ok
    assert VerifyReason.BAD_SIGNATURE in reasons and VerifyReason.MALFORMED in reasons
    assert verifier.verify(with_digest, NOW_NS + 2 * MS).ok  # the original still passes


def test_foreign_root_is_untrusted(pki: Pki) -> None:
    foreign = make_pki(pki.algorithm)
    data = foreign.signer().sign(PAYLOAD, PSID_BSM, NOW_NS)
    assert pki.verifier().verify(data, NOW_NS + MS).reason is VerifyReason.UNTRUSTED_CHAIN
    # Even with the whole foreign chain in the message, the root is not an anchor.
    chained = foreign.signer(include_chain=True).sign(PAYLOAD, PSID_BSM, NOW_NS)
    assert pki.verifier().verify(chained, NOW_NS + MS).reason is VerifyReason.UNTRUSTED_CHAIN
    assert pki.verifier().add_certificate(foreign.pca.certificate) is VerifyReason.UNTRUSTED_CHAIN


def test_chain_in_the_message_is_accepted_without_preloaded_ca(pki: Pki) -> None:
    data = pki.signer(include_chain=True).sign(PAYLOAD, PSID_BSM, NOW_NS)
    verifier = MessageVerifier([pki.root.certificate])
    assert verifier.verify(data, NOW_NS + MS).ok
    assert (
        MessageVerifier([pki.root.certificate])
        .verify(pki.signer().sign(PAYLOAD, PSID_BSM, NOW_NS), NOW_NS + MS)
        .reason
        is VerifyReason.UNTRUSTED_CHAIN
    )


def test_expired_and_not_yet_valid_certificates(pki: Pki) -> None:
    short = issue_certificate(
        pki.pca, psids=[PSID_BSM], start_posix_s=NOW_S - 3000, duration_s=1800, name='old'
    )
    signer = MessageSigner(Credentials(short.certificate, short.signer))
    data = signer.sign(PAYLOAD, PSID_BSM, (NOW_S - 2000) * 10**9)
    assert pki.verifier().verify(data, (NOW_S - 1999) * 10**9).ok
    with pytest.raises(SigningError, match='not valid'):
        signer.sign(PAYLOAD, PSID_BSM, NOW_NS)
    # Generation time past the end: signed by hand with the expired certificate.
    expired = _sign_raw(short, PSID_BSM, NOW_NS)
    outcome = pki.verifier().verify(expired, NOW_NS + MS)
    assert outcome.reason is VerifyReason.CERTIFICATE_EXPIRED
    future = issue_certificate(
        pki.pca, psids=[PSID_BSM], start_posix_s=NOW_S + 3600, duration_s=3600, name='future'
    )
    outcome = pki.verifier().verify(_sign_raw(future, PSID_BSM, NOW_NS), NOW_NS + MS)
    assert outcome.reason is VerifyReason.CERTIFICATE_NOT_YET_VALID


def _sign_raw(issued, psid: int, now_ns: int, **tbs_options: object) -> bytes:  # type: ignore[no-untyped-def]
    """Sign with a certificate regardless of its validity (what an attacker can do)."""
    from v2x_nodes.security.certificates import message_hash
    from v2x_nodes.security.secured_message import build_tbs
    from v2x_nodes.security.time_tai import time64_from_posix_ns

    cert, key = issued.certificate, issued.signer
    tbs = build_tbs(PAYLOAD, psid, time64_from_posix_ns(now_ns), **tbs_options)  # type: ignore[arg-type]
    signature = key.sign(message_hash(key.algorithm, tbs, cert.raw))
    return assemble(
        key.algorithm,
        tbs,
        encode_signer_certificates([cert.raw]),
        encode_signature(key.algorithm, signature),
    )


def test_wrong_aid_is_rejected(pki: Pki) -> None:
    with pytest.raises(SigningError, match='psid 99'):
        pki.signer().sign(PAYLOAD, PSID_OTHER, NOW_NS)
    outcome = pki.verifier().verify(_sign_raw(pki.ee, PSID_OTHER, NOW_NS), NOW_NS + MS)
    assert outcome.reason is VerifyReason.PSID_NOT_PERMITTED
    assert '99' in outcome.detail


def test_replay_is_rejected(pki: Pki) -> None:
    verifier = pki.verifier()
    data = pki.signer().sign(PAYLOAD, PSID_BSM, NOW_NS)
    assert verifier.verify(data, NOW_NS + MS).ok
    assert verifier.verify(data, NOW_NS + 2 * MS).reason is VerifyReason.REPLAY
    # Same payload at another time is a new message, not a replay.
    signer = pki.signer()
    assert verifier.verify(signer.sign(PAYLOAD, PSID_BSM, NOW_NS + 5 * MS), NOW_NS + 6 * MS).ok
    # Two messages signed within one microsecond still get distinct generation times.
    a = signer.sign(PAYLOAD, PSID_BSM, NOW_NS + 7 * MS)
    b = signer.sign(PAYLOAD, PSID_BSM, NOW_NS + 7 * MS)
    assert verifier.verify(a, NOW_NS + 8 * MS).ok and verifier.verify(b, NOW_NS + 8 * MS).ok


def test_generation_time_window(pki: Pki) -> None:
    config = VerifyConfig(max_age_s=2.0, max_future_s=0.5)
    data = pki.signer().sign(PAYLOAD, PSID_BSM, NOW_NS)
    assert pki.verifier(config=config).verify(data, NOW_NS + 1999 * MS).ok
    outcome = pki.verifier(config=config).verify(data, NOW_NS + 2001 * MS)
    assert outcome.reason is VerifyReason.TOO_OLD and '2.001' in outcome.detail
    assert pki.verifier(config=config).verify(data, NOW_NS - 499 * MS).ok
    outcome = pki.verifier(config=config).verify(data, NOW_NS - 501 * MS)
    assert outcome.reason is VerifyReason.FROM_FUTURE


def test_expiry_time_and_missing_generation_time(pki: Pki) -> None:
    data = pki.signer(lifetime_s=0.1).sign(PAYLOAD, PSID_BSM, NOW_NS)
    assert pki.verifier().verify(data, NOW_NS + 50 * MS).ok
    assert pki.verifier().verify(data, NOW_NS + 150 * MS).reason is VerifyReason.MESSAGE_EXPIRED
    backwards = _sign_raw(pki.ee, PSID_BSM, NOW_NS, expiry_time_us=1000)
    outcome = pki.verifier().verify(backwards, NOW_NS)
    assert outcome.reason is VerifyReason.MESSAGE_EXPIRED and 'not after' in outcome.detail
    value = asn1spec.decode('Ieee1609Dot2Data', data)
    del value['content'][1]['tbsData']['headerInfo']['generationTime']
    outcome = pki.verifier().verify(asn1spec.encode('Ieee1609Dot2Data', value), NOW_NS)
    assert outcome.reason is VerifyReason.NO_GENERATION_TIME


def test_issuer_permissions_are_enforced(pki: Pki) -> None:
    # A CA allowed only psid 35 issues a certificate for 32: the chain check refuses it.
    narrow = build_certificate(
        subject=(key := generate_signer(pki.algorithm)).verifier(),
        issuer_signer=pki.root.signer,
        issuer=pki.root.certificate,
        start_posix_s=NOW_S - 60,
        duration_s=86400,
        issue_psids=[PSID_SPAT],
        name='narrow-ca',
    )
    verifier = pki.verifier()
    assert verifier.add_certificate(narrow) is VerifyReason.OK
    ee_key = generate_signer(pki.algorithm)
    ee = build_certificate(
        subject=ee_key.verifier(),
        issuer_signer=key,
        issuer=narrow,
        start_posix_s=NOW_S - 60,
        duration_s=86400,
        app_psids=[PSID_BSM],
    )
    data = MessageSigner(Credentials(ee, ee_key)).sign(PAYLOAD, PSID_BSM, NOW_NS)
    assert verifier.verify(data, NOW_NS + MS).reason is VerifyReason.ISSUER_NOT_PERMITTED
    # An end-entity certificate cannot issue at all.
    sub = build_certificate(
        subject=generate_signer(pki.algorithm).verifier(),
        issuer_signer=pki.ee.signer,
        issuer=pki.ee.certificate,
        start_posix_s=NOW_S - 60,
        duration_s=86400,
        app_psids=[PSID_BSM],
    )
    assert pki.verifier().verify(pki.signer().sign(PAYLOAD, PSID_BSM, NOW_NS), NOW_NS + MS).ok
    verifier = pki.verifier()
    verifier.verify(pki.signer().sign(PAYLOAD, PSID_BSM, NOW_NS), NOW_NS + MS)
    assert verifier.add_certificate(sub) is VerifyReason.ISSUER_NOT_PERMITTED


def test_forged_certificate_signature(pki: Pki) -> None:
    value = asn1spec.decode('Certificate', pki.pca.certificate.raw)
    value['toBeSigned']['crlSeries'] = 7  # changed after signing
    forged = asn1spec.encode('Certificate', value)
    assert pki.verifier().add_certificate(forged) is VerifyReason.BAD_CERTIFICATE_SIGNATURE
    assert pki.verifier().add_certificate(b'\x80\x03') is VerifyReason.MALFORMED


def test_anchor_must_be_self_signed(pki: Pki) -> None:
    with pytest.raises(SecurityError, match='self-signed'):
        MessageVerifier([pki.pca.certificate])
    with pytest.raises(ConfigError, match='max_age_s'):
        VerifyConfig(max_age_s=-1)
    with pytest.raises(ConfigError, match='replay_cache_size'):
        VerifyConfig(replay_cache_size=0)
    with pytest.raises(ConfigError, match='certificate_interval_s'):
        pki.signer(certificate_interval_s=-1)
    with pytest.raises(ConfigError, match='lifetime_s'):
        pki.signer(lifetime_s=0)


def test_mixed_algorithms_are_rejected() -> None:
    p256, sm2 = make_pki(Algorithm.ECDSA_P256_SHA256), make_pki(Algorithm.SM2_SM3)
    verifier = MessageVerifier([p256.root.certificate, sm2.root.certificate])
    verifier.add_certificate(p256.pca.certificate)
    verifier.add_certificate(sm2.pca.certificate)
    data = bytearray(p256.signer().sign(PAYLOAD, PSID_BSM, NOW_NS))
    data[2] = 0x02  # hashId sm3 with a P-256 key and signature
    assert verifier.verify(bytes(data), NOW_NS + MS).reason is VerifyReason.ALGORITHM_MISMATCH
    assert verifier.verify(sm2.signer().sign(PAYLOAD, PSID_BSM, NOW_NS), NOW_NS + MS).ok


def test_verify_on_demand(pki: Pki) -> None:
    verifier = pki.verifier()
    data = pki.signer().sign(PAYLOAD, PSID_BSM, NOW_NS)
    deferred = verifier.verify(data, NOW_NS + MS, check_signature=False)
    assert deferred.ok and not deferred.signature_checked and deferred.payload == PAYLOAD
    confirmed = verifier.confirm(deferred, NOW_NS + 2 * MS)
    assert confirmed.ok and confirmed.signature_checked
    assert verifier.confirm(deferred, NOW_NS + 3 * MS).reason is VerifyReason.REPLAY
    bad = bytearray(pki.signer().sign(PAYLOAD, PSID_BSM, NOW_NS + 10 * MS))
    bad[-1] ^= 1
    deferred = verifier.verify(bytes(bad), NOW_NS + 11 * MS, check_signature=False)
    assert deferred.ok and not deferred.signature_checked
    assert verifier.confirm(deferred, NOW_NS + 12 * MS).reason is VerifyReason.BAD_SIGNATURE


def test_caches_are_bounded(pki: Pki) -> None:
    verifier = pki.verifier(config=VerifyConfig(certificate_cache_size=2, replay_cache_size=3))
    signers = []
    for index in range(4):
        issued = issue_certificate(
            pki.pca, psids=[PSID_BSM], start_posix_s=NOW_S - 60, duration_s=600, name=f'v{index}'
        )
        signers.append(MessageSigner(Credentials(issued.certificate, issued.signer)))
        assert verifier.verify(signers[-1].sign(PAYLOAD, PSID_BSM, NOW_NS), NOW_NS + MS).ok
    assert len(verifier.store) == 2 + 2  # root and PCA pinned, two learned
    assert verifier.store.prefix_entries() == 4
    assert len(verifier.replays) <= 3
    # The first sender's certificate was evicted: its digest is unknown again.
    late = signers[0].sign(PAYLOAD, PSID_BSM, NOW_NS + 10 * MS)
    assert verifier.verify(late, NOW_NS + 11 * MS).reason is VerifyReason.UNKNOWN_SIGNER
    assert verifier.verify(
        signers[3].sign(PAYLOAD, PSID_BSM, NOW_NS + 10 * MS), NOW_NS + 11 * MS
    ).ok


def test_status_values_match_v2x_frame_and_odd_clocks_do_not_raise(pki: Pki) -> None:
    assert [s.value for s in SecurityStatus] == [0, 1, 2, 3]  # V2xFrame.SECURITY_* constants
    verifier = pki.verifier()
    data = pki.signer().sign(PAYLOAD, PSID_BSM, NOW_NS)
    deferred = verifier.verify(data, NOW_NS, check_signature=False)
    assert deferred.status is SecurityStatus.UNVERIFIED
    assert verifier.confirm(deferred, NOW_NS).status is SecurityStatus.VERIFIED
    assert verifier.verify(data, NOW_NS).status is SecurityStatus.FAILED  # replay
    assert verifier.verify(data, 0).reason is VerifyReason.FROM_FUTURE
    assert verifier.verify(data, 2**80).reason is VerifyReason.TOO_OLD
    with pytest.raises(SigningError, match='not valid at'):
        pki.signer().sign(PAYLOAD, PSID_BSM, -1)


@settings(max_examples=25, deadline=None)
@given(
    payload=st.binary(max_size=300),
    psid=st.sampled_from([PSID_BSM, PSID_SPAT]),
    offset_ns=st.integers(0, 3600 * 10**9),
    delay_ns=st.integers(-(10**9), 5 * 10**9),
    algorithm=st.sampled_from(list(Algorithm)),
)
def test_sign_verify_round_trip(
    payload: bytes, psid: int, offset_ns: int, delay_ns: int, algorithm: Algorithm
) -> None:
    pki = make_pki_cached(algorithm)
    now_ns = NOW_NS + offset_ns
    outcome = pki.verifier().verify(pki.signer().sign(payload, psid, now_ns), now_ns + delay_ns)
    assert outcome.ok, outcome
    assert (outcome.payload, outcome.psid) == (payload, psid)
    assert abs(outcome.generation_time_ns - now_ns) < 1000  # type: ignore[operator]


_PKIS: dict[Algorithm, Pki] = {}


def make_pki_cached(algorithm: Algorithm) -> Pki:
    if algorithm not in _PKIS:
        _PKIS[algorithm] = make_pki(algorithm)
    return _PKIS[algorithm]


def test_hand_derived_bytes() -> None:
    # ToBeSignedData for payload 10 20, psid 32, generationTime 0x0102030405060708, derived by
    # hand from X.696: payload preamble 40 (data present, no extensions, 5 zero padding bits);
    # Ieee1609Dot2Data 03 (version) 80 (CHOICE index 0 unsecuredData) 02 (length) 10 20;
    # HeaderInfo preamble 40 (generationTime present); psid 01 20 (length 1, value 0x20);
    # Time64 as 8 fixed bytes.
    expected = bytes.fromhex('40 0380 02 1020 40 0120 0102030405060708')
    from v2x_nodes.security.secured_message import build_tbs

    assert build_tbs(b'\x10\x20', 32, 0x0102030405060708) == expected
    # With expiryTime: preamble 60, then both Time64 values.
    with_expiry = build_tbs(b'', 300, 1, 2)
    assert with_expiry == bytes.fromhex('40 0380 00 60 02012c 0000000000000001 0000000000000002')


def test_peer_to_peer_certificate_learning(pki: Pki) -> None:
    """S signs by digest; R does not know it, asks in its own message; S answers with the
    certificate; R verifies (1609.2 p2pcdLearningRequest)."""
    sender = pki.signer()
    sender.sign(PAYLOAD, PSID_BSM, NOW_NS)  # the certificate went out before R listened
    receiver_verifier = pki.verifier()
    outcome = receiver_verifier.verify(sender.sign(PAYLOAD, PSID_BSM, NOW_NS + MS), NOW_NS + MS)
    assert outcome.reason is VerifyReason.UNKNOWN_SIGNER
    assert outcome.signer_id == pki.ee.certificate.hashed_id8
    # R's own message (another certificate of the same PKI) carries the request.
    other = issue_certificate(
        pki.pca, psids=[PSID_BSM], start_posix_s=NOW_S - 60, duration_s=600, name='r'
    )
    receiver = MessageSigner(Credentials(other.certificate, other.signer))
    request = receiver.sign(PAYLOAD, PSID_BSM, NOW_NS + 2 * MS, p2pcd_request=outcome.signer_id)
    heard = pki.verifier().verify(request, NOW_NS + 3 * MS)
    assert heard.ok and heard.p2pcd_request == pki.ee.certificate.hashed_id8[-3:]
    assert not sender.on_learning_request(b'\x00\x00\x00')
    assert sender.on_learning_request(heard.p2pcd_request)
    answer = sender.sign(PAYLOAD, PSID_BSM, NOW_NS + 4 * MS)
    assert receiver_verifier.verify(answer, NOW_NS + 5 * MS).ok
    later = sender.sign(PAYLOAD, PSID_BSM, NOW_NS + 6 * MS)  # digest again, now known
    assert len(later) < len(answer) and receiver_verifier.verify(later, NOW_NS + 7 * MS).ok


def test_sm2_end_entity_under_a_p256_ca() -> None:
    """Mixed chains: the certificate is identified with its issuer's hash (SHA-256), messages
    signed with its SM2 key hash it with SM3 as the signer input."""
    p256 = make_pki(Algorithm.ECDSA_P256_SHA256)
    key = generate_signer(Algorithm.SM2_SM3)
    cert = build_certificate(
        subject=key.verifier(),
        issuer_signer=p256.pca.signer,
        issuer=p256.pca.certificate,
        start_posix_s=NOW_S - 60,
        duration_s=3600,
        app_psids=[PSID_BSM],
    )
    assert cert.algorithm is Algorithm.ECDSA_P256_SHA256 and cert.key_algorithm is Algorithm.SM2_SM3
    data = MessageSigner(Credentials(cert, key)).sign(PAYLOAD, PSID_BSM, NOW_NS)
    assert data[2] == 0x02  # hashId sm3
    assert p256.verifier().verify(data, NOW_NS + MS).ok


def test_chain_length_permissions(pki: Pki) -> None:
    root, pca, ee = pki.root.certificate, pki.pca.certificate, pki.ee.certificate
    assert (root.chain_min, root.chain_max) == (1, None)  # chainLengthRange -1: any depth
    assert (pca.chain_min, pca.chain_max) == (1, 1)  # DEFAULTs: end entities only
    assert (ee.chain_min, ee.chain_max) == (0, 0)
    # The PCA may not issue a CA: the chain below it would be two certificates long.
    sub_key = generate_signer(pki.algorithm)
    sub_ca = build_certificate(
        subject=sub_key.verifier(),
        issuer_signer=pki.pca.signer,
        issuer=pca,
        start_posix_s=NOW_S - 60,
        duration_s=86400,
        issue_all=True,
    )
    assert pki.verifier().add_certificate(sub_ca) is VerifyReason.ISSUER_NOT_PERMITTED
    # A root that wants exactly two certificates below it refuses an end entity it signs itself.
    strict_key = generate_signer(pki.algorithm)
    strict = build_certificate(
        subject=strict_key.verifier(),
        issuer_signer=strict_key,
        issuer=None,
        start_posix_s=NOW_S - 60,
        duration_s=86400,
        issue_all=True,
        chain_length=(2, 0),
    )
    direct_key = generate_signer(pki.algorithm)
    direct = build_certificate(
        subject=direct_key.verifier(),
        issuer_signer=strict_key,
        issuer=strict,
        start_posix_s=NOW_S - 60,
        duration_s=86400,
        app_psids=[PSID_BSM],
    )
    data = MessageSigner(Credentials(direct, direct_key)).sign(PAYLOAD, PSID_BSM, NOW_NS)
    outcome = MessageVerifier([strict]).verify(data, NOW_NS + MS)
    assert (
        outcome.reason is VerifyReason.ISSUER_NOT_PERMITTED and 'more certificate' in outcome.detail
    )


def test_certificate_without_permissions_cannot_be_built(pki: Pki) -> None:
    from v2x_nodes.security import EncodeError

    key = generate_signer(pki.algorithm)
    with pytest.raises(EncodeError, match='appPermissions or certIssuePermissions'):
        build_certificate(
            subject=key.verifier(),
            issuer_signer=pki.pca.signer,
            issuer=pki.pca.certificate,
            start_posix_s=NOW_S,
            duration_s=60,
        )
    with pytest.raises(EncodeError, match='chain_length'):
        build_certificate(
            subject=key.verifier(),
            issuer_signer=key,
            issuer=None,
            start_posix_s=NOW_S,
            duration_s=60,
            issue_all=True,
            chain_length=(0, 0),
        )


def test_numpy_uint8_arrays_are_accepted(pki: Pki) -> None:
    """V2xFrame.secured arrives as a numpy uint8 array (rosbags' choice for uint8[])."""
    import numpy as np

    data = pki.signer().sign(PAYLOAD, PSID_BSM, NOW_NS)
    outcome = pki.verifier().verify(np.frombuffer(data, dtype=np.uint8), NOW_NS)  # type: ignore[arg-type]
    assert outcome.ok and outcome.payload == PAYLOAD
    assert type(outcome.payload) is bytes
    array = np.frombuffer(PAYLOAD, dtype=np.uint8)
    signed = pki.signer().sign(array, PSID_BSM, NOW_NS + MS)  # type: ignore[arg-type]
    assert pki.verifier().verify(signed, NOW_NS + MS).payload == PAYLOAD

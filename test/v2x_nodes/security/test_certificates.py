"""Explicit certificates: COER through asn1tools, HashedId8, durations, unsupported forms."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from security_pki import NOW_S, PSID_BSM, PSID_SPAT, Pki

from v2x_nodes.security import asn1spec
from v2x_nodes.security.algorithms import Algorithm, hash_for
from v2x_nodes.security.certificates import (
    encode_duration,
    parse_certificate,
    parse_certificate_prefix,
    signature_valid,
)
from v2x_nodes.security.errors import DecodeError, EncodeError, UnsupportedError


def test_chain_fields_and_signatures(pki: Pki) -> None:
    root, pca, ee = pki.root.certificate, pki.pca.certificate, pki.ee.certificate
    assert root.issuer_id is None and root.issue_all and root.name == 'root-ca'
    assert pca.issuer_id == root.hashed_id8 and pca.issue_all
    assert ee.issuer_id == pca.hashed_id8 and not ee.is_ca
    assert ee.app_psids == {PSID_BSM, PSID_SPAT} and ee.name == 'obu1'
    assert ee.start_s == NOW_S - 3600 and ee.end_s == NOW_S - 3600 + 7 * 86400
    assert ee.hashed_id8 == hash_for(pki.algorithm, ee.raw)[-8:]
    assert signature_valid(root, None) and signature_valid(pca, root)
    assert signature_valid(ee, pca) and not signature_valid(ee, root)


def test_wire_form_follows_1609dot2(pki: Pki) -> None:
    value = asn1spec.decode('Certificate', pki.ee.certificate.raw)
    assert value['version'] == 3 and value['type'] == 'explicit'
    digest_choice = (
        'sha256AndDigest' if pki.algorithm is Algorithm.ECDSA_P256_SHA256 else 'sm3AndDigest'
    )
    assert value['issuer'] == (digest_choice, pki.pca.certificate.hashed_id8)
    key_choice = 'ecdsaNistP256' if pki.algorithm is Algorithm.ECDSA_P256_SHA256 else 'ecsigSm2'
    assert value['toBeSigned']['verifyKeyIndicator'][1][0] == key_choice
    assert value['toBeSigned']['validityPeriod']['duration'] == ('minutes', 10080)
    sig_choice = value['signature'][0]
    assert sig_choice == (
        'ecdsaNistP256Signature' if key_choice == 'ecdsaNistP256' else 'sm2Signature'
    )
    root = asn1spec.decode('Certificate', pki.root.certificate.raw)
    assert root['issuer'] == ('self', pki.algorithm.hash_name)
    assert root['toBeSigned']['certIssuePermissions'][0]['subjectPermissions'] == ('all', None)


def test_prefix_parse_gives_length(pki: Pki) -> None:
    raw = pki.ee.certificate.raw
    info, length = parse_certificate_prefix(raw + b'\x01\x02')
    assert length == len(raw) and info == parse_certificate(raw)
    with pytest.raises(DecodeError, match='trailing'):
        parse_certificate(raw + b'\x00')
    with pytest.raises(DecodeError):
        parse_certificate(raw[:-1])


@pytest.mark.parametrize(
    ('seconds', 'expected'),
    [
        (60, ('seconds', 60)),
        (7 * 86400, ('minutes', 10080)),
        (365 * 86400, ('hours', 8760)),
        (10 * 31_556_952, ('years', 10)),
        (100_000, ('minutes', 1666)),
    ],
)
def test_duration_units(seconds: int, expected: tuple[str, int]) -> None:
    assert encode_duration(seconds) == expected


def test_duration_errors() -> None:
    with pytest.raises(EncodeError, match='positive'):
        encode_duration(0)
    with pytest.raises(EncodeError, match='65535 years'):
        encode_duration(70_000 * 31_556_952)


def _implicit_like(raw: bytes) -> bytes:
    value = asn1spec.decode('Certificate', raw)
    value['type'] = 'implicit'
    return asn1spec.encode('Certificate', value)


def test_unsupported_forms_are_named(pki: Pki) -> None:
    with pytest.raises(UnsupportedError, match='implicit'):
        parse_certificate(_implicit_like(pki.ee.certificate.raw))
    value = asn1spec.decode('Certificate', pki.ee.certificate.raw)
    value['toBeSigned']['verifyKeyIndicator'] = ('reconstructionValue', ('x-only', b'\x01' * 32))
    with pytest.raises(UnsupportedError, match='reconstruction'):
        parse_certificate(asn1spec.encode('Certificate', value))


_point = st.one_of(
    st.tuples(st.just('x-only'), st.binary(min_size=32, max_size=32)),
    st.tuples(
        st.sampled_from(['compressed-y-0', 'compressed-y-1']), st.binary(min_size=32, max_size=32)
    ),
)
_psids = st.lists(st.builds(dict, psid=st.integers(0, 2**40)), max_size=4)
_tbs = st.fixed_dictionaries(
    {
        'id': st.one_of(
            st.tuples(st.just('name'), st.text(max_size=20)),
            st.tuples(st.just('none'), st.none()),
            st.tuples(st.just('binaryId'), st.binary(min_size=1, max_size=64)),
        ),
        'cracaId': st.binary(min_size=3, max_size=3),
        'crlSeries': st.integers(0, 65535),
        'validityPeriod': st.fixed_dictionaries(
            {
                'start': st.integers(0, 2**32 - 1),
                'duration': st.tuples(
                    st.sampled_from(['seconds', 'minutes', 'hours', 'sixtyHours', 'years']),
                    st.integers(0, 65535),
                ),
            }
        ),
        'verifyKeyIndicator': st.tuples(
            st.just('verificationKey'),
            st.tuples(st.sampled_from(['ecdsaNistP256', 'ecsigSm2']), _point),
        ),
    },
    optional={
        'appPermissions': _psids,
        'certIssuePermissions': st.lists(
            st.one_of(
                st.just({'subjectPermissions': ('all', None)}),
                st.builds(dict, subjectPermissions=st.tuples(st.just('explicit'), _psids)),
            ),
            max_size=2,
        ),
        'assuranceLevel': st.binary(min_size=1, max_size=1),
    },
)


@settings(max_examples=150, deadline=None)
@given(
    tbs=_tbs,
    issuer=st.one_of(
        st.tuples(st.just('self'), st.sampled_from(['sha256', 'sm3'])),
        st.tuples(
            st.sampled_from(['sha256AndDigest', 'sm3AndDigest']), st.binary(min_size=8, max_size=8)
        ),
    ),
    r=st.binary(min_size=32, max_size=32),
    s=st.binary(min_size=32, max_size=32),
)
def test_certificate_coer_round_trip(tbs: dict, issuer: tuple, r: bytes, s: bytes) -> None:
    signature = (
        ('ecdsaNistP256Signature', {'rSig': ('x-only', r), 'sSig': s})
        if issuer[0] in ('sha256AndDigest',) or issuer == ('self', 'sha256')
        else ('sm2Signature', {'rSig': r, 'sSig': s})
    )
    value = {
        'version': 3,
        'type': 'explicit',
        'issuer': issuer,
        'toBeSigned': tbs,
        'signature': signature,
    }
    raw = asn1spec.encode('Certificate', value)
    decoded, length = asn1spec.decode_prefix('Certificate', raw + b'\xaa')
    assert length == len(raw)
    assert asn1spec.encode('Certificate', decoded) == raw
    assert decoded['toBeSigned']['id'] == tbs['id']
    assert decoded['issuer'] == issuer and decoded['signature'] == signature


def test_mismatched_keys_are_refused(pki: Pki) -> None:
    from v2x_nodes.security import Credentials, SigningError
    from v2x_nodes.security.algorithms import generate_signer
    from v2x_nodes.security.certificates import build_certificate
    from v2x_nodes.security.errors import KeyMaterialError

    stranger = generate_signer(pki.algorithm)
    with pytest.raises(KeyMaterialError, match='does not match'):
        build_certificate(
            subject=stranger.verifier(),
            issuer_signer=stranger,
            issuer=pki.pca.certificate,
            start_posix_s=NOW_S,
            duration_s=60,
            app_psids=[PSID_BSM],
        )
    with pytest.raises(SigningError, match='does not match'):
        Credentials(pki.ee.certificate, stranger)
    other = (
        Algorithm.SM2_SM3
        if pki.algorithm is Algorithm.ECDSA_P256_SHA256
        else (Algorithm.ECDSA_P256_SHA256)
    )
    with pytest.raises(SigningError, match='key is'):
        Credentials(pki.ee.certificate, generate_signer(other))
    with pytest.raises(KeyMaterialError, match='issuer key is'):
        build_certificate(
            subject=stranger.verifier(),
            issuer_signer=generate_signer(other),
            issuer=pki.pca.certificate,
            start_posix_s=NOW_S,
            duration_s=60,
        )

"""The hand-written COER of the signed SPDU against asn1tools' encoding of the same value."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from security_pki import Pki, make_pki

from v2x_nodes.security import asn1spec
from v2x_nodes.security.algorithms import Algorithm, RawSignature
from v2x_nodes.security.certificates import CertificateInfo
from v2x_nodes.security.errors import DecodeError, UnsupportedError
from v2x_nodes.security.secured_message import (
    SignerKind,
    assemble,
    build_tbs,
    encode_signature,
    encode_signer_certificates,
    encode_signer_digest,
    parse_common,
    parse_signed,
    parse_signed_general,
)

_EE = {a: make_pki(a).ee.certificate for a in Algorithm}


def _tbs_value(payload: bytes, psid: int, generation: int | None, expiry: int | None, **extra):  # type: ignore[no-untyped-def]
    header = {'psid': psid, **extra}
    if generation is not None:
        header['generationTime'] = generation
    if expiry is not None:
        header['expiryTime'] = expiry
    return {
        'payload': {'data': {'protocolVersion': 3, 'content': ('unsecuredData', payload)}},
        'headerInfo': header,
    }


def _message_value(algorithm: Algorithm, tbs: dict, signer: tuple, sig: RawSignature) -> dict:  # type: ignore[type-arg]
    if algorithm is Algorithm.ECDSA_P256_SHA256:
        signature = ('ecdsaNistP256Signature', {'rSig': ('x-only', sig.r), 'sSig': sig.s})
    else:
        signature = ('sm2Signature', {'rSig': sig.r, 'sSig': sig.s})
    return {
        'protocolVersion': 3,
        'content': (
            'signedData',
            {
                'hashId': algorithm.hash_name,
                'tbsData': tbs,
                'signer': signer,
                'signature': signature,
            },
        ),
    }


_bytes32 = st.binary(min_size=32, max_size=32)


@settings(max_examples=200, deadline=None)
@given(
    algorithm=st.sampled_from(list(Algorithm)),
    payload=st.binary(max_size=400),
    psid=st.integers(0, 2**64),
    generation=st.integers(0, 2**64 - 1),
    expiry=st.none() | st.integers(0, 2**64 - 1),
    p2pcd=st.none() | st.binary(min_size=3, max_size=3),
    by_certificate=st.booleans(),
    digest=st.binary(min_size=8, max_size=8),
    r=_bytes32,
    s=_bytes32,
)
def test_build_equals_asn1tools_and_parses_back(
    algorithm: Algorithm,
    payload: bytes,
    psid: int,
    generation: int,
    expiry: int | None,
    p2pcd: bytes | None,
    by_certificate: bool,
    digest: bytes,
    r: bytes,
    s: bytes,
) -> None:
    sig = RawSignature(r, s)
    extra = {} if p2pcd is None else {'p2pcdLearningRequest': p2pcd}
    tbs_value = _tbs_value(payload, psid, generation, expiry, **extra)
    tbs = build_tbs(payload, psid, generation, expiry, p2pcd)
    assert tbs == asn1spec.encode('ToBeSignedData', tbs_value)
    cert = _EE[algorithm]
    if by_certificate:
        signer_bytes = encode_signer_certificates([cert.raw])
        signer_value: tuple = ('certificate', [asn1spec.decode('Certificate', cert.raw)])  # type: ignore[type-arg]
    else:
        signer_bytes = encode_signer_digest(digest)
        signer_value = ('digest', digest)
    data = assemble(algorithm, tbs, signer_bytes, encode_signature(algorithm, sig))
    value = _message_value(algorithm, tbs_value, signer_value, sig)
    assert data == asn1spec.encode('Ieee1609Dot2Data', value)
    assert asn1spec.encode('Ieee1609Dot2Data', asn1spec.decode('Ieee1609Dot2Data', data)) == data
    msg = parse_signed(data)
    assert (msg.algorithm, msg.signature_algorithm) == (algorithm, algorithm)
    assert (msg.payload, msg.psid, msg.generation_time_us, msg.expiry_time_us) == (
        payload,
        psid,
        generation,
        expiry,
    )
    assert msg.tbs_raw == tbs and msg.signature == sig and msg.p2pcd_request == p2pcd
    if by_certificate:
        assert msg.signer_kind is SignerKind.CERTIFICATE and msg.certificates == (cert,)
    else:
        assert msg.signer_kind is SignerKind.DIGEST and msg.signer_digest == digest


@settings(max_examples=300, deadline=None)
@given(
    algorithm=st.sampled_from(list(Algorithm)),
    signature_algorithm=st.sampled_from(list(Algorithm)),
    payload=st.binary(max_size=140),
    psid=st.integers(0, 2**40),
    generation=st.integers(0, 2**64 - 1),
    expiry=st.none() | st.integers(0, 2**64 - 1),
    p2pcd=st.none() | st.binary(min_size=3, max_size=3),
    by_certificate=st.booleans(),
    digest=st.binary(min_size=8, max_size=8),
    r=_bytes32,
    s=_bytes32,
    cut=st.integers(0, 250),
    flip=st.none() | st.tuples(st.integers(0, 250), st.integers(1, 255)),
)
def test_fixed_offset_parse_equals_the_general_parse(
    algorithm: Algorithm,
    signature_algorithm: Algorithm,
    payload: bytes,
    psid: int,
    generation: int,
    expiry: int | None,
    p2pcd: bytes | None,
    by_certificate: bool,
    digest: bytes,
    r: bytes,
    s: bytes,
    cut: int,
    flip: tuple[int, int] | None,
) -> None:
    """The fast parse of the common forms (digest or known certificate as signer, short
    payload, psid and generation time only) gives the general parser's message for exactly
    those forms, and None (leaving the verdict to the general parser) for every other form,
    an unknown certificate, a truncation or a flipped byte."""
    tbs = build_tbs(payload, psid, generation, expiry, p2pcd)
    cert = _EE[algorithm]
    signer = (
        encode_signer_certificates([cert.raw]) if by_certificate else encode_signer_digest(digest)
    )
    data = assemble(
        algorithm, tbs, signer, encode_signature(signature_algorithm, RawSignature(r, s))
    )

    def known(buffer: bytes, pos: int) -> CertificateInfo | None:
        return cert if buffer[pos : pos + len(cert.raw)] == cert.raw else None

    common = (
        algorithm is signature_algorithm
        and expiry is None
        and p2pcd is None
        and len(payload) < 128
        and psid < 2**32
    )
    fast = parse_common(data, known)
    assert (fast is not None) is common
    assert fast is None or fast == parse_signed_general(data, known)
    if by_certificate:
        assert parse_common(data) is None  # the certificate is not known: the general parser's
    variants = [data[:cut]]
    if flip is not None and flip[0] < len(data):
        changed = bytearray(data)
        changed[flip[0]] ^= flip[1]
        variants.append(bytes(changed))
    for variant in variants:
        fast = parse_common(variant, known)
        try:
            general = parse_signed_general(variant, known)
        except DecodeError:
            assert fast is None
        else:
            assert fast is None or fast == general


_location = st.fixed_dictionaries(
    {
        'latitude': st.integers(-900000000, 900000001),
        'longitude': st.integers(-1799999999, 1800000001),
        'elevation': st.integers(0, 65535),
    }
)


@settings(max_examples=150, deadline=None)
@given(
    payload=st.binary(max_size=50),
    psid=st.integers(0, 2**32),
    extra=st.fixed_dictionaries(
        {},
        optional={
            'generationLocation': _location,
            'p2pcdLearningRequest': st.binary(min_size=3, max_size=3),
            'missingCrlIdentifier': st.fixed_dictionaries(
                {'cracaId': st.binary(min_size=3, max_size=3), 'crlSeries': st.integers(0, 65535)}
            ),
            'inlineP2pcdRequest': st.lists(st.binary(min_size=3, max_size=3), max_size=3),
            'pduFunctionalType': st.integers(0, 255),
        },
    ),
)
def test_parse_skips_header_fields_it_does_not_use(payload: bytes, psid: int, extra: dict) -> None:  # type: ignore[type-arg]
    tbs = _tbs_value(payload, psid, 123456789, None, **extra)
    sig = RawSignature(b'\x01' * 32, b'\x02' * 32)
    data = asn1spec.encode(
        'Ieee1609Dot2Data',
        _message_value(Algorithm.ECDSA_P256_SHA256, tbs, ('digest', b'\x07' * 8), sig),
    )
    msg = parse_signed(data)
    assert (msg.payload, msg.psid, msg.generation_time_us) == (payload, psid, 123456789)
    assert msg.p2pcd_request == extra.get('p2pcdLearningRequest')
    assert msg.tbs_raw == asn1spec.encode('ToBeSignedData', tbs)


def _valid(algorithm: Algorithm = Algorithm.ECDSA_P256_SHA256) -> dict:  # type: ignore[type-arg]
    tbs = _tbs_value(b'\x10\x20', 32, 1000, None)
    return _message_value(
        algorithm, tbs, ('digest', b'\x01' * 8), RawSignature(b'\x03' * 32, b'\x04' * 32)
    )


def _signed(value: dict) -> dict:  # type: ignore[type-arg]
    return value['content'][1]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ('change', 'match'),
    [
        (lambda v: v.update(content=('unsecuredData', b'\x01')), 'not signed'),
        (
            lambda v: _signed(v)['tbsData']['headerInfo'].update(
                encryptionKey=('symmetric', ('aes128Ccm', b'\x00' * 16))
            ),
            'encryptionKey',
        ),
        (
            lambda v: _signed(v)['tbsData'].update(
                payload={'extDataHash': ('sha256HashedData', b'\x00' * 32)}
            ),
            'extDataHash',
        ),
        (lambda v: _signed(v).update(signer=('self', None)), 'self-signed'),
        (lambda v: _signed(v).update(hashId='sha384'), 'hashId'),
        (
            lambda v: _signed(v).update(
                signature=(
                    'ecdsaBrainpoolP256r1Signature',
                    {'rSig': ('x-only', b'\x00' * 32), 'sSig': b'\x00' * 32},
                )
            ),
            'algorithm tag',
        ),
        (
            lambda v: _signed(v)['tbsData']['payload']['data'].update(
                content=('signedCertificateRequest', b'')
            ),
            'only unsecuredData',
        ),
    ],
)
def test_valid_forms_the_stack_does_not_use_are_unsupported(change, match: str) -> None:  # type: ignore[no-untyped-def]
    value = _valid()
    change(value)
    with pytest.raises(UnsupportedError, match=match):
        parse_signed(asn1spec.encode('Ieee1609Dot2Data', value))


def test_non_canonical_and_truncated_bytes_are_malformed() -> None:
    data = asn1spec.encode('Ieee1609Dot2Data', _valid())
    assert parse_signed(data).payload == b'\x10\x20'
    # Payload length 2 in long form (0x81 0x02) is valid BER-ish but not canonical OER.
    index = data.index(b'\x02\x10\x20')
    longer = data[:index] + b'\x81\x02\x10\x20' + data[index + 3 :]
    with pytest.raises(DecodeError, match='non-canonical length'):
        parse_signed(longer)
    with pytest.raises(DecodeError, match='padding'):
        parse_signed(data[:3] + bytes((data[3] | 0x01,)) + data[4:])
    with pytest.raises(DecodeError, match='trailing'):
        parse_signed(data + b'\x00')
    for cut in range(len(data)):
        with pytest.raises(DecodeError):
            parse_signed(data[:cut])
    with pytest.raises(DecodeError, match='protocolVersion'):
        parse_signed(b'\x02' + data[1:])


def test_sm2_signature_is_an_open_type(pki: Pki) -> None:
    signature = encode_signature(Algorithm.SM2_SM3, RawSignature(b'\x01' * 32, b'\x02' * 32))
    assert signature[:2] == b'\x84\x40'  # extension alternative 4: length-prefixed open type
    value = asn1spec.decode('Signature', signature)
    assert value == ('sm2Signature', {'rSig': b'\x01' * 32, 'sSig': b'\x02' * 32})

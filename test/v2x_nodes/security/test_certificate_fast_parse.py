"""The fixed-layout parse of end-entity certificates against the asn1tools decode (the
reference: decode, canonical re-encode, flatten): the same certificate wherever the fast one
answers, and no answer wherever the reference rejects the bytes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from security_pki import NOW_S, make_pki

from v2x_nodes.security import asn1spec
from v2x_nodes.security.algorithms import Algorithm, generate_signer
from v2x_nodes.security.certificates import (
    CertificateInfo,
    build_certificate,
    certificate_from_value,
    parse_certificate_prefix,
    parse_end_entity_prefix,
)
from v2x_nodes.security.errors import DecodeError

_PKI = {a: make_pki(a) for a in Algorithm}
_SUBJECTS = {a: [generate_signer(a).verifier() for _ in range(4)] for a in Algorithm}


def _reference(data: bytes) -> tuple[CertificateInfo, int]:
    value, length = asn1spec.decode_prefix('Certificate', data)
    return certificate_from_value(value, data[:length]), length


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    algorithm=st.sampled_from(list(Algorithm)),
    subject=st.integers(0, 3),
    name=st.none() | st.text(max_size=70),
    psids=st.sets(st.integers(0, 2**32 - 1), min_size=1, max_size=6),
    start=st.integers(NOW_S - 10**8, NOW_S + 10**8),
    duration_s=st.integers(1, 2 * 10**9),
    tail=st.binary(max_size=80),
    cut=st.integers(0, 400),
    flip=st.tuples(st.integers(0, 400), st.integers(1, 255)),
)
def test_fast_parse_equals_the_asn1tools_parse(
    algorithm: Algorithm,
    subject: int,
    name: str | None,
    psids: set[int],
    start: int,
    duration_s: int,
    tail: bytes,
    cut: int,
    flip: tuple[int, int],
) -> None:
    pki = _PKI[algorithm]
    cert = build_certificate(  # its own parse is the asn1tools one
        subject=_SUBJECTS[algorithm][subject],
        issuer_signer=pki.pca.signer,
        issuer=pki.pca.certificate,
        start_posix_s=start,
        duration_s=duration_s,
        app_psids=psids,
        name=name,
    )
    data = cert.raw + tail  # a certificate is read from the middle of a message
    fast = parse_end_entity_prefix(data)
    if name is None or len(name.encode()) < 128:
        assert fast == (cert, len(cert.raw))
        assert fast[0].verifier.compressed_point() == cert.verifier.compressed_point()
    else:
        assert fast is None  # a long name: the general path's
    assert parse_certificate_prefix(data) == (cert, len(cert.raw))
    changed = bytearray(data)
    changed[flip[0] % len(data)] ^= flip[1]
    for variant in (data[:cut], bytes(changed)):
        fast = parse_end_entity_prefix(variant)
        try:
            reference = _reference(variant)
        except DecodeError:
            assert fast is None
        else:
            assert fast is None or fast == reference


@pytest.mark.parametrize('algorithm', list(Algorithm), ids=[a.value for a in Algorithm])
def test_ca_and_self_signed_certificates_take_the_general_path(algorithm: Algorithm) -> None:
    pki = _PKI[algorithm]
    for cert in (pki.root.certificate, pki.pca.certificate):
        assert parse_end_entity_prefix(cert.raw) is None
        assert parse_certificate_prefix(cert.raw + b'\x00') == (cert, len(cert.raw))
    assert parse_end_entity_prefix(pki.ee.certificate.raw) == (
        pki.ee.certificate,
        len(pki.ee.certificate.raw),
    )

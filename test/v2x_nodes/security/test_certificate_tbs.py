"""A parsed certificate's toBeSigned bytes are sliced out of the received bytes; they must be
exactly the COER encoding of its decoded toBeSigned (what the issuer signed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from v2x_nodes.security import Algorithm, asn1spec
from v2x_nodes.security.certificates import parse_certificate, parse_certificate_prefix
from v2x_nodes.security.pki import init_pki, issue_into, load_credentials, load_trust


@pytest.mark.parametrize('algorithm', list(Algorithm))
def test_tbs_slice_is_the_encoding_of_to_be_signed(tmp_path: Path, algorithm) -> None:
    init_pki(tmp_path, algorithm, now_s=1_780_000_000)
    issue_into(tmp_path, name='ee', psids=[0x20, 0x82], duration_s=3600, now_s=1_780_000_000)
    issue_into(
        tmp_path, name='anon', psids=[0x20], duration_s=3600, now_s=1_780_000_000, pseudonym=True
    )
    root, pca = load_trust(tmp_path)
    raws = [root.raw, pca.raw] + [
        load_credentials(tmp_path, n).certificate.raw for n in ('ee', 'anon')
    ]
    for raw in raws:
        expected = asn1spec.encode(
            'ToBeSignedCertificate', asn1spec.decode('Certificate', raw)['toBeSigned']
        )
        assert parse_certificate(raw).tbs_raw == expected
        info, length = parse_certificate_prefix(raw + b'\x99trailing')
        assert length == len(raw) and info.tbs_raw == expected

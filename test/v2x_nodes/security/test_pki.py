"""PKI directory and the ``v2x-stack pki`` commands: the chain they make verifies."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pytest

from v2x_nodes.security import (
    Algorithm,
    MessageSigner,
    MessageVerifier,
    PkiError,
    VerifyReason,
    cli,
)
from v2x_nodes.security.pki import (
    init_pki,
    issue_certificate,
    issue_into,
    load,
    load_credentials,
    load_trust,
    make_authorization_ca,
)


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog='v2x-stack')
    cli.register(parser.add_subparsers(dest='command'))
    return cli.run(parser.parse_args(argv))


@pytest.mark.parametrize('algorithm', ['p256', 'sm2'])
def test_cli_init_issue_and_the_chain_verifies(
    tmp_path: Path, algorithm: str, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / 'site'
    assert _run('pki', 'init', str(site), '--algorithm', algorithm) == 0
    assert (site / 'root.cert').is_file() and (site / 'pca.key.pem').is_file()
    assert (site / 'pca.key.pem').stat().st_mode & 0o077 == 0
    assert _run('pki', 'issue', str(site), '--name', 'obu1', '--psid', '32,35', '--days', '7') == 0
    assert _run('pki', 'issue', str(site), '--name', 'p1', '--psid', '0x20', '--pseudonym') == 0
    out = capsys.readouterr().out
    assert 'name:        obu1' in out and '(pseudonym)' in out and '[32, 35]' in out
    assert _run('pki', 'show', str(site / 'issued' / 'obu1.cert')) == 0
    assert 'obu1' in capsys.readouterr().out
    assert (
        _run(
            'pki',
            'issue',
            str(site),
            '--name',
            'car',
            '--psid',
            '32',
            '--pseudonym',
            '--count',
            '3',
        )
        == 0
    )
    pool = [load_credentials(site, f'car-{i}').certificate for i in range(3)]
    assert len({c.hashed_id8 for c in pool}) == 3 and all(c.name is None for c in pool)

    root, pca = load_trust(site)
    verifier = MessageVerifier([root])
    assert verifier.add_certificate(pca) is VerifyReason.OK
    now_ns = time.time_ns()
    for name, psid in (('obu1', 35), ('p1', 32)):
        credentials = load_credentials(site, name)
        assert credentials.certificate.key_algorithm is Algorithm(algorithm)
        outcome = verifier.verify(MessageSigner(credentials).sign(b'frame', psid, now_ns), now_ns)
        assert outcome.ok and outcome.payload == b'frame', outcome
    assert load_credentials(site, 'p1').certificate.name is None
    assert (
        load_credentials(site, 'obu1').certificate.end_s
        - load_credentials(site, 'obu1').certificate.start_s
        == 7 * 86400
    )


def test_cli_errors_are_reported_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / 'site'
    assert _run('pki', 'init', str(site)) == 0
    assert _run('pki', 'init', str(site)) == 1
    assert 'exists already' in capsys.readouterr().err
    assert _run('pki', 'init', str(site), '--force') == 0
    cases = [
        (('--name', 'a', '--psid', 'x'), 'comma-separated integers'),
        (('--name', 'a', '--psid', '-3'), 'non-negative'),
        (('--name', '../evil', '--psid', '32'), '--name'),
        (('--name', 'a', '--psid', '32', '--days', '0'), '--days'),
        (('--name', 'a', '--psid', '32', '--count', '0'), '--count'),
        (('--name', 'a', '--psid', '32', '--start', 'yesterday'), 'ISO 8601'),
        (('--name', 'a', '--psid', '32', '--start', '2026-01-01T00:00:00'), 'time zone'),
    ]
    for extra, message in cases:
        assert _run('pki', 'issue', str(site), *extra) == 1
        assert message in capsys.readouterr().err
    assert _run('pki', 'issue', str(tmp_path / 'none'), '--name', 'a', '--psid', '32') == 1
    assert 'pca.cert' in capsys.readouterr().err
    (site / 'pca.cert').write_bytes(b'\x00\x01')
    assert _run('pki', 'issue', str(site), '--name', 'a', '--psid', '32') == 1
    assert 'not a 1609.2 certificate' in capsys.readouterr().err


def test_restricted_ca_and_mismatched_key(tmp_path: Path) -> None:
    _root, pca = init_pki(tmp_path, Algorithm.ECDSA_P256_SHA256, now_s=int(time.time()))
    rsu = issue_into(tmp_path, name='rsu', psids=[35], duration_s=3600, now_s=int(time.time()))
    assert rsu.certificate.issuer_id == pca.certificate.hashed_id8
    (tmp_path / 'pca.key.pem').write_bytes((tmp_path / 'root.key.pem').read_bytes())
    with pytest.raises(PkiError, match='does not match'):
        load(tmp_path, 'pca')
    narrow = make_authorization_ca(
        load(tmp_path, 'root'), start_posix_s=int(time.time()), psids=[35]
    )
    with pytest.raises(PkiError, match=r'may not issue psids \[32\]'):
        issue_certificate(narrow, psids=[32, 35], start_posix_s=int(time.time()), duration_s=60)
    with pytest.raises(PkiError, match='at least one psid'):
        issue_certificate(narrow, psids=[], start_posix_s=int(time.time()), duration_s=60)

"""A small PKI for tests and test sites: root CA -> authorisation CA -> end-entity certificates.

Layout of a PKI directory (certificates in COER, private keys in unencrypted PKCS#8 PEM)::

    DIR/root.cert  DIR/root.key.pem     self-signed root, certIssuePermissions all
    DIR/pca.cert   DIR/pca.key.pem      authorisation (pseudonym) CA issued by the root
    DIR/issued/NAME.cert  NAME.key.pem  application or pseudonym certificates issued by the PCA

Real deployments get their certificates from the operator's SCMS/CCMS; this keeps the same
chain shape so that the verifier's checks run on real bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from v2x_nodes.security.algorithms import Algorithm, Signer, generate_signer, load_signer_pem
from v2x_nodes.security.certificates import CertificateInfo, build_certificate, parse_certificate
from v2x_nodes.security.errors import DecodeError, KeyMaterialError, PkiError
from v2x_nodes.security.signing import Credentials

ROOT, PCA, ISSUED = 'root', 'pca', 'issued'
DAY_S = 86_400
YEAR_S = 31_556_952
_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$')


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    certificate: CertificateInfo
    signer: Signer


def make_root_ca(
    algorithm: Algorithm,
    *,
    start_posix_s: int,
    duration_s: int = 10 * YEAR_S,
    name: str = 'root-ca',
) -> Issued:
    """A self-signed root CA that may issue for every psid."""
    key = generate_signer(algorithm)
    cert = build_certificate(
        subject=key.verifier(),
        issuer_signer=key,
        issuer=None,
        start_posix_s=start_posix_s,
        duration_s=duration_s,
        issue_all=True,
        chain_length=(1, -1),  # CAs and end entities below, at any depth
        name=name,
    )
    return Issued(cert, key)


def make_authorization_ca(
    root: Issued,
    *,
    start_posix_s: int,
    duration_s: int = 3 * YEAR_S,
    psids: Iterable[int] | None = None,
    name: str = 'pca',
) -> Issued:
    """An authorisation CA under ``root``: may issue ``psids`` (every psid when None)."""
    key = generate_signer(root.signer.algorithm)
    psid_list = None if psids is None else sorted(set(psids))
    cert = build_certificate(
        subject=key.verifier(),
        issuer_signer=root.signer,
        issuer=root.certificate,
        start_posix_s=start_posix_s,
        duration_s=duration_s,
        issue_all=psid_list is None,
        issue_psids=psid_list,
        name=name,
    )
    return Issued(cert, key)


def issue_certificate(
    ca: Issued,
    *,
    psids: Iterable[int],
    start_posix_s: int,
    duration_s: int,
    name: str | None = None,
) -> Issued:
    """An end-entity certificate under ``ca`` for ``psids``; ``name`` None makes a pseudonym
    (CertificateId ``none``). Raises PkiError when ``ca`` may not issue these psids."""
    psid_set = set(psids)
    if not psid_set:
        raise PkiError('an end-entity certificate needs at least one psid')
    if not ca.certificate.may_issue(psid_set):
        raise PkiError(
            f'CA {ca.certificate.name or ca.certificate.hashed_id8.hex()} may not issue psids '
            f'{sorted(psid_set - ca.certificate.issue_psids)}'
        )
    key = generate_signer(ca.signer.algorithm)
    cert = build_certificate(
        subject=key.verifier(),
        issuer_signer=ca.signer,
        issuer=ca.certificate,
        start_posix_s=start_posix_s,
        duration_s=duration_s,
        app_psids=psid_set,
        name=name,
    )
    return Issued(cert, key)


def save(issued: Issued, directory: Path, stem: str) -> None:
    """Write ``stem.cert`` (COER) and ``stem.key.pem`` (mode 0600) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f'{stem}.cert').write_bytes(issued.certificate.raw)
    key_path = directory / f'{stem}.key.pem'
    key_path.touch(mode=0o600, exist_ok=True)
    key_path.write_bytes(issued.signer.private_pem())


def load_certificate(path: Path) -> CertificateInfo:
    """The certificate in ``path``; raises PkiError naming the file."""
    try:
        return parse_certificate(path.read_bytes())
    except OSError as err:
        raise PkiError(f'{path}: cannot read certificate ({err.strerror})') from None
    except DecodeError as err:
        raise PkiError(f'{path}: not a 1609.2 certificate: {err}') from None


def load(directory: Path, stem: str) -> Issued:
    """``stem.cert`` and ``stem.key.pem`` from ``directory``; raises PkiError."""
    cert = load_certificate(directory / f'{stem}.cert')
    key_path = directory / f'{stem}.key.pem'
    try:
        signer = load_signer_pem(key_path.read_bytes(), source=str(key_path))
    except OSError as err:
        raise PkiError(f'{key_path}: cannot read private key ({err.strerror})') from None
    except KeyMaterialError as err:
        raise PkiError(str(err)) from None
    if signer.verifier().compressed_point() != cert.verifier.compressed_point():
        raise PkiError(f'{key_path}: private key does not match {stem}.cert')
    return Issued(cert, signer)


def init_pki(
    directory: Path,
    algorithm: Algorithm,
    *,
    now_s: int,
    root_years: int = 10,
    ca_years: int = 3,
    force: bool = False,
) -> tuple[Issued, Issued]:
    """Create root and authorisation CA in ``directory``; (root, pca). Raises PkiError when
    a PKI is already there (unless ``force``)."""
    if (directory / f'{ROOT}.cert').exists() and not force:
        raise PkiError(f'{directory}: a PKI exists already (root.cert); use --force to replace')
    root = make_root_ca(algorithm, start_posix_s=now_s, duration_s=root_years * YEAR_S)
    pca = make_authorization_ca(root, start_posix_s=now_s, duration_s=ca_years * YEAR_S)
    save(root, directory, ROOT)
    save(pca, directory, PCA)
    return root, pca


def check_name(name: str) -> str:
    """``name`` when usable as a file stem and certificate name; raises PkiError."""
    if not _NAME.match(name):
        raise PkiError(
            f'--name {name!r}: expected 1-64 of A-Z a-z 0-9 _ . - (not starting with . _ -)'
        )
    return name


def issue_into(
    directory: Path,
    *,
    name: str,
    psids: Iterable[int],
    duration_s: int,
    now_s: int,
    pseudonym: bool = False,
) -> Issued:
    """Issue a certificate from the PCA in ``directory`` and save it as ``issued/NAME``."""
    check_name(name)
    pca = load(directory, PCA)
    issued = issue_certificate(
        pca,
        psids=psids,
        start_posix_s=now_s,
        duration_s=duration_s,
        name=None if pseudonym else name,
    )
    save(issued, directory / ISSUED, name)
    return issued


def load_credentials(directory: Path, name: str) -> Credentials:
    """Signing credentials ``issued/NAME`` of the PKI in ``directory``, with the PCA as chain."""
    issued = load(directory / ISSUED, check_name(name))
    return Credentials(
        issued.certificate, issued.signer, (load_certificate(directory / f'{PCA}.cert'),)
    )


def load_trust(directory: Path) -> tuple[CertificateInfo, CertificateInfo]:
    """(root, pca) certificates of the PKI in ``directory``: the anchor and the CA to add."""
    return load_certificate(directory / f'{ROOT}.cert'), load_certificate(directory / f'{PCA}.cert')

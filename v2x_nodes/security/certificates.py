"""Explicit 1609.2 certificates: build, sign, parse and identify (HashedId8).

A certificate here is ``CertificateBase`` of type ``explicit`` with a verification key, signed
by its issuer (or by itself for a root). What the stack needs of one is flattened into a frozen
``CertificateInfo``; the COER bytes (``raw``) are what is hashed and sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from v2x_nodes.security import asn1spec
from v2x_nodes.security.algorithms import (
    Algorithm,
    RawSignature,
    Signer,
    Verifier,
    hash_for,
    verifier_from_point,
)
from v2x_nodes.security.errors import DecodeError, EncodeError, KeyMaterialError, UnsupportedError
from v2x_nodes.security.time_tai import posix_s_from_time32, time32_from_posix_s

# Seconds per 1609.2 Duration unit (years are 31556952 s, clause 6.4.15).
DURATION_UNIT_S = {
    'seconds': 1,
    'minutes': 60,
    'hours': 3600,
    'sixtyHours': 216_000,
    'years': 31_556_952,
}
_UINT16_MAX = 65535
_KEY_CHOICE = {Algorithm.ECDSA_P256_SHA256: 'ecdsaNistP256', Algorithm.SM2_SM3: 'ecsigSm2'}
_SIG_CHOICE = {
    Algorithm.ECDSA_P256_SHA256: 'ecdsaNistP256Signature',
    Algorithm.SM2_SM3: 'sm2Signature',
}
_ISSUER_DIGEST_CHOICE = {
    Algorithm.ECDSA_P256_SHA256: 'sha256AndDigest',
    Algorithm.SM2_SM3: 'sm3AndDigest',
}
_ALGORITHM_BY_HASH = {a.hash_name: a for a in Algorithm}


def hashed_id8(algorithm: Algorithm, raw: bytes) -> bytes:
    """HashedId8: the low-order 8 bytes of the suite's hash of the COER certificate."""
    return hash_for(algorithm, raw)[-8:]


def message_hash(algorithm: Algorithm, tbs: bytes, signer_raw: bytes) -> bytes:
    """1609.2 clause 5.3.1: H(H(tbs) || H(signer certificate, or b'' when self-signed))."""
    return hash_for(algorithm, hash_for(algorithm, tbs) + hash_for(algorithm, signer_raw))


@dataclass(frozen=True)
class CertificateInfo:
    """What the stack uses of one explicit certificate. Times are POSIX seconds."""

    raw: bytes
    hashed_id8: bytes
    algorithm: Algorithm  # suite of the issuer's signature and of HashedId8
    key_algorithm: Algorithm  # suite of the subject's verification key
    issuer_id: bytes | None  # HashedId8 of the issuer; None for a self-signed certificate
    name: str | None
    start_s: int
    end_s: int
    app_psids: frozenset[int]
    issue_all: bool  # certIssuePermissions says `all`
    issue_psids: frozenset[int]  # explicit certIssuePermissions (empty when none)
    # Certificates a CA allows below itself down to the end entity (minChainLength and
    # minChainLength + chainLengthRange; None = unbounded); 0, 0 for end entities.
    chain_min: int
    chain_max: int | None
    tbs_raw: bytes
    signature: RawSignature
    verifier: Verifier = field(compare=False, repr=False)

    @property
    def is_ca(self) -> bool:
        """True when the certificate may issue others."""
        return self.issue_all or bool(self.issue_psids)

    def may_issue(self, psids: Iterable[int]) -> bool:
        """True when every psid is within this CA's certIssuePermissions."""
        return self.issue_all or set(psids) <= self.issue_psids

    def valid_at(self, posix_s: float) -> bool:
        """True when ``posix_s`` lies in [start, end)."""
        return self.start_s <= posix_s < self.end_s


def encode_duration(duration_s: int) -> tuple[str, int]:
    """The finest 1609.2 Duration that says ``duration_s`` exactly, else the one that rounds
    down least; raises EncodeError when it is negative or longer than 65535 years."""
    if duration_s <= 0:
        raise EncodeError(f'certificate duration must be positive, got {duration_s} s')
    for unit, size in DURATION_UNIT_S.items():
        if duration_s % size == 0 and duration_s // size <= _UINT16_MAX:
            return unit, duration_s // size
    for unit, size in DURATION_UNIT_S.items():
        if duration_s // size <= _UINT16_MAX:
            return unit, duration_s // size
    raise EncodeError(f'certificate duration {duration_s} s exceeds 65535 years')


def _duration_s(choice: tuple[str, int]) -> int:
    unit, count = choice
    if unit == 'microseconds':
        return count // 1_000_000
    if unit == 'milliseconds':
        return count // 1000
    return count * DURATION_UNIT_S[unit]


def _point_choice(compressed: bytes) -> tuple[str, bytes]:
    return ('compressed-y-0' if compressed[0] == 2 else 'compressed-y-1', compressed[1:])


def _point_bytes(point: tuple[str, Any]) -> bytes:
    kind, value = point
    if kind == 'compressed-y-0':
        return b'\x02' + value
    if kind == 'compressed-y-1':
        return b'\x03' + value
    if kind == 'uncompressedP256':
        return b'\x04' + value['x'] + value['y']
    raise UnsupportedError(f'verification key as {kind} point is not usable')


def _psid_list(psids: Iterable[int]) -> list[dict[str, int]]:
    return [{'psid': int(p)} for p in sorted(set(psids))]


def build_certificate(
    *,
    subject: Verifier,
    issuer_signer: Signer,
    issuer: CertificateInfo | None,
    start_posix_s: int,
    duration_s: int,
    app_psids: Iterable[int] = (),
    issue_psids: Iterable[int] | None = None,
    issue_all: bool = False,
    chain_length: tuple[int, int] = (1, 0),
    name: str | None = None,
) -> CertificateInfo:
    """Make and sign an explicit certificate; ``issuer`` None makes it self-signed.

    ``name`` None gives a pseudonym (CertificateId ``none``). A CA (``issue_all`` or
    ``issue_psids``) gets ``chain_length`` = (minChainLength, chainLengthRange; -1 = any).
    Raises EncodeError when values do not fit (name > 255 bytes, duration, times, no
    permissions at all) and KeyMaterialError when the issuer's key does not match the issuer
    certificate.
    """
    algorithm = issuer_signer.algorithm
    if issuer is not None and issuer.key_algorithm is not algorithm:
        raise KeyMaterialError(
            f'issuer key is {algorithm.value}, issuer certificate holds a '
            f'{issuer.key_algorithm.value} key'
        )
    if issuer is not None and issuer.verifier.compressed_point() != (
        issuer_signer.verifier().compressed_point()
    ):
        raise KeyMaterialError('issuer private key does not match the issuer certificate')
    try:
        start = time32_from_posix_s(start_posix_s)
    except ValueError as err:
        raise EncodeError(str(err)) from None
    tbs: dict[str, Any] = {
        'id': ('name', name) if name is not None else ('none', None),
        'cracaId': b'\x00\x00\x00',
        'crlSeries': 0,
        'validityPeriod': {'start': start, 'duration': encode_duration(duration_s)},
        'verifyKeyIndicator': (
            'verificationKey',
            (_KEY_CHOICE[subject.algorithm], _point_choice(subject.compressed_point())),
        ),
    }
    psids = _psid_list(app_psids)
    if psids:
        tbs['appPermissions'] = psids
    group: dict[str, Any] | None = None
    if issue_all:
        group = {'subjectPermissions': ('all', None)}
    elif issue_psids:
        group = {'subjectPermissions': ('explicit', _psid_list(issue_psids))}
    if group is not None:
        min_length, length_range = chain_length
        if min_length < 1 or length_range < -1:
            raise EncodeError(f'chain_length {chain_length}: expected min >= 1, range >= -1')
        if min_length != 1:  # DEFAULT values are left out (canonical encoding)
            group['minChainLength'] = min_length
        if length_range != 0:
            group['chainLengthRange'] = length_range
        tbs['certIssuePermissions'] = [group]
    if 'appPermissions' not in tbs and group is None:
        raise EncodeError('a certificate needs appPermissions or certIssuePermissions')
    tbs_raw = asn1spec.encode('ToBeSignedCertificate', tbs)
    issuer_raw = issuer.raw if issuer is not None else b''
    signature = issuer_signer.sign(message_hash(algorithm, tbs_raw, issuer_raw))
    issuer_id = (
        (_ISSUER_DIGEST_CHOICE[algorithm], issuer.hashed_id8)
        if issuer is not None
        else ('self', algorithm.hash_name)
    )
    if algorithm is Algorithm.ECDSA_P256_SHA256:
        sig_value: Any = {'rSig': ('x-only', signature.r), 'sSig': signature.s}
    else:
        sig_value = {'rSig': signature.r, 'sSig': signature.s}
    cert = {
        'version': 3,
        'type': 'explicit',
        'issuer': issuer_id,
        'toBeSigned': tbs,
        'signature': (_SIG_CHOICE[algorithm], sig_value),
    }
    return parse_certificate(asn1spec.encode('Certificate', cert))


def _issue_permissions(
    tbs: dict[str, Any],
) -> tuple[bool, frozenset[int], int, int | None]:
    """(issue all, explicit psids, chain min, chain max) from certIssuePermissions; several
    groups give the loosest chain bounds of them (documented simplification)."""
    issue_all = False
    psids: set[int] = set()
    minimums: list[int] = []
    maximums: list[int | None] = []
    for group in tbs.get('certIssuePermissions', []):
        kind, value = group['subjectPermissions']
        if kind == 'all':
            issue_all = True
        else:
            psids.update(entry['psid'] for entry in value)
        min_length = group.get('minChainLength', 1)
        length_range = group.get('chainLengthRange', 0)
        if min_length < 1 or length_range < -1:
            raise DecodeError(
                f'certIssuePermissions: minChainLength {min_length}, chainLengthRange '
                f'{length_range} (expected >= 1 and >= -1)'
            )
        minimums.append(min_length)
        maximums.append(None if length_range == -1 else min_length + length_range)
    if not minimums:
        return issue_all, frozenset(psids), 0, 0
    chain_max = None if None in maximums else max(m for m in maximums if m is not None)
    return issue_all, frozenset(psids), min(minimums), chain_max


def _tbs_slice(value: dict[str, Any], raw: bytes) -> bytes:
    """The toBeSigned bytes inside ``raw``, the canonical COER of ``value`` (the decoders
    check that): after the preamble, version and type bytes and the issuer, before the
    signature. Slicing costs two small encodings where re-encoding toBeSigned costs the most of
    a certificate parse (a new sender's first message)."""
    head = 3 + len(asn1spec.encode('IssuerIdentifier', value['issuer']))
    tail = len(asn1spec.encode('Signature', value['signature']))
    return raw[head : len(raw) - tail]


def certificate_from_value(value: dict[str, Any], raw: bytes) -> CertificateInfo:
    """Flatten a decoded Certificate (``raw``: its canonical COER, as the decoders return it);
    raises UnsupportedError for forms the stack cannot use."""
    if value['version'] != 3:
        raise UnsupportedError(f'certificate version {value["version"]}, expected 3')
    if value['type'] != 'explicit':
        raise UnsupportedError(f'{value["type"]} certificates are not supported (explicit only)')
    issuer_kind, issuer_value = value['issuer']
    if issuer_kind == 'self':
        if issuer_value not in _ALGORITHM_BY_HASH:
            raise UnsupportedError(f'self-signed with hash {issuer_value}')
        algorithm, issuer_id = _ALGORITHM_BY_HASH[issuer_value], None
    elif issuer_kind in ('sha256AndDigest', 'sm3AndDigest'):
        algorithm = (
            Algorithm.ECDSA_P256_SHA256 if issuer_kind == 'sha256AndDigest' else Algorithm.SM2_SM3
        )
        issuer_id = issuer_value
    else:
        raise UnsupportedError(f'issuer identifier {issuer_kind} is not supported')
    if 'signature' not in value:
        raise DecodeError('explicit certificate without a signature')
    sig_kind, sig_value = value['signature']
    if sig_kind != _SIG_CHOICE[algorithm]:
        raise UnsupportedError(f'{sig_kind} in a certificate issued with {issuer_kind}')
    if algorithm is Algorithm.ECDSA_P256_SHA256:
        r_kind, r_value = sig_value['rSig']
        if r_kind != 'x-only':  # one form only, so that a certificate has one encoding
            raise UnsupportedError(f'ECDSA r as {r_kind} point (only x-only)')
        signature = RawSignature(r_value, sig_value['sSig'])
    else:
        signature = RawSignature(sig_value['rSig'], sig_value['sSig'])
    tbs = value['toBeSigned']
    key_kind, key_value = tbs['verifyKeyIndicator']
    if key_kind != 'verificationKey':
        raise UnsupportedError('certificate carries a reconstruction value (implicit)')
    key_choice, point = key_value
    key_algorithm = {v: k for k, v in _KEY_CHOICE.items()}.get(key_choice)
    if key_algorithm is None:
        raise UnsupportedError(f'verification key {key_choice} is not supported')
    try:
        verifier = verifier_from_point(key_algorithm, _point_bytes(point))
    except KeyMaterialError as err:
        raise DecodeError(str(err)) from None
    id_kind, id_value = tbs['id']
    start_s = posix_s_from_time32(tbs['validityPeriod']['start'])
    issue_all, issue_psids, chain_min, chain_max = _issue_permissions(tbs)
    if (
        not tbs.get('appPermissions')
        and not tbs.get('certIssuePermissions')
        and (not tbs.get('certRequestPermissions'))
    ):
        raise DecodeError('certificate without app, issue or request permissions')
    return CertificateInfo(
        raw=raw,
        hashed_id8=hashed_id8(algorithm, raw),
        algorithm=algorithm,
        key_algorithm=key_algorithm,
        issuer_id=issuer_id,
        name=id_value if id_kind == 'name' else None,
        start_s=start_s,
        end_s=start_s + _duration_s(tbs['validityPeriod']['duration']),
        app_psids=frozenset(entry['psid'] for entry in tbs.get('appPermissions', [])),
        issue_all=issue_all,
        issue_psids=issue_psids,
        chain_min=chain_min,
        chain_max=chain_max,
        tbs_raw=_tbs_slice(value, raw),
        signature=signature,
        verifier=verifier,
    )


def parse_certificate(raw: bytes) -> CertificateInfo:
    """Decode exactly one COER certificate; raises DecodeError (UnsupportedError for forms
    the stack cannot use)."""
    return certificate_from_value(asn1spec.decode('Certificate', raw), raw)


def parse_certificate_prefix(data: bytes) -> tuple[CertificateInfo, int]:
    """Decode the certificate at the start of ``data``: (info, its length in bytes)."""
    data = bytes(data)
    fast = parse_end_entity_prefix(data)
    if fast is not None:
        return fast
    value, length = asn1spec.decode_prefix('Certificate', data)
    return certificate_from_value(value, data[:length]), length


_DURATION_UNITS = (
    'microseconds',
    'milliseconds',
    'seconds',
    'minutes',
    'hours',
    'sixtyHours',
    'years',
)  # Duration's alternatives in tag order
_POINT_PREFIX = {0x82: b'\x02', 0x83: b'\x03'}  # EccP256CurvePoint compressed-y-0 / -1
_COORD = 32
# Signature: ecdsaNistP256Signature with an x-only r, or sm2Signature (an open type of 64)
_SIGNATURE_HEAD = {Algorithm.ECDSA_P256_SHA256: b'\x80\x80', Algorithm.SM2_SM3: b'\x84\x40'}


def parse_end_entity_prefix(data: bytes) -> tuple[CertificateInfo, int] | None:
    """``parse_certificate_prefix`` of the form every pseudonym and application certificate
    takes, read by fixed layout (≈ 30× cheaper than decoding and re-encoding with asn1tools:
    a new sender's first message carries one); None for any other form or any byte that
    does not fit it, which the general path then decodes or rejects. The form: explicit,
    issued by digest (sha256AndDigest or sm3AndDigest) with the matching signature
    (ecdsaNistP256, x-only r; or sm2), toBeSigned with only appPermissions among the
    optional members and no extension, id ``none`` or a short ``name``, PsidSsp without
    SSP, a compressed verification key. The tests check both paths agree.
    """
    size = len(data)
    if size < 100 or data[0] != 0x80 or data[1] != 3 or data[2] != 0:
        return None
    if data[3] == 0x80:  # sha256AndDigest
        algorithm, pos = Algorithm.ECDSA_P256_SHA256, 12
    elif data[3] == 0x83 and data[4] == 8:  # sm3AndDigest: an extension, an open type of 8
        algorithm, pos = Algorithm.SM2_SM3, 13
    else:
        return None
    issuer_id = data[pos - 8 : pos]
    tbs_start = pos
    if data[pos] != 0x10:  # preamble: appPermissions present, nothing else, no extension
        return None
    name = None
    if data[pos + 1] == 0x81:  # name: Hostname
        length = data[pos + 2]
        pos += 3 + length
        if length >= 128 or pos > size:
            return None
        try:
            name = data[pos - length : pos].decode('utf-8')
        except UnicodeDecodeError:
            return None
    elif data[pos + 1] == 0x83:  # none
        pos += 2
    else:
        return None
    # cracaId (3), crlSeries (2), validityPeriod: start (4), Duration tag + Uint16
    if pos + 14 > size or not 0x80 <= data[pos + 9] <= 0x86:
        return None
    start_s = posix_s_from_time32(int.from_bytes(data[pos + 5 : pos + 9], 'big'))
    duration = (_DURATION_UNITS[data[pos + 9] - 0x80], int.from_bytes(data[pos + 10 : pos + 12]))
    count = data[pos + 13]
    if data[pos + 12] != 1 or count == 0:  # quantity of appPermissions: one byte, >= 1
        return None
    pos += 14
    psids = []
    for _ in range(count):  # PsidSsp: preamble 0 (no ssp), Psid: length + minimal octets
        if pos + 2 > size or data[pos] != 0:
            return None
        length = data[pos + 1]
        start = pos + 2
        pos = start + length
        if not 1 <= length <= 4 or pos > size or (length > 1 and data[start] == 0):
            return None
        psids.append(int.from_bytes(data[start:pos], 'big'))
    # verifyKeyIndicator: verificationKey, then ecdsaNistP256 or ecsigSm2 (an open type)
    if pos + 3 > size or data[pos] != 0x80:
        return None
    if data[pos + 1] == 0x80:
        key_algorithm, pos = Algorithm.ECDSA_P256_SHA256, pos + 2
    elif data[pos + 1] == 0x84 and data[pos + 2] == 1 + _COORD:
        key_algorithm, pos = Algorithm.SM2_SM3, pos + 3
    else:
        return None
    prefix = _POINT_PREFIX.get(data[pos]) if pos < size else None
    tbs_end = pos + 1 + _COORD
    end = tbs_end + 2 + 2 * _COORD
    if prefix is None or end > size:
        return None
    if data[tbs_end : tbs_end + 2] != _SIGNATURE_HEAD[algorithm]:
        return None
    try:
        verifier = verifier_from_point(key_algorithm, prefix + data[pos + 1 : tbs_end])
    except KeyMaterialError:
        return None
    raw = data[:end]
    info = CertificateInfo(
        raw=raw,
        hashed_id8=hashed_id8(algorithm, raw),
        algorithm=algorithm,
        key_algorithm=key_algorithm,
        issuer_id=issuer_id,
        name=name,
        start_s=start_s,
        end_s=start_s + _duration_s(duration),
        app_psids=frozenset(psids),
        issue_all=False,
        issue_psids=frozenset(),
        chain_min=0,
        chain_max=0,
        tbs_raw=data[tbs_start:tbs_end],
        signature=RawSignature(data[tbs_end + 2 : tbs_end + 34], data[tbs_end + 34 : end]),
        verifier=verifier,
    )
    return info, end


def signature_valid(cert: CertificateInfo, issuer: CertificateInfo | None) -> bool:
    """True when ``cert``'s signature verifies with ``issuer``'s key (its own when None)."""
    signer = issuer if issuer is not None else cert
    if signer.key_algorithm is not cert.algorithm:
        return False
    digest = message_hash(cert.algorithm, cert.tbs_raw, issuer.raw if issuer is not None else b'')
    return signer.verifier.verify(digest, cert.signature)

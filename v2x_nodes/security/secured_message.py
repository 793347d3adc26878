"""The signed SPDU: ``Ieee1609Dot2Data`` with ``signedData`` around an unsecured payload.

Built and parsed by hand in COER because 1609.2 hashes ``tbsData`` and the signer certificate
*as received*, and asn1tools' OER codec can decode a value but cannot say where it ends inside
a buffer; doing it here also keeps the per-message cost to a few microseconds. The layout is
that of ``ieee1609dot2.asn`` and the tests check every build against asn1tools' encoding and
every parse against its decoding. Forms the stack does not use (encrypted data, external payload
hashes, encryption keys in the header, self-signed messages, P-384/Brainpool) parse to
``UnsupportedError``; malformed or non-canonical bytes to ``DecodeError``.

Layout (tag bytes are 0x80 | CHOICE index)::

    03                          protocolVersion 3
    81                          content: signedData
    00 | 02                     hashId: sha256 | sm3
    tbsData:  preamble(ext, data, extDataHash) 03 80 len payload   -- payload.data
              preamble(ext, generationTime, expiryTime, location, p2pcd, missingCrl, encKey)
              psid [Time64] [Time64] ...                          -- headerInfo
    80 HashedId8 | 81 count Certificate...                        -- signer
    80 80 r s  (ecdsaNistP256Signature, x-only r) | 84 40 r s  (sm2Signature, open type)
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from v2x_nodes.security.algorithms import Algorithm, RawSignature
from v2x_nodes.security.certificates import CertificateInfo, parse_certificate_prefix
from v2x_nodes.security.coer import (
    encode_length,
    encode_unsigned,
    read_byte,
    read_fixed,
    read_length,
    read_unsigned,
    skip_extensions,
)
from v2x_nodes.security.errors import DecodeError, UnsupportedError

PROTOCOL_VERSION = 3
MAX_CERTIFICATES = 4
_HASH_ID = {Algorithm.ECDSA_P256_SHA256: 0x00, Algorithm.SM2_SM3: 0x02}
_ALGORITHM_BY_HASH_ID = {v: k for k, v in _HASH_ID.items()}
_TAG_UNSECURED, _TAG_SIGNED = 0x80, 0x81
_SIGNER_DIGEST, _SIGNER_CERTIFICATE, _SIGNER_SELF = 0x80, 0x81, 0x82
_SIG_P256, _SIG_SM2 = 0x80, 0x84
_COORD = 32


class SignerKind(enum.Enum):
    """How the signer is identified (1609.2 SignerIdentifier)."""

    DIGEST = 'digest'
    CERTIFICATE = 'certificate'


@dataclass(slots=True)  # one per received message: a frozen dataclass costs ~5x to build
class SignedMessage:
    """A parsed signed SPDU. Times are 1609.2 Time64 (µs TAI since 2004). Not to be mutated."""

    algorithm: Algorithm  # from hashId
    payload: bytes
    psid: int
    generation_time_us: int | None
    expiry_time_us: int | None
    p2pcd_request: bytes | None  # HashedId3 the sender asks to learn (p2pcdLearningRequest)
    tbs_raw: bytes
    signer_kind: SignerKind
    signer_digest: bytes | None  # HashedId8, for SignerKind.DIGEST
    certificates: tuple[CertificateInfo, ...]  # for SignerKind.CERTIFICATE, signer first
    signature_algorithm: Algorithm
    signature: RawSignature


def build_tbs(
    payload: bytes,
    psid: int,
    generation_time_us: int,
    expiry_time_us: int | None = None,
    p2pcd_request: bytes | None = None,
) -> bytes:
    """COER of ToBeSignedData with ``payload`` as unsecured data, the header times and an
    optional p2pcdLearningRequest (HashedId3 of a certificate this sender wants to learn)."""
    header_preamble = 0x40 | (0x20 if expiry_time_us is not None else 0)
    if p2pcd_request is not None:
        if len(p2pcd_request) != 3:
            raise ValueError(f'p2pcdLearningRequest is a HashedId3, got {len(p2pcd_request)} bytes')
        header_preamble |= 0x08
    header = bytes((header_preamble,)) + encode_unsigned(psid)
    header += generation_time_us.to_bytes(8, 'big')
    if expiry_time_us is not None:
        header += expiry_time_us.to_bytes(8, 'big')
    if p2pcd_request is not None:
        header += p2pcd_request
    inner = bytes((PROTOCOL_VERSION, _TAG_UNSECURED)) + encode_length(len(payload)) + payload
    return b'\x40' + inner + header


def encode_signer_digest(digest: bytes) -> bytes:
    """SignerIdentifier ``digest``."""
    return bytes((_SIGNER_DIGEST,)) + digest


def encode_signer_certificates(certificates: list[bytes]) -> bytes:
    """SignerIdentifier ``certificate`` (SequenceOfCertificate, signer first)."""
    return (
        bytes((_SIGNER_CERTIFICATE,)) + encode_unsigned(len(certificates)) + b''.join(certificates)
    )


def encode_signature(algorithm: Algorithm, signature: RawSignature) -> bytes:
    """Signature: ecdsaNistP256Signature (x-only r) or sm2Signature (an extension: open type)."""
    if algorithm is Algorithm.ECDSA_P256_SHA256:
        return b'\x80\x80' + signature.r + signature.s
    return b'\x84\x40' + signature.r + signature.s


def assemble(algorithm: Algorithm, tbs: bytes, signer: bytes, signature: bytes) -> bytes:
    """The whole Ieee1609Dot2Data around encoded parts."""
    return bytes((PROTOCOL_VERSION, _TAG_SIGNED, _HASH_ID[algorithm])) + tbs + signer + signature


def _parse_payload(data: bytes, pos: int) -> tuple[bytes, int]:
    where = 'tbsData.payload'
    flags = read_byte(data, pos, where)
    pos += 1
    if flags & 0x1F:
        raise DecodeError(f'{where}: non-zero padding bits in the preamble')
    if flags & 0x80:
        raise UnsupportedError(f'{where}: extension additions (e.g. omitted) are not supported')
    if flags & 0x20 or not flags & 0x40:
        raise UnsupportedError(f'{where}: only embedded data is supported, not extDataHash')
    head, pos = read_fixed(data, pos, 2, 'tbsData.payload.data')
    if head[0] != PROTOCOL_VERSION:
        raise DecodeError(f'{where}.data: protocolVersion {head[0]}, expected 3')
    if head[1] != _TAG_UNSECURED:
        raise UnsupportedError(f'{where}.data: content tag {head[1]:#x}, only unsecuredData')
    length, pos = read_length(data, pos, 'tbsData.payload.data')
    return read_fixed(data, pos, length, 'tbsData.payload.data.unsecuredData')


def _parse_header(data: bytes, pos: int) -> tuple[int, int | None, int | None, bytes | None, int]:
    where = 'tbsData.headerInfo'
    flags = read_byte(data, pos, where)
    pos += 1
    if flags & 0x01:
        raise DecodeError(f'{where}: non-zero padding bit in the preamble')
    if flags & 0x02:
        raise UnsupportedError(f'{where}: encryptionKey is not supported')
    psid, pos = read_unsigned(data, pos, 'tbsData.headerInfo.psid')
    generation = expiry = None
    if flags & 0x40:
        raw, pos = read_fixed(data, pos, 8, 'tbsData.headerInfo.generationTime')
        generation = int.from_bytes(raw, 'big')
    if flags & 0x20:
        raw, pos = read_fixed(data, pos, 8, 'tbsData.headerInfo.expiryTime')
        expiry = int.from_bytes(raw, 'big')
    if flags & 0x10:  # ThreeDLocation: two 4-byte signed ranges and a Uint16
        raw, pos = read_fixed(data, pos, 10, where + '.generationLocation')
        lat = int.from_bytes(raw[0:4], 'big', signed=True)
        lon = int.from_bytes(raw[4:8], 'big', signed=True)
        if not (-900_000_000 <= lat <= 900_000_001 and -1_799_999_999 <= lon <= 1_800_000_001):
            raise DecodeError(f'{where}.generationLocation: latitude/longitude out of range')
    p2pcd = None
    if flags & 0x08:
        p2pcd, pos = read_fixed(data, pos, 3, 'tbsData.headerInfo.p2pcdLearningRequest')
    if flags & 0x04:  # MissingCrlIdentifier ::= SEQUENCE {cracaId, crlSeries, ...}
        sub, pos = read_fixed(data, pos, 1, where + '.missingCrlIdentifier')
        if sub[0] & 0x7F:
            raise DecodeError(f'{where}.missingCrlIdentifier: non-zero padding bits')
        _, pos = read_fixed(data, pos, 5, where + '.missingCrlIdentifier')
        if sub[0] & 0x80:
            pos = skip_extensions(data, pos, where + '.missingCrlIdentifier')
    if flags & 0x80:
        pos = skip_extensions(data, pos, where)
    return psid, generation, expiry, p2pcd, pos


# Finds an already known certificate at a position of a buffer (to skip decoding it again).
KnownCertificate = Callable[[bytes, int], CertificateInfo | None]


def _parse_signer(
    data: bytes, pos: int, known: KnownCertificate | None
) -> tuple[SignerKind, bytes | None, tuple[CertificateInfo, ...], int]:
    tag = read_byte(data, pos, 'signer')
    pos += 1
    if tag == _SIGNER_DIGEST:
        digest, pos = read_fixed(data, pos, 8, 'signer.digest')
        return SignerKind.DIGEST, digest, (), pos
    if tag == _SIGNER_CERTIFICATE:
        count, pos = read_unsigned(data, pos, 'signer.certificate')
        if not 1 <= count <= MAX_CERTIFICATES:
            raise DecodeError(f'signer.certificate: {count} certificates, expected 1..4')
        certificates = []
        for index in range(count):
            cached = known(data, pos) if known is not None else None
            if cached is not None:
                certificates.append(cached)
                pos += len(cached.raw)
                continue
            try:
                cert, length = parse_certificate_prefix(data[pos:])
            except DecodeError as err:
                raise type(err)(f'signer.certificate[{index}]: {err}') from None
            certificates.append(cert)
            pos += length
        return SignerKind.CERTIFICATE, None, tuple(certificates), pos
    if tag == _SIGNER_SELF:
        raise UnsupportedError('signer: self-signed messages are not accepted')
    raise UnsupportedError(f'signer: unknown SignerIdentifier tag {tag:#x}')


def _parse_signature(data: bytes, pos: int) -> tuple[Algorithm, RawSignature, int]:
    tag = read_byte(data, pos, 'signature')
    pos += 1
    if tag == _SIG_P256:
        point = read_byte(data, pos, 'signature.rSig')
        pos += 1
        if point != 0x80:  # x-only; accepting the R-point forms too would make it malleable
            raise UnsupportedError(f'signature.rSig: point form {point:#x}, only x-only')
        r, pos = read_fixed(data, pos, _COORD, 'signature.rSig')
        s, pos = read_fixed(data, pos, _COORD, 'signature.sSig')
        return Algorithm.ECDSA_P256_SHA256, RawSignature(r, s), pos
    if tag == _SIG_SM2:
        length, pos = read_length(data, pos, 'signature.sm2Signature')
        if length != 2 * _COORD:
            raise DecodeError(f'signature.sm2Signature: open type of {length} bytes, expected 64')
        r, pos = read_fixed(data, pos, _COORD, 'signature.rSig')
        s, pos = read_fixed(data, pos, _COORD, 'signature.sSig')
        return Algorithm.SM2_SM3, RawSignature(r, s), pos
    raise UnsupportedError(f'signature: algorithm tag {tag:#x} not supported')


def parse_signed(data: bytes, known: KnownCertificate | None = None) -> SignedMessage:
    """Parse a signed SPDU; raises DecodeError (or its subclass UnsupportedError).

    ``known(data, pos)`` may return a certificate already decoded whose bytes start at ``pos``.
    """
    data = bytes(data)  # slices of bytes are bytes; a bytearray or memoryview is copied once
    return parse_common(data, known) or parse_signed_general(data, known)


# The forms of nearly every message on the air: hashId, payload of < 128 bytes, header with the
# psid and the generation time only, signer digest (or, about once a second, the signer's
# certificate, already known), signature of the hashId's suite.
_COMMON_SIGNATURE = {
    (0x00, _SIG_P256, 0x80): Algorithm.ECDSA_P256_SHA256,
    (0x02, _SIG_SM2, 2 * _COORD): Algorithm.SM2_SM3,
}


def parse_common(data: bytes, known: KnownCertificate | None = None) -> SignedMessage | None:
    """``parse_signed`` of the common forms by fixed offsets (≈ 4× cheaper); None for any other
    bytes (an unknown certificate included), which the general parser then reads, and accepts
    or rejects. The tests check that both give the same message wherever this one gives one."""
    size = len(data)
    if size < 9 or data[0] != PROTOCOL_VERSION or data[1] != _TAG_SIGNED:
        return None
    length = data[6]
    header = 7 + length  # headerInfo preamble, after 03 81 hashId 40 03 80 length payload
    if data[3] != 0x40 or data[4] != PROTOCOL_VERSION or data[5] != _TAG_UNSECURED:
        return None
    if length >= 128 or header + 2 > size or data[header] != 0x40:
        return None
    psid_size = data[header + 1]
    psid_at = header + 2
    signer = psid_at + psid_size + 8
    if not 1 <= psid_size <= 4 or signer + 11 + 2 * _COORD > size:
        return None
    if psid_size > 1 and data[psid_at] == 0:
        return None
    tag = data[signer]
    if tag == _SIGNER_DIGEST:
        digest, certificates, sig = data[signer + 1 : signer + 9], (), signer + 9
    elif tag == _SIGNER_CERTIFICATE and data[signer + 1 : signer + 3] == b'\x01\x01':
        cert = known(data, signer + 3) if known is not None else None
        if cert is None:
            return None
        digest, certificates, sig = None, (cert,), signer + 3 + len(cert.raw)
    else:
        return None
    if sig + 2 + 2 * _COORD != size:
        return None
    algorithm = _COMMON_SIGNATURE.get((data[2], data[sig], data[sig + 1]))
    if algorithm is None:
        return None
    return SignedMessage(
        algorithm,
        data[7:header],
        int.from_bytes(data[psid_at : psid_at + psid_size], 'big'),
        int.from_bytes(data[signer - 8 : signer], 'big'),
        None,
        None,
        data[3:signer],
        SignerKind.DIGEST if digest is not None else SignerKind.CERTIFICATE,
        digest,
        certificates,
        algorithm,
        RawSignature(data[sig + 2 : sig + 2 + _COORD], data[sig + 2 + _COORD : size]),
    )


def parse_signed_general(data: bytes, known: KnownCertificate | None = None) -> SignedMessage:
    """``parse_signed`` of any form, field by field."""
    head, pos = read_fixed(data, 0, 3, 'Ieee1609Dot2Data')
    if head[0] != PROTOCOL_VERSION:
        raise DecodeError(f'protocolVersion {head[0]}, expected 3')
    if head[1] == _TAG_UNSECURED:
        raise UnsupportedError('content is unsecuredData: the message is not signed')
    if head[1] != _TAG_SIGNED:
        raise UnsupportedError(f'content tag {head[1]:#x} (only signedData is supported)')
    algorithm = _ALGORITHM_BY_HASH_ID.get(head[2])
    if algorithm is None:
        raise UnsupportedError(f'hashId {head[2]:#x} (sha256 and sm3 are supported)')
    tbs_start = pos
    payload, pos = _parse_payload(data, pos)
    psid, generation, expiry, p2pcd, pos = _parse_header(data, pos)
    tbs_raw = data[tbs_start:pos]
    kind, digest, certificates, pos = _parse_signer(data, pos, known)
    sig_algorithm, signature, pos = _parse_signature(data, pos)
    if pos != len(data):
        raise DecodeError(f'{len(data) - pos} trailing bytes after the signature')
    return SignedMessage(
        algorithm=algorithm,
        payload=payload,
        psid=psid,
        generation_time_us=generation,
        expiry_time_us=expiry,
        p2pcd_request=p2pcd,
        tbs_raw=tbs_raw,
        signer_kind=kind,
        signer_digest=digest,
        certificates=certificates,
        signature_algorithm=sig_algorithm,
        signature=signature,
    )

"""Security-layer benchmarks, each against `openssl speed` run by this script in the same run.

1. Raw sign/s and verify/s of ECDSA P-256 and SM2 through the layer's Signer/Verifier
   interface, against `openssl speed -seconds 2 ecdsap256` and `openssl speed -seconds 2 sm2`.
2. Whole secured messages: MessageSigner.sign/s and MessageVerifier.verify/s on 100-byte
   payloads (BSM-sized), signer by digest with a certificate every 10th message (1 s at 10 Hz),
   and verify-on-demand (every check but the signature) for comparison.

    python bench/bench_security.py
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source tree

from v2x_nodes.security import Algorithm, Credentials, MessageSigner, MessageVerifier
from v2x_nodes.security.algorithms import generate_signer, hash_for
from v2x_nodes.security.pki import issue_certificate, make_authorization_ca, make_root_ca

SECONDS = 2.0
OPENSSL_ALGORITHM = {Algorithm.ECDSA_P256_SHA256: 'ecdsap256', Algorithm.SM2_SM3: 'sm2'}
NS = 1_000_000_000


def rate(fn: Callable[[int], object], seconds: float = SECONDS, rounds: int = 3) -> float:
    """Calls per CPU second of ``fn(i)``: the best of ``rounds`` runs sharing ``seconds``.

    CPU time of this process, as `openssl speed` measures by default (user CPU time), so that
    other work on the machine disturbs both sides alike.
    """
    best, count = 0.0, 0
    for _ in range(rounds):
        done, begin = 0, time.process_time()
        deadline = begin + seconds / rounds
        while True:
            for _ in range(20):
                fn(count)
                count += 1
                done += 1
            now = time.process_time()
            if now >= deadline:
                break
        best = max(best, done / (now - begin))
    return best


def openssl_speed(name: str) -> tuple[float, float] | None:
    """(sign/s, verify/s) from `openssl speed`, or None when it does not know ``name``."""
    if shutil.which('openssl') is None:
        return None
    result = subprocess.run(
        ['openssl', 'speed', '-seconds', str(int(SECONDS)), name],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in result.stdout.splitlines():
        match = re.match(r'\s*256 bits .*\s([\d.]+)\s+([\d.]+)\s*$', line)
        if match:
            return float(match.group(1)), float(match.group(2))
    return None


def bench_raw(algorithm: Algorithm) -> None:
    signer = generate_signer(algorithm)
    verifier = signer.verifier()
    digest = hash_for(algorithm, b'bench')
    signature = signer.sign(digest)
    sign_rate = rate(lambda _i: signer.sign(digest))
    verify_rate = rate(lambda _i: verifier.verify(digest, signature))
    baseline = openssl_speed(OPENSSL_ALGORITHM[algorithm])
    name = f'{algorithm.value:5s}'
    if baseline is None:
        print(
            f'{name} sign {sign_rate:8.0f}/s  verify {verify_rate:8.0f}/s  '
            f'(openssl speed {OPENSSL_ALGORITHM[algorithm]}: not supported here)'
        )
        return
    print(
        f'{name} sign {sign_rate:8.0f}/s vs openssl {baseline[0]:8.0f}/s  '
        f'ratio {sign_rate / baseline[0]:.2f} | verify {verify_rate:8.0f}/s '
        f'vs openssl {baseline[1]:8.0f}/s  ratio {verify_rate / baseline[1]:.2f}'
    )


def bench_messages(algorithm: Algorithm) -> None:
    start_s = int(time.time()) - 60
    root = make_root_ca(algorithm, start_posix_s=start_s)
    pca = make_authorization_ca(root, start_posix_s=start_s)
    ee = issue_certificate(pca, psids=[32], start_posix_s=start_s, duration_s=86400)
    credentials = Credentials(ee.certificate, ee.signer)
    now_ns = (start_s + 120) * NS
    payload = bytes(range(100))
    step_ns = NS // 10  # 10 Hz: a certificate every 10th message
    signer = MessageSigner(credentials, certificate_interval_s=1.0)
    sign_rate = rate(lambda i: signer.sign(payload, 32, now_ns + i * step_ns))
    signer = MessageSigner(credentials, certificate_interval_s=1.0)
    count = 4000 if algorithm is Algorithm.ECDSA_P256_SHA256 else 1500
    messages = [signer.sign(payload, 32, now_ns + i * step_ns) for i in range(count)]
    verifier = MessageVerifier([root.certificate])
    verifier.add_certificate(pca.certificate)

    def verify_all(check_signature: bool) -> float:
        # A fresh replay cache per pass, times at the receiver 1 ms after generation.
        verifier.replays._seen.clear()
        begin = time.process_time()
        for i, data in enumerate(messages):
            outcome = verifier.verify(
                data, now_ns + i * step_ns + 1_000_000, check_signature=check_signature
            )
            if not outcome.ok:
                raise RuntimeError(f'benchmark message {i} rejected: {outcome}')
        return count / (time.process_time() - begin)

    full = max(verify_all(True) for _ in range(2))
    deferred = max(verify_all(False) for _ in range(3))
    size = sum(map(len, messages)) / count
    print(
        f'{algorithm.value:5s} secured message: sign {sign_rate:7.0f}/s, verify {full:7.0f}/s, '
        f'verify-on-demand (no signature) {deferred:7.0f}/s, mean size {size:.0f} B'
    )


def main() -> None:
    print(f'security layer, one core, rates per CPU second; load average {os.getloadavg()[0]:.2f}')
    print('raw signature operations through Signer/Verifier, against openssl speed:')
    for algorithm in Algorithm:
        bench_raw(algorithm)
    print('whole secured messages (100-byte payload, digest signer, certificate every 10th):')
    for algorithm in Algorithm:
        bench_messages(algorithm)


if __name__ == '__main__':
    main()

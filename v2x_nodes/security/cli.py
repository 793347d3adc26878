"""``v2x-stack pki``: make a test PKI and issue certificates (see docs/security.md)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

from v2x_nodes.security.algorithms import Algorithm
from v2x_nodes.security.certificates import CertificateInfo
from v2x_nodes.security.errors import SecurityError
from v2x_nodes.security.pki import DAY_S, init_pki, issue_into, load_certificate

EPILOG = """\
examples:
  v2x-stack pki init site-pki --algorithm sm2      root + authorisation CA in site-pki/
  v2x-stack pki issue site-pki --name obu1 --psid 32,35 --days 7 --pseudonym
  v2x-stack pki issue site-pki --name car7 --psid 32 --days 1 --pseudonym --count 20
  v2x-stack pki show site-pki/issued/obu1.cert
"""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``pki`` command and its sub-commands."""
    pki = subparsers.add_parser(
        'pki',
        help='make a test PKI (root CA, authorisation CA) and issue certificates',
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = pki.add_subparsers(dest='pki_command', metavar='PKI_COMMAND', required=True)
    init = sub.add_parser('init', help='create root.cert/.key.pem and pca.cert/.key.pem in DIR')
    init.add_argument('directory', metavar='DIR', type=Path)
    init.add_argument('--algorithm', choices=[a.value for a in Algorithm], default='p256')
    init.add_argument('--root-years', type=int, default=10, help='root CA validity (years)')
    init.add_argument('--ca-years', type=int, default=3, help='authorisation CA validity')
    init.add_argument('--start', help='validity start, ISO 8601 (default: now)')
    init.add_argument('--force', action='store_true', help='replace an existing PKI')
    issue = sub.add_parser('issue', help='issue DIR/issued/NAME.cert and NAME.key.pem')
    issue.add_argument('directory', metavar='DIR', type=Path)
    issue.add_argument('--name', required=True, help='file name (and certificate name)')
    issue.add_argument('--psid', required=True, help='comma-separated PSID/AIDs, e.g. 0x20,0x82')
    issue.add_argument('--days', type=float, default=7.0, help='validity in days')
    issue.add_argument('--start', help='validity start, ISO 8601 (default: now)')
    issue.add_argument('--pseudonym', action='store_true', help='anonymous id (CertificateId none)')
    issue.add_argument(
        '--count', type=int, default=1, help='issue a pool: NAME-0 .. NAME-<count-1> (pseudonyms)'
    )
    show = sub.add_parser('show', help='print the fields of a certificate file')
    show.add_argument('file', type=Path)


def _start_s(text: str | None) -> int:
    if text is None:
        return int(time.time())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SecurityError(
            f'--start {text!r}: expected ISO 8601, e.g. 2026-01-01T00:00:00Z'
        ) from None
    if moment.tzinfo is None:
        raise SecurityError(f'--start {text!r}: give a time zone, e.g. Z or +08:00')
    return int(moment.timestamp())


def _psids(text: str) -> list[int]:
    try:
        values = [int(part, 0) for part in text.split(',') if part.strip()]
    except ValueError:
        raise SecurityError(f'--psid {text!r}: expected comma-separated integers') from None
    if not values or any(v < 0 for v in values):
        raise SecurityError(f'--psid {text!r}: expected one or more non-negative integers')
    return values


def describe(cert: CertificateInfo) -> str:
    """A few lines that say what a certificate is."""

    def iso(seconds: int) -> str:
        return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec='seconds')

    issue = 'all' if cert.issue_all else (sorted(cert.issue_psids) or '-')
    return '\n'.join(
        (
            f'hashedId8:   {cert.hashed_id8.hex()}',
            f'name:        {cert.name if cert.name is not None else "(pseudonym)"}',
            f'issuer:      {cert.issuer_id.hex() if cert.issuer_id else "self"}',
            f'algorithm:   {cert.key_algorithm.value}',
            f'valid:       {iso(cert.start_s)} .. {iso(cert.end_s)}',
            f'app psids:   {sorted(cert.app_psids) or "-"}',
            f'may issue:   {issue}',
            f'size:        {len(cert.raw)} bytes',
        )
    )


def run(args: argparse.Namespace) -> int:
    """Run a ``pki`` sub-command; 0 on success, 1 with a message on stderr otherwise."""
    try:
        if args.pki_command == 'init':
            root, pca = init_pki(
                args.directory,
                Algorithm.parse(args.algorithm),
                now_s=_start_s(args.start),
                root_years=args.root_years,
                ca_years=args.ca_years,
                force=args.force,
            )
            print(f'root CA {root.certificate.hashed_id8.hex()} -> {args.directory}/root.cert')
            print(f'PCA     {pca.certificate.hashed_id8.hex()} -> {args.directory}/pca.cert')
        elif args.pki_command == 'issue':
            if not args.days > 0:
                raise SecurityError(f'--days {args.days}: must be > 0')
            if not 1 <= args.count <= 10_000:
                raise SecurityError(f'--count {args.count}: expected 1 .. 10000')
            names = (
                [args.name]
                if args.count == 1
                else [f'{args.name}-{index}' for index in range(args.count)]
            )
            psids, start_s = _psids(args.psid), _start_s(args.start)
            for name in names:
                issued = issue_into(
                    args.directory,
                    name=name,
                    psids=psids,
                    duration_s=round(args.days * DAY_S),
                    now_s=start_s,
                    pseudonym=args.pseudonym,
                )
                print(f'{args.directory}/issued/{name}.cert')
                print(describe(issued.certificate))
        else:
            print(describe(load_certificate(args.file)))
    except SecurityError as err:
        print(f'v2x-stack pki: error: {err}', file=sys.stderr)
        return 1
    return 0

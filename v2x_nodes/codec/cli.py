"""``v2x-stack codec``: JER <-> UPER hex on the command line.

    v2x-stack codec encode [--type TYPE] [INPUT]   JER (argument, file, or stdin) -> UPER hex
    v2x-stack codec decode [--type TYPE] [INPUT]   UPER hex, one message a line -> JER
    v2x-stack codec types                          the ASN.1 types that --type accepts

``--type`` defaults to MessageFrame. INPUT is the text itself, a path to a file holding it,
or ``-``/absent for stdin. Errors go to stderr naming the input line, the field path and the
constraint; the exit code is 2 when any input was refused (the other lines are still done).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from v2x_nodes.codec.errors import CodecError, InputFormatError

FRAME_TYPE = 'MessageFrame'  # the default --type (the codec itself is imported on use)

EXIT_OK = 0
EXIT_REFUSED = 2


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``codec`` command (with encode/decode/types) to a ``v2x-stack`` parser."""
    parser = subparsers.add_parser(
        'codec',
        help='encode JER to UPER hex and decode UPER hex to JER (T/CSAE 53/157)',
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest='codec_action', required=True)
    for name, what in (('encode', 'JER in, UPER hex out'), ('decode', 'UPER hex in, JER out')):
        sub = actions.add_parser(name, help=what)
        sub.add_argument('--type', default=FRAME_TYPE, help='ASN.1 type (default MessageFrame)')
        sub.add_argument('input', nargs='?', default='-', help='text, file path, or - for stdin')
        if name == 'decode':
            sub.add_argument('--indent', type=int, default=None, help='pretty-print JSON')
    actions.add_parser('types', help='list the ASN.1 types --type accepts')
    parser.set_defaults(func=run)
    return parser


def _read_input(source: str, stdin: TextIO, *, looks_inline: bool) -> str:
    if source == '-':
        return stdin.read()
    if looks_inline:
        return source
    path = Path(source)
    try:
        return path.read_text(encoding='utf-8')
    except OSError as err:
        raise InputFormatError(f'cannot read {path}: {err.strerror}') from None


def _is_hex(text: str) -> bool:
    return all(c in '0123456789abcdefABCDEF' for c in text)


def _jer_documents(text: str) -> list[tuple[int, str]]:
    """(line number, document): one JSON document, or one per line (JSON Lines)."""
    stripped = text.strip()
    if not stripped:
        return []
    try:
        json.loads(stripped)
        return [(1, stripped)]
    except json.JSONDecodeError:
        return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _encode(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    inline = args.input.lstrip()[:1] in ('{', '[', '"') or args.input.lstrip()[:1].isdigit()
    text = _read_input(args.input, stdin, looks_inline=inline)
    from v2x_nodes.codec import jer

    status = EXIT_OK
    for line, document in _jer_documents(text):
        try:
            out.write(jer.jer_to_uper(args.type, document).hex().upper() + '\n')
        except CodecError as exc:
            err.write(f'line {line}: {exc}\n')
            status = EXIT_REFUSED
    return status


def _decode(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    compact = args.input.replace(' ', '')
    inline = bool(compact) and _is_hex(compact) and not Path(args.input).exists()
    text = _read_input(args.input, stdin, looks_inline=inline)
    from v2x_nodes.codec import jer

    status = EXIT_OK
    for line, raw in enumerate(text.splitlines(), 1):
        hex_text = raw.strip().replace(' ', '')
        if not hex_text:
            continue
        try:
            if not _is_hex(hex_text) or len(hex_text) % 2:
                raise InputFormatError(f'not an even-length hex string: {hex_text[:40]!r}')
            data = bytes.fromhex(hex_text)
            out.write(jer.uper_to_jer(args.type, data, indent=args.indent) + '\n')
        except CodecError as exc:
            err.write(f'line {line}: {exc}\n')
            status = EXIT_REFUSED
    return status


def run(
    args: argparse.Namespace,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run ``codec encode|decode|types``; returns the exit code (0 ok, 2 input refused)."""
    out = out or sys.stdout
    err = err or sys.stderr
    stdin = stdin or sys.stdin
    from v2x_nodes.codec.schema import load_schema

    try:
        if args.codec_action == 'types':
            out.write('\n'.join(load_schema().type_names()) + '\n')
            return EXIT_OK
        schema = load_schema()
        if args.type not in schema.uper.types:
            raise InputFormatError(f'--type {args.type!r} is not a type of the message set')
        if args.codec_action == 'encode':
            return _encode(args, out, err, stdin)
        return _decode(args, out, err, stdin)
    except CodecError as exc:
        err.write(f'error: {exc}\n')
        return EXIT_REFUSED


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m v2x_nodes.codec.cli``) until the lead wires v2x-stack."""
    parser = argparse.ArgumentParser(prog='v2x-stack')
    register(parser.add_subparsers(dest='command', required=True))
    args = parser.parse_args(argv)
    return run(args)


if __name__ == '__main__':
    sys.exit(main())

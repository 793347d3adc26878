"""A simulated fixed-time signal controller behind snmpd (pass_persist protocol).

snmpd is the real SNMP agent; this script answers for the NTCIP 1202 subtree it is given.
Cycle (30 s): phases 2+6 green 10 s, yellow 3 s, all red 2 s; then phases 4+8 the same.
Timing: min green 5 s, max green 10 s, yellow 3 s, red clear 2 s. While a file named
``nonsense`` exists beside this script, every phase shows red and green at once.
"""

import sys
import time
from pathlib import Path

ASC = '.1.3.6.1.4.1.1206.4.2.1'
HERE = Path(__file__).resolve().parent
START = time.monotonic()


def lights(t: float) -> tuple[int, int, int]:
    """(reds, yellows, greens) bit sets of phase group 1."""
    pair_a, pair_b = (1 << 1) | (1 << 5), (1 << 3) | (1 << 7)
    phase = t % 30.0
    active, other = (pair_a, pair_b) if phase < 15.0 else (pair_b, pair_a)
    phase %= 15.0
    if phase < 10.0:
        return other, 0, active
    if phase < 13.0:
        return other, active, 0
    return active | other, 0, 0


def value(oid: str) -> int | None:
    if (HERE / 'nonsense').exists() and oid.startswith(f'{ASC}.1.4.1.'):
        return 0xFF if oid.split('.')[-2] in ('2', '4') else 0
    reds, yellows, greens = lights(time.monotonic() - START)
    status = {
        f'{ASC}.1.4.1.2.1': reds,
        f'{ASC}.1.4.1.3.1': yellows,
        f'{ASC}.1.4.1.4.1': greens,
        f'{ASC}.1.1.0': 8,
        f'{ASC}.1.3.0': 1,
    }
    if oid in status:
        return status[oid]
    timing = {'4': 50, '6': 100, '8': 30, '9': 20}
    parts = oid[len(ASC) + 1 :].split('.')
    if (
        parts[:3] == ['1', '2', '1']
        and len(parts) == 5
        and parts[3] in timing
        and 1 <= int(parts[4]) <= 8
    ):
        return timing[parts[3]]
    return None


def main() -> None:
    for line in sys.stdin:
        command = line.strip()
        if command == 'PING':
            print('PONG', flush=True)
        elif command == 'get':
            oid = sys.stdin.readline().strip()
            answer = value(oid)
            print('NONE' if answer is None else f'{oid}\ninteger\n{answer}', flush=True)
        elif command == 'getnext':
            sys.stdin.readline()
            print('NONE', flush=True)
        elif command == 'set':
            sys.stdin.readline()
            sys.stdin.readline()
            print('not-writable', flush=True)
        elif not command:
            return


if __name__ == '__main__':
    main()

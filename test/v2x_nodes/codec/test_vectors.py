"""Hand-derived UPER vectors (test/data/codec): bits -> bytes, decode and re-encode bit-exactly.

Each vector has three files: ``NAME.bits`` (the derivation: one line per field with its
width, value and the X.691 rule, see docs/codec.md), ``NAME.hex`` (the octets those bits
make) and ``NAME.jer`` (the value in JER). The test rebuilds the octets from the bit table,
then checks that the codec decodes them to the JER value and encodes that value back to the
same octets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from v2x_nodes.codec import jer, uper

DATA = Path(__file__).resolve().parents[2] / 'data' / 'codec'
VECTORS = sorted(p.stem for p in DATA.glob('*.bits'))


def assemble(text: str) -> bytes:
    """Octets of the last [section] of a bit table; each section padded to whole octets."""
    sections: dict[str, bytes] = {}
    name, bits = None, ''
    for raw in [*text.splitlines(), '[end]']:
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        if line.startswith('['):
            if name is not None:
                bits += '0' * (-len(bits) % 8)
                sections[name] = int(bits, 2).to_bytes(len(bits) // 8, 'big') if bits else b''
            name, bits = line.strip('[]'), ''
            continue
        if line.startswith('@open '):
            inner = sections[line.split()[1]]
            assert len(inner) < 128, 'one-octet length determinant'
            bits += f'{len(inner):08b}' + ''.join(f'{b:08b}' for b in inner)
            continue
        width_text, value_text = line.split()
        width, value = int(width_text), int(value_text, 0)
        assert 0 <= value < (1 << width), f'{raw!r}: value does not fit its width'
        bits += f'{value:0{width}b}'
    return list(sections.values())[-1]


def test_there_are_two_vectors_per_message_type() -> None:
    for prefix in ('bsm', 'map', 'spat', 'rsi', 'rsm', 'ssm'):
        assert len([v for v in VECTORS if v.startswith(prefix + '_')]) >= 2, prefix


@pytest.mark.parametrize('name', VECTORS)
def test_vector(name: str) -> None:
    expected_hex = (DATA / f'{name}.hex').read_text().strip()
    data = assemble((DATA / f'{name}.bits').read_text())
    assert data.hex().upper() == expected_hex, 'the bit table and the hex file disagree'
    expected = json.loads((DATA / f'{name}.jer').read_text())
    assert json.loads(jer.uper_to_jer('MessageFrame', data)) == expected
    assert jer.jer_to_uper('MessageFrame', json.dumps(expected)) == data
    frame = uper.decode_frame(data)  # and the message inside decodes through the frame API
    assert uper.encode_frame(frame.kind, frame.value) == data
    inner = DATA / f'{name}.inner.jer'  # the open type's message, for frames in the extension
    if inner.exists():
        inner_type = uper.TYPE_NAMES[frame.kind]
        assert json.loads(jer.jer_from_value(inner_type, frame.value)) == json.loads(
            inner.read_text()
        )

"""The checked UPER layer: constraints both ways, trailing bytes, extensions, error texts."""

from __future__ import annotations

import copy
import pickle

import asn1tools
import pytest

from v2x_nodes.codec import DecodeError, EncodeError, uper
from v2x_nodes.codec.schema import cache_dir, load_schema

BSM = {
    'msgCnt': 5,
    'id': b'\x01\x02\x03\x04\x05\x06\x07\x08',
    'secMark': 1234,
    'pos': {'lat': 312000000, 'long': 1215000000},
    'transmission': 'forwardGears',
    'speed': 500,
    'heading': 7200,
    'accelSet': {'long': 0, 'lat': 0, 'vert': 0, 'yaw': 0},
    'brakes': {},
    'size': {'width': 180, 'length': 450},
    'vehicleClass': {'classification': 10},
}


def _lenient(value, type_name='BasicSafetyMessage') -> bytes:
    """Bytes asn1tools writes when it is not asked to check constraints."""
    return load_schema().uper.encode(type_name, value, check_constraints=False)


def test_out_of_range_heading_is_rejected_on_decode() -> None:
    data = _lenient(dict(BSM, heading=30000))  # 15 bits hold it; Heading is 0..28800
    with pytest.raises(
        DecodeError,
        match=r'\.heading: Expected an integer between 0 and 28800, but got 30000',
    ):
        uper.decode('BasicSafetyMessage', data)


def test_out_of_range_latitude_is_rejected_on_decode() -> None:
    data = _lenient(dict(BSM, pos={'lat': 1_000_000_000, 'long': 0}))
    with pytest.raises(DecodeError, match=r'pos\.lat: Expected an integer between -900000000'):
        uper.decode('BasicSafetyMessage', data)


def test_encode_names_field_and_constraint() -> None:
    with pytest.raises(
        EncodeError,
        match=r'BasicSafetyMessage\.speed: Expected an integer between 0 and 8191, but got 9000',
    ):
        uper.encode('BasicSafetyMessage', dict(BSM, speed=9000))
    with pytest.raises(
        EncodeError, match=r'BasicSafetyMessage\.id: Expected between 8 and 8 bytes'
    ):
        uper.encode('BasicSafetyMessage', dict(BSM, id=b'short'))
    with pytest.raises(EncodeError, match='unknown type'):
        uper.encode('NoSuchMessage', {})


def test_trailing_and_truncated_bytes_are_rejected() -> None:
    data = uper.encode('BasicSafetyMessage', BSM)
    assert uper.decode('BasicSafetyMessage', data) == BSM
    with pytest.raises(DecodeError, match='trailing byte'):
        uper.decode('BasicSafetyMessage', data + b'\x00')
    with pytest.raises(DecodeError, match='out of data'):
        uper.decode('BasicSafetyMessage', data[:-3])
    with pytest.raises(DecodeError, match='out of data'):
        uper.decode_frame(b'')


def _future_schema():
    """The schema as a later edition might extend it: a new BSM extension addition."""
    tree = copy.deepcopy(load_schema().tree)
    members = tree['CSAE53-BSM']['types']['BasicSafetyMessage']['members']
    assert members[-1] is None  # the extension marker
    members.append(
        {'name': 'futureField', 'type': 'INTEGER', 'restricted-to': [(0, 1000)], 'optional': True}
    )
    return asn1tools.compile_dict(tree, 'uper')


def test_unknown_extension_addition_is_skipped() -> None:
    future = _future_schema()
    data = future.encode('MessageFrame', ('bsmFrame', dict(BSM, futureField=777)))
    assert data != uper.encode_frame(uper.MessageKind.BSM, BSM)
    frame = uper.decode_frame(data)
    assert frame.kind == uper.MessageKind.BSM
    assert frame.value == BSM


def test_unknown_frame_alternative_and_extension_id_are_rejected_with_reason() -> None:
    # extension bit 1, normally-small index 3: an alternative added after msgFrameExt
    with pytest.raises(DecodeError, match='extension alternative this schema does not know'):
        uper.decode_frame(bytes([0x83, 0x01, 0x00]))
    vir = uper.encode('MessageFrame', ('msgFrameExt', {'messageId': 13, 'value': b'\x00'}))
    with pytest.raises(DecodeError, match='unsupported extension message id 13'):
        uper.decode_frame(vir)


def test_schema_cache_is_written_and_a_damaged_one_is_rebuilt(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv('V2X_CODEC_CACHE_DIR', str(tmp_path))
    load_schema.cache_clear()
    try:
        first = load_schema()
        files = list(tmp_path.glob('csae-*.pickle'))
        assert len(files) == 1 and pickle.loads(files[0].read_bytes()) == first.tree
        files[0].write_bytes(b'not a pickle')
        load_schema.cache_clear()
        again = load_schema()
        assert again.tree == first.tree and cache_dir() == tmp_path
    finally:
        load_schema.cache_clear()
        monkeypatch.undo()
        load_schema()

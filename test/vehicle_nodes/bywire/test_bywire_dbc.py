"""DBC loading: our kit strictly, a real foreign file despite its quirks, and the errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vehicle_nodes.bywire.codec import DecodeOutcome, FrameCodec
from vehicle_nodes.bywire.dbc import drop_orphan_values, load_dbc, parse_dbc_bytes
from vehicle_nodes.bywire.errors import DbcError
from vehicle_nodes.bywire.kit import find_default_dbc

PIX = 'can/pix_robobus_self_driving_2_0.dbc'


def test_kit_dbc_loads_strictly_without_quirks() -> None:
    loaded = load_dbc(find_default_dbc())
    assert loaded.strict and loaded.quirks == ()
    codec = FrameCodec(loaded)
    names = {m.name for m in codec.messages.values()}
    assert {'ThrottleCommand', 'BrakeCommand', 'SteerCommand', 'GearCommand'} <= names
    # every frame but the info frame is E2E-protected, each with its own data ID
    assert set(codec.data_ids) == {f for f, m in codec.messages.items() if m.name != 'KitInfo'}
    assert len(set(codec.data_ids.values())) == len(codec.data_ids)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DbcError, match=r'nope\.dbc'):
        load_dbc(tmp_path / 'nope.dbc')


def test_garbage_is_a_dbc_error() -> None:
    with pytest.raises(DbcError, match=r'garbage\.dbc: not a usable DBC.*line 1'):
        parse_dbc_bytes(b'BO_ twelve {{{ not a dbc', source='garbage.dbc')


def test_e2e_layout_is_checked(tmp_path: Path) -> None:
    text = (
        find_default_dbc()
        .read_text()
        .replace(
            ' SG_ Crc : 0|8@1+ (1,0) [0|255] "" KIT\n SG_ Counter : 8|4@1+ (1,0) [0|14] "" KIT\n'
            ' SG_ ThrottleEnable',
            ' SG_ Crc : 56|8@1+ (1,0) [0|255] "" KIT\n SG_ Counter : 8|4@1+ (1,0) [0|14] "" KIT\n'
            ' SG_ ThrottleEnable',
            1,
        )
    )
    with pytest.raises(DbcError, match=r'ThrottleCommand\.Crc: expected start 0'):
        FrameCodec(parse_dbc_bytes(text.encode()))


def test_orphan_values_are_found() -> None:
    text = 'BO_ 1 A: 8 X\n SG_ S : 0|8@1+ (1,0) [0|1] "" X\n\nVAL_ 1 S 0 "a" ;\nVAL_ 9 T 1 "b" ;\n'
    cleaned, dropped = drop_orphan_values(text)
    assert dropped == ['VAL_ 9 T']
    assert 'VAL_ 1 S' in cleaned and 'VAL_ 9' not in cleaned


def test_latin1_and_crlf_are_quirks_not_errors() -> None:
    raw = find_default_dbc().read_bytes().replace(b'\n', b'\r\n')
    raw = raw.replace(b'Generic by-wire kit', b'Generic by-wire kit \xe9t\xe9')
    loaded = parse_dbc_bytes(raw)
    assert loaded.strict
    assert any('Latin-1' in q for q in loaded.quirks)
    assert any('CRLF' in q for q in loaded.quirks)


def test_real_pix_dbc_loads_with_quirks_reported(realdata: Path) -> None:
    loaded = load_dbc(realdata / PIX)
    quirks = ' | '.join(loaded.quirks)
    assert 'CRLF' in quirks
    assert 'non-ASCII' in quirks
    assert 'VAL_ 3221225472 HighBeam_Actual' in quirks
    assert 'VECTOR__INDEPENDENT_SIG_MSG' in quirks
    codec = FrameCodec(loaded)
    assert 0x100 in codec.messages and 0x105 in codec.messages
    assert codec.data_ids == {}  # the PIX file has no E2E attribute: plain frames


def pix_command_messages(realdata: Path):  # type: ignore[no-untyped-def]
    codec = FrameCodec(load_dbc(realdata / PIX))
    return codec, [m for m in codec.messages.values() if 'ACU' in m.senders]


def test_real_pix_command_frames_encode_and_decode_back(realdata: Path) -> None:
    codec, messages = pix_command_messages(realdata)
    assert {m.frame_id for m in messages} >= {0x100, 0x101, 0x102, 0x103, 0x104, 0x105}
    for msg in messages:
        for pick in (lambda s: s.minimum or 0, lambda s: s.maximum if s.maximum is not None else 1):
            values = {}
            for sig in msg.signals:
                lo = sig.minimum if sig.minimum is not None else sig.offset
                hi = sig.maximum if sig.maximum is not None else sig.offset + sig.scale
                raw = round((min(max(pick(sig), lo), hi) - sig.offset) / sig.scale)
                raw = max(0, min(raw, (1 << sig.length) - 1))
                values[sig.name] = raw * sig.scale + sig.offset
            frame_id, data = codec.encode(msg.name, values)
            decoded = codec.decode(frame_id, data)
            assert decoded.outcome is DecodeOutcome.OK, decoded.detail
            for name, value in values.items():
                scale = msg.get_signal_by_name(name).scale
                assert decoded.signals[name] == pytest.approx(value, abs=abs(scale) / 2 + 1e-9)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_real_pix_commands_roundtrip_property(realdata: Path, data: st.DataObject) -> None:
    codec, messages = pix_command_messages(realdata)
    msg = data.draw(st.sampled_from(messages))
    values = {}
    for sig in msg.signals:
        lo = sig.minimum if sig.minimum is not None else sig.offset
        hi = (
            sig.maximum
            if sig.maximum is not None
            else sig.offset + sig.scale * ((1 << sig.length) - 1)
        )
        raw_lo = max(
            0 if not sig.is_signed else -(1 << (sig.length - 1)),
            round((lo - sig.offset) / sig.scale),
        )
        raw_hi = min((1 << sig.length) - 1, round((hi - sig.offset) / sig.scale))
        raw = data.draw(st.integers(min(raw_lo, raw_hi), max(raw_lo, raw_hi)))
        values[sig.name] = raw * sig.scale + sig.offset
    frame_id, payload = codec.encode(msg.name, values)
    decoded = codec.decode(frame_id, payload)
    assert decoded.outcome is DecodeOutcome.OK
    for name, value in values.items():
        assert decoded.signals[name] == pytest.approx(value, abs=1e-6)

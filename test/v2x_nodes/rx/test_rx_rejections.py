"""Every rejection reason of V2xReceiver, triggered with real signed frames and counted;
nothing refused reaches a typed topic, and the node goes on."""

from __future__ import annotations

import math

import pytest
from v2x_link_fixtures import (
    NOW_NS,
    frame,
    make_expired_pca_dir,
    make_pki_dir,
    origin_parameters,
    participant,
    signer,
)

from v2x_nodes.codec import convert as cv
from v2x_nodes.codec import uper
from v2x_nodes.codec.schema import load_schema
from v2x_nodes.codec.uper import MessageKind
from v2x_nodes.rx import V2xReceiver
from v2x_nodes.security import Algorithm
from v2x_nodes.tx import DEFAULT_PSIDS
from v2x_runtime.embedded import EmbeddedRuntime

ARRAY = 'v2x_stack/msg/ParticipantArray'
PSID_BSM, PSID_SPAT = DEFAULT_PSIDS[MessageKind.BSM], DEFAULT_PSIDS[MessageKind.SPAT]
TRUST_MISBEHAVING = 3


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    return make_pki_dir(tmp_path_factory.mktemp('pki'), Algorithm.ECDSA_P256_SHA256)


def receiver(pki_dir, **params):
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    rx = rt.add_component(
        V2xReceiver,
        name='v2x_rx',
        parameters={'security': 'verify', 'pki_dir': str(pki_dir), **origin_parameters(), **params},
    )
    vehicles = []
    rt.subscribe('/v2x/remote_vehicles', ARRAY, vehicles.append)
    rt.start()
    return rt, rx, vehicles


def bsm(ident=0x11, east=10.0, north=10.0, stamp_ns=NOW_NS, **changes) -> bytes:
    value = cv.bsm_from_participant(participant(ident, east, north, stamp_ns=stamp_ns), 1)
    value.update(changes)
    return uper.encode_frame(MessageKind.BSM, value)


def deliver(rt, *datagrams: bytes) -> None:
    for data in datagrams:
        rt.publish('/v2x/rx', frame(data, rt.now_ns()))
    rt.run(duration_s=0.2)  # past one output period of remote_vehicles


def counters(rx):
    return {k: v for k, v in rx.ctx.diagnostics.counters.items() if k.startswith('rejected.')}


def test_each_security_reason_is_counted(pki, tmp_path) -> None:
    rt, rx, vehicles = receiver(pki)
    s = signer(pki, certificate_interval_s=0.0)
    good = s.sign(bsm(), PSID_BSM, NOW_NS)
    flipped = bytearray(s.sign(bsm(0x12), PSID_BSM, NOW_NS))
    flipped[-1] ^= 0x01
    wrong_psid = s.sign(bsm(0x13), PSID_SPAT, NOW_NS)
    stale = signer(pki).sign(bsm(0x14), PSID_BSM, NOW_NS - 10 * 10**9)  # its own clock
    foreign = make_pki_dir(tmp_path / 'foreign', Algorithm.ECDSA_P256_SHA256, pseudonyms=0)
    foreign_signer = signer(foreign, certificate_interval_s=3600.0)
    foreign_signer.sign(bsm(0x15), PSID_BSM, NOW_NS - 10**8)  # the certificate went first
    unknown = foreign_signer.sign(bsm(0x15), PSID_BSM, NOW_NS)  # digest only
    expired_dir = make_expired_pca_dir(tmp_path / 'expired', Algorithm.ECDSA_P256_SHA256)
    deliver(rt, good, bytes(flipped), good, wrong_psid, stale, unknown, bsm(0x16), good[:40])
    rt.close()
    assert counters(rx) == {
        'rejected.bad_signature': 1,
        'rejected.replay': 1,
        'rejected.wrong_psid': 1,
        'rejected.stale': 1,
        'rejected.unknown_signer': 1,
        'rejected.unsigned': 1,
        'rejected.malformed': 1,
    }
    assert rx.ctx.diagnostics.counters['accepted.bsm'] == 1
    assert {p.source_id for p in vehicles[-1].participants} == {f'{0x11:016x}'}

    rt, rx, vehicles = receiver(expired_dir)
    deliver(rt, signer(expired_dir, certificate_interval_s=0.0).sign(bsm(), PSID_BSM, NOW_NS))
    rt.close()
    assert counters(rx) == {'rejected.expired': 1} and not vehicles


def test_decode_reasons_behind_a_valid_signature(pki) -> None:
    rt, rx, vehicles = receiver(pki)
    s = signer(pki, certificate_interval_s=0.0)
    spec = load_schema().uper
    value = cv.bsm_from_participant(participant(0x21, 0.0, 0.0), 1)
    value['heading'] = 30000  # beyond Heading (0..28800): well-formed bits, out of range
    out_of_range = spec.encode('MessageFrame', ('bsmFrame', value), check_constraints=False)
    other_day2 = spec.encode(
        'MessageFrame',
        ('msgFrameExt', {'messageId': 13, 'value': b'\x00'}),
        check_constraints=False,
    )
    no_position = bsm(0x22, pos={'lat': 900000001, 'long': 1800000001})
    deliver(
        rt,
        *(
            s.sign(data, PSID_BSM, rt.now_ns())
            for data in (out_of_range, other_day2, bsm(0x23)[:12], no_position)
        ),
    )
    rt.close()
    assert counters(rx) == {
        'rejected.constraint': 1,
        'rejected.unsupported': 1,
        'rejected.decode_error': 1,
        'rejected.no_position': 1,
    }
    assert not vehicles


def test_unsigned_link_counts_decode_errors_and_stale_stamps() -> None:
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    rx = rt.add_component(V2xReceiver, name='v2x_rx', parameters=origin_parameters())
    got = []
    rt.subscribe('/v2x/remote_vehicles', ARRAY, got.append)
    deliver(rt, bsm(0x31), bsm(0x32)[:-3], bsm(0x33, stamp_ns=NOW_NS - 20 * 10**9), b'\xff' * 30)
    rt.close()
    assert counters(rx) == {'rejected.decode_error': 2, 'rejected.stale': 1}
    (p,) = got[-1].participants
    assert p.source_id == f'{0x31:016x}' and p.trust == 0  # unsigned: TRUST_UNKNOWN


@pytest.mark.parametrize('drop', [False, True])
def test_misbehaving_sender_is_flagged_or_dropped(pki, drop) -> None:
    rt, rx, vehicles = receiver(pki, drop_misbehaving=drop)
    s = signer(pki, certificate_interval_s=0.0)
    deliver(rt, s.sign(bsm(0x41, 0.0, 0.0), PSID_BSM, rt.now_ns()))
    # 0.2 s later 300 m away: a position jump no vehicle can make
    deliver(rt, s.sign(bsm(0x41, 300.0, 0.0, stamp_ns=rt.now_ns()), PSID_BSM, rt.now_ns()))
    rt.close()
    diag = rx.ctx.diagnostics.counters
    assert diag['misbehaviour.position_jump'] == 1
    (p,) = vehicles[-1].participants
    if drop:
        assert counters(rx) == {'rejected.misbehaviour': 1}
        assert p.position.x == pytest.approx(0.0, abs=0.1)  # the plausible report stays
    else:
        assert counters(rx) == {} and diag['flagged.misbehaviour'] == 1
        assert p.trust == TRUST_MISBEHAVING and math.isclose(p.position.x, 300.0, abs_tol=0.1)


def test_verify_on_demand_confirms_new_signers_and_near_senders(pki) -> None:
    rt, rx, vehicles = receiver(pki, security='verify_on_demand', confirm_range_m=100.0)
    s = signer(pki, certificate_interval_s=0.0)
    odom = 'nav_msgs/msg/Odometry'
    from v2x_runtime import messages as m

    rt.publish('/localization/odometry', m.new(odom, header=m.header(NOW_NS, 'map')))
    deliver(rt, s.sign(bsm(0x51, 500.0, 0.0), PSID_BSM, rt.now_ns()))  # new signer: confirmed
    deliver(rt, s.sign(bsm(0x51, 501.0, 0.0, stamp_ns=rt.now_ns()), PSID_BSM, rt.now_ns()))
    assert rx.ctx.diagnostics.counters['confirmed'] == 1
    assert vehicles[-1].participants[0].trust == 2  # far and known: left unverified
    near = bytearray(s.sign(bsm(0x52, 20.0, 0.0, stamp_ns=rt.now_ns()), PSID_BSM, rt.now_ns()))
    near[-1] ^= 0x01  # a forged near sender: its signature is checked and fails
    far = bytearray(s.sign(bsm(0x53, 800.0, 0.0, stamp_ns=rt.now_ns()), PSID_BSM, rt.now_ns()))
    far[-1] ^= 0x01  # a forged far sender passes as UNVERIFIED (documented trade-off)
    deliver(rt, bytes(near), bytes(far))
    rt.close()
    assert counters(rx) == {'rejected.bad_signature': 1}
    trust = {p.source_id: p.trust for p in vehicles[-1].participants}
    assert trust == {f'{0x51:016x}': 2, f'{0x53:016x}': 2}

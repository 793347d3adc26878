"""Real signed BSMs through the V2X receiver into the fusion: a verified sender that the RSU
also reports becomes one VERIFIED object; a sender the misbehaviour checker flags is left out,
its plausible-looking reports as well."""

from __future__ import annotations

import math

import numpy as np
import pytest
from v2x_link_fixtures import NOW_NS, frame, make_pki_dir, origin_parameters, participant, signer

from perception_nodes.fusion.component import CooperativeFusion
from perception_nodes.fusion.conversions import reports_to_msg
from perception_nodes.fusion.reports import ObjectReport, SourceKind
from v2x_nodes.codec import convert as cv
from v2x_nodes.codec import uper
from v2x_nodes.codec.uper import MessageKind
from v2x_nodes.rx import V2xReceiver
from v2x_nodes.security import Algorithm
from v2x_nodes.tx import DEFAULT_PSIDS
from v2x_runtime.embedded import EmbeddedRuntime

ARRAY = 'v2x_stack/msg/ParticipantArray'
PSID_BSM = DEFAULT_PSIDS[MessageKind.BSM]
S = 1_000_000_000


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    return make_pki_dir(tmp_path_factory.mktemp('pki'), Algorithm.ECDSA_P256_SHA256)


def _bsm(ident, east, north, stamp_ns):
    value = cv.bsm_from_participant(participant(ident, east, north, stamp_ns=stamp_ns), 1)
    return uper.encode_frame(MessageKind.BSM, value)


def _rsu_report(east, north, stamp_ns):
    yaw, speed = math.radians(40.0), 12.5  # the fixture car's motion
    state = np.array([east, north, speed * math.cos(yaw), speed * math.sin(yaw)])
    return ObjectReport(
        SourceKind.ROADSIDE,
        'rsu7',
        3,
        stamp_ns,
        state,
        np.diag([0.09, 0.09, 0.25, 0.25]),
        1,
        (4.5, 1.8, 1.5),
        yaw,
        0.01,
        0.9,
        1,
    )


def test_signed_bsm_and_rsu_become_one_verified_object_misbehaving_excluded(pki):
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    rt.add_component(
        V2xReceiver,
        name='v2x_rx',
        parameters={'security': 'verify', 'pki_dir': str(pki), **origin_parameters()},
    )
    fusion = rt.add_component(
        CooperativeFusion, name='fusion', parameters={'ego_suppress_radius_m': 0.0}
    )
    fused = []
    rt.subscribe('/perception/fused_objects', ARRAY, fused.append)
    good, bad = (
        signer(pki, certificate_interval_s=0.0),
        signer(pki, 'obu1', certificate_interval_s=0.0),
    )
    for k in range(10):  # 1 s: the good car drives north-east, the RSU reports it as well
        t = NOW_NS + k * S // 10
        east, north = (
            10.0 + 12.5 * math.cos(math.radians(40)) * k / 10,
            10.0 + 12.5 * math.sin(math.radians(40)) * k / 10,
        )
        rt.publish('/v2x/rx', frame(good.sign(_bsm(0x51, east, north, t), PSID_BSM, t), t), at_ns=t)
        rt.publish(
            '/v2x/roadside_participants',
            reports_to_msg([_rsu_report(east + 0.2, north - 0.1, t)], t, 'map'),
            at_ns=t,
        )
        # a second sender that jumps 300 m between reports: flagged by the misbehaviour check
        jump = 300.0 * (k % 2)
        rt.publish(
            '/v2x/rx',
            frame(bad.sign(_bsm(0x66, 80.0 + jump, -40.0, t), PSID_BSM, t), t),
            at_ns=t + 1000,
        )
    rt.run(duration_s=1.05)
    rt.close()
    last = fused[-1].participants
    assert len(last) == 1, [(p.id, p.source_id) for p in last]
    (p,) = last
    assert p.source_id == f'rsu:rsu7+v2v:{0x51:016x}'
    assert p.trust == 1  # VERIFIED: a member came from a verified BSM
    diag = dict(fusion.ctx.diagnostics.key_values())
    # the receiver flags each implausible report; the fusion then ignores the whole sender
    assert int(diag['rejected.misbehaving']) == 5
    assert int(diag['rejected.misbehaving_sender']) == 4

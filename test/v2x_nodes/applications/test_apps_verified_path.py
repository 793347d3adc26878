"""Issue #9, bad input, through the real receive path: signed BSMs (real certificates and
signatures) enter V2xReceiver on ``v2x/rx``, which verifies them and runs the misbehaviour
checker, and FCW (``require_verified``) acts on what it publishes. A single verified message,
forged messages, senders left unverified and senders the checker flags never raise a warning,
and each is counted; the same stopped car ahead with verified, plausible reports does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from apps_world import odometry
from v2x_link_fixtures import NOW_NS, frame, make_pki_dir, origin_parameters, signer
from v2x_link_fixtures import participant as link_participant

from v2x_nodes.applications.apps import ForwardCollisionWarning
from v2x_nodes.codec import convert as cv
from v2x_nodes.codec import uper
from v2x_nodes.codec.uper import MessageKind
from v2x_nodes.rx import V2xReceiver
from v2x_nodes.security import Algorithm
from v2x_nodes.tx import DEFAULT_PSIDS
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

PSID_BSM = DEFAULT_PSIDS[MessageKind.BSM]
EGO_SPEED = 10.0
AHEAD_M = 30.0  # a stopped car 30 m ahead of us at 10 m/s: TTC ~2.6 s < 3 s at once
PERIOD_NS = 100_000_000


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    return make_pki_dir(tmp_path_factory.mktemp('pki'), Algorithm.ECDSA_P256_SHA256)


@dataclass
class Outcome:
    warnings: list[Any] = field(default_factory=list)
    rx: dict[str, int] = field(default_factory=dict)
    app: dict[str, int] = field(default_factory=dict)

    def fcw(self) -> list[Any]:
        return [w for w in self.warnings if w.application == 'FCW' and w.level > 0]


def stopped_bsm(t_ns: int, east_m: float, ident: int = 0x77) -> bytes:
    p = link_participant(ident, east_m, 0.0, stamp_ns=t_ns)
    p.heading_rad = 0.0
    p.velocity = m.new('geometry_msgs/msg/Vector3')
    return uper.encode_frame(MessageKind.BSM, cv.bsm_from_participant(p, 1))


def drive(pki_dir, bsms, *, rx_params=None, app_params=None, duration_s=1.5) -> Outcome:
    """The ego drives east from the origin at 10 m/s; ``bsms(k, t_ns, ego_x)`` gives the
    datagrams heard in cycle k (or none)."""
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    rx = rt.add_component(
        V2xReceiver, name='v2x_rx',
        parameters={'security': 'verify', 'pki_dir': str(pki_dir), **origin_parameters(),
                    **(rx_params or {})},
    )  # fmt: skip
    app = rt.add_component(
        ForwardCollisionWarning, name='fcw',
        parameters={'require_verified': True, **(app_params or {})},
    )  # fmt: skip
    out = Outcome()
    rt.subscribe('/v2x/warnings', 'v2x_stack/msg/Warning', out.warnings.append)
    rt.start()
    for k in range(round(duration_s * 1e9 / PERIOD_NS)):
        t_ns = NOW_NS + k * PERIOD_NS
        x = EGO_SPEED * k * PERIOD_NS / 1e9
        rt.publish('/localization/odometry', odometry(t_ns, x, 0.0, 0.0, EGO_SPEED), at_ns=t_ns)
        for data in bsms(k, t_ns, x):
            rt.publish('/v2x/rx', frame(data, t_ns), at_ns=t_ns)
    rt.run(duration_s=duration_s)
    rt.close()
    assert rt.handler_errors == 0
    out.rx = dict(rx.ctx.diagnostics.counters)
    out.app = dict(app.ctx.diagnostics.counters)
    return out


def test_verified_plausible_reports_of_a_stopped_car_ahead_warn(pki) -> None:
    s = signer(pki, certificate_interval_s=0.0)
    out = drive(pki, lambda k, t, x: [s.sign(stopped_bsm(t, AHEAD_M), PSID_BSM, t)])
    assert out.fcw(), out.app
    assert out.rx['accepted.bsm'] == 15
    assert out.app['untrusted_targets'] == 1  # the cycle that had its first message only


def test_a_single_verified_message_never_warns(pki) -> None:
    """One signed BSM of a stopped car 30 m ahead (a collision 2.6 s away): verified, but
    one message is below min_seen (2): ignored for triggering and counted every cycle."""
    s = signer(pki, certificate_interval_s=0.0)
    out = drive(pki, lambda k, t, x: [s.sign(stopped_bsm(t, AHEAD_M), PSID_BSM, t)] if k == 0
                else [])  # fmt: skip
    assert out.rx['accepted.bsm'] == 1
    assert out.fcw() == []
    assert out.app['untrusted_targets'] >= 5  # each cycle until the report is stale (1 s)


def test_forged_messages_never_reach_the_application(pki) -> None:
    s = signer(pki, certificate_interval_s=0.0)

    def forged(k, t, x):
        data = bytearray(s.sign(stopped_bsm(t, AHEAD_M), PSID_BSM, t))
        data[-1] ^= 0x01  # one bit of the signature
        return [bytes(data)]

    out = drive(pki, forged)
    assert out.fcw() == []
    assert out.rx['rejected.bad_signature'] == 15 and not out.rx.get('accepted.bsm')


def test_unsigned_messages_to_a_verifying_receiver_never_warn(pki) -> None:
    out = drive(pki, lambda k, t, x: [stopped_bsm(t, AHEAD_M)])
    assert out.fcw() == []
    assert sum(v for k, v in out.rx.items() if k.startswith('rejected.')) == 15


def test_senders_left_unverified_are_ignored_with_verification_required(pki) -> None:
    """verify_on_demand checks a known signer's signature only within confirm_range_m: a car
    beyond it (here 1 m) stays TRUST_UNVERIFIED. With require_verified the application
    ignores it and counts it; without, it warns (the documented trade-off)."""
    s = signer(pki, certificate_interval_s=0.0)

    def signed(k, t, x):
        return [s.sign(stopped_bsm(t, AHEAD_M), PSID_BSM, t)]

    rx = {'security': 'verify_on_demand', 'confirm_range_m': 1.0}
    out = drive(pki, signed, rx_params=rx)
    assert out.rx['confirmed'] == 1  # the new signer's first message only
    assert out.fcw() == [] and out.app['untrusted_targets'] > 0
    assert drive(pki, signed, rx_params=rx, app_params={'require_verified': False}).fcw()


def test_a_sender_the_misbehaviour_checker_flags_never_warns(pki) -> None:
    """First seen 300 m ahead, then reporting 30 m ahead every 0.1 s: a position jump no car
    makes, flagged by the real checker on every report (against the last plausible one); the
    application ignores the flagged sender and counts it."""
    s = signer(pki, certificate_interval_s=0.0)

    def jumping(k, t, x):
        return [s.sign(stopped_bsm(t, 300.0 if k == 0 else AHEAD_M), PSID_BSM, t)]

    out = drive(pki, jumping)
    assert out.rx['misbehaviour.position_jump'] == 14 and out.rx['flagged.misbehaviour'] == 14
    assert out.fcw() == []
    assert out.app['untrusted_targets'] >= 14

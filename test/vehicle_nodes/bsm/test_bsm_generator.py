"""BsmGenerator in the embedded runtime: the BSM decodes with the expected values, the path
history is within the limits, msgCnt/secMark and the id rotate with the certificate."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from v2x_link_fixtures import NOW_NS, ORIGIN, make_pki_dir, origin_parameters

from geo import LocalFrame
from v2x_nodes.codec import convert as cv
from v2x_nodes.codec import units, uper
from v2x_nodes.security import Algorithm, MessageVerifier
from v2x_nodes.security.pki import load_trust
from v2x_runtime import ParameterError
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.bsm import BsmGenerator

FRAME = 'v2x_stack/msg/V2xFrame'
RADIUS_M, SPEED_MPS = 100.0, 10.0
FRAME_ENU = LocalFrame(*ORIGIN)


def pose_at(t_s: float) -> tuple[float, float, float]:
    """A counter-clockwise circle of RADIUS_M around (0, RADIUS_M), starting east-bound."""
    angle = SPEED_MPS * t_s / RADIUS_M
    return RADIUS_M * math.sin(angle), RADIUS_M - RADIUS_M * math.cos(angle), angle


def inputs(
    rt: EmbeddedRuntime,
    duration_s: float,
    fix_until_s: float = math.inf,
    fix_first: bool = False,
    no_fix_from_s: float = math.inf,
) -> None:
    """Odometry and fix (until ``fix_until_s``; NO_FIX from ``no_fix_from_s``, as the fused
    fix while the filter dead-reckons) at 20 Hz, each fix right after the odometry of its
    instant as the localization publishes them (before it with ``fix_first``), vehicle status
    at 10 Hz, injected on the simulated clock."""
    for k in range(round(duration_s * 20)):
        t = k * 0.05
        stamp = NOW_NS + round(t * 1e9)
        x, y, yaw = pose_at(t)
        odom = m.new('nav_msgs/msg/Odometry', header=m.header(stamp, 'map'))
        odom.child_frame_id = 'base_link'
        odom.pose.pose.position.x, odom.pose.pose.position.y = x, y
        odom.pose.pose.orientation.z = math.sin(yaw / 2)
        odom.pose.pose.orientation.w = math.cos(yaw / 2)
        odom.twist.twist.linear.x = SPEED_MPS
        odom.twist.twist.angular.z = SPEED_MPS / RADIUS_M
        if not fix_first:
            rt.publish('/localization/odometry', odom, at_ns=stamp)
        lat, lon, alt = FRAME_ENU.geodetic_of(x, y, 0.0)
        cov = np.zeros(9)
        cov[[0, 4, 8]] = [0.04, 0.01, 0.09]
        fix = m.new(
            'sensor_msgs/msg/NavSatFix',
            header=m.header(stamp, 'gnss'),
            latitude=lat,
            longitude=lon,
            altitude=alt,
            position_covariance=cov,
            position_covariance_type=2,
        )
        if t >= no_fix_from_s:
            fix.status.status = -1
        if t < fix_until_s:
            rt.publish('/localization/fix', fix, at_ns=stamp)
        if fix_first:
            rt.publish('/localization/odometry', odom, at_ns=stamp)
        if k % 2 == 0:
            status = m.new(
                'v2x_stack/msg/VehicleStatus',
                header=m.header(stamp, 'base_link'),
                speed_mps=SPEED_MPS,
                acceleration_mps2=0.5,
                gear=4,
                brake_applied=k >= 20 * 5,
                lights=1 | 8,
            )
            rt.publish('/vehicle/status', status, at_ns=stamp)


def generator(duration_s: float, **params):
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    gen = rt.add_component(
        BsmGenerator, name='bsm', parameters={**origin_parameters(), 'length_m': 4.8, **params}
    )
    sent = []
    rt.subscribe('/v2x/tx', FRAME, sent.append)
    inputs(rt, duration_s)
    rt.run(duration_s=duration_s)
    rt.close()
    return gen, sent


def test_bsm_carries_the_vehicle_state_and_a_path_history() -> None:
    gen, sent = generator(40.0)
    assert 395 <= len(sent) <= 400  # 10 Hz once the inputs are there
    frames = [uper.decode_frame(bytes(f.payload)) for f in sent]
    assert all(f.kind == uper.MessageKind.BSM for f in frames)
    last = frames[-1].value
    stamp = m.to_ns(sent[-1].header.stamp)
    state = cv.state_from_bsm(last, stamp)
    t = (state.stamp_ns - NOW_NS) / 1e9
    x, y, yaw = pose_at(t)
    lat, lon, _ = FRAME_ENU.geodetic_of(x, y, 0.0)
    assert state.lat_deg == pytest.approx(lat, abs=1e-7)
    assert state.lon_deg == pytest.approx(lon, abs=1e-7)
    assert math.atan2(math.sin(state.heading_rad - yaw), math.cos(state.heading_rad - yaw)) == (
        pytest.approx(0.0, abs=math.radians(0.0125))
    )
    assert state.speed_mps == pytest.approx(SPEED_MPS, abs=0.02)
    assert state.brake_pedal is True and state.lights == 1 | 8 and state.gear == 4
    assert state.accel_long_mps2 == pytest.approx(0.5, abs=0.01)
    assert state.length_m == 4.8 and state.width_m == 1.8 and state.vehicle_class == 10
    assert state.path_radius_m == pytest.approx(RADIUS_M, abs=0.1)
    assert state.position_accuracy_m >= 2 * math.sqrt(0.04)  # 95 % class rounds up
    assert state.semi_major_m == pytest.approx(0.2, abs=0.05)
    # path history: <= 23 points, <= 300 m, each crumb within 1 m of the true circle
    crumbs = last['safetyExt']['pathHistory']['crumbData']
    assert 1 <= len(crumbs) <= 23
    ref = cv.GeoPoint(last['pos']['lat'], last['pos']['long'])
    previous, travelled = (x, y), 0.0
    from v2x_nodes.codec.offsets import absolute_from_llv

    for crumb in crumbs:
        c_lat, c_lon, _ = absolute_from_llv(ref, crumb['llvOffset'])
        cx, cy, _ = FRAME_ENU.enu_of(c_lat, c_lon, 0.0)
        assert math.hypot(cx, cy - RADIUS_M) == pytest.approx(RADIUS_M, abs=0.05)
        travelled += math.hypot(cx - previous[0], cy - previous[1])
        previous = (cx, cy)
        age_s = units.time_offset_to_seconds(crumb['timeOffset'])
        angle = math.atan2(cx, RADIUS_M - cy)
        assert (t - age_s) * SPEED_MPS / RADIUS_M % (2 * math.pi) == pytest.approx(
            angle % (2 * math.pi), abs=2e-3
        )
    assert 250.0 <= travelled <= 300.0
    # msgCnt rolls by one, secMark is the position's millisecond of the minute
    counts = [f.value['msgCnt'] for f in frames]
    assert all((b - a) % 128 == 1 for a, b in itertools.pairwise(counts))
    for f, frame in zip(frames, sent, strict=True):  # the latest position, <= 50 ms old
        sent_ms = units.dsecond_from_ns(m.to_ns(frame.header.stamp))
        assert 0 <= (sent_ms - f.value['secMark']) % 60000 <= 50
    assert gen.ctx.diagnostics.counters['sent.bsm'] == len(sent)


def test_rate_is_a_parameter_and_stale_state_sends_nothing() -> None:
    _, sent = generator(5.0, rate_hz=5.0)
    assert 24 <= len(sent) <= 25
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    rt.add_component(BsmGenerator, name='bsm', parameters=origin_parameters())
    out = []
    rt.subscribe('/v2x/tx', FRAME, out.append)
    inputs(rt, 4.0)
    rt.run(duration_s=2.0)
    rt.set_parameter('/bsm', 'rate_hz', 2.0)  # e.g. congestion control lowers the rate
    rt.run(duration_s=2.0)
    rt.close()
    stamps = [m.to_ns(f.header.stamp) - NOW_NS for f in out]
    assert len([t for t in stamps if t < 2 * 10**9]) == 20
    # sent with the inputs (20 Hz): 10 Hz from 0 s, the last one at 2.0 s (a run includes the
    # events at its end), then 2 Hz
    assert [t for t in stamps if t >= 2 * 10**9] == [
        2_000_000_000 + k * 500_000_000 for k in range(4)
    ]
    # inputs stop after 1 s: so do the BSMs (one per new state; a repeat of the last state
    # would carry its secMark again, which receivers flag as time_not_increasing)
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    rt.add_component(BsmGenerator, name='bsm', parameters=origin_parameters())
    inputs(rt, 1.0)
    out = []
    rt.subscribe('/v2x/tx', FRAME, out.append)
    rt.run(duration_s=3.0)
    rt.close()
    assert len(out) == 10
    secmarks = [uper.decode_frame(bytes(f.payload)).value['secMark'] for f in out]
    assert secmarks == sorted(set(secmarks))


@pytest.mark.parametrize('case', ['fix_stops', 'no_fix'])
def test_a_lost_fix_is_used_while_fresh_then_counted_stale(case) -> None:
    """The odometry goes on, the fix stops at 1 s (or turns NO_FIX: the filter dead-reckons):
    BSMs go on with the newest odometry and the last valid fix until that is older than
    max_input_age_s (0.5 s), as under the 10 ms tick, then each due BSM is counted as
    skipped.stale_state."""
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    gen = rt.add_component(BsmGenerator, name='bsm', parameters=origin_parameters())
    out = []
    rt.subscribe('/v2x/tx', FRAME, out.append)
    if case == 'fix_stops':
        inputs(rt, 3.0, fix_until_s=1.0)
    else:
        inputs(rt, 3.0, no_fix_from_s=1.0)
    rt.run(duration_s=3.0)
    rt.close()
    stamps = [round((m.to_ns(f.header.stamp) - NOW_NS) / 1e6) for f in out]
    # a stopped stream is noticed one odometry later (no timer): 1.05 s, not 1.0 s
    after = (
        [1050, 1150, 1250, 1350, 1450] if case == 'fix_stops' else [1000, 1100, 1200, 1300, 1400]
    )
    assert stamps == [100 * k for k in range(10)] + after
    values = [uper.decode_frame(bytes(f.payload)).value for f in out]
    assert len({v['secMark'] for v in values}) == len(values)  # the odometry's, each new
    last_fix = FRAME_ENU.geodetic_of(*pose_at(0.95)[:2], 0.0)  # the last valid fix, 0.95 s
    for v in values[10:]:
        assert units.lat_from_wire(v['pos']['lat']) == pytest.approx(last_fix[0], abs=1e-7)
        assert units.lon_from_wire(v['pos']['long']) == pytest.approx(last_fix[1], abs=1e-7)
    counters = gen.ctx.diagnostics.counters
    # due at every input once the last valid fix (0.95 s) is 0.5 s old, to 2.95 s: the
    # odometry from 1.55 s (1.5 s is 50 ms after the last BSM); odometry and NO_FIX fixes
    # from 1.5 s
    assert counters['skipped.stale_state'] == (29 if case == 'fix_stops' else 60)
    assert counters.get('skipped.no_fix', 0) == (0 if case == 'fix_stops' else 40)


def test_fix_before_odometry_waits_for_the_odometry_of_its_instant() -> None:
    """Topics are not ordered between each other under ROS: a fix that comes before the
    odometry of its instant is sent with that odometry, not with the previous one."""
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    rt.add_component(BsmGenerator, name='bsm', parameters=origin_parameters())
    out = []
    rt.subscribe('/v2x/tx', FRAME, out.append)
    inputs(rt, 2.0, fix_first=True)
    rt.run(duration_s=2.0)
    rt.close()
    assert len(out) == 20
    for frame in out:
        state = cv.state_from_bsm(uper.decode_frame(bytes(frame.payload)).value, NOW_NS)
        x, y, _ = pose_at((state.stamp_ns - NOW_NS) / 1e9)
        lat, lon, _ = FRAME_ENU.geodetic_of(x, y, 0.0)
        assert state.lat_deg == pytest.approx(lat, abs=1e-7)
        assert state.lon_deg == pytest.approx(lon, abs=1e-7)
        assert m.to_ns(frame.header.stamp) == state.stamp_ns  # sent at its instant


def test_no_bsm_event_without_inputs() -> None:
    """Nothing to send, nothing runs: the generator has no timer (an unspawned vehicle's stack
    costs no event)."""
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    rt.add_component(BsmGenerator, name='bsm', parameters=origin_parameters())
    rt.run(duration_s=5.0)
    assert rt.events_run == 0
    rt.close()


def test_temporary_id_changes_with_the_pseudonym_certificate(tmp_path) -> None:
    pki_dir = make_pki_dir(tmp_path, Algorithm.ECDSA_P256_SHA256, pseudonyms=3)
    gen, sent = generator(
        7.0,
        security='sign',
        pki_dir=str(pki_dir),
        credential='obu',
        pseudonym_count=3,
        id_change_period_s=2.0,
    )
    root, pca = load_trust(pki_dir)
    verifier = MessageVerifier([root])
    verifier.add_certificate(pca)
    pairs = []
    for f in sent:
        outcome = verifier.verify(bytes(f.secured), m.to_ns(f.header.stamp))
        assert outcome.ok, outcome.detail
        bsm = uper.decode_frame(outcome.payload).value
        assert bsm['id'].hex() == f.source_id
        pairs.append((f.source_id, outcome.signer_id))
    ids = list(dict.fromkeys(p[0] for p in pairs))
    signers = list(dict.fromkeys(p[1] for p in pairs))
    assert len(ids) == 4 and len(signers) == 3  # ids at 0, 2, 4, 6 s; a pool of three
    assert len(set(pairs)) == 4  # each id with exactly one certificate
    assert next(p[1] for p in pairs if p[0] == ids[3]) == signers[0]  # the pool in turn
    assert gen.ctx.diagnostics.counters['id_changes'] == 3
    first_after = [
        uper.decode_frame(bytes(f.payload)).value
        for a, f in itertools.pairwise(sent)
        if a.source_id != f.source_id
    ]
    # no path history links the new id to the old track
    assert all('pathHistory' not in v.get('safetyExt', {}) for v in first_after)


def test_signing_without_credentials_fails_at_start() -> None:
    rt = EmbeddedRuntime(start_ns=NOW_NS)
    with pytest.raises(ParameterError, match='security=sign needs pki_dir and credential'):
        rt.add_component(BsmGenerator, name='bsm', parameters={'security': 'sign'})

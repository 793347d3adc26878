"""A car that has never moved (its filter has no heading yet, so no fused state) still sends
BSMs: from the receiver's fix, Heading 28800 (unavailable) and headingCfd unavailable."""

from __future__ import annotations

import math

import numpy as np
import pytest
from v2x_link_fixtures import NOW_NS, ORIGIN, origin_parameters

from geo import LocalFrame
from v2x_nodes.codec import convert as cv
from v2x_nodes.codec import units, uper
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.bsm import BsmGenerator

FRAME = 'v2x_stack/msg/V2xFrame'
FRAME_ENU = LocalFrame(*ORIGIN)
PARKED_XY = (12.0, -3.0)


def _standing_inputs(rt: EmbeddedRuntime, duration_s: float, *, fix_status: int = 2) -> None:
    lat, lon, alt = FRAME_ENU.geodetic_of(*PARKED_XY, 0.0)
    cov = np.zeros(9)
    cov[[0, 4, 8]] = [0.0004, 0.0004, 0.0009]
    for k in range(round(duration_s * 10)):
        stamp = NOW_NS + k * 100_000_000
        fix = m.new(
            'sensor_msgs/msg/NavSatFix',
            header=m.header(stamp, 'gnss'),
            status=m.new('sensor_msgs/msg/NavSatStatus', status=fix_status, service=1),
            latitude=lat,
            longitude=lon,
            altitude=alt,
            position_covariance=cov,
            position_covariance_type=2,
        )
        rt.publish('/localization/gnss/fix', fix, at_ns=stamp)
        status = m.new('v2x_stack/msg/VehicleStatus', header=m.header(stamp, 'base_link'),
                       speed_mps=0.0, gear=1, brake_applied=True)  # fmt: skip
        rt.publish('/vehicle/status', status, at_ns=stamp)


def _run(duration_s: float, **kwargs):
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    gen = rt.add_component(BsmGenerator, name='bsm', parameters=origin_parameters())
    sent = []
    rt.subscribe('/v2x/tx', FRAME, sent.append)
    _standing_inputs(rt, duration_s, **kwargs)
    rt.run(duration_s=duration_s)
    rt.close()
    return gen, sent


def test_never_moved_car_sends_bsms_with_heading_unavailable() -> None:
    gen, sent = _run(10.0)
    assert 95 <= len(sent) <= 100  # 10 Hz, as a moving car
    lat, lon, _ = FRAME_ENU.geodetic_of(*PARKED_XY, 0.0)
    for frame in sent:
        decoded = uper.decode_frame(bytes(frame.payload))
        assert decoded.kind == uper.MessageKind.BSM
        value = decoded.value
        assert value['heading'] == units.HEADING_UNAVAILABLE == 28800
        assert value['motionCfd']['headingCfd'] == 'unavailable'
        assert value['speed'] == 0
        assert value['brakes']['brakePadel'] == 'on'
        assert 'safetyExt' not in value or 'pathHistory' not in value['safetyExt']
        state = cv.state_from_bsm(value, m.to_ns(frame.header.stamp))
        assert math.isnan(state.heading_rad)
        assert state.lat_deg == pytest.approx(lat, abs=1e-7)
        assert state.lon_deg == pytest.approx(lon, abs=1e-7)
        assert state.semi_major_m == pytest.approx(0.0, abs=0.05)
    counters = gen.ctx.diagnostics.counters
    assert counters['sent.heading_unavailable'] == counters['sent.bsm'] == len(sent)


def test_no_receiver_fix_still_sends_nothing() -> None:
    gen, sent = _run(3.0, fix_status=-1)  # NO_FIX: no position to send
    assert sent == []
    assert gen.ctx.diagnostics.counters['skipped.no_state'] > 0

"""GLOSA in closed loop: a driver who follows the advised speed passes on green without
stopping where physically possible; advice to stop where it is not; signal timing helpers."""

from __future__ import annotations

import math

import numpy as np
from apps_cases import GREEN, ICW_EGO, RED
from apps_world import INTERSECTION, NS, START_NS, Mover, odometry, signal

from v2x_nodes.applications.apps import GreenLightOptimalSpeedAdvisory
from v2x_nodes.applications.signals import PhaseTiming, glosa_band, green_windows, is_red_at
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.hdmap.node import MapMatcher

STOP_LINE_S = 144.0  # arc length of the stop line on ICW_EGO
DT = 0.1
ACCEL_LIMIT = 2.0


def drive(light: int, end_s: float, nxt: int, speed: float = 13.0, duration_s: float = 30.0):
    """Follow the advice (speed changes at most 2 m/s²); returns (crossing time, min speed
    before the line, advice list)."""
    rt = EmbeddedRuntime(start_ns=START_NS)
    rt.add_component(MapMatcher, name='map_matcher', namespace=NS,
                     parameters={'map_file': str(INTERSECTION)})  # fmt: skip
    rt.add_component(GreenLightOptimalSpeedAdvisory, name='glosa', namespace=NS,
                     parameters={'map_file': str(INTERSECTION)})  # fmt: skip
    advice: list = []
    rt.subscribe(f'{NS}/v2x/speed_advice', 'v2x_stack/msg/SpeedAdvice', advice.append)
    path = Mover(ICW_EGO, 0.0)
    s, v = 60.0, speed
    crossed, min_v = math.inf, v
    for k in range(int(duration_s / DT)):
        t = k * DT
        t_ns = START_NS + round(t * 1e9)
        path.start_m = s
        x, y, course, _, _ = path.state(0.0)
        rt.publish(f'{NS}/localization/odometry', odometry(t_ns, x, y, course, v))
        rt.publish(f'{NS}/vehicle/status', m.new('v2x_stack/msg/VehicleStatus',
                   header=m.header(t_ns, 'base_link'), speed_mps=v))  # fmt: skip
        rt.publish(f'{NS}/v2x/spat', signal(t, phase_id=8, light=light, end_s=end_s,
                                            next_light=nxt))  # fmt: skip
        rt.run(until_ns=t_ns + round(DT * 1e9) - 1)
        target = v
        if advice and s < STOP_LINE_S:
            a = advice[-1]
            if a.stop:  # brake to stop at the line
                d = max(STOP_LINE_S - s - 1.0, 0.1)
                target = max(v - min(v * v / (2 * d), 6.0) * DT, 0.0)
            elif math.isfinite(a.recommended_speed_mps):
                target = a.recommended_speed_mps
        v += float(
            np.clip(
                target - v,
                -ACCEL_LIMIT * DT * (1 if not advice or not advice[-1].stop else 3),
                ACCEL_LIMIT * DT,
            )
        )
        s += v * DT
        if s < STOP_LINE_S:
            min_v = min(min_v, v)
        elif not math.isfinite(crossed):
            crossed = t + DT
    assert rt.handler_errors == 0
    return crossed, min_v, advice


def test_slows_down_to_arrive_on_green_without_stopping() -> None:
    crossed, min_v, advice = drive(RED, 10.0, GREEN)
    assert advice and not any(a.stop for a in advice)
    assert advice[0].max_speed_mps < 13.0  # told to slow down
    assert 10.0 <= crossed <= 40.0, crossed  # on the green, which starts at 10 s
    assert min_v >= 4.0, min_v  # never stopped


def test_benign_twin_green_already_keeps_speed() -> None:
    crossed, min_v, advice = drive(GREEN, 30.0, RED)
    assert advice and not any(a.stop for a in advice)
    assert all(abs(a.recommended_speed_mps - 13.0) < 0.5 for a in advice[:20])
    assert crossed < 8.0 and min_v >= 12.5


def test_advises_stop_when_green_is_out_of_reach() -> None:
    _, _, advice = drive(RED, 60.0, GREEN, duration_s=3.0)
    assert advice and all(a.stop and math.isnan(a.recommended_speed_mps) for a in advice)


def test_green_windows_and_red_at() -> None:
    red = PhaseTiming(8, RED, end_s=10.0, next_green_s=10.0, next_green_duration_s=20.0)
    assert green_windows(red) == [(10.0, 30.0)]
    assert is_red_at(red, 5.0) and not is_red_at(red, 12.0)
    green = PhaseTiming(8, GREEN, end_s=5.0, next_green_s=math.nan, next_green_duration_s=math.nan)
    assert green_windows(green) == [(0.0, 5.0)]
    assert not is_red_at(green, 4.0) and is_red_at(green, 9.0)
    yellow = PhaseTiming(8, 7, end_s=2.0, next_green_s=40.0, next_green_duration_s=20.0)
    assert not is_red_at(yellow, 1.0) and is_red_at(yellow, 3.0) and not is_red_at(yellow, 41.0)


def test_glosa_band_bounds() -> None:
    band = glosa_band(84.0, [(10.0, 30.0)], 5.0, 13.9, 1.0)
    assert band is not None
    assert math.isclose(band.max_mps, 84.0 / 11.0) and band.min_mps == 5.0
    assert glosa_band(84.0, [(60.0, 90.0)], 5.0, 13.9, 1.0) is None

"""Property tests: whatever comes in, and whenever, the output stays inside the limits and the
highest-priority fresh source is the one in control."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from vehicle_nodes.bywire.gate import Gate, GateConfig, SourceConfig
from vehicle_nodes.bywire.limits import Limits
from vehicle_nodes.bywire.values import MODE_AUTONOMOUS, Command, GateState, Status

MS = 1_000_000
LIMITS = Limits(
    max_accel_mps2=2.0,
    max_decel_mps2=5.0,
    max_jerk_mps3=4.0,
    max_steer_rad=0.5,
    max_steer_rate_radps=0.4,
    max_lat_accel_mps2=2.5,
    wheelbase_m=2.7,
)
CONFIG = GateConfig(
    sources=(SourceConfig('planner', 1, 0.2), SourceConfig('remote', 2, 0.3)),
    limits=LIMITS,
    safe_stop_decel_mps2=3.0,
    safe_stop_jerk_mps3=2.0,
)
CONTROLLING = (GateState.AUTONOMOUS, GateState.SAFE_STOP, GateState.ESTOP)


def mostly(
    common: st.SearchStrategy, rare: st.SearchStrategy, one_in: int = 8
) -> st.SearchStrategy:
    """``rare`` about once in ``one_in`` draws (hypothesis' one_of merges equal branches)."""
    return st.integers(1, one_in).flatmap(lambda k: rare if k == 1 else common)


wild_float = mostly(st.floats(-12, 12), st.sampled_from([math.nan, math.inf, -math.inf, 1e9]))
command = st.builds(
    lambda source, offset_ms, a, d, gear: (source, offset_ms, a, d, gear),
    mostly(st.sampled_from(['planner', 'remote']), st.just('intruder')),
    mostly(st.integers(-30, 0), st.integers(-400, 120)),
    wild_float,
    mostly(st.floats(-1.1, 1.1), st.sampled_from([math.nan, 3.0])),
    mostly(st.integers(0, 4), st.integers(5, 9)),
)
status = st.builds(
    lambda speed, mode, override, faults, offset_ms: (speed, mode, override, faults, offset_ms),
    st.one_of(st.just(0.0), st.floats(0, 40)),
    st.sampled_from([0, 1, 2, 2, 2, 2, 2, 2]),
    st.sampled_from([False] * 9 + [True]),
    st.sampled_from([0] * 9 + [4]),
    mostly(st.integers(-20, 0), st.integers(-150, 60)),
)
step = st.tuples(
    mostly(st.integers(0, 20), st.integers(20, 2000)),  # ms since the last step
    st.lists(command, max_size=3),
    mostly(status, st.none(), 4),
    st.sampled_from([None] * 40 + ['estop', 'reset']),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=120))
def test_every_output_is_within_the_limits(steps: list) -> None:  # type: ignore[type-arg]
    gate = Gate(CONFIG)
    t = 1_000 * MS
    prev = None
    accepted: dict[str, int] = {}  # source → stamp of its latest accepted command
    for dt_ms, commands, stat, button in steps:
        t += dt_ms * MS
        for source, offset_ms, a, d, gear in commands:
            if gate.on_command(Command(source, t + offset_ms * MS, a, d, gear), t) is None:
                accepted[source] = t + offset_ms * MS
        if stat is not None:
            speed, mode, override, faults, offset_ms = stat
            gate.on_status(
                Status(
                    stamp_ns=t + offset_ms * MS,
                    speed_mps=speed,
                    mode=mode,
                    driver_override=override,
                    faults=faults,
                ),
                t,
            )
        if button == 'estop':
            gate.on_estop(True, t)
        elif button == 'reset':
            gate.on_estop_reset(t)
        out = gate.step(t)

        speed = abs(gate.status.speed_mps) if gate.status is not None else 0.0
        bound = LIMITS.steer_limit_rad(speed)
        assert math.isfinite(out.acceleration_mps2) and math.isfinite(out.steering_angle_rad)
        assert -LIMITS.max_decel_mps2 <= out.acceleration_mps2 <= LIMITS.max_accel_mps2
        assert abs(out.steering_angle_rad) <= bound + 1e-12
        # lateral acceleration at the measured speed stays within its limit
        lat = speed * speed * math.tan(abs(out.steering_angle_rad)) / LIMITS.wheelbase_m
        assert lat <= LIMITS.max_lat_accel_mps2 + 1e-9
        if prev is not None and out.state in CONTROLLING:
            dt = min(dt_ms / 1000, LIMITS.max_step_s)
            jerk_step = abs(out.acceleration_mps2 - prev.acceleration_mps2)
            assert jerk_step <= LIMITS.max_jerk_mps3 * dt + 1e-9
            envelope_shrink = max(0.0, abs(prev.steering_angle_rad) - bound)
            rate_step = abs(out.steering_angle_rad - prev.steering_angle_rad)
            assert rate_step <= LIMITS.max_steer_rate_radps * dt + envelope_shrink + 1e-9
        if out.state is GateState.SAFE_STOP:
            assert out.hazard_lights and out.acceleration_mps2 <= max(prev_accel(prev), 0.0) + 1e-9
        st_ = gate.status
        if st_ is not None and st_.mode == MODE_AUTONOMOUS and not st_.driver_override:
            assert out.enable  # autonomous: never without a command
        if out.state is GateState.AUTONOMOUS:
            # arbitration: the highest-priority source whose latest command is still fresh
            fresh = [
                src
                for src in CONFIG.sources
                if src.name in accepted and t - accepted[src.name] <= src.timeout_s * 1e9
            ]
            assert out.source == max(fresh, key=lambda src: src.priority).name
        event(out.state.value)
        prev = out


def prev_accel(prev) -> float:  # type: ignore[no-untyped-def]
    return prev.acceleration_mps2 if prev is not None else LIMITS.max_accel_mps2

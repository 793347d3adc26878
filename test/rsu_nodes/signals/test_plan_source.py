"""SignalPlanSource: timing through a whole cycle, and the state through the codec's SPAT."""

import math
from pathlib import Path

import pytest

from rsu_nodes.signals.plan_source import SignalPlanSource
from v2x_nodes.codec import uper
from v2x_nodes.codec.convert import intersections_from_spat, spat_from_intersections
from v2x_runtime import ParameterError
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

ROOT = Path(__file__).resolve().parents[3]
PLAN_FILE = str(ROOT / 'config' / 'signals' / 'intersection_plan.yaml')
STATE = 'v2x_stack/msg/IntersectionState'
GREEN = {4, 5, 6}  # flashing, permissive, protected green
# Independent reading of the plan file: (start, end) of each group's green in the 95 s cycle.
# Stage k: green, yellow 3 s, all-red 2 s.
STAGES = [(0, 25, [2, 3, 8, 9]), (30, 40, [1, 7]), (45, 70, [5, 6, 11, 12]), (75, 90, [4, 10])]
CYCLE = 95.0
PED = {22: (0, 25), 24: (0, 25), 21: (45, 70), 23: (45, 70)}


def expected_light(group: int, tc: float) -> str:
    if group in PED:
        a, b = PED[group]
        if a <= tc < b - 8:
            return 'green'
        return 'flashing' if a <= tc < b else 'red'
    for a, b, groups in STAGES:
        if group in groups:
            if a <= tc < b:
                return 'green'
            if b <= tc < b + 3:
                return 'yellow'
    return 'red'


def run_source(params: dict, duration_s: float, start_s: float = 0.0) -> list:
    rt = EmbeddedRuntime(seed=1)
    rt.add_component(SignalPlanSource, name='plan', parameters=params)
    out: list = []
    rt.subscribe('/signals/state', STATE, out.append)
    rt.run(duration_s=duration_s)
    rt.close()
    return out


def test_timing_through_a_whole_cycle():
    states = run_source({'plan_file': PLAN_FILE}, CYCLE + 1.0)
    assert 10 * CYCLE <= len(states) <= 10 * CYCLE + 11  # 10 Hz
    names = {3: 'red', 6: 'green', 4: 'flashing', 7: 'yellow'}
    seen = set()
    for st in states:
        t = m.to_ns(st.header.stamp) / 1e9
        tc = t % CYCLE
        assert st.intersection_id == 1 and st.status == 32  # fixed time
        assert [p.phase_id for p in st.phases] == sorted([*range(1, 13), 21, 22, 23, 24])
        for p in st.phases:
            assert names[p.light] == expected_light(p.phase_id, tc), (t, p.phase_id)
            seen.add(p.light)
            # Fixed time: the end is known exactly, and the light holds until it.
            assert p.min_end_s == p.max_end_s == p.likely_end_s > 0
            assert p.start_s <= 0
            end_tc = (tc + p.likely_end_s) % CYCLE
            after = expected_light(p.phase_id, (end_tc + 0.05) % CYCLE)
            before = expected_light(p.phase_id, (end_tc - 0.05) % CYCLE)
            assert before == names[p.light] and after != before, (t, p.phase_id)
            # The next green starts at next_start_s and lasts next_duration_s.
            nxt = (tc + p.next_start_s) % CYCLE
            assert expected_light(p.phase_id, (nxt + 0.05) % CYCLE) == 'green'
            assert expected_light(p.phase_id, (nxt - 0.05) % CYCLE) != 'green'
            assert p.next_start_s > 0
            green_end = (nxt + p.next_duration_s - 0.05) % CYCLE
            assert expected_light(p.phase_id, green_end) in ('green', 'flashing')
    assert seen == {3, 4, 6, 7}


def test_state_decodes_through_the_codec_spat():
    states = run_source({'plan_file': PLAN_FILE, 'region': 7}, 100.0)
    for st in states[::37]:
        data = uper.encode_frame(uper.MessageKind.SPAT, spat_from_intersections([st], msg_count=3))
        frame = uper.decode_frame(data)
        assert frame.kind == uper.MessageKind.SPAT
        (back,) = intersections_from_spat(frame.value, m.to_ns(st.header.stamp))
        assert (back.region, back.intersection_id, back.status) == (7, 1, 32)
        assert abs(m.to_ns(back.header.stamp) - m.to_ns(st.header.stamp)) < 1_000_000
        assert len(back.phases) == len(st.phases)
        for a, b in zip(st.phases, back.phases, strict=True):
            assert (a.phase_id, a.light) == (b.phase_id, b.light)
            for f in ('min_end_s', 'max_end_s', 'likely_end_s', 'next_start_s', 'next_duration_s'):
                assert getattr(b, f) == pytest.approx(getattr(a, f), abs=0.051), f


def test_inline_plan_and_offset():
    plan = '{intersection_id: 9, offset_s: 10, stages: [{green_s: 20, vehicle_groups: [1]}, {green_s: 10, vehicle_groups: [2]}]}'  # noqa: E501
    states = run_source({'plan': plan}, 1.0)
    first = states[0]
    assert first.intersection_id == 9
    g1 = next(p for p in first.phases if p.phase_id == 1)
    # t = 0 is 30 s into the 40 s cycle offset by 10 s: stage 2 (green 25..35), so group 1
    # is red and next turns green at t = 10 s.
    t = m.to_ns(first.header.stamp) / 1e9
    assert g1.light == 3 and g1.next_start_s == pytest.approx(10.0 - t)
    assert g1.next_duration_s == pytest.approx(20.0)


@pytest.mark.parametrize(
    'params, match',
    [
        ({}, 'exactly one'),
        ({'plan_file': '/nonexistent/plan.yaml'}, 'plan_file /nonexistent/plan.yaml'),
        ({'plan': 'stages: [{green_s: -1, vehicle_groups: [1]}]'}, r'stages\[0\]'),
        ({'plan': '[1, 2'}, 'not YAML'),
        ({'plan': 'stages: [{vehicle_groups: [1]}]'}, 'green_s'),
    ],
)
def test_bad_plans_fail_at_start_naming_the_field(params, match):
    rt = EmbeddedRuntime(seed=1)
    with pytest.raises(ParameterError, match=match):
        rt.add_component(SignalPlanSource, name='plan', parameters=params)


def test_nan_never_reaches_the_light():
    states = run_source({'plan_file': PLAN_FILE}, 2.0)
    assert all(math.isfinite(p.likely_end_s) for s in states for p in s.phases)

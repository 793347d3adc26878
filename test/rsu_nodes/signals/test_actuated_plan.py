"""Actuated plan through SignalPlanSource: detector calls from tracked participants, whole
cycles, timing bounds that hold against what the lights then did, and SPAT through UPER."""

import itertools
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
PLAN_FILE = str(ROOT / 'config' / 'signals' / 'intersection_actuated.yaml')
STATE = 'v2x_stack/msg/IntersectionState'
ARRAY = 'v2x_stack/msg/ParticipantArray'
GREEN = {4, 5, 6}
EPS = 1e-6

# where the scripted road users stand (inside the example plan's zones, map frame)
EAST_THROUGH = (30.0, 7.0, 1)  # x, y, class (car)
EAST_LEFT = (25.0, 1.75, 1)
KERB_EAST = (13.5, 5.0, 5)  # pedestrian waiting to cross the east arm


def scene(t: float) -> list[tuple[float, float, int]]:
    """A platoon on stage A until 20 s, a left-turner waiting from 5 s until B has served it
    (29 s), a pedestrian at the east kerb from 40 to 55 s."""
    out = []
    if t < 20.0 - EPS:
        out.append(EAST_THROUGH)
    if 5.0 - EPS <= t < 29.0 - EPS:
        out.append(EAST_LEFT)
    if 40.0 - EPS <= t < 55.0 - EPS:
        out.append(KERB_EAST)
    return out


def array(t_ns: int, users: list[tuple[float, float, int]]) -> object:
    return m.new(
        ARRAY,
        header=m.header(t_ns, 'map'),
        participants=[
            m.new(
                'v2x_stack/msg/Participant',
                header=m.header(t_ns, 'map'),
                id=k + 1,
                participant_class=c,
                position=m.new('geometry_msgs/msg/Point', x=x, y=y, z=0.0),
            )
            for k, (x, y, c) in enumerate(users)
        ],
    )


def run(duration_s: float, scene_fn=scene, params: dict | None = None, silent_after_s=None):
    rt = EmbeddedRuntime(seed=1)
    node = rt.add_component(
        SignalPlanSource, name='plan', parameters={'plan_file': PLAN_FILE, **(params or {})}
    )
    for k in range(round(duration_s * 10)):
        t_ns = k * 100_000_000
        if silent_after_s is not None and t_ns >= silent_after_s * 1e9:
            break
        # just before the source's tick at the same instant, as a perception cycle would be
        rt.publish('/rsu/participants', array(t_ns, scene_fn(t_ns / 1e9)), at_ns=max(0, t_ns - 1))
    out: list = []
    rt.subscribe('/signals/state', STATE, out.append)
    rt.run(duration_s=duration_s)
    rt.close()
    return node, out


def transitions(states: list, group: int) -> list[tuple[float, int]]:
    """(instant, light) of every change of a group's light, the instant from start_s."""
    seen: list[tuple[float, int]] = []
    for st in states:
        p = next(p for p in st.phases if p.phase_id == group)
        if not seen or seen[-1][1] != p.light:
            seen.append((m.to_ns(st.header.stamp) / 1e9 + p.start_s, p.light))
    return seen


def greens(states: list, group: int) -> list[tuple[float, float]]:
    tr = transitions(states, group)
    out = []
    for (t0, light), nxt in zip(tr, [*tr[1:], None], strict=True):
        if light in GREEN:
            end = nxt[0] if nxt else math.inf
            if out and abs(out[-1][1] - t0) < EPS:  # walk then flashing: one green
                out[-1] = (out[-1][0], end)
            else:
                out.append((t0, end))
    return out


@pytest.fixture(scope='module')
def cycle():
    return run(80.0)


def test_calls_extend_skip_and_serve_through_whole_cycles(cycle):
    node, states = cycle
    assert all(st.status == 64 for st in states)  # traffic dependent
    t0 = m.to_ns(states[0].header.stamp) / 1e9  # the controller starts with stage A green

    def approx(got, want):
        assert len(got) == len(want), (got, want)
        for (a, b), (c, d) in zip(got, want, strict=True):
            assert a == pytest.approx(c, abs=EPS) and b == pytest.approx(d, abs=EPS), (got, want)

    # A (2, 3, 8, 9): extended by the platoon until 19.9 + 3 s passage (gap-out), then rests
    # on its min recall; its second green gaps out at min green; its third runs on.
    for g in (2, 3, 8, 9):
        approx(greens(states, g), [(t0, 22.9), (37.9, 47.9), (72.9, math.inf)])
    # B (1, 7): called by the waiting left-turner, min green 5 s (27.9 + 5)
    for g in (1, 7):
        approx(greens(states, g), [(27.9, 32.9)])
    # C (5, 6, 11, 12): skipped while uncalled, then served for the pedestrian: the walk
    # (7 + 8 s) sets its green; D (4, 10) is never called, never green
    for g in (5, 6, 11, 12):
        approx(greens(states, g), [(52.9, 67.9)])
    for g in (21, 23):
        assert transitions(states, g)[1:4] == [
            (pytest.approx(52.9), 6),
            (pytest.approx(59.9), 4),
            (pytest.approx(67.9), 3),
        ]
    for g in (4, 10, 22, 24):
        assert greens(states, g) == []
    assert node.ctx.diagnostics.counters['detectors_silent'] == 0


def test_timing_bounds_hold_against_what_the_lights_did(cycle):
    _, states = cycle
    groups = [p.phase_id for p in states[0].phases]
    checked = {'min': 0, 'max': 0, 'likely': 0}
    for g in groups:
        tr = transitions(states, g)
        ends = {round(a, 6): b for (a, _), (b, _) in itertools.pairwise(tr)}
        for st in states:
            t = m.to_ns(st.header.stamp) / 1e9
            p = next(p for p in st.phases if p.phase_id == g)
            start = round(t + p.start_s, 6)
            assert p.start_s <= EPS
            if start not in ends:
                continue  # the light still on at the end of the run
            actual = ends[start] - t
            if math.isfinite(p.min_end_s):
                assert p.min_end_s <= actual + EPS, (g, t, p)
                checked['min'] += 1
            if math.isfinite(p.max_end_s):
                assert actual <= p.max_end_s + EPS, (g, t, p)
                checked['max'] += 1
            if math.isfinite(p.likely_end_s):
                assert p.min_end_s - EPS <= p.likely_end_s, (g, t, p)
                if math.isfinite(p.max_end_s):
                    assert p.likely_end_s <= p.max_end_s + EPS, (g, t, p)
                checked['likely'] += 1
            if p.light == 7:  # yellow: the end is known exactly
                assert p.min_end_s == p.max_end_s == p.likely_end_s
                assert p.likely_end_s == pytest.approx(actual, abs=EPS)
    assert min(checked.values()) > 500


def test_timing_reflects_the_actuation(cycle):
    _, states = cycle

    def at(t, g):
        st = min(states, key=lambda s: abs(m.to_ns(s.header.stamp) / 1e9 - t))
        return next(p for p in st.phases if p.phase_id == g)

    # before the left-turner arrives nobody else calls: A rests, its max end is unknown
    a = at(3.0, 2)
    assert a.light == 6 and math.isnan(a.max_end_s) and math.isnan(a.likely_end_s)
    assert math.isnan(at(3.0, 1).max_end_s)  # B uncalled: may stay red for ever
    # during the platoon each car pushes the earliest end to 3 s (passage) after it, while
    # the max-out (40 s after the start) stays put
    for t in (12.0, 15.0, 18.0):
        p = at(t, 2)
        assert p.min_end_s == pytest.approx(3.0, abs=EPS)  # the car seen at t, plus 3 s
        assert t + p.max_end_s == pytest.approx(at(12.0, 2).max_end_s + 12.0, abs=EPS)
    # the waiting left-turner's red: earliest = A's earliest end + 5 s clearance
    b, a = at(15.0, 1), at(15.0, 2)
    assert b.light == 3 and b.min_end_s == pytest.approx(a.min_end_s + 5.0, abs=EPS)
    assert b.max_end_s == pytest.approx(a.max_end_s + 5.0, abs=EPS)
    assert b.next_start_s == b.likely_end_s and b.next_duration_s >= 5.0
    # the walk's flashing end is exact
    w = at(60.5, 21)
    assert w.light == 4 and w.min_end_s == w.max_end_s == pytest.approx(67.9 - 60.5, abs=EPS)


def test_actuated_state_through_uper_spat(cycle):
    _, states = cycle
    for st in (states[20], states[150], states[400]):
        data = uper.encode_frame(uper.MessageKind.SPAT, spat_from_intersections([st]))
        frame = uper.decode_frame(data)
        back = intersections_from_spat(frame.value, m.to_ns(st.header.stamp))[0]
        assert back.status == 64
        for a, b in zip(st.phases, back.phases, strict=True):
            assert (a.phase_id, a.light) == (b.phase_id, b.light)
            for f in ('min_end_s', 'max_end_s', 'likely_end_s', 'next_start_s'):
                va, vb = getattr(a, f), getattr(b, f)
                if math.isnan(va):
                    assert math.isnan(vb), (f, va, vb)
                else:
                    assert vb == pytest.approx(va, abs=0.051), (f, va, vb)


def test_failed_detectors_call_every_stage():
    node, states = run(70.0, silent_after_s=3.0)
    assert node.ctx.diagnostics.counters['detectors_silent'] == 1
    for g in (1, 5, 4):  # every stage is served at its minimum, D included
        assert greens(states, g), g


@pytest.mark.parametrize(
    'plan, match',
    [
        ("{mode: actuated, stages: [{min_green_s: 20, max_green_s: 10, vehicle_groups: [1]}]}",
         'stages\\[0\\]'),
        ("{mode: actuated, stages: [{min_green_s: 5, max_green_s: 10, vehicle_groups: [1], "
         "detectors: [nowhere]}]}", 'nowhere'),
        ("{mode: actuated, detector_zones: {z: {polygon_m: [0, 0, 1, 1]}}, stages: "
         "[{min_green_s: 5, max_green_s: 10, vehicle_groups: [1]}]}", 'detector_zones.z'),
        ("{mode: actuated, stages: [{min_green_s: 5, max_green_s: 10, vehicle_groups: [1], "
         "recall: often}]}", 'recall'),
        ("{mode: sometimes, stages: []}", 'mode'),
    ],
)  # fmt: skip
def test_bad_actuated_plan_fails_at_start(plan, match):
    rt = EmbeddedRuntime(seed=1)
    with pytest.raises(ParameterError, match=match):
        rt.add_component(SignalPlanSource, name='plan', parameters={'plan': plan})


def _controller(stage_a: str) -> object:
    from rsu_nodes.signals.actuated import ActuatedController
    from rsu_nodes.signals.actuated_plan import actuated_plan_from_dict

    plan = actuated_plan_from_dict(
        {
            'detector_zones': {
                'a': {'polygon_m': [0, 0, 10, 0, 10, 10, 0, 10]},
                'b': {'polygon_m': [20, 0, 30, 0, 30, 10, 20, 10]},
                'kerb': {'polygon_m': [40, 0, 50, 0, 50, 10, 40, 10], 'classes': ['pedestrian']},
            },
            'stages': [
                {
                    'min_green_s': 10,
                    'max_green_s': 30,
                    'passage_s': 3,
                    'vehicle_groups': [1],
                    'detectors': ['a'],
                    'pedestrian_groups': [21],
                    'walk_s': 6,
                    'ped_clearance_s': 6,
                    'ped_detectors': ['kerb'],
                    'recall': stage_a,
                },
                {
                    'min_green_s': 5,
                    'max_green_s': 20,
                    'passage_s': 2,
                    'vehicle_groups': [2],
                    'detectors': ['b'],
                },
            ],
        }
    )
    return ActuatedController(plan)


def test_late_walk_starts_at_once_when_it_fits_before_max_green():
    c = _controller('min')
    c.update(0.0, {})
    c.update(4.0, {'kerb': 1})  # pedestrian arrives during A's green: walk now (4 + 12 <= 30)
    c.update(4.1, {'b': 1})  # B calls: A may end, but not before the walk and its clearance
    s = c.state()
    assert s[21].light == 6 and s[21].start_s == pytest.approx(-0.1)  # walk from 4.0 s
    assert s[21].min_end_s == s[21].max_end_s == pytest.approx(10.0 - 4.1)
    assert s[1].min_end_s == pytest.approx(16.0 - 4.1)  # walk 4..10, flashing 10..16
    c.update(16.5, {})
    assert c.state()[1].light == 7  # gap-out at 16 (walk end), yellow


def test_max_recall_runs_to_max_green_and_states_it():
    c = _controller('max')
    c.update(0.0, {})
    c.update(1.0, {'b': 1})
    s = c.state()
    assert s[1].min_end_s == s[1].max_end_s == s[1].likely_end_s == pytest.approx(29.0)
    assert s[1].confidence == 1.0
    c.update(29.9, {})
    assert c.state()[1].light == 6
    c.update(30.1, {})
    assert c.state()[1].light == 7

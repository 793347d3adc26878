"""The report's cooperative-perception scores (sim_nodes/report/perception_eval.py) on object
lists with known truth, and the scenario checks that read them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim_nodes.report.checks import perception_checks
from sim_nodes.report.perception_eval import EvalConfig, PerceptionProbe, source_kinds
from sim_nodes.scenarios.schema import Expectation, PerceptionExpectation
from v2x_runtime import messages as m
from v2x_runtime.identity_memo import IdentityMemo

ARRAY = 'v2x_stack/msg/ParticipantArray'


def participant(name, x, y, vx=0.0, vy=0.0, *, ident=1, stamp_ns=0):
    return m.new(
        'v2x_stack/msg/Participant',
        header=m.header(stamp_ns, 'map'),
        id=ident,
        source_id=name,
        position=m.new('geometry_msgs/msg/Point', x=float(x), y=float(y), z=0.0),
        velocity=m.new('geometry_msgs/msg/Vector3', x=float(vx), y=float(vy), z=0.0),
    )


def array(parts, stamp_ns, frame='map'):
    return m.new(ARRAY, header=m.header(stamp_ns, frame), participants=parts)


TRUTH = {'ego': (0.0, 0.0, 0.0), 'car': (20.0, 0.0, -5.0), 'ped': (10.0, 8.0, 0.0)}
FAR = ('far', 150.0, 0.0)  # beyond the 60 m radius: not scored, but a target may be seen there


def truth(t_ns, extra=()):
    rows = [(n, x + vx * t_ns / 1e9, y, vx) for n, (x, y, vx) in TRUTH.items()]
    rows += [(n, x, y, 0.0) for n, x, y in extra]
    return array([participant(n, x, y, vx) for n, x, y, vx in rows], t_ns)


def probe_with(sources, targets=()):
    probe = PerceptionProbe(EvalConfig(), targets=targets)
    from sim_nodes.report.perception_eval import _Vehicle

    probe.vehicles['ego'] = _Vehicle(sources=list(sources))
    return probe


def run(probe, lists, cycles=20, extra=()):
    """``lists(source, t_ns)`` -> participants of that source at t (published before fused)."""
    for k in range(cycles):
        t = (k + 10) * 100_000_000  # from 1 s on
        probe.on_truth(truth(t, extra))
        for source in probe.vehicles['ego'].sources:
            probe.on_source('ego', source, array(lists(source, t), t))
    return probe.metrics()


def exact(source, t):
    out = []
    for i, (name, (x, y, vx)) in enumerate(TRUTH.items()):
        if name != 'ego':
            out.append(participant(f'{source}{i}', x + vx * t / 1e9, y, vx, ident=i, stamp_ns=t))
    return out


def test_a_perfect_list_scores_one_everywhere():
    section = run(probe_with(['fused']), exact)
    fused = section['sources']['fused']
    assert fused['precision'] == fused['recall'] == fused['mota'] == fused['idf1'] == 1.0
    assert fused['position_rmse_m'] == pytest.approx(0.0, abs=1e-6)
    assert fused['velocity_rmse_mps'] == pytest.approx(0.0, abs=1e-6)
    assert fused['true_positives'] == 2 * 20 and fused['misses'] == fused['false_positives'] == 0


def test_errors_misses_false_positives_and_duplicates_are_counted():
    def lists(source, t):
        if source == 'onboard':  # only the car, 1 m off and 1 m/s too slow
            return [participant('', 21.0 - 5.0 * t / 1e9, 0.0, -4.0, ident=3, stamp_ns=t)]
        parts = exact(source, t)
        parts.append(participant('x', 40.0, -30.0, ident=9, stamp_ns=t))  # a ghost
        parts.append(participant('x', 10.5, 8.0, ident=8, stamp_ns=t))  # the ped twice
        parts.append(participant('x', 0.5, 0.0, ident=7, stamp_ns=t))  # the ego: left out
        return parts

    section = run(probe_with(['onboard', 'fused']), lists)
    onboard, fused = section['sources']['onboard'], section['sources']['fused']
    assert onboard['recall'] == 0.5 and onboard['precision'] == 1.0
    assert onboard['position_rmse_m'] == pytest.approx(1.0, abs=1e-6)
    assert onboard['velocity_rmse_mps'] == pytest.approx(1.0, abs=1e-6)
    assert fused['recall'] == 1.0
    assert fused['false_positives'] == 2 * 20  # the ghost and the second ped
    assert fused['precision'] == pytest.approx(0.5)
    assert fused['duplicates'] == 20
    assert fused['mota'] == pytest.approx(1.0 - 40 / 40)


def test_stale_reports_are_dropped_and_fresh_ones_predicted_to_the_instant():
    def lists(source, t):  # the car's report is 0.3 s old: predicted by its velocity
        return [participant('c', 20.0 - 5.0 * (t / 1e9 - 0.3), 0.0, -5.0, stamp_ns=t - 300_000_000)]

    fused = run(probe_with(['fused']), lists)['sources']['fused']
    assert fused['position_rmse_m'] == pytest.approx(0.0, abs=1e-6)

    def old(source, t):
        return [participant('c', 20.0, 0.0, stamp_ns=t - 600_000_000)]

    late = run(probe_with(['fused']), old)['sources']['fused']
    assert late['true_positives'] == 0 and late['misses'] == 2 * 20


def test_targets_are_followed_at_any_distance_with_their_source_kinds():
    def lists(source, t):
        if source == 'onboard':
            return [participant('', 150.0, 0.0, stamp_ns=t)] if t >= 2_000_000_000 else []
        label = 'onboard+rsu:a1+v2v:0b' if t >= 2_000_000_000 else 'rsu:a1'
        return [participant(label, 150.0, 0.5, ident=1, stamp_ns=t)]

    probe = probe_with(['onboard', 'fused'], targets=['far'])
    section = run(probe, lists, extra=[FAR])
    target = section['targets']['ego']['far']
    assert target['first_seen_s'] == {'fused': 1.0, 'onboard': 2.0}
    assert target['fused_max_source_kinds'] == 3 and target['fused_duplicates'] == 0
    assert section['sources']['fused']['false_positives'] == 0  # outside the radius


def test_lists_not_in_the_map_frame_are_not_scored():
    probe = probe_with(['fused'])
    probe.on_truth(truth(10**9))
    probe.on_source('ego', 'fused', array([], 10**9, frame='base_link'))
    assert probe.metrics()['sources'] == {}


def test_source_kinds_of_a_fused_label():
    assert source_kinds('onboard+rsu:rsu1+v2v:00000001') == {'onboard', 'rsu', 'v2v'}
    assert source_kinds('v2v:a+v2v:b') == {'v2v'}


def _section(first, kinds=3, duplicates=0, sources=('onboard', 'fused')):
    return {
        'sources': {s: {'recall': 0.9} for s in sources},
        'targets': {
            'ego': {
                'ped': {
                    'first_seen_s': first,
                    'fused_duplicates': duplicates,
                    'fused_max_source_kinds': kinds,
                }
            }
        },
    }


@pytest.mark.parametrize(
    ('first', 'status'),
    [
        ({'fused': 1.0, 'onboard': 3.0}, 'pass'),
        ({'fused': 1.0, 'onboard': 2.0}, 'fail'),
        ({'onboard': 2.0}, 'fail'),
        ({'fused': 1.0}, 'pass'),  # the lidar never saw it in the run
    ],
)
def test_lead_check(first, status):
    expect = Expectation(perception=(PerceptionExpectation('ego', 'ped', min_lead_time_s=1.5),))
    (check,) = perception_checks(expect, _section(first))
    assert check.status == status, check


def test_duplicate_and_source_checks_and_na_without_a_fusing_vehicle():
    q = PerceptionExpectation('ego', 'ped', max_duplicates=0, min_source_kinds=3)
    expect = Expectation(perception=(q,))
    assert [c.status for c in perception_checks(expect, _section({}, 3, 0))] == ['pass', 'pass']
    assert [c.status for c in perception_checks(expect, _section({}, 2, 4))] == ['fail', 'fail']
    assert [c.status for c in perception_checks(expect, None)] == ['n/a']
    bounds = Expectation(min_fused_recall=0.95)
    assert perception_checks(bounds, {'sources': {}})[0].status == 'n/a'
    assert perception_checks(bounds, _section({}))[0].status == 'fail'  # 0.9 < 0.95
    good = {'sources': {'fused': {'recall': 0.97}}}
    assert perception_checks(bounds, good)[0].status == 'pass'
    assert not math.isnan(good['sources']['fused']['recall'])


def test_sweep_page_lists_every_combination_and_source(tmp_path):
    from sim_nodes.report.sweep import write_sweep_report

    def metrics(recall):
        scores = {k: 0.5 for k in ('precision', 'position_rmse_m', 'velocity_rmse_mps', 'mota')}
        scores['idf1'] = None
        return {
            'v2x': {'packet_delivery_ratio': 0.9},
            'cooperative_perception': {
                'sources': {s: {**scores, 'recall': recall} for s in ('onboard', 'fused')}
            },
        }

    variants = [
        ({'channel.extra_loss': 0.0}, metrics(0.9)),
        ({'channel.extra_loss': 0.2}, metrics(0.8)),
    ]
    page = write_sweep_report('perception/x', variants, tmp_path / 'sweep')
    rows = json.loads((tmp_path / 'sweep' / 'sweep.json').read_text())['rows']
    assert [(r['settings']['channel.extra_loss'], r['source'], r['recall']) for r in rows] == [
        (0.0, 'onboard', 0.9),
        (0.0, 'fused', 0.9),
        (0.2, 'onboard', 0.8),
        (0.2, 'fused', 0.8),
    ]
    text = page.read_text()
    assert 'data:image/png;base64,' in text and 'extra_loss=0.2' in text


def test_a_second_fused_object_is_a_duplicate_or_a_split_by_one_source():
    def lists(source, t):
        main = participant('onboard+rsu:a1', 150.0, 0.2, ident=1, stamp_ns=t)
        if t < 2_000_000_000:  # one source twice: the onboard tracker split the road user
            return [main, participant('onboard', 151.0, 0.0, ident=2, stamp_ns=t)]
        return [main, participant('v2v:0b', 150.5, -0.5, ident=3, stamp_ns=t)]  # not associated

    section = run(probe_with(['fused'], targets=['far']), lists, extra=[FAR])
    target = section['targets']['ego']['far']
    assert target['fused_split_by_a_source'] == 10 and target['fused_duplicates'] == 10


def test_run_all_with_sweeps_writes_the_sweep_page(tmp_path):
    from sim_nodes.runner import run_all

    scenario = tmp_path / 'tiny.yaml'
    scenario.write_text(
        'duration_s: 0.3\nmap: {kind: four_arm, buildings: false}\n'
        'vehicles: [{name: a, route: [south_in_1]}]\n'
        'sweeps: {channel.extra_loss: [0.0, 0.2]}\n'
    )
    results = run_all([str(scenario)], out_dir=tmp_path / 'out', sweeps=True, progress=False)
    assert len(results) == 2
    page = next((tmp_path / 'out').glob('*_sweep/sweep.html'))
    assert 'No car stack fused' in page.read_text()  # no connected car: nothing to compare
    assert json.loads((page.parent / 'sweep.json').read_text())['rows'] == []


def test_the_html_report_has_a_table_per_source():
    from sim_nodes.report.html import _perception_table

    section = run(probe_with(['onboard', 'fused']), exact)
    text = '\n'.join(_perception_table(section))
    assert text.index('<td>onboard</td>') < text.index('<td>fused</td>')
    assert '<th>IDF1</th>' in text and '<td>1.0</td>' in text
    assert _perception_table(None) == []


def _solver_matches(dist, gate):
    """The assignment as the probe made it before its shortcut: always the solver."""
    from scipy.optimize import linear_sum_assignment

    cost = np.where(dist <= gate, dist, 1e6)
    r, c = linear_sum_assignment(cost)
    return [(i, j) for i, j in zip(r.tolist(), c.tolist(), strict=True) if cost[i, j] < 1e6]


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 7),
    st.integers(0, 7),
    st.integers(0, 2**32 - 1),
    st.floats(0.5, 30.0),
)
def test_assign_equals_the_solver(n_truth, n_objects, seed, spread):
    """Random road users and objects (sparse and crowded): the shortcut for disjoint gate
    entries gives the solver's matches in the solver's order."""
    from sim_nodes.report.perception_eval import _assign, _assign_rest

    rng = np.random.default_rng(seed)
    gt = rng.uniform(-spread, spread, (n_truth, 2))
    objs = rng.uniform(-spread, spread, (n_objects, 2))
    diff = gt[:, None, :] - objs[None, :, :]
    dist = np.sqrt(np.add.reduce(diff * diff, axis=-1))
    gated = dist <= 2.0
    matches, disjoint = _assign(dist, gated)
    assert disjoint == bool((gated.sum(axis=1) <= 1).all() and (gated.sum(axis=0) <= 1).all())
    if not disjoint:
        matches, _ = _assign_rest(dist, gated)
    assert matches == _solver_matches(dist, 2.0)


def _frames(probe):
    return [
        (s, list(f.gt_ids), f.gt_xy.tolist(), list(f.track_ids), np.asarray(f.track_xy).tolist())
        for v in probe.vehicles.values()
        for s, score in v.scores.items()
        for f in score.frames
    ]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12))
def test_scoring_in_arrays_equals_scoring_instant_by_instant(seed, crowd):
    """Random road users and lists (near and far, crowded within a gate, stale, non-finite
    positions and velocities, two RSUs' roadside lists, a vehicle leaving the truth): the
    run's instants scored as arrays after the run give the counts, error sums and MOT frames
    of scoring them one by one, and so do batches cut short by ``max_pending`` during it."""
    rng = np.random.default_rng(seed)
    sources = ['onboard', 'roadside', 'v2v', 'fused']
    batch, single, chunked = probe_with(sources), probe_with(sources), probe_with(sources)
    chunked.max_pending = 1 + seed % 4
    users = rng.uniform(-70.0, 70.0, (crowd, 2))
    for k in range(15):
        t = (k + 10) * 100_000_000
        ego = [] if k == 7 else [participant('ego', 0.0, 0.0, 1.0)]  # ego out of the truth once
        people = [
            participant(f'u{i}', x, y, *rng.normal(0, 2, 2)) for i, (x, y) in enumerate(users)
        ]
        msgs = [array(ego + people, t)]
        for source in sources:
            for rsu in ('rsu1', 'rsu2') if source == 'roadside' else ('',):
                n = int(rng.integers(0, crowd + 3))
                near = users[rng.integers(0, crowd, n)] + rng.normal(0, 1.2, (n, 2))
                values = np.column_stack([near, rng.normal(0, 3, (n, 2))])
                values[rng.random((n, 4)) < 0.05] = np.nan
                values[rng.random((n, 4)) < 0.02] = np.inf
                stamps = t - rng.integers(0, 9, n) * 100_000_000  # some older than max_age_s
                label = f'{rsu or source}'
                parts = [
                    participant(label, x, y, vx, vy, ident=int(i), stamp_ns=int(s))
                    for i, ((x, y, vx, vy), s) in enumerate(zip(values, stamps, strict=True))
                ]
                msgs.append((source, array(parts, t)))
        for probe in (batch, single, chunked):
            probe.on_truth(msgs[0])
            for source, msg in msgs[1:]:
                probe.on_source('ego', source, msg)
    pending, single._pending = single._pending, []
    for instant in pending:
        single.score(instant)
    assert batch.metrics() == single.metrics() == chunked.metrics()
    assert _frames(batch) == _frames(single) == _frames(chunked)
    assert _sums(batch) == _sums(single) == _sums(chunked)  # the unrounded sums, bit for bit


def _sums(probe):
    return [
        (s, score.instants, score.tp, score.fp, score.fn, score.duplicates, score.vel_n,
         score.pos_sq.hex(), score.vel_sq.hex())
        for v in probe.vehicles.values()
        for s, score in v.scores.items()
    ]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_participants_read_once_give_the_rows_of_reading_each_list(seed, bound):
    """Lists sharing participant objects (as the cars' receivers share them), with NaN and
    infinite fields, read through the bounded table of participants already read (emptied
    when full): the same rows, ids and labels as reading each list on its own."""
    from sim_nodes.report import perception_eval as pe

    rng = np.random.default_rng(seed)
    pool = [
        participant(f'v2v:{i:x}', *rng.choice([0.5, -3.0, np.nan, np.inf], 4), ident=i,
                    stamp_ns=int(rng.integers(0, 10**10)))
        for i in range(8)
    ]  # fmt: skip
    reads = IdentityMemo(bound)
    for _ in range(12):
        parts = [pool[i] for i in rng.integers(0, len(pool), int(rng.integers(0, 7)))]
        msg = array(parts, 0)
        got, want = pe.objects_of(msg, reads), pe.objects_of(msg)
        assert len(reads) <= bound
        np.testing.assert_array_equal(got.rows, want.rows)
        assert got.ids == want.ids and got.labels == want.labels

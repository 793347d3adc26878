"""The runner: determinism, bag and report, stacks with V2X traffic and warnings, component
failures, Ctrl-C."""

import json
import pickle

import pytest
import yaml

from sim_nodes.errors import RunError, ScenarioError
from sim_nodes.runner import plan_runs, run_all, run_scenario, summary_table
from sim_nodes.stacks import StackReport, read_topology
from v2x_runtime import messages as m
from v2x_runtime.bag import BagReadReport, read_bag


def topology(tmp_path, components, name='car_test.yaml'):
    data = {'description': 'test stack', 'processes': {'main': {'components': components}}}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_same_seed_gives_identical_metrics_and_bag(tmp_path):
    runs = [
        run_scenario('default', out_dir=tmp_path / f'run{i}', progress=False, duration_s=5.0)
        for i in range(2)
    ]
    a, b = (dict(r.metrics) for r in runs)
    a.pop('timing')
    b.pop('timing')
    assert a == b
    bags = [_bag_content(r.bag) for r in runs]
    assert bags[0] == bags[1]
    other = run_scenario(
        'default', out_dir=tmp_path / 'other', progress=False, duration_s=5.0, seed=7
    )
    assert _bag_content(other.bag) != bags[0]


def _bag_content(bag):
    """Every record (topic, stamp, bytes); in diagnostics the wall-clock processing times some
    components report (``*_ms``: the lidar detector's step times) are left out, the only
    part of a run that is not a function of scenario and seed."""
    out = []
    for rec in read_bag(bag):
        data = rec.data
        if rec.topic.endswith('/diagnostics'):
            msg = m.deserialize(data, 'diagnostic_msgs/msg/DiagnosticArray')
            data = [
                (st.name, st.level, st.message, [(kv.key, kv.value) for kv in st.values
                                                 if not kv.key.split('.')[0].endswith('_ms')])
                for st in msg.status
            ]  # fmt: skip
        out.append((rec.topic, rec.stamp_ns, data))
    return out


def test_bag_report_and_metrics_files(tmp_path):
    result = run_scenario('default', out_dir=tmp_path / 'r', progress=False, duration_s=6.0)
    report = BagReadReport(result.bag)
    topics = {rec.topic for rec in read_bag(result.bag, report)}
    assert report.errors == []
    assert {'/sim/ground_truth', '/sim/signals', '/sim/markers', '/sim/map_markers'} <= topics
    assert '/car_a/localization/gnss/fix' in topics and '/car_a/imu/data' in topics
    assert '/rsu_1/lidar/points' not in topics  # lidar is recorded only when asked
    assert '/car_a/control/gated_command' not in topics  # 20 Hz per car, not actuated
    # between the stack's own components only: left out unless asked (record_internal)
    assert '/car_a/localization/odometry' not in topics and '/car_a/v2x/spat' not in topics
    assert {'/car_a/v2x/rx', '/car_a/v2x/tx', '/car_a/hmi/active_warning'} <= topics
    metrics = json.loads((tmp_path / 'r' / 'metrics.json').read_text())
    assert metrics['scenario'] == 'default' and metrics['simulated_s'] == 6.0
    assert metrics['positioning']['gnss_fix_error_m']['n'] > 50
    html = (tmp_path / 'r' / 'report.html').read_text()
    assert 'Trajectories' in html and 'data:image/png;base64,' in html
    cpu = metrics['timing']['cpu']  # where the time went, per component type and namespace
    kinds = {row['kind'] for row in cpu['by_type']}
    assert {'WorldComponent', 'RadioChannel', 'BagRecorder'} <= kinds
    assert '/car_a' in {row['namespace'] for row in cpu['by_namespace']}
    assert 'CPU time' in html


def test_lidar_and_internal_topics_recorded_when_asked(tmp_path):
    result = run_scenario(
        'default',
        out_dir=tmp_path / 'l',
        progress=False,
        duration_s=1.0,
        sets={'record_lidar': True, 'record_internal': True},
    )
    records = list(read_bag(result.bag))
    clouds = [r for r in records if r.topic == '/rsu_1/lidar/points']
    assert len(clouds) == 10
    assert '/car_a/localization/odometry' in {r.topic for r in records}


def test_stacks_exchange_v2x_frames_through_the_channel(tmp_path):
    car = topology(tmp_path, {'beacon': {'plugin': 'sim_test_components:Beacon'}})
    result = run_scenario(
        'default',
        out_dir=tmp_path / 'v',
        progress=False,
        duration_s=10.0,
        sets={'car_topology': car},
    )
    v2x = result.metrics['v2x']
    assert v2x['attempts'] > 500
    assert 0.9 < v2x['packet_delivery_ratio'] <= 1.0  # everyone is within 300 m
    assert 15 < v2x['latency_ms']['p50'] < 25
    rsu = len(read_topology('sim_rsu', StackReport()).components())
    assert result.metrics['stacks']['built'] == result.metrics['actors']['connected'] + rsu


def test_warnings_are_timed_against_the_conflict(tmp_path):
    car = topology(
        tmp_path,
        {'fcw': {'plugin': 'sim_test_components:ProximityWarner', 'parameters': {'range_m': 30.0}}},
    )
    result = run_scenario(
        'applications/fcw_stopped_vehicle',
        out_dir=tmp_path / 'w',
        progress=False,
        sets={'car_topology': car},
    )
    first = {(f['vehicle'], f['application']): f for f in result.metrics['warnings']['first']}
    follower = first['follower', 'FCW']
    assert follower['conflict_t_s'] == pytest.approx(10.0, abs=0.15)  # the collision
    assert follower['lead_time_s'] == pytest.approx(10.0 - follower['first_t_s'])
    markers = [r for r in read_bag(result.bag) if r.topic == '/sim/warning_markers']
    texts = {
        mk.text
        for r in markers
        for mk in m.deserialize(r.data, 'visualization_msgs/msg/MarkerArray').markers
    }
    assert 'FCW' in texts  # the warnings are drawn above the vehicle in the bag
    check = next(c for c in result.checks if c.name.startswith('warning FCW'))
    assert check.status == ('pass' if follower['lead_time_s'] >= 2.7 else 'fail')
    benign = run_scenario(
        'applications/fcw_stopped_vehicle_benign',
        out_dir=tmp_path / 'b',
        progress=False,
        sets={'car_topology': car, 'vehicles[0].start_m': 60},
    )
    assert benign.metrics['warnings']['count'] == 0
    assert [c.status for c in benign.checks] == ['pass', 'pass']


def test_a_failing_component_is_reported_and_the_run_completes(tmp_path, capsys):
    car = topology(
        tmp_path,
        {
            'boom': {'plugin': 'sim_test_components:Boom', 'parameters': {'after_s': 2.0}},
            'missing': {'plugin': 'no_such_area.module:Thing'},
        },
    )
    result = run_scenario(
        'default',
        out_dir=tmp_path / 'f',
        progress=False,
        duration_s=5.0,
        sets={'car_topology': car},
    )
    assert result.metrics['simulated_s'] == 5.0 and not result.interrupted
    failures = result.metrics['failures']
    assert failures and all('/boom' in f['component'] for f in failures)
    assert (
        sum(f['count'] for f in failures) == 7 * result.metrics['actors']['connected']
    )  # ticks at 2.0, 2.5, ... 5.0 s
    assert 'boom: simulated component failure' in failures[0]['message']
    # the components' log lines go to <out>/sim.log, counted in the metrics, not to the console
    log = (tmp_path / 'f' / 'sim.log').read_text()
    assert log.count('/boom: handler raised') == sum(f['count'] for f in failures)
    assert result.metrics['log']['lines']['ERROR'] == sum(f['count'] for f in failures)
    assert 'simulated component failure' not in capsys.readouterr().err
    assert any('no_such_area' in s for s in result.metrics['stacks']['skipped'])
    html = (tmp_path / 'f' / 'report.html').read_text()
    assert 'Component failures' in html


def test_ctrl_c_leaves_a_readable_bag_and_a_partial_report(tmp_path):
    car = topology(
        tmp_path,
        {'stop': {'plugin': 'sim_test_components:Interrupter', 'parameters': {'at_s': 3.0}}},
    )
    result = run_scenario(
        'default',
        out_dir=tmp_path / 'c',
        progress=False,
        sets={
            'car_topology': car,
            'traffic.connected_ratio': 0.0,
            'vehicles[1].connected': False,
            'vehicles[2].connected': False,
            'rsus[0].stack': False,  # (for speed)
        },
    )
    assert result.interrupted and not result.passed
    assert 3.0 <= result.metrics['simulated_s'] < 3.5
    report = BagReadReport(result.bag)
    stamps = [r.stamp_ns for r in read_bag(result.bag, report)]
    assert report.errors == [] and max(stamps) >= 3.0e9
    assert 'Interrupted at' in (tmp_path / 'c' / 'report.html').read_text()
    assert json.loads((tmp_path / 'c' / 'metrics.json').read_text())['interrupted'] is True


def test_run_all_with_sweeps_and_summary(tmp_path):
    scenario = tmp_path / 'sweep.yaml'
    scenario.write_text(
        yaml.safe_dump(
            {
                'duration_s': 2.0,
                'traffic': {'count': 3},
                'sweeps': {'channel.extra_loss': [0.0, 0.2], 'traffic.connected_ratio': [0.0, 1.0]},
            }
        )
    )
    results = run_all([str(scenario)], out_dir=tmp_path / 'out', sweeps=True, progress=False)
    assert len(results) == 4
    assert [r.metrics['actors']['connected'] for r in results] == [0, 3, 0, 3]
    table = summary_table(results)
    assert f'{scenario}[channel.extra_loss=0.2][traffic.connected_ratio=1.0]' in table
    assert table.count('pass') == 4
    assert len({r.out_dir for r in results}) == 4


def _sweep_scenario(tmp_path, duration_s=2.0, **extra):
    scenario = tmp_path / 'sweep.yaml'
    data = {
        'duration_s': duration_s,
        'traffic': {'connected_ratio': 1.0},
        'sweeps': {'traffic.count': [1, 2, 3, 4]},
        **extra,
    }
    scenario.write_text(yaml.safe_dump(data))
    return str(scenario)


def test_runs_in_parallel_give_what_the_same_runs_give_one_after_the_other(tmp_path):
    scenario = _sweep_scenario(tmp_path)
    serial = run_all([scenario], out_dir=tmp_path / 'one', sweeps=True, progress=False)
    pooled = run_all([scenario], out_dir=tmp_path / 'two', sweeps=True, progress=False, jobs=2)
    assert [r.scenario for r in pooled] == [r.scenario for r in serial]
    assert [r.out_dir.name for r in pooled] == [r.out_dir.name for r in serial]
    for a, b in zip(serial, pooled, strict=True):
        ma, mb = dict(a.metrics), dict(b.metrics)
        ma.pop('timing')
        mb.pop('timing')
        assert ma == mb
        assert _bag_content(a.bag) == _bag_content(b.bag)
    # the variants differ (else the comparison above could not tell them apart)
    assert [r.metrics['actors']['vehicles'] for r in serial] == [1, 2, 3, 4]
    assert (tmp_path / 'two' / f'{scenario.replace("/", "__")}_sweep' / 'sweep.html').exists()


def test_the_plan_carries_each_run_s_scenario_loaded_once(tmp_path):
    scenario = _sweep_scenario(tmp_path)
    (group,) = plan_runs([scenario], out_dir=tmp_path / 'out', sweeps=True)
    # each variant's own scenario, which a pool worker gets whole
    assert [run.scenario.traffic.count for run in group] == [1, 2, 3, 4]
    assert [pickle.loads(pickle.dumps(run)) for run in group] == group
    (alone,) = plan_runs([scenario], out_dir=tmp_path / 'out', sets={'traffic.count': 2})
    assert [run.sets for run in alone] == [{'traffic.count': 2}]
    assert alone[0].scenario.traffic.count == 2


def test_an_invalid_sweep_value_fails_the_batch_before_any_run(tmp_path):
    scenario = tmp_path / 'bad_sweep.yaml'
    scenario.write_text(yaml.safe_dump({'duration_s': 2.0, 'sweeps': {'traffic.count': [1, -1]}}))
    out = tmp_path / 'out'
    with pytest.raises(ScenarioError, match='traffic.count'):
        run_all([str(scenario)], out_dir=out, sweeps=True, progress=False)
    assert not out.exists()  # the valid first variant did not run either


@pytest.mark.parametrize('jobs', [1, 2])
def test_ctrl_c_ends_a_batch_with_partial_reports(tmp_path, jobs):
    car = topology(
        tmp_path,
        {'stop': {'plugin': 'sim_test_components:Interrupter', 'parameters': {'at_s': 1.0}}},
    )
    scenario = _sweep_scenario(tmp_path, duration_s=30.0, car_topology=car)
    out = tmp_path / 'out'
    results = run_all([scenario], out_dir=out, sweeps=True, progress=False, jobs=jobs)
    # the runs that had started stopped at 1 s with their partial reports; no other started
    assert len(results) == jobs
    assert all(r.interrupted and r.metrics['simulated_s'] < 1.5 for r in results)
    assert all((r.out_dir / 'report.html').exists() for r in results)
    assert sorted(p.name for p in out.iterdir()) == sorted(r.out_dir.name for r in results)


def test_jobs_must_be_positive(tmp_path):
    with pytest.raises(RunError, match='jobs must be >= 1, got 0'):
        run_all(['default'], out_dir=tmp_path, jobs=0)


def test_a_scenario_error_crosses_a_process_boundary_whole():
    err = ScenarioError('a.yaml', 'traffic.count', 'an integer >= 0', -1)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is ScenarioError and str(back) == str(err) and back.path == 'traffic.count'


def test_fused_positioning_of_the_car_stack_is_scored(tmp_path):
    pytest.importorskip('vehicle_nodes.fusion.node', reason='the positioning area is not here')
    car = topology(
        tmp_path,
        {
            'localization': {
                'plugin': 'vehicle_nodes.fusion.node:LocalizationFilter',
                'parameters': {
                    'origin_lat_deg': 31.2304,
                    'origin_lon_deg': 121.4737,
                    'origin_alt_m': 10.0,
                },
            }
        },
    )
    result = run_scenario(
        'default',
        out_dir=tmp_path / 'p',
        progress=False,
        duration_s=10.0,
        sets={'car_topology': car, 'gnss.multipath_rate_per_min': 0.0},
    )
    pos = result.metrics['positioning']
    assert '/car_a/localization/odometry' in pos['fused_topics']
    assert pos['fused_error_m']['n'] > 100
    # the comparison is in the right frame and time (a mix-up would be tens of metres off);
    # the filter's own accuracy is the positioning area's business
    assert pos['fused_error_m']['p50'] < 2.0
    assert result.metrics['failures'] == []

"""``v2x-stack sim`` and ``v2x-stack scenarios list`` through the project's CLI entry point."""

import json

from v2x_runtime.cli import main


def test_scenarios_list(capsys):
    assert main(['scenarios', 'list']) == 0
    out = capsys.readouterr().out
    assert 'default ' in out and 'physics/red_light_runner' in out
    assert 'INVALID' not in out


def test_sim_writes_bag_metrics_and_report(tmp_path, capsys):
    rc = main(
        [
            'sim',
            'physics/red_light_runner',
            '--seed',
            '3',
            '--duration',
            '3',
            '--set',
            'traffic.count=2',
            '--out',
            str(tmp_path),
            '--no-progress',
        ]
    )
    out = capsys.readouterr().out
    assert 'physics/red_light_runner' in out and 'report.html' in out
    run_dir = tmp_path / 'physics__red_light_runner'
    metrics = json.loads((run_dir / 'metrics.json').read_text())
    assert metrics['seed'] == 3 and metrics['actors']['vehicles'] == 4
    assert (run_dir / 'bag' / 'metadata.yaml').exists()
    assert rc == 1  # the runner has not reached the stop line in 3 s: the check fails


def test_bad_set_and_unknown_scenario_fail_cleanly(tmp_path, capsys):
    assert main(['sim', '--set', 'vehicles[0].speed_mps=fast', '--out', str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert 'default.yaml: vehicles[0].speed_mps: expected a number' in err
    assert main(['sim', 'no_such_scenario', '--out', str(tmp_path)]) == 2
    assert "no scenario 'no_such_scenario'" in capsys.readouterr().err

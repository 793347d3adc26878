"""The v2x-stack command line, run in-process on real files."""

from pathlib import Path

import pytest

from v2x_runtime import messages as m
from v2x_runtime.bag import read_bag
from v2x_runtime.cli import COMMAND_MODULES, _load_modules, main

DATA = Path(__file__).resolve().parents[1] / 'data' / 'replay'


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(['--help'])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for command in ('run', 'replay', 'check'):
        assert command in text
    for commands in COMMAND_MODULES.values():
        for command in commands:
            assert command in text


@pytest.mark.parametrize(('module', 'commands'), COMMAND_MODULES.items())
def test_a_command_loads_only_its_own_module(module, commands):
    for command in commands:
        loaded = _load_modules(['-v', command, '--help'])
        assert [mod.__name__ for mod in loaded] == [module]


def test_no_command_loads_every_module():
    assert [mod.__name__ for mod in _load_modules(['--help'])] == list(COMMAND_MODULES)
    assert [mod.__name__ for mod in _load_modules(['run', 'x.yaml'])] == list(COMMAND_MODULES)


def test_run_writes_a_bag_and_a_log(tmp_path, capsys):
    out = tmp_path / 'run'
    code = main(
        [
            'run',
            str(DATA / 'topology.yaml'),
            '--duration',
            '3',
            '--out',
            str(out),
            '--set',
            'scaler.gain=3',
        ]
    )
    assert code == 0
    assert 'ran 3 s simulated' in capsys.readouterr().out
    topics = {r.topic for r in read_bag(out / 'bag')}
    assert topics == {'/car1/diagnostics'}
    assert (out / 'run.log').exists()


def test_run_refuses_to_overwrite_a_bag(tmp_path, capsys):
    out = tmp_path / 'run'
    assert main(['run', str(DATA / 'topology.yaml'), '--duration', '1', '--out', str(out)]) == 0
    assert main(['run', str(DATA / 'topology.yaml'), '--duration', '1', '--out', str(out)]) == 2
    assert 'exists already' in capsys.readouterr().err


def test_replay_command(tmp_path, capsys):
    code = main(
        [
            'replay',
            str(DATA / 'input_bag'),
            '--config',
            str(DATA / 'topology.yaml'),
            '--out',
            str(tmp_path / 'out'),
        ]
    )
    assert code == 0
    assert 'replayed 5 messages' in capsys.readouterr().out
    outs = [
        m.deserialize(r.data, r.msgtype)
        for r in read_bag(tmp_path / 'out')
        if r.topic == '/car1/objects_out'
    ]
    assert len(outs) == 5


def test_check_lists_topics(capsys):
    assert main(['check', str(DATA / 'topology.yaml')]) == 0
    out = capsys.readouterr().out
    assert '/car1/objects_out [v2x_stack/msg/ParticipantArray] from /car1/scaler' in out


def test_errors_exit_2_with_the_reason(tmp_path, capsys):
    assert main(['check', str(tmp_path / 'missing.yaml')]) == 2
    assert 'missing.yaml: no such topology file' in capsys.readouterr().err
    assert (
        main(
            [
                'run',
                str(DATA / 'topology.yaml'),
                '--set',
                'scaler.gain=50',
                '--out',
                str(tmp_path / 'o'),
            ]
        )
        == 2
    )
    assert 'gain: 50.0 is outside' in capsys.readouterr().err

"""``v2x-stack codec encode|decode|types``: arguments, files, stdin, errors and exit codes."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from v2x_nodes.codec import cli

DATA = Path(__file__).resolve().parents[2] / 'data' / 'codec'
ROOT = Path(__file__).resolve().parents[3]


def run(argv: list[str], stdin: str = '') -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog='v2x-stack')
    cli.register(parser.add_subparsers(dest='command', required=True))
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(args, out=out, err=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


def hex_of(name: str) -> str:
    return (DATA / f'{name}.hex').read_text().strip()


def test_decode_argument_prints_jer() -> None:
    code, out, err = run(['codec', 'decode', hex_of('bsm_minimal')])
    assert code == 0 and not err
    assert json.loads(out) == json.loads((DATA / 'bsm_minimal.jer').read_text())


def test_encode_reads_file_and_stdin() -> None:
    code, out, _ = run(['codec', 'encode', str(DATA / 'spat_timing.jer')])
    assert (code, out.strip()) == (0, hex_of('spat_timing'))
    code, out, _ = run(['codec', 'encode'], stdin=(DATA / 'rsi_sign.jer').read_text())
    assert (code, out.strip()) == (0, hex_of('rsi_sign'))


def test_open_type_is_uppercase_hex_both_ways() -> None:
    code, out, _ = run(['codec', 'decode', hex_of('ssm_obstacle')])
    value = json.loads(out)['msgFrameExt']['value']
    assert code == 0 and value == value.upper() and len(value) % 2 == 0
    code, again, _ = run(['codec', 'encode', out.strip()])
    assert (code, again.strip()) == (0, hex_of('ssm_obstacle'))


def test_decode_many_lines_and_keep_going_after_a_bad_one() -> None:
    lines = f'{hex_of("rsm_one")}\nnot-hex\n\n{hex_of("map_lane")}\n00\n'
    code, out, err = run(['codec', 'decode'], stdin=lines)
    assert code == 2
    assert len(out.splitlines()) == 2
    assert 'line 2: not an even-length hex string' in err
    assert 'line 5: MessageFrame: field MessageFrame.bsmFrame: out of data' in err


def test_errors_name_field_and_constraint() -> None:
    code, _, err = run(['codec', 'encode', '--type', 'BasicSafetyMessage', '{"msgCnt": 300}'])
    assert code == 2 and 'BasicSafetyMessage' in err
    bad = json.loads((DATA / 'bsm_minimal.jer').read_text())
    bad['bsmFrame']['speed'] = 9000
    code, _, err = run(['codec', 'encode', json.dumps(bad)])
    assert code == 2
    assert (
        'MessageFrame.bsmFrame.speed: Expected an integer between 0 and 8191, but got 9000' in err
    )


def test_type_option_and_unknown_type() -> None:
    code, out, _ = run(['codec', 'encode', '--type', 'MsgCount', '5'])
    assert (code, out.strip()) == (0, '0A')
    code, out, _ = run(['codec', 'decode', '--type', 'MsgCount', '0A'])
    assert (code, out.strip()) == (0, '5')
    code, _, err = run(['codec', 'decode', '--type', 'Nope', '00'])
    assert code == 2 and "--type 'Nope' is not a type" in err
    code, _, err = run(['codec', 'decode', '/no/such/file'])
    assert code == 2 and 'cannot read /no/such/file' in err


def test_types_lists_the_message_set() -> None:
    code, out, _ = run(['codec', 'types'])
    names = out.split()
    assert code == 0 and {'MessageFrame', 'SensorSharingMsg', 'PositionOffsetLLV'} <= set(names)


def test_module_runs_as_a_process(tmp_path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), V2X_CODEC_CACHE_DIR=str(tmp_path))
    for _ in range(2):  # the second call compiles from the cache
        done = subprocess.run(
            [sys.executable, '-m', 'v2x_nodes.codec.cli', 'codec', 'decode', hex_of('rsm_two')],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == json.loads((DATA / 'rsm_two.jer').read_text())
    assert list(tmp_path.glob('csae-*.pickle'))


def test_wired_into_v2x_stack(capsys) -> None:
    from v2x_runtime.cli import main

    assert main(['codec', 'decode', hex_of('spat_minimal')]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(
        (DATA / 'spat_minimal.jer').read_text()
    )
    assert main(['codec', 'encode', '--type', 'MsgCount', '128']) == 2
    assert 'Expected an integer between 0 and 127, but got 128' in capsys.readouterr().err

"""Robustness sweep of the applications in the closed loop (slow): the scenarios of LTA, DNPW,
BSW, LCW, CLW, HLW, IVS, SLW with their twins under 20 % extra packet loss and 0.5 m
positioning noise, at a seed other than the files'; detection and false-alarm rates from the
batch report against the documented bounds (docs/applications.md). GLOSA has no warning: its
closed-loop outcome (no stop) is checked under the same conditions."""

import json

import pytest

from sim_nodes.robustness import (
    DEGRADED,
    MAX_FALSE_ALARM_RATE,
    MIN_DETECTION_RATE,
    robustness_sweep,
)
from sim_nodes.runner import run_scenario

PAIRS = [
    'lta_oncoming_through',
    'dnpw_oncoming_while_overtaking',
    'bsw_vehicle_in_blind_spot',
    'lcw_lane_change_into_closing_vehicle',
    'clw_vehicle_spins_ahead',
    'hlw_road_works_ahead',
    'ivs_sign_ahead',
    'slw_speeding_in_limit_zone',
]
# Hazard runs known to miss their lead time under these conditions (like a strict xfail: a fix
# fails this test until the entry goes). None now: IVS came at 8.9 s for the 9 s asked at seed
# 101 while the RSU sent RSI only when its 1 Hz feed published (the three broadcasts before
# the deadline were lost); the transmitter now repeats the active events at rsi_rate_hz.
KNOWN_LATE: list[str] = []


@pytest.mark.slow
def test_detection_and_false_alarm_rates_under_loss_and_noise(tmp_path):
    names = [f'applications/{p}{twin}' for p in PAIRS for twin in ('', '_benign')]
    summary = robustness_sweep(names, seeds=[101], out_dir=tmp_path)
    stored = json.loads((tmp_path / 'summary.json').read_text())
    assert stored['detection_rate'] == summary['detection_rate']
    assert 'Detection rate' in (tmp_path / 'summary.html').read_text()
    assert summary['expected'] == len(PAIRS) and summary['benign_runs'] == len(PAIRS)
    print(json.dumps({k: v for k, v in summary.items() if k != 'runs'}))
    assert summary['false_alarm_rate'] <= MAX_FALSE_ALARM_RATE, summary['runs']
    late = [r['run'] for r in summary['runs'] if not r['benign'] and r['detected'] < r['expected']]
    assert late == KNOWN_LATE, summary['runs']
    detected_but_known = summary['detected'] + len(KNOWN_LATE)
    assert detected_but_known / summary['expected'] >= MIN_DETECTION_RATE


@pytest.mark.slow
def test_glosa_follower_still_passes_on_green_under_loss_and_noise(tmp_path):
    result = run_scenario('applications/glosa_arrive_on_green', seed=101, sets=DEGRADED,
                          out_dir=tmp_path, progress=False)  # fmt: skip
    assert result.passed, [c for c in result.checks if c.status == 'fail']

"""GNSS error model: mode accuracy, outages, multipath jumps; sensors reach the vehicle topics."""

import numpy as np
import pytest

from sim_nodes.scenarios.schema import GnssConfig, Outage
from sim_nodes.sensors.gnss_model import MODES, GnssErrorModel


@pytest.mark.parametrize('mode', ['rtk_fixed', 'rtk_float', 'single'])
def test_error_spread_matches_the_mode(mode):
    model = GnssErrorModel(
        [f'v{i}' for i in range(400)], GnssConfig(mode=mode), np.random.default_rng(1)
    )
    samples = [model.sample(t * 0.1, 0.1)[0] for t in range(50)]
    err = np.concatenate(samples)
    sigma = MODES[mode].horizontal_sigma_m
    assert np.std(err[:, 0]) == pytest.approx(sigma, rel=0.15)
    assert np.std(err[:, 2]) == pytest.approx(MODES[mode].vertical_sigma_m, rel=0.15)


def test_errors_are_correlated_in_time():
    model = GnssErrorModel(['v'] * 1, GnssConfig(mode='single'), np.random.default_rng(2))
    a = np.array([model.sample(t * 0.1, 0.1)[0][0, 0] for t in range(2000)])
    assert np.corrcoef(a[:-1], a[1:])[0, 1] > 0.95


def test_outages_and_multipath_jumps():
    cfg = GnssConfig(
        outages=(Outage(2.0, 4.0, ('b',)),),
        multipath_rate_per_min=30.0,
        multipath_jump_m=5.0,
        multipath_duration_s=1.0,
    )
    model = GnssErrorModel(['a', 'b'], cfg, np.random.default_rng(3))
    avail, big = [], 0
    for k in range(600):
        err, ok = model.sample(k * 0.1, 0.1)
        avail.append(ok.copy())
        big += int((np.hypot(err[:, 0], err[:, 1]) > 4.0).sum())
    avail = np.array(avail)
    assert not avail[21:40, 1].any() and avail[21:40, 0].all() and avail[45:, 1].all()
    # 30 jumps per minute of 1 s each, per vehicle: about half of the time, with 5 m offsets
    assert 300 < big < 900

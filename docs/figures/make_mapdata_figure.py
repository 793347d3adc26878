"""Draw docs/figures/hdmap_mapdata_rlvw.png: the RLVW runner's stop line and signal group from
its HD map and from received MAP alone (run from the repository root; ~1 min of CPU).

python docs/figures/make_mapdata_figure.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib
import yaml

matplotlib.use('Agg')
import matplotlib.pyplot as plt

from sim_nodes.runner import run_scenario
from v2x_runtime import messages as m
from v2x_runtime.bag import read_bag
from v2x_runtime.resources import config_dir

OUT = Path(__file__).resolve().parent
SCENARIO = 'applications/rlvw_red_light_runner'


def _run(out: Path, car_topology: str | None) -> dict[str, list]:
    sets = {'record_internal': True}
    if car_topology:
        sets['car_topology'] = car_topology
    run_scenario(SCENARIO, sets=sets, out_dir=out, progress=False)
    got: dict[str, list] = {'t': [], 'd': [], 'g': [], 'warn': []}
    for rec in read_bag(out / 'bag'):
        if rec.topic == '/runner/localization/lane':
            msg = m.deserialize(rec.data, 'v2x_stack/msg/LanePosition')
            got['t'].append(rec.stamp_ns * 1e-9)
            got['d'].append(min(msg.stop_line_distance_m, 200.0))
            got['g'].append(msg.signal_group)
        elif rec.topic == '/runner/v2x/warnings_log':
            msg = m.deserialize(rec.data, 'v2x_stack/msg/Warning')
            if msg.application == 'RLVW':
                got['warn'].append(rec.stamp_ns * 1e-9)
    return got


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        top = yaml.safe_load((config_dir() / 'sim_car.yaml').read_text(encoding='utf-8'))
        for process in top['processes'].values():
            for comp in process['components'].values():
                comp.get('parameters', {}).pop('map_file', None)
        path = Path(tmp) / 'sim_car_without_map.yaml'
        path.write_text(yaml.safe_dump(top), encoding='utf-8')
        runs = {
            'HD map (sim_car)': _run(Path(tmp) / 'hd', None),
            'MAP only (no map_file)': _run(Path(tmp) / 'mapdata', str(path)),
        }
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True)
    for (label, got), style in zip(runs.items(), ('-', '--'), strict=True):
        ax.plot(got['t'], got['d'], style, label=label)
        bx.plot(got['t'], got['g'], style, label=label)
        if got['warn']:
            ax.axvline(min(got['warn']), linestyle=style, color='red', linewidth=0.8)
    ax.set_ylabel('stop_line_distance_m\n(inf drawn at 200)')
    ax.set_title('RLVW runner (south → north): first RLVW warning in red')
    ax.legend()
    bx.set_ylabel('signal_group')
    bx.set_xlabel('simulated time, s')
    fig.tight_layout()
    fig.savefig(OUT / 'hdmap_mapdata_rlvw.png', dpi=110)


if __name__ == '__main__':
    main()

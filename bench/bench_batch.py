"""Batch benchmark: a sweep of simulator runs one after the other and ``--jobs`` at a time.

A batch (``v2x-stack sim --all`` / ``--sweep``) is made of independent runs, so on N cores it
can take ~1/N of the time. This runs the same sweep of the default scenario (traffic.count
over ``--counts``, ``--duration`` simulated seconds each) with ``jobs=1`` and ``jobs=J`` and
prints both wall times and their ratio; the runs' metrics (timing aside) must be equal, or it
fails.

    /work/venv/bin/python bench/bench_batch.py [--jobs 2] [--duration 10] [--counts 10 15 20 25]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def batch(scenario: Path, out: Path, jobs: int, duration_s: float) -> tuple[float, list[dict]]:
    from sim_nodes.runner import run_all

    start = time.perf_counter()
    results = run_all(
        [str(scenario)], out_dir=out, sweeps=True, progress=False, jobs=jobs, duration_s=duration_s
    )
    wall = time.perf_counter() - start
    return wall, [{k: v for k, v in r.metrics.items() if k != 'timing'} for r in results]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--duration', type=float, default=10.0)
    parser.add_argument('--counts', type=int, nargs='+', default=[10, 15, 20, 25])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        default = yaml.safe_load((ROOT / 'config/scenarios/default.yaml').read_text())
        default['sweeps'] = {'traffic.count': args.counts}
        scenario = Path(tmp) / 'batch.yaml'
        scenario.write_text(yaml.safe_dump(default))
        one_wall, one = batch(scenario, Path(tmp) / 'one', 1, args.duration)
        many_wall, many = batch(scenario, Path(tmp) / 'many', args.jobs, args.duration)
    if one != many:
        print('FAIL: the runs made in parallel differ from the same runs made in turn')
        return 1
    runs = len(args.counts)
    print(f'{runs} runs of the default scenario, {args.duration:g} s each, {os.cpu_count()} cores')
    print(f'  jobs=1            {one_wall:7.1f} s wall')
    print(f'  jobs={args.jobs:<12d} {many_wall:7.1f} s wall   {one_wall / many_wall:.2f}x faster')
    print('  metrics of every run equal in both (timing aside)')
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""The applications' robustness sweep: application scenarios under 20 % extra packet loss and
0.5 m positioning noise; detection and false-alarm rates in a batch report.

Each scenario runs (at its CI duration) with ``channel.extra_loss`` and
``gnss.horizontal_sigma_m`` set, once per seed; every run leaves its own bag, metrics.json and
report.html (whose summary shows its detection outcome) and the batch a ``summary.json`` and
``summary.html`` with the rates (``sim_nodes.report.warning_rates``). The bounds the test
asserts are ``MIN_DETECTION_RATE`` and ``MAX_FALSE_ALARM_RATE`` (docs/applications.md).

    python -m sim_nodes.robustness --out out/robustness --seeds 1 2 3 [NAME ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim_nodes.report.warning_rates import write_summary
from sim_nodes.runner import run_scenario
from sim_nodes.scenarios import list_scenarios, load_scenario

DEGRADED = {'channel.extra_loss': 0.2, 'gnss.horizontal_sigma_m': 0.5}
MIN_DETECTION_RATE = 0.9
MAX_FALSE_ALARM_RATE = 0.1


def application_scenarios() -> list[str]:
    return [n for n in list_scenarios() if n.startswith('applications/')]


def robustness_sweep(
    names: list[str], *, seeds: list[int], out_dir: str | Path,
    conditions: dict[str, Any] | None = None, progress: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Run every scenario under ``conditions`` (default DEGRADED) for every seed."""
    sets = dict(DEGRADED if conditions is None else conditions)
    out = Path(out_dir)
    labelled = []
    for name in names:
        sc = load_scenario(name)
        duration = sc.ci_duration_s if sc.ci_duration_s > 0 else sc.duration_s
        for seed in seeds:
            label = f'{name}@{seed}'
            result = run_scenario(
                name, seed=seed, sets=sets, duration_s=duration, progress=progress,
                out_dir=out / label.replace('/', '__').replace('@', '_seed'),
            )  # fmt: skip
            labelled.append((label, result.metrics))
    return write_summary(
        labelled, out, title='Applications robustness sweep', conditions=sets | {'seeds': seeds}
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('names', nargs='*', help='scenarios (default: every application scenario)')
    ap.add_argument('--out', type=Path, default=Path('out/robustness'))
    ap.add_argument('--seeds', type=int, nargs='+', default=[1, 2, 3])
    args = ap.parse_args(argv)
    s = robustness_sweep(
        args.names or application_scenarios(), seeds=args.seeds, out_dir=args.out, progress=True
    )
    print(f'detection {s["detected"]}/{s["expected"]} = {s["detection_rate"]}, false alarms '
          f'{s["false_alarms"]}/{s["benign_runs"]} = {s["false_alarm_rate"]}')  # fmt: skip
    ok = (s['detection_rate'] or 0) >= MIN_DETECTION_RATE
    ok &= (s['false_alarm_rate'] or 0) <= MAX_FALSE_ALARM_RATE
    return 0 if ok else 1


if __name__ == '__main__':
    raise SystemExit(main())

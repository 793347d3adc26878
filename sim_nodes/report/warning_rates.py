"""Detection and false-alarm rates over a batch of application runs (the robustness sweep).

Detection rate = expected warnings raised with their lead time / expected warnings, over the
hazard scenarios; false-alarm rate = benign twins with any warning / benign twins. Runs
whose stacks publish no warnings do not count. ``write_summary`` puts both, with every run's
row, into ``summary.json`` and ``summary.html`` of the batch directory.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any


def rates(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate the ``warnings.detection`` sections of several runs' metrics."""
    expected = detected = benign = false_alarms = 0
    for m in runs:
        d = m['warnings'].get('detection') or {}
        if d.get('benign'):
            if d.get('false_alarm') is not None:
                benign += 1
                false_alarms += bool(d['false_alarm'])
        elif d.get('expected') and d.get('detected') is not None:
            expected += d['expected']
            detected += d['detected']
    return {
        'expected': expected,
        'detected': detected,
        'detection_rate': detected / expected if expected else None,
        'benign_runs': benign,
        'false_alarms': false_alarms,
        'false_alarm_rate': false_alarms / benign if benign else None,
    }


def _row(label: str, m: dict[str, Any]) -> dict[str, Any]:
    d = m['warnings'].get('detection') or {}
    return {
        'run': label,
        'seed': m['seed'],
        'benign': d.get('benign'),
        'expected': d.get('expected'),
        'detected': d.get('detected'),
        'false_alarm': d.get('false_alarm'),
        'warnings': m['warnings']['by_application'],
        'first': [
            (f['vehicle'], f['application'], f['lead_time_s']) for f in m['warnings']['first']
        ],
    }


def _detected(r: dict[str, Any]) -> str:
    return '-' if r['benign'] else f'{r["detected"]}/{r["expected"]}'


def write_summary(
    labelled: list[tuple[str, dict[str, Any]]], out_dir: str | Path, *, title: str,
    conditions: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """Write ``summary.json`` and ``summary.html``; returns the summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        'title': title,
        'conditions': conditions,
        **rates([m for _, m in labelled]),
        'runs': [_row(label, m) for label, m in labelled],
    }
    (out / 'summary.json').write_text(json.dumps(summary, indent=2, sort_keys=True) + '\n')
    e = html.escape

    def pct(x: float | None) -> str:
        return '-' if x is None else f'{100 * x:.1f} %'

    rows = ''.join(
        f'<tr><td>{e(r["run"])}</td><td>{r["seed"]}</td>'
        f'<td>{"benign" if r["benign"] else "hazard"}</td>'
        f'<td>{_detected(r)}</td>'
        f'<td>{"FALSE ALARM" if r["false_alarm"] else "-"}</td>'
        f'<td>{e(json.dumps(r["warnings"]))}</td></tr>'
        for r in summary['runs']
    )
    (out / 'summary.html').write_text(
        f'<!doctype html><html><head><meta charset="utf-8"><title>{e(title)}</title></head>'
        f'<body><h1>{e(title)}</h1><p>Conditions: {e(json.dumps(conditions))}</p>'
        f'<p><b>Detection rate</b> {pct(summary["detection_rate"])} '
        f'({summary["detected"]} of {summary["expected"]} expected warnings with their lead '
        f'time); <b>false-alarm rate</b> {pct(summary["false_alarm_rate"])} '
        f'({summary["false_alarms"]} of {summary["benign_runs"]} benign twins raised a '
        f'warning).</p><table border="1" cellpadding="3"><tr><th>run</th><th>seed</th>'
        f'<th>kind</th><th>detected</th><th>false alarm</th><th>warnings</th></tr>{rows}'
        '</table></body></html>\n',
        encoding='utf-8',
    )
    return summary

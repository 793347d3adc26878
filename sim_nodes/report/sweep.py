"""One page for a scenario's sweep: every combination's cooperative-perception scores side by
side (``sweep.json`` + ``sweep.html`` with a figure), written by ``run_all(sweeps=True)``
beside the runs' own directories."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from sim_nodes.report import plots

SOURCES = ('onboard', 'roadside', 'v2v', 'fused')
COLUMNS = ('precision', 'recall', 'position_rmse_m', 'velocity_rmse_mps', 'mota', 'idf1')


def sweep_rows(variants: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict[str, Any]]:
    """(variant settings, metrics) → one row per combination and source."""
    rows = []
    for settings, metrics in variants:
        section = metrics.get('cooperative_perception') or {}
        pdr = metrics['v2x']['packet_delivery_ratio']
        for source in SOURCES:
            scores = section.get('sources', {}).get(source)
            if scores is None:
                continue
            rows.append(
                {
                    'settings': settings,
                    'source': source,
                    'packet_delivery_ratio': pdr,
                    **{c: scores[c] for c in COLUMNS},
                }
            )
    return rows


def write_sweep_report(
    name: str, variants: list[tuple[dict[str, Any], dict[str, Any]]], out_dir: Path
) -> Path:
    """Write ``sweep.json`` and ``sweep.html`` into ``out_dir``; returns the HTML path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = sweep_rows(variants)
    (out_dir / 'sweep.json').write_text(json.dumps({'scenario': name, 'rows': rows}, indent=2))
    e = html.escape
    parts = [
        f'<!doctype html><html><head><meta charset="utf-8"><title>Sweep: {e(name)}</title>',
        '<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}'
        'table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px}</style>',
        f'</head><body><h1>Sweep: {e(name)}</h1>',
    ]
    if rows:
        png = plots.sweep_scores(rows)
        parts.append(
            f'<img alt="sweep" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        )
        head = ''.join(f'<th>{e(c)}</th>' for c in ('settings', 'source', 'PDR', *COLUMNS))
        parts.append(f'<table><tr>{head}</tr>')
        for r in rows:
            settings = ', '.join(f'{k}={v}' for k, v in r['settings'].items()) or 'as in the file'
            cells = [settings, r['source'], r['packet_delivery_ratio'], *(r[c] for c in COLUMNS)]
            parts.append('<tr>' + ''.join(f'<td>{e(str(c))}</td>' for c in cells) + '</tr>')
        parts.append('</table>')
    else:
        parts.append('<p>No car stack fused in these runs: nothing to compare.</p>')
    parts.append('</body></html>')
    path = out_dir / 'sweep.html'
    path.write_text('\n'.join(parts), encoding='utf-8')
    return path

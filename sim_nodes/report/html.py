"""The HTML run report: summary, expected-outcome checks, failures, figures (inline PNG)."""

from __future__ import annotations

import base64
import html
import json
from typing import Any

from sim_nodes.report.checks import Check

_STYLE = """
body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
.pass{color:#080}.fail{color:#c00;font-weight:bold}.na{color:#888}.warn{background:#fee;padding:1em}
img{max-width:100%}
"""


def _table(rows: list[tuple[str, str]]) -> str:
    return (
        '<table>'
        + ''.join(f'<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>' for k, v in rows)
        + '</table>'
    )


_PERCEPTION_COLUMNS = (
    ('precision', 'precision'),
    ('recall', 'recall'),
    ('position_rmse_m', 'pos RMSE m'),
    ('velocity_rmse_mps', 'vel RMSE m/s'),
    ('mota', 'MOTA'),
    ('idf1', 'IDF1'),
    ('duplicates', 'duplicates'),
)


def _perception_table(section: dict[str, Any] | None) -> list[str]:
    """Cooperative perception vs ground truth, one row per source (perception_eval)."""
    if not section:
        return []
    head = ''.join(f'<th>{html.escape(t)}</th>' for _, t in _PERCEPTION_COLUMNS)
    rows = [
        '<h2>Cooperative perception vs ground truth</h2>',
        f'<p>{html.escape(", ".join(section["vehicles"]))}: road users within '
        f'{section["radius_m"]:g} m, {section["gate_m"]:g} m gate.</p>',
        f'<table><tr><th>source</th>{head}</tr>',
    ]
    order = ('onboard', 'roadside', 'v2v', 'fused')
    for source in sorted(section['sources'], key=lambda s: order.index(s) if s in order else 9):
        scores = section['sources'][source]
        cells = ''.join(
            f'<td>{"-" if scores[k] is None else html.escape(str(scores[k]))}</td>'
            for k, _ in _PERCEPTION_COLUMNS
        )
        rows.append(f'<tr><td>{html.escape(source)}</td>{cells}</tr>')
    rows.append('</table>')
    return rows


def _detection(d: dict[str, Any] | None) -> str:
    if not d:
        return '-'
    if d['benign']:
        fa = d['false_alarm']
        verdict = 'n/a' if fa is None else 'FALSE ALARM' if fa else 'no false alarm'
        return f'benign twin: {verdict}'
    got = '-' if d['detected'] is None else d['detected']
    return f'{got} of {d["expected"]} expected warnings raised with their lead time'


def _cpu_tables(cpu: dict[str, Any] | None) -> list[str]:
    """Where the run loop's CPU time went: per component type and per namespace."""
    if not cpu:
        return []
    rows = [
        '<h2>CPU time</h2>',
        f'<p>The run loop: {cpu["loop_cpu_s"]} s CPU in {cpu["loop_wall_s"]} s; '
        f'{cpu["accounted_s"]} s of it in callbacks (the bag recorder apart from the '
        f'publishers), {cpu["unaccounted_s"]} s in the runtime itself. Each callback is timed '
        "on the monotonic clock and counted as CPU with the loop's CPU/wall ratio. Not "
        'deterministic, like the real-time factor.</p>',
    ]
    for key, title in (('by_type', 'component type'), ('by_namespace', 'namespace')):
        rows.append(
            f'<table><tr><th>{title}</th><th>CPU s</th><th>share</th><th>callbacks</th>'
            '<th>instances</th></tr>'
        )
        label = 'kind' if key == 'by_type' else 'namespace'
        for r in cpu[key]:
            share = '-' if r['share'] is None else f'{100 * r["share"]:.1f} %'
            rows.append(
                f'<tr><td>{html.escape(r[label])}</td><td>{r["cpu_s"]:.2f}</td><td>{share}</td>'
                f'<td>{r["calls"]}</td><td>{r["instances"]}</td></tr>'
            )
        rows.append('</table>')
    return rows


def render(metrics: dict[str, Any], checks: list[Check], figures: dict[str, bytes]) -> str:
    e = html.escape
    m = metrics
    title = f'Simulation report: {m["scenario"]}'
    parts = [
        f'<!doctype html><html><head><meta charset="utf-8"><title>{e(title)}</title>',
        f'<style>{_STYLE}</style></head><body><h1>{e(title)}</h1>',
    ]
    if m['interrupted']:
        parts.append(
            f'<p class="warn">Interrupted at {m["simulated_s"]} s of {m["duration_s"]} s: '
            'this report and the bag cover the run up to there.</p>'
        )
    if m['failures']:
        parts.append('<div class="warn"><h2>Component failures</h2><ul>')
        for f in m['failures']:
            parts.append(f'<li><b>{e(f["component"])}</b> ({f["count"]}×): {e(f["message"])}</li>')
        parts.append('</ul><p>The run went on without the failing handlers.</p></div>')
    pos = m['positioning']
    gnss = pos['gnss_fix_error_m']
    fused = pos['fused_error_m']
    timing = m['timing']
    parts.append('<h2>Summary</h2>')
    parts.append(
        _table(
            [
                ('seed', str(m['seed'])),
                ('simulated', f'{m["simulated_s"]} s of {m["duration_s"]} s'),
                ('actors', ', '.join(f'{k} {v}' for k, v in m['actors'].items())),
                ('collisions', str(m['collisions']['count'])),
                ('red-light violations', str(m['red_light_violations']['count'])),
                (
                    'warnings',
                    f'{m["warnings"]["count"]} {json.dumps(m["warnings"]["by_application"])}',
                ),
                ('warning detection', _detection(m['warnings'].get('detection'))),
                ('stops', json.dumps(m.get('stops', {}).get('by_vehicle', {}))),
                (
                    'GNSS fix error p50 / p95',
                    '-' if gnss is None else f'{gnss["p50"]} / {gnss["p95"]} m',
                ),
                (
                    'fused error p50 / p95',
                    '-' if fused is None else f'{fused["p50"]} / {fused["p95"]} m',
                ),
                ('packet delivery ratio', str(m['v2x']['packet_delivery_ratio'])),
                (
                    'tracking (MOTA, IDF1)',
                    '-'
                    if m['tracking'] is None
                    else f'{m["tracking"]["mota"]:.3f}, {m["tracking"]["idf1"]:.3f}',
                ),
                ('stack components', f'{m["stacks"]["built"]} built'),
                ('real-time factor', f'{timing["real_time_factor"]}× ({timing["wall_s"]} s wall)'),
            ]
        )
    )
    parts += _perception_table(m.get('cooperative_perception'))
    parts += _cpu_tables(timing.get('cpu'))
    parts.append('<h2>Expected outcome</h2>')
    if checks:
        parts.append('<table><tr><th>check</th><th>result</th><th>detail</th></tr>')
        for c in checks:
            cls = {'pass': 'pass', 'fail': 'fail'}.get(c.status, 'na')
            parts.append(
                f'<tr><td>{e(c.name)}</td><td class="{cls}">{e(c.status)}</td>'
                f'<td>{e(c.detail)}</td></tr>'
            )
        parts.append('</table>')
    else:
        parts.append('<p>The scenario states no expectation.</p>')
    if m['stacks']['skipped']:
        parts.append('<h2>Stacks: left out</h2><ul>')
        parts += [f'<li>{e(s)}</li>' for s in m['stacks']['skipped']]
        parts.append('</ul>')
    parts.append('<h2>Figures</h2>')
    for name, png in figures.items():
        data = base64.b64encode(png).decode()
        parts.append(f'<h3>{e(name)}</h3><img alt="{e(name)}" src="data:image/png;base64,{data}">')
    parts.append('<h2>Metrics (metrics.json)</h2><pre>')
    parts.append(e(json.dumps(m, indent=2)))
    parts.append('</pre></body></html>')
    return '\n'.join(parts)

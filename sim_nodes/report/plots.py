"""The report's figures (matplotlib, Agg): trajectories over the map, warning timeline,
positioning error CDFs, channel delivery vs distance. Each returns PNG bytes."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np

from sim_nodes.report.probe import Probe
from sim_nodes.world.lanes import LaneNetwork

CLASS_NAMES = {
    1: 'car',
    2: 'truck/bus',
    3: 'motorcycle',
    4: 'cyclist',
    5: 'pedestrian',
    7: 'emergency',
}


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=90, bbox_inches='tight', metadata={'Software': None})
    plt.close(fig)
    return buf.getvalue()


def trajectories(network: LaneNetwork, probe: Probe, metrics: dict[str, Any]) -> bytes:
    fig, ax = plt.subplots(figsize=(7.5, 7.5))
    for poly in network.buildings:
        ax.fill(poly[:, 0], poly[:, 1], color='0.85', zorder=0)
    for lane in network.lanes.values():
        ax.plot(lane.centreline[:, 0], lane.centreline[:, 1], color='0.7', lw=0.6, zorder=1)
    for cw in network.crosswalks.values():
        ax.plot(cw.path[:, 0], cw.path[:, 1], color='0.6', lw=4, alpha=0.4, zorder=1)
    labelled: set[str] = set()
    for name, pts in sorted(probe.trajectories.items()):
        a = np.array(pts)
        klass = probe.classes.get(name, 0)
        label = 'connected vehicle' if name in probe.connected else CLASS_NAMES.get(klass, 'other')
        colour = {
            'connected vehicle': 'tab:cyan',
            'car': 'tab:blue',
            'pedestrian': 'tab:orange',
            'cyclist': 'tab:olive',
        }.get(label, 'tab:purple')
        ax.plot(
            a[:, 1],
            a[:, 2],
            color=colour,
            lw=1.2,
            alpha=0.8,
            zorder=2,
            label=None if label in labelled else label,
        )
        labelled.add(label)
    final = {n: pts[-1] for n, pts in probe.trajectories.items()}
    for e in metrics['collisions']['events']:
        p = final.get(e['actors'][0])
        if p is not None:
            ax.plot(p[1], p[2], 'rx', ms=12, mew=3, zorder=4, label='collision')
    ax.set_aspect('equal')
    extent = max(
        (float(np.abs(lane.centreline).max()) for lane in network.lanes.values()), default=100
    )
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_xlabel('east (m)')
    ax.set_ylabel('north (m)')
    ax.set_title('Trajectories over the map')
    if labelled:
        ax.legend(loc='upper right', fontsize=8)
    return _png(fig)


def _event_timeline(
    samples: list[tuple[str, float, str]],
    rows: list[str],
    labels: list[str],
    duration_s: float,
    *,
    title: str,
    empty: str,
    marker: tuple[str, int],
    height_in: float,
    legend_loc: str,
) -> bytes:
    """Events (row, time, kind) as marks on one line per row, coloured by kind."""
    fig, ax = plt.subplots(figsize=(8, height_in))
    kinds = sorted({k for _, _, k in samples})
    colours = plt.get_cmap('tab10')
    symbol, size = marker
    for i, kind in enumerate(kinds):
        ts = [t for _, t, k in samples if k == kind]
        ys = [rows.index(row) for row, _, k in samples if k == kind]
        ax.plot(ts, ys, symbol, ms=size, color=colours(i % 10), label=kind)
    if not samples:
        ax.text(0.5, 0.5, empty, ha='center', va='center', transform=ax.transAxes)
    ax.set_yticks(range(len(rows)), labels)
    ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    ax.set_xlim(0, duration_s)
    ax.set_xlabel('simulated time (s)')
    ax.set_title(title)
    if kinds:
        ax.legend(fontsize=8, loc=legend_loc)
    return _png(fig)


def warning_timeline(probe: Probe, duration_s: float) -> bytes:
    """Every warning the stacks raised, one line per warned vehicle, coloured by application."""
    samples = [(w.vehicle, w.t_s, w.application) for w in probe.warnings]
    vehicles = sorted({w.vehicle for w in probe.warnings})
    return _event_timeline(
        samples, vehicles, vehicles, duration_s, title='Warnings',
        empty='no warnings in this run', marker=('o', 4), height_in=2.8, legend_loc='upper right',
    )  # fmt: skip


def rsu_event_timeline(probe: Probe, duration_s: float) -> bytes:
    """Every RSU's published events and every car's RSI-decoded events over time, by kind."""
    samples = probe.rsu_events.samples
    rows = sorted({who for who, _, _ in samples}, key=lambda w: (w not in probe.rsus, w))
    labels = [f'{w} (RSU)' if w in probe.rsus else f'{w} (RSI rx)' for w in rows]
    return _event_timeline(
        samples, rows, labels, duration_s,
        title='RSU events: published at the RSU, decoded from RSI at the cars',
        empty='no RSU events in this run', marker=('|', 10), height_in=2.4,
        legend_loc='upper left',
    )  # fmt: skip


def error_cdfs(probe: Probe) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, values in (('GNSS fix', probe.gnss_errors_m), ('fused', probe.fused_errors_m)):
        if values:
            a = np.sort(values)
            ax.plot(a, np.arange(1, a.size + 1) / a.size, label=f'{label} (n={a.size})')
    if not (probe.gnss_errors_m or probe.fused_errors_m):
        ax.text(0.5, 0.5, 'no positioning output', ha='center', va='center', transform=ax.transAxes)
    ax.set_xlabel('horizontal error (m)')
    ax.set_ylabel('CDF')
    ax.set_title('Positioning error')
    ax.grid(True, alpha=0.3)
    if probe.gnss_errors_m or probe.fused_errors_m:
        ax.legend(fontsize=8)
    return _png(fig)


def delivery_vs_distance(model: Any, pairs: list[tuple[float, bool]]) -> bytes:
    """Empirical delivery per 50 m bin (from the run) against the model's LOS/NLOS curves."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    d = np.linspace(0, model.cfg.max_range_m, 300)
    ax.plot(d, model.pdr(d, False), label='model, line of sight')
    ax.plot(d, model.pdr(d, True), '--', label='model, obstructed')
    if pairs:
        a = np.array(pairs, dtype=float)
        bins = np.arange(0, a[:, 0].max() + 50, 50)
        idx = np.digitize(a[:, 0], bins)
        centres = [(bins[i - 1] + 25) for i in np.unique(idx)]
        ratio = [a[idx == i, 1].mean() for i in np.unique(idx)]
        ax.plot(centres, ratio, 'ko', ms=4, label='this run')
    ax.set_xlabel('distance (m)')
    ax.set_ylabel('packet delivery ratio')
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax.set_title('V2X channel')
    return _png(fig)


def perception_scores(section: dict[str, Any]) -> bytes:
    """Detection and tracking scores per source (left), position/velocity RMSE (right)."""
    sources = list(section['sources'])
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.5), width_ratios=[2, 1])
    keys = ('precision', 'recall', 'mota', 'idf1')
    width = 0.8 / len(keys)
    x = np.arange(len(sources))
    for k, key in enumerate(keys):
        vals = [section['sources'][s][key] for s in sources]
        ax.bar(
            x + (k - 1.5) * width,
            [np.nan if v is None else v for v in vals],
            width,
            label=key.upper() if key in ('mota', 'idf1') else key,
        )
    ax.set_xticks(x, sources)
    ax.set_ylim(min([0.0, *(section['sources'][s]['mota'] or 0.0 for s in sources)]), 1.05)
    ax.axhline(0, color='0.5', lw=0.5)
    ax.legend(fontsize=8, loc='lower right')
    ax.set_title(f'vs ground truth within {section["radius_m"]:g} m ({section["gate_m"]:g} m gate)')
    for k, (key, label) in enumerate(
        (('position_rmse_m', 'position (m)'), ('velocity_rmse_mps', 'velocity (m/s)'))
    ):
        vals = [section['sources'][s][key] for s in sources]
        ax2.bar(x + (k - 0.5) * 0.4, [np.nan if v is None else v for v in vals], 0.4, label=label)
    ax2.set_xticks(x, sources, fontsize=8)
    ax2.set_title('RMSE of matches')
    ax2.legend(fontsize=8)
    return _png(fig)


def target_timeline(perception: Any, section: dict[str, Any]) -> bytes:
    """For each named road user and observer: the instants each source had it (matched)."""
    rows = []
    for vehicle, v in sorted(perception.vehicles.items()):
        for target in sorted(perception.targets):
            for source in v.sources:
                rows.append((f'{vehicle} / {target}: {source}', v.seen.get((target, source), [])))
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.2))
    colours = {'onboard': 'tab:blue', 'roadside': 'tab:green', 'v2v': 'tab:purple'}
    for i, (label, times) in enumerate(rows):
        source = label.rsplit(': ', 1)[1]
        ax.plot(times, [i] * len(times), '|', ms=8, color=colours.get(source, 'tab:red'))
        if times:
            ax.text(times[0], i + 0.25, f'{times[0]:.1f} s', fontsize=7)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel('simulated time (s)')
    ax.set_title('When each source has the road user (matched within the gate)')
    return _png(fig)


def sweep_scores(rows: list[dict[str, Any]]) -> bytes:
    """Recall, precision, position RMSE and MOTA of each source over a sweep's combinations."""
    labels = []
    for r in rows:
        label = '\n'.join(f'{k.split(".")[-1]}={v}' for k, v in r['settings'].items()) or 'file'
        if label not in labels:
            labels.append(label)
    sources = [
        s for s in ('onboard', 'roadside', 'v2v', 'fused') if any(r['source'] == s for r in rows)
    ]
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), sharex=True)
    x = np.arange(len(labels))
    width = 0.8 / max(len(sources), 1)
    for ax, key in zip(
        axes.ravel(), ('recall', 'precision', 'position_rmse_m', 'mota'), strict=True
    ):
        for k, source in enumerate(sources):
            by_label = {
                '\n'.join(f'{a.split(".")[-1]}={b}' for a, b in r['settings'].items()) or 'file': r
                for r in rows
                if r['source'] == source
            }
            vals = [by_label.get(lab, {}).get(key) for lab in labels]
            ax.bar(
                x + (k - (len(sources) - 1) / 2) * width,
                [np.nan if v is None else v for v in vals],
                width,
                label=source,
            )
        ax.set_title(key)
        ax.grid(True, axis='y', alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    for ax in axes[1]:
        ax.set_xticks(x, labels, fontsize=7)
    return _png(fig)

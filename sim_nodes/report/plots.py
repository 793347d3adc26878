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


def warning_timeline(probe: Probe, duration_s: float) -> bytes:
    fig, ax = plt.subplots(figsize=(8, 2.8))
    vehicles = sorted({w.vehicle for w in probe.warnings})
    apps = sorted({w.application for w in probe.warnings})
    colours = plt.get_cmap('tab10')
    for w in probe.warnings:
        ax.plot(
            w.t_s,
            vehicles.index(w.vehicle),
            'o',
            ms=4,
            color=colours(apps.index(w.application) % 10),
        )
    for i, app in enumerate(apps):
        ax.plot([], [], 'o', color=colours(i % 10), label=app)
    if not probe.warnings:
        ax.text(
            0.5, 0.5, 'no warnings in this run', ha='center', va='center', transform=ax.transAxes
        )
    ax.set_yticks(range(len(vehicles)), vehicles)
    ax.set_xlim(0, duration_s)
    ax.set_xlabel('simulated time (s)')
    ax.set_title('Warnings')
    if apps:
        ax.legend(fontsize=8, loc='upper right')
    return _png(fig)


def rsu_event_timeline(probe: Probe, duration_s: float) -> bytes:
    """Every RSU's published events and every car's RSI-decoded events over time, by kind."""
    samples = probe.rsu_events.samples
    fig, ax = plt.subplots(figsize=(8, 2.4))
    rows = sorted({who for who, _, _ in samples}, key=lambda w: (w not in probe.rsus, w))
    kinds = sorted({k for _, _, k in samples})
    colours = plt.get_cmap('tab10')
    for i, kind in enumerate(kinds):
        pts = [(t, rows.index(who)) for who, t, k in samples if k == kind]
        ts, ys = zip(*pts, strict=True)
        ax.plot(ts, ys, '|', ms=10, color=colours(i % 10), label=kind)
    if not samples:
        ax.text(0.5, 0.5, 'no RSU events in this run', ha='center', va='center',
                transform=ax.transAxes)  # fmt: skip
    labels = [f'{w} (RSU)' if w in probe.rsus else f'{w} (RSI rx)' for w in rows]
    ax.set_yticks(range(len(rows)), labels)
    ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    ax.set_xlim(0, duration_s)
    ax.set_xlabel('simulated time (s)')
    ax.set_title('RSU events: published at the RSU, decoded from RSI at the cars')
    if kinds:
        ax.legend(fontsize=8, loc='upper left')
    return _png(fig)


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

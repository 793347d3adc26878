"""Draw docs/figures/perception_*.png from a synthetic scene (run from the repository root).

python docs/figures/make_perception_figures.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Polygon

from perception_nodes.lidar.background import BackgroundConfig
from perception_nodes.lidar.classify import ObjectClass
from perception_nodes.lidar.geometry import box_corners
from perception_nodes.lidar.pipeline import DetectionPipeline, PipelineConfig
from perception_nodes.lidar.synthetic import Scene
from perception_nodes.tracking import DetectionSet, MultiObjectTracker

OUT = Path(__file__).resolve().parent


def _boxes(ax, bev, colour, label):
    for k, row in enumerate(bev):
        corners = box_corners(*[np.array([v]) for v in row])[0]
        ax.add_patch(
            Polygon(
                corners, closed=True, fill=False, ec=colour, lw=1.0, label=label if k == 0 else None
            )
        )


def scene_figure() -> None:
    rng = np.random.default_rng(101)
    scene = Scene.crossroads(rng)
    pipe = DetectionPipeline(
        PipelineConfig(
            roi_polygon_m=tuple(map(tuple, scene.roi_polygon())),
            background=BackgroundConfig(learn_frames=8),
        )
    )
    for _ in range(8):
        pipe.process(scene.scan(rng, [], alone=False).xyz_m)
    objects = scene.random_objects(rng, 45)
    frame = scene.scan(rng, objects, alone=False)
    det = pipe.process(frame.xyz_m)
    xyz = frame.xyz_m
    roi = pipe.roi.mask(xyz)
    fg = np.zeros(len(xyz), bool)
    fg[np.nonzero(roi)[0][pipe.background.foreground_mask(xyz[roi])]] = True
    fig, ax = plt.subplots(figsize=(9, 9), dpi=110)
    step = 6
    ax.scatter(xyz[::step, 0], xyz[::step, 1], s=0.2, c='0.75', label='scan (every 6th point)')
    ax.scatter(xyz[fg, 0], xyz[fg, 1], s=0.6, c='tab:blue', label='foreground after background')
    ax.add_patch(
        Polygon(
            scene.roi_polygon(),
            closed=True,
            fill=False,
            ec='k',
            ls='--',
            lw=0.8,
            label='region of interest',
        )
    )
    _boxes(ax, np.array([o.as_bev() for o in objects]), 'tab:green', 'truth')
    _boxes(ax, det.boxes.bev(), 'tab:red', 'detections')
    for k in range(len(det)):
        ax.annotate(
            ObjectClass(int(det.class_id[k])).name[:3].lower(),
            det.boxes.center_m[k, :2],
            fontsize=6,
            color='tab:red',
        )
    ax.set_xlim(-75, 75)
    ax.set_ylim(-75, 75)
    ax.set_aspect('equal')
    ax.set_xlabel('x (m, sensor frame)')
    ax.set_ylabel('y (m)')
    ax.set_title('Synthetic crossroads, lidar on a 5.5 m pole at the origin')
    ax.legend(loc='upper right', fontsize=7, markerscale=8)
    fig.tight_layout()
    fig.savefig(OUT / 'perception_scene.png')
    plt.close(fig)


def tracker_figure() -> None:
    rng = np.random.default_rng(0)
    tracker = MultiObjectTracker()
    paths = {
        'straight': lambda t: (-30 + 12 * t, 2.0),
        'turning': lambda t: (
            10 + 20 * np.cos(-np.pi / 2 + 0.35 * t),
            20 + 20 * np.sin(-np.pi / 2 + 0.35 * t),
        ),
        'crossing A': lambda t: (-20 + 8 * t, -20 + 8 * t),
        'crossing B': lambda t: (-22 + 8 * t, 22 - 8 * t),
    }
    est: dict[int, list[tuple[float, float]]] = {}
    meas = []
    for k in range(60):
        t = 0.1 * k
        xy = np.array([f(t) for f in paths.values()]) + rng.normal(0, 0.15, (4, 2))
        meas.append(xy)
        n = len(xy)
        det = DetectionSet(
            np.column_stack([xy, np.zeros(n)]),
            np.tile([4.5, 1.8, 1.5], (n, 1)),
            np.zeros(n),
            np.ones(n, np.uint8),
            np.ones(n, np.float32),
        )
        for tr in tracker.step(t, det):
            est.setdefault(tr.track_id, []).append((tr.x_m, tr.y_m))
    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    m = np.concatenate(meas)
    ax.scatter(m[:, 0], m[:, 1], s=3, c='0.6', label='detections (0.15 m noise)')
    for tid, pts in est.items():
        p = np.array(pts)
        ax.plot(p[:, 0], p[:, 1], lw=1.5, label=f'track {tid}')
    ax.set_aspect('equal')
    ax.set_xlabel('x (m)')
    ax.set_ylabel('y (m)')
    ax.set_title('IMM tracker on scripted trajectories: one id per target')
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(OUT / 'perception_tracks.png')
    plt.close(fig)


if __name__ == '__main__':
    scene_figure()
    tracker_figure()

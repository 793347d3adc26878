"""Merge the pieces of a vehicle that the scan pattern split apart.

Far away, a roof shows as ring lines metres apart along the range, and an end-on car can come
out as its near face plus one or two roof lines. Clusters that lie behind one another on the
line of sight (their azimuth spans overlap) and whose union still fits a vehicle footprint are
joined; two cars in a queue do not fit one footprint and stay apart, and pedestrians never make
a footprint that wide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from perception_nodes.lidar.boxes import fit_boxes
from perception_nodes.lidar.clustering import join_pairs
from perception_nodes.lidar.rows import select_rows, take_rows


@dataclass(frozen=True)
class MergeConfig:
    """Largest centre distance (m), required azimuth overlap and the vehicle footprint (m)."""

    max_distance_m: float = 5.0
    min_azimuth_overlap: float = 0.3
    max_length_m: float = 5.8
    min_width_m: float = 1.3
    max_width_m: float = 2.3
    max_height_m: float = 2.3


def merge_vehicle_pieces(
    xyz_m: np.ndarray,
    labels: np.ndarray,
    n_clusters: int,
    ground_z_m: np.ndarray,
    config: MergeConfig,
) -> tuple[np.ndarray, int]:
    """Labels after joining the pieces; returns (labels, number of clusters)."""
    if n_clusters < 2:
        return labels, n_clusters
    keep = labels >= 0
    lab = labels[keep]
    pts = select_rows(keep, xyz_m)
    counts = np.bincount(lab, minlength=n_clusters)
    cx = np.bincount(lab, pts[:, 0], n_clusters) / counts
    cy = np.bincount(lab, pts[:, 1], n_clusters) / counts
    az = np.arctan2(pts[:, 1], pts[:, 0])
    az_c = np.arctan2(cy, cx)
    rel = (az - az_c[lab] + np.pi) % (2 * np.pi) - np.pi  # relative to the cluster's centroid
    lo = np.full(n_clusters, np.inf)
    hi = np.full(n_clusters, -np.inf)
    np.minimum.at(lo, lab, rel)
    np.maximum.at(hi, lab, rel)
    lo, hi = lo + az_c, hi + az_c
    d = np.hypot(cx[:, None] - cx[None, :], cy[:, None] - cy[None, :])
    ii, jj = np.nonzero(np.triu(d < config.max_distance_m, k=1))
    if ii.size == 0:
        return labels, n_clusters
    # angular overlap on the circle: shift j's span next to i's centre first
    shift = np.round((az_c[ii] - az_c[jj]) / (2 * np.pi)) * 2 * np.pi
    overlap = np.minimum(hi[ii], hi[jj] + shift) - np.maximum(lo[ii], lo[jj] + shift)
    span = np.maximum(np.minimum(hi[ii] - lo[ii], hi[jj] - lo[jj]), 1e-6)
    cand = overlap / span >= config.min_azimuth_overlap
    ci, cj = ii[cand], jj[cand]
    if ci.size == 0:
        return labels, n_clusters
    # fit every candidate union in one call: pair p's points get label p
    order = np.argsort(lab, kind='stable')
    members = np.split(order, np.cumsum(counts)[:-1])
    idx = [np.concatenate([members[i], members[j]]) for i, j in zip(ci, cj, strict=True)]
    pair_of = np.repeat(np.arange(ci.size), [len(v) for v in idx])
    flat = np.concatenate(idx)
    box = fit_boxes(take_rows(pts, flat), pair_of, ci.size, ground_z_m[keep][flat])
    fits = (
        (box.length_m <= config.max_length_m)
        & (box.width_m >= config.min_width_m)
        & (box.width_m <= config.max_width_m)
        & (box.height_m <= config.max_height_m)
    )
    if not fits.any():
        return labels, n_clusters
    comp = join_pairs(n_clusters, ci[fits] + 1, cj[fits] + 1)  # clusters 0.. as labels 1..
    out = labels.copy()
    out[keep] = comp[lab]
    return out, int(comp.max()) + 1

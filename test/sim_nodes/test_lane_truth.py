"""The report's true lanes (sim_nodes/report/lane_truth.py): the stacked one-pass distance
gives the lanes the per-lane distance gives, at random points around the default junction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim_nodes.report.lane_truth import TOLERANCE_M, LaneTruth
from sim_nodes.scenarios import build_scenario, load_scenario


def _per_lane(truth: LaneTruth, vehicle: str, x: float, y: float) -> set[int]:
    """One lane at a time, as the probe scored before the segments were stacked."""
    out = set()
    for lid in truth.routes.get(vehicle, ()):
        lane = truth.network.lanes[lid]
        a, b = lane.centreline[:-1], lane.centreline[1:]
        ab = b - a
        t = np.clip(
            ((x - a[:, 0]) * ab[:, 0] + (y - a[:, 1]) * ab[:, 1]) / (ab**2).sum(axis=1), 0, 1
        )
        px, py = a[:, 0] + t * ab[:, 0], a[:, 1] + t * ab[:, 1]
        if float(np.min(np.hypot(px - x, py - y))) <= 0.5 * lane.width_m + TOLERANCE_M:
            out.add(truth.lanelet_ids[lid])
    return out


@pytest.fixture(scope='module')
def lane_truth() -> LaneTruth:
    built = build_scenario(load_scenario('default'))
    ids = {lid: i + 1 for i, lid in enumerate(sorted(built.network.lanes))}
    return LaneTruth(built.network, built.vehicles, ids)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_stacked_segments_give_the_per_lane_answer(lane_truth, data):
    vehicle = data.draw(st.sampled_from(sorted(lane_truth.routes)))
    lanes = lane_truth.network.lanes
    # near a centre-line point of the route (lane boundaries included) or anywhere
    lid = data.draw(st.sampled_from(lane_truth.routes[vehicle]))
    points = lanes[lid].centreline
    k = data.draw(st.integers(0, len(points) - 1))
    dx = data.draw(st.floats(-4.0, 4.0))
    dy = data.draw(st.floats(-4.0, 4.0))
    x, y = float(points[k, 0] + dx), float(points[k, 1] + dy)
    assert lane_truth.lanelets_at(vehicle, x, y) == _per_lane(lane_truth, vehicle, x, y)


def test_an_unknown_vehicle_has_no_lane(lane_truth):
    assert lane_truth.lanelets_at('nobody', 0.0, 0.0) == set()


def test_many_points_at_once_give_each_point_s_lanes(lane_truth):
    """``near`` over a batch of points (the probe scores a run's matcher outputs in one pass
    per vehicle) answers each point as the one-lane-at-a-time distance does."""
    rng = np.random.default_rng(7)
    for vehicle in sorted(lane_truth.routes)[:6]:
        points = np.concatenate(
            [lane_truth.network.lanes[lid].centreline for lid in lane_truth.routes[vehicle]]
        )
        xy = points[rng.integers(0, len(points), 200)] + rng.uniform(-4.0, 4.0, (200, 2))
        ids, near = lane_truth.near(vehicle, xy[:, 0].copy(), xy[:, 1].copy())
        for (x, y), row in zip(xy.tolist(), near, strict=True):
            assert {int(i) for i in ids[row]} == _per_lane(lane_truth, vehicle, x, y)

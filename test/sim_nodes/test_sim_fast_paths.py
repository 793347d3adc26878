"""The simulator's fast paths give what the plain computations give, bit for bit: the radio
channel's per-truth link tables against each frame's own links, the ground truth's kept
columns against reading the message back, and the lidar's column-wise noise against the
beam directions."""

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rsu_nodes.signals.plan import Light
from sim_nodes.channel.component import LinkTable
from sim_nodes.channel.model import ChannelModel, Footprints
from sim_nodes.scenarios import build_scenario, load_scenario
from sim_nodes.scenarios.schema import ChannelConfig
from sim_nodes.sensors.raycast import BeamLayout, LidarCaster, StaticScene
from sim_nodes.world.truth_msgs import ground_truth, participants_arrays
from v2x_runtime import messages as m

BUILDINGS = [
    np.array([[20.0, 20.0], [60.0, 20.0], [60.0, 60.0], [20.0, 60.0]]),
    np.array([[-80.0, 10.0], [-30.0, 10.0], [-30.0, 50.0], [-80.0, 50.0]]),
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-900, 900), st.floats(-900, 900)), min_size=1, max_size=12),
    st.booleans(),
)
def test_link_table_rows_equal_each_frames_own_links(nodes, with_buildings):
    xy = np.array(nodes, dtype=float)
    model = ChannelModel(ChannelConfig(extra_loss=0.05))
    footprints = Footprints(BUILDINGS if with_buildings else [])
    table = LinkTable.of(model, footprints, xy)
    for s in range(len(xy)):
        others = np.arange(len(xy)) != s
        dst = xy[others]
        dist = np.linalg.norm(dst - xy[s], axis=1)  # what a frame computed for itself
        blocked = footprints.obstructed(xy[s], dst)
        np.testing.assert_array_equal(table.distance[s, others], dist)
        np.testing.assert_array_equal(table.pdr[s, others], model.pdr(dist, blocked))
        np.testing.assert_array_equal(table.rssi[s, others], model.rssi_dbm(dist, blocked))
        np.testing.assert_array_equal(table.in_range[s, others], ~(dist > model.cfg.max_range_m))


def _plain_participants(msg):
    """The ParticipantArray's columns read field by field (a truth from another process)."""
    return participants_arrays(m.deserialize(m.serialize(msg), msg.__msgtype__))


def test_truth_columns_equal_the_message_read_back():
    built = build_scenario(load_scenario('default'))
    world = built.world()
    for step in range(150):
        world.step(built.scenario.step_s)
        msg = ground_truth(world.snapshot(), step * 100_000_000)
        kept, plain = participants_arrays(msg), _plain_participants(msg)
        assert kept.keys() == plain.keys()
        for key, column in kept.items():
            assert column.dtype == plain[key].dtype and column.shape == plain[key].shape, key
            np.testing.assert_array_equal(column, plain[key])
            assert not column.flags.writeable  # shared by every reader
        first = msg.participants[0]
        assert first.source_id == kept['names'][0] and first.confidence == 1.0
        assert np.isnan(first.latitude_deg) and not first.covariance.any()


def _scans_with_and_without_noise():
    """One scan of two boxes beside a building with 5 cm range noise and the same without
    (the same draws): (static scene, layout, caster, boxes, noisy, clean)."""
    static = StaticScene(100.0, [BUILDINGS[0]], 10.0)
    layout = BeamLayout(rings=8, azimuth_steps=512, range_noise_m=0.05, max_range_m=90.0)
    caster = LidarCaster(np.array([0.0, 0.0, 2.0]), 0.4, layout, static)
    boxes = (np.array([[8.0, 3.0, 0.75], [-5.0, -9.0, 0.9]]), np.array([0.3, 2.0]),
             np.array([[4.6, 1.9, 1.5], [0.5, 0.5, 1.8]]))  # fmt: skip
    walker = np.array([False, True])
    noisy = caster.scan(boxes, walker, np.random.default_rng(3))
    caster.layout = dataclasses.replace(layout, range_noise_m=0.0)
    clean = caster.scan(boxes, walker, np.random.default_rng(3))
    return static, layout, caster, boxes, noisy, clean


def test_lidar_noise_runs_along_each_beam():
    *_, noisy, clean = _scans_with_and_without_noise()
    assert noisy.shape == clean.shape and noisy.dtype == np.float32
    np.testing.assert_array_equal(noisy[:, 3], clean[:, 3])  # intensity carries no noise
    rng = clean[:, :3] / np.linalg.norm(clean[:, :3], axis=1, keepdims=True)
    delta = noisy[:, :3] - clean[:, :3]
    along = (delta * rng).sum(axis=1)
    np.testing.assert_allclose(delta, along[:, None] * rng, atol=2e-5)  # along the beam
    assert 0.04 < np.std(along) < 0.06


def test_lidar_noise_is_the_beam_direction_times_the_draw_bit_for_bit():
    """The scan adds its noise to the gathered (P, 4) rows in one flat loop; every kept ray's
    x, y, z must be its noiseless value + direction × (draw × sigma) in float32, as adding it
    column by column gave, and the intensity must be untouched."""
    import open3d as o3d

    from sim_nodes.sensors.raycast import box_meshes

    static, layout, caster, boxes, noisy, clean = _scans_with_and_without_noise()
    # the kept rays, as one scene with everything gives them
    scene = o3d.t.geometry.RaycastingScene()
    for verts, tris, _ in static.meshes:
        scene.add_triangles(o3d.core.Tensor(verts), o3d.core.Tensor(tris))
    v, t = box_meshes(*boxes)
    scene.add_triangles(o3d.core.Tensor(v), o3d.core.Tensor(t))
    t_hit = scene.cast_rays(o3d.core.Tensor(caster.rays))['t_hit'].numpy()
    rows = np.flatnonzero(np.isfinite(t_hit) & (t_hit >= layout.min_range_m)
                          & (t_hit <= layout.max_range_m))  # fmt: skip
    assert len(rows) == len(clean)
    draw = np.random.default_rng(3).standard_normal(len(caster.rays), dtype=np.float32)
    step = draw[rows] * np.float32(layout.range_noise_m)
    for c in range(3):
        expected = clean[:, c] + caster.local_dirs[rows, c] * step
        assert expected.tobytes() == noisy[:, c].copy().tobytes()
    assert clean[:, 3].tobytes() == noisy[:, 3].copy().tobytes()


def lights_from_plans(world) -> np.ndarray:
    """The light of every signal key at the world's time, asked of each plan group by group
    (key 0: no signal, always green; a group no plan has: unavailable)."""
    expected = np.full(len(world.signal_keys), int(Light.UNAVAILABLE), dtype=np.int64)
    expected[0] = int(Light.PROTECTED_GREEN)
    for (iid, group), key in world.signal_keys.items():
        plan = world.plans.get(iid)
        if key and plan is not None and group in plan.groups:
            expected[key] = int(plan.light(world.t_s, group))
    return expected


def test_world_kept_lane_index_and_lights_equal_recomputing_them():
    """The step keeps the lane index (full recompute only after a lane change) and reads the
    lights from the signal states of the instant: both must equal recomputing them every step
    (the lights from the plans), through lane changes and spawns."""
    for name in (
        'default',
        'physics/lane_change',
        'applications/lcw_lane_change_into_closing_vehicle',
    ):
        built = build_scenario(load_scenario(name))
        world = built.world()
        np.testing.assert_array_equal(world.lights, lights_from_plans(world))  # at start-up
        for _ in range(250):
            world.step(built.scenario.step_s)
            fleet = world.fleet
            np.testing.assert_array_equal(fleet.lane_index, fleet.current_lane_index())
            np.testing.assert_array_equal(world.lights, lights_from_plans(world))
        assert fleet.lane_changes.done or name == 'default'


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-60, 60), st.floats(-60, 60)), min_size=1, max_size=10),
    st.lists(st.integers(0, 5), min_size=1, max_size=6),
)
def test_polyline_projection_of_some_rows_equals_a_batch_of_those_rows(points, rows):
    """``project(points, rows)`` (segments worked out once) against a batch made of just those
    polylines (what the walker gap did before), bit for bit."""
    from sim_nodes.world.batch import PolylineBatch
    from sim_nodes.world.lanes import polyline_lengths

    rng = np.random.default_rng(len(points) + 7 * len(rows))
    lines = [np.cumsum(rng.uniform(-20, 20, (k, 2)), axis=0) for k in (2, 5, 9, 3, 14, 7)]
    lengths = [polyline_lengths(line) for line in lines]
    batch = PolylineBatch(lines, lengths)
    pts = np.array(points, dtype=float)
    rows_a = np.array(rows, dtype=np.int64)
    s, d = batch.project(pts, rows_a)
    # those rows as a batch of their own, padded to the full batch's vertex count
    sub_pts, sub_s = batch.points[rows_a], batch.s[rows_a]
    a = sub_pts[:, :-1, None, :]
    ab = sub_pts[:, 1:, None, :] - a
    ap = pts[None, None, :, :] - a
    denom = np.maximum((ab * ab).sum(-1), 1e-12)
    t = np.clip((ap * ab).sum(-1) / denom, 0.0, 1.0)
    dist = np.linalg.norm(pts[None, None, :, :] - (a + ab * t[..., None]), axis=-1)
    s_all = sub_s[:, :-1, None] + t * np.sqrt(denom)
    best = np.argmin(dist, axis=1)
    take = np.take_along_axis
    np.testing.assert_array_equal(s, take(s_all, best[:, None, :], 1)[:, 0])
    np.testing.assert_array_equal(d, take(dist, best[:, None, :], 1)[:, 0])

"""The lidar ray caster: exact ranges on known boxes and ground, occlusion, and the ray culling
giving the same cloud as casting every ray."""

import numpy as np
import open3d as o3d
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim_nodes.sensors.lidar_component import point_cloud
from sim_nodes.sensors.raycast import BeamLayout, LidarCaster, StaticScene, box_meshes

NO_NOISE = {'range_noise_m': 0.0, 'min_range_m': 0.1, 'max_range_m': 200.0}
RNG = np.random.default_rng(0)


def flat_ring(azimuth_steps=360):
    return BeamLayout(rings=1, azimuth_steps=azimuth_steps, vertical_fov_deg=(0.0, 0.0), **NO_NOISE)


def ranges(points):
    return np.linalg.norm(points[:, :3], axis=1)


def test_ranges_to_a_known_box():
    static = StaticScene(100.0, [], 10.0)
    caster = LidarCaster(np.array([0.0, 0.0, 1.0]), 0.0, flat_ring(), static)
    box = (np.array([[10.0, 0.0, 1.0]]), np.array([0.0]), np.array([[2.0, 4.0, 2.0]]))
    pts = caster.scan(box, np.array([False]), RNG)
    az = np.degrees(np.arctan2(pts[:, 1], pts[:, 0]))
    ahead = pts[np.abs(az) < 0.5]
    assert ahead[:, 0] == pytest.approx([9.0], abs=1e-4)  # near face at x = 9
    # the face spans y in [-2, 2]: beams within atan(2/9) hit it at 9 / cos(az)
    inside = np.abs(az) < np.degrees(np.arctan2(2.0, 9.0)) - 0.5
    np.testing.assert_allclose(ranges(pts[inside]), 9.0 / np.cos(np.radians(az[inside])), atol=1e-3)
    assert len(pts) == inside.sum() + (np.abs(az[~inside]) < 13.0).sum()  # nothing else is hit


def test_rotated_box_and_sensor_yaw():
    static = StaticScene(100.0, [], 10.0)
    # sensor yawed +90 degrees: its x axis points north, the box 10 m north appears ahead
    caster = LidarCaster(np.array([0.0, 0.0, 1.0]), np.pi / 2, flat_ring(), static)
    box = (np.array([[0.0, 10.0, 1.0]]), np.array([np.pi / 2]), np.array([[2.0, 4.0, 2.0]]))
    pts = caster.scan(box, np.array([False]), RNG)
    ahead = pts[np.abs(np.arctan2(pts[:, 1], pts[:, 0])) < np.radians(0.5)]
    assert ahead[:, 0] == pytest.approx([9.0], abs=1e-4)


def test_ground_ranges_follow_the_beam_elevation():
    static = StaticScene(500.0, [], 10.0)
    layout = BeamLayout(rings=3, azimuth_steps=8, vertical_fov_deg=(-30.0, -10.0), **NO_NOISE)
    caster = LidarCaster(np.array([0.0, 0.0, 5.0]), 0.0, layout, static)
    pts = caster.scan((np.zeros((0, 3)), np.zeros(0), np.zeros((0, 3))), np.zeros(0, bool), RNG)
    assert len(pts) == 24
    elev = np.degrees(np.arcsin(pts[:, 2] / ranges(pts)))
    for e in (-30.0, -20.0, -10.0):
        ring = np.abs(elev - e) < 0.01
        np.testing.assert_allclose(ranges(pts[ring]), 5.0 / np.sin(np.radians(-e)), rtol=1e-5)


def test_nearer_box_occludes_the_farther_one_and_intensity_marks_material():
    static = StaticScene(100.0, [], 10.0)
    caster = LidarCaster(np.array([0.0, 0.0, 1.0]), 0.0, flat_ring(720), static)
    boxes = (
        np.array([[10.0, 0.0, 1.0], [20.0, 0.0, 1.0]]),
        np.zeros(2),
        np.array([[1.0, 1.0, 2.0], [1.0, 8.0, 2.0]]),
    )
    pts = caster.scan(boxes, np.array([True, False]), RNG)
    az = np.degrees(np.arctan2(pts[:, 1], pts[:, 0]))
    ahead = pts[np.abs(az) < 0.2]
    assert ranges(ahead) == pytest.approx([9.5], abs=1e-3)  # the walker box hides the car
    side = pts[(np.abs(az) > 4.0) & (np.abs(az) < 10.0)]
    assert ranges(side).min() > 19.0  # the wide car box is seen beside the walker
    assert ahead[0, 3] < side[0, 3]  # walker material reflects less than vehicle


def test_range_limits_noise_and_dropout():
    static = StaticScene(100.0, [], 10.0)
    layout = BeamLayout(
        rings=1,
        azimuth_steps=2000,
        vertical_fov_deg=(0.0, 0.0),
        range_noise_m=0.05,
        min_range_m=0.1,
        max_range_m=15.0,
        dropout=0.5,
    )
    caster = LidarCaster(np.array([0.0, 0.0, 1.0]), 0.0, layout, static)
    boxes = (
        np.array([[10.0, 0.0, 1.0], [30.0, 5.0, 1.0]]),
        np.zeros(2),
        np.array([[2.0, 40.0, 2.0], [2, 2, 2]]),
    )
    pts = caster.scan(boxes, np.zeros(2, bool), np.random.default_rng(1))
    assert ranges(pts).max() < 15.5  # the far box is beyond max range
    ahead = pts[np.abs(pts[:, 1]) < 0.5]
    assert np.std(ahead[:, 0]) == pytest.approx(0.05, rel=0.5)
    # the face x = 9 is within 15 m for |azimuth| <= acos(9 / 15); half the returns drop out
    hit_rays = 2000 * 2 * np.degrees(np.arccos(9 / 15)) / 360
    lo, hi = (
        hit_rays * 0.5 - 4 * np.sqrt(hit_rays * 0.25),
        hit_rays * 0.5 + 4 * np.sqrt(hit_rays * 0.25),
    )
    assert lo <= len(pts) <= hi


def _brute_force_ranges(caster, static, boxes, layout):
    scene = o3d.t.geometry.RaycastingScene()
    for verts, tris, _ in static.meshes:
        scene.add_triangles(o3d.core.Tensor(verts), o3d.core.Tensor(tris))
    v, t = box_meshes(*boxes)
    scene.add_triangles(o3d.core.Tensor(v), o3d.core.Tensor(t))
    t_hit = scene.cast_rays(o3d.core.Tensor(caster.rays))['t_hit'].numpy()
    keep = np.isfinite(t_hit) & (t_hit >= layout.min_range_m) & (t_hit <= layout.max_range_m)
    return t_hit[keep]


def test_culling_keeps_boxes_across_the_azimuth_seam_and_around_the_sensor():
    static = StaticScene(150.0, [], 12.0)
    layout = BeamLayout(rings=8, azimuth_steps=180, **NO_NOISE)
    caster = LidarCaster(np.array([0.0, 0.0, 1.0]), 0.0, layout, static)
    # behind the sensor (straddles ±pi), wider than the azimuth window, and one box that
    # the sensor sits in (its inside faces are hit from within)
    centres = np.array([[-6.0, 0.0, 0.75], [0.0, 3.0, 0.75], [0.0, 0.0, 1.0]])
    sizes = np.array([[4.6, 1.9, 1.5], [30.0, 1.0, 1.5], [10.0, 10.0, 4.0]])
    for pick in ([0], [1], [0, 1], [2]):
        boxes = (centres[pick], np.zeros(len(pick)), sizes[pick])
        culled = caster.scan(boxes, np.zeros(len(pick), bool), RNG)
        np.testing.assert_allclose(
            ranges(culled), _brute_force_ranges(caster, static, boxes, layout), rtol=1e-5, atol=1e-4
        )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-20, 20), st.floats(-20, 20), st.floats(-3.2, 3.2), st.booleans()),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from([0.8, 6.0]),
)
def test_culled_scan_equals_brute_force(actors, height_m):
    static = StaticScene(
        150.0, [np.array([[20.0, 20.0], [40.0, 20.0], [40.0, 40.0], [20.0, 40.0]])], 12.0
    )
    layout = BeamLayout(rings=16, azimuth_steps=256, **NO_NOISE)
    caster = LidarCaster(np.array([-5.0, -5.0, height_m]), 0.3, layout, static)
    a = np.array(actors, dtype=float)
    walker = a[:, 3].astype(bool)
    sizes = np.where(walker[:, None], [0.5, 0.5, 1.8], [4.6, 1.9, 1.5])
    boxes = (np.column_stack([a[:, :2], sizes[:, 2] / 2]), a[:, 2], sizes)
    culled = caster.scan(boxes, walker, RNG)
    brute = _brute_force_ranges(caster, static, boxes, layout)
    np.testing.assert_allclose(ranges(culled), brute, rtol=1e-5, atol=1e-4)


def test_point_cloud_layout():
    pts = np.array([[1.0, 2.0, 3.0, 40.0], [4.0, 5.0, 6.0, 7.0]], np.float32)
    msg = point_cloud(pts, 5_000_000_000, 'rsu_1_lidar')
    assert [f.name for f in msg.fields] == ['x', 'y', 'z', 'intensity']
    assert (msg.width, msg.height, msg.point_step, msg.row_step) == (2, 1, 16, 32)
    back = np.frombuffer(msg.data.tobytes(), '<f4').reshape(-1, 4)
    np.testing.assert_array_equal(back, pts)

"""PointCloud2 ↔ numpy: round trips through real CDR bytes, bad clouds rejected with reasons."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perception_nodes.lidar.cloud import cloud_from_msg, cloud_to_msg
from perception_nodes.lidar.errors import (
    CloudFieldError,
    CloudLayoutError,
    CloudTooLargeError,
    LidarError,
)
from v2x_runtime import messages as m

PC2 = 'sensor_msgs/msg/PointCloud2'


def _field(name, offset, datatype=7, count=1):
    return m.new(
        'sensor_msgs/msg/PointField', name=name, offset=offset, datatype=datatype, count=count
    )


def test_round_trip_through_cdr():
    rng = np.random.default_rng(0)
    xyz = rng.normal(0, 30, (1000, 3)).astype(np.float32)
    inten = rng.uniform(0, 255, 1000).astype(np.float32)
    msg = m.deserialize(m.serialize(cloud_to_msg(xyz, inten, stamp_ns=5, frame_id='lidar')), PC2)
    cloud = cloud_from_msg(msg, max_points=10_000)
    assert cloud.n_input == 1000 and cloud.n_nonfinite == 0
    np.testing.assert_array_equal(cloud.xyz_m, xyz)
    np.testing.assert_array_equal(cloud.intensity, inten)
    assert msg.header.frame_id == 'lidar'


def test_nonfinite_points_dropped_and_counted():
    xyz = np.ones((10, 3), np.float32)
    xyz[2, 0] = np.nan
    xyz[5, 2] = np.inf
    xyz[7] = -np.inf
    cloud = cloud_from_msg(cloud_to_msg(xyz), max_points=100)
    assert cloud.n_nonfinite == 3 and cloud.size == 7
    assert np.isfinite(cloud.xyz_m).all()


def test_all_nan_cloud_is_empty_not_an_error():
    cloud = cloud_from_msg(cloud_to_msg(np.full((50, 3), np.nan, np.float32)), max_points=100)
    assert cloud.size == 0 and cloud.n_nonfinite == 50


def test_empty_cloud():
    cloud = cloud_from_msg(cloud_to_msg(np.zeros((0, 3), np.float32)), max_points=100)
    assert cloud.size == 0 and cloud.n_input == 0


def test_oversized_rejected():
    with pytest.raises(CloudTooLargeError, match='1001 points.*maximum is 1000'):
        cloud_from_msg(cloud_to_msg(np.zeros((1001, 3), np.float32)), max_points=1000)


def test_missing_field_rejected_with_names():
    msg = cloud_to_msg(np.zeros((4, 3), np.float32))
    msg.fields = [f for f in msg.fields if f.name != 'z']
    with pytest.raises(CloudFieldError, match=r"lacks field\(s\) \['z'\]"):
        cloud_from_msg(msg, max_points=100)


def test_integer_xyz_rejected():
    msg = cloud_to_msg(np.zeros((4, 3), np.float32))
    msg.fields[0] = _field('x', 0, datatype=5)
    with pytest.raises(CloudFieldError, match="'x': expected float32/float64, got int32"):
        cloud_from_msg(msg, max_points=100)


def test_field_beyond_point_step_rejected():
    msg = cloud_to_msg(np.zeros((4, 3), np.float32))
    msg.fields[3] = _field('intensity', 14)
    with pytest.raises(CloudFieldError, match='exceeds point_step 16'):
        cloud_from_msg(msg, max_points=100)


def test_short_data_rejected():
    msg = cloud_to_msg(np.zeros((4, 3), np.float32))
    msg.data = msg.data[:-1]
    with pytest.raises(CloudLayoutError, match='63 bytes'):
        cloud_from_msg(msg, max_points=100)


def test_padded_rows_big_endian_float64_without_intensity():
    """An organised 2 x 3 cloud, float64 big-endian, 4 padding bytes per row and per point."""
    xyz = np.arange(18, dtype=np.float64).reshape(6, 3)
    point_step, width, height = 28, 3, 2
    row_step = width * point_step + 4
    data = np.zeros(row_step * height, np.uint8)
    for i in range(6):
        r, c = divmod(i, width)
        start = r * row_step + c * point_step
        data[start : start + 24] = np.frombuffer(xyz[i].astype('>f8').tobytes(), np.uint8)
    msg = m.new(
        PC2,
        height=height,
        width=width,
        point_step=point_step,
        row_step=row_step,
        is_bigendian=True,
        data=data,
        fields=[_field('x', 0, 8), _field('y', 8, 8), _field('z', 16, 8)],
    )
    cloud = cloud_from_msg(msg, max_points=100)
    np.testing.assert_array_equal(cloud.xyz_m, xyz.astype(np.float32))
    assert (cloud.intensity == 0).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.floats(-1e4, 1e4, width=32)] * 4), max_size=60))
def test_round_trip_property(points):
    arr = np.array(points, np.float32).reshape(-1, 4)
    cloud = cloud_from_msg(cloud_to_msg(arr[:, :3], arr[:, 3]), max_points=1000)
    np.testing.assert_array_equal(cloud.xyz_m, arr[:, :3])
    np.testing.assert_array_equal(cloud.intensity, arr[:, 3])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.floats(-1e4, 1e4, width=32)] * 3), max_size=60), st.booleans())
def test_two_layouts_of_the_same_points_read_alike(points, padded):
    """x, y, z at offsets 0, 4, 8 read as the same points stored z, y, x (another layout, so
    another cached record dtype), padded rows or not."""
    xyz = np.array(points, np.float32).reshape(-1, 3)
    n = len(xyz)
    row_pad = 8 if padded else 0

    def cloud(order):
        data = np.zeros(n * 16 + row_pad, np.uint8)
        rec = data[: n * 16].view('<f4').reshape(n, 4)
        rec[:, :3] = xyz[:, order]
        fields = [_field(name, 4 * order.index(k)) for k, name in enumerate('xyz')]
        msg = m.new(PC2, height=1, width=n, point_step=16, row_step=16 * n + row_pad,
                    data=data, fields=fields)  # fmt: skip
        return cloud_from_msg(msg, max_points=1000).xyz_m

    np.testing.assert_array_equal(cloud([0, 1, 2]), cloud([2, 1, 0]))
    np.testing.assert_array_equal(cloud([0, 1, 2]), xyz[np.isfinite(xyz).all(axis=1)])


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=200),
    width=st.integers(0, 20),
    height=st.integers(0, 3),
    point_step=st.integers(-4, 40),
    row_step=st.integers(-4, 400),
    offsets=st.lists(st.integers(-8, 40), min_size=3, max_size=5),
    types=st.lists(st.integers(0, 10), min_size=3, max_size=5),
    big=st.booleans(),
)
def test_fuzz_only_lidar_errors(data, width, height, point_step, row_step, offsets, types, big):
    """Any combination of header fields and bytes gives a Cloud or a LidarError, nothing else."""
    names = ['x', 'y', 'z', 'intensity', 'ring']
    fields = [_field(n, o, t) for n, o, t in zip(names, offsets, types, strict=False)]
    msg = m.new(
        PC2,
        height=height,
        width=width,
        point_step=point_step,
        row_step=row_step,
        is_bigendian=big,
        data=np.frombuffer(data, np.uint8),
        fields=fields,
    )
    try:
        cloud = cloud_from_msg(msg, max_points=50)
    except LidarError:
        return
    assert cloud.xyz_m.shape == (cloud.size, 3)
    assert np.isfinite(cloud.xyz_m).all()

"""PointCloud2 ↔ numpy: zero-copy field views by offset, NaN/inf points dropped and counted.

A PointCloud2 is a packed record array; ``np.frombuffer`` with a dtype built from the message's
own field offsets reads it without a per-point loop. Anything the pipeline cannot read safely
(missing x/y/z, unknown types, sizes that disagree, too many points) raises a ``LidarError``
subclass whose ``reason`` the node counts in diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from perception_nodes.lidar.errors import CloudFieldError, CloudLayoutError, CloudTooLargeError

# sensor_msgs/msg/PointField datatype codes → numpy scalar types.
POINTFIELD_DTYPES: dict[int, type] = {
    1: np.int8,
    2: np.uint8,
    3: np.int16,
    4: np.uint16,
    5: np.int32,
    6: np.uint32,
    7: np.float32,
    8: np.float64,
}
FLOAT32 = 7
_XYZ = ('x', 'y', 'z')


@dataclass(frozen=True)
class Cloud:
    """Finite points of one scan: ``xyz_m`` (N, 3) float32 and ``intensity`` (N,) float32."""

    xyz_m: np.ndarray
    intensity: np.ndarray
    n_input: int
    n_nonfinite: int

    @property
    def size(self) -> int:
        return int(self.xyz_m.shape[0])


def _record_dtype(fields: Any, point_step: int, big_endian: bool) -> np.dtype:
    order = '>' if big_endian else '<'
    names: list[str] = []
    formats: list[np.dtype] = []
    offsets: list[int] = []
    for field in fields:
        if field.name not in (*_XYZ, 'intensity'):
            continue
        scalar = POINTFIELD_DTYPES.get(int(field.datatype))
        if scalar is None:
            raise CloudFieldError(
                f'PointCloud2 field {field.name!r}: datatype {field.datatype} unknown '
                f'(expected one of {sorted(POINTFIELD_DTYPES)})'
            )
        dtype = np.dtype(scalar).newbyteorder(order)
        if field.name in _XYZ and dtype.kind != 'f':
            raise CloudFieldError(
                f'PointCloud2 field {field.name!r}: expected float32/float64, got {dtype.name}'
            )
        if int(field.count) != 1:
            raise CloudFieldError(
                f'PointCloud2 field {field.name!r}: expected count 1, got {field.count}'
            )
        if field.offset < 0 or field.offset + dtype.itemsize > point_step:
            raise CloudFieldError(
                f'PointCloud2 field {field.name!r}: offset {field.offset} + {dtype.itemsize} '
                f'bytes exceeds point_step {point_step}'
            )
        names.append(field.name)
        formats.append(dtype)
        offsets.append(int(field.offset))
    missing = [name for name in _XYZ if name not in names]
    if missing:
        got = [f.name for f in fields]
        raise CloudFieldError(f'PointCloud2 lacks field(s) {missing}; expected x, y, z, got {got}')
    return np.dtype(
        {'names': names, 'formats': formats, 'offsets': offsets, 'itemsize': point_step}
    )


_DTYPES: dict[tuple[Any, ...], np.dtype] = {}


def _cached_dtype(fields: Any, point_step: int, big_endian: bool) -> np.dtype:
    """``_record_dtype`` once per layout: a driver sends the same one every frame, and building
    the dtype cost as much as reading the points."""
    key = (
        point_step,
        big_endian,
        *((f.name, int(f.offset), int(f.datatype), int(f.count)) for f in fields),
    )
    dtype = _DTYPES.get(key)
    if dtype is None:
        dtype = _record_dtype(fields, point_step, big_endian)
        if len(_DTYPES) < 64:  # a handful of layouts in practice; never grow without bound
            _DTYPES[key] = dtype
    return dtype


def cloud_from_msg(msg: Any, *, max_points: int) -> Cloud:
    """Read a ``sensor_msgs/msg/PointCloud2`` (any object with its fields) into a ``Cloud``.

    Raises:
        CloudFieldError: x/y/z missing or not float, unknown datatype, field beyond point_step.
        CloudLayoutError: width/height/point_step/row_step disagree with the data length.
        CloudTooLargeError: more than ``max_points`` points.
    """
    width, height = int(msg.width), int(msg.height)
    point_step, row_step = int(msg.point_step), int(msg.row_step)
    n_points = width * height
    if n_points > max_points:
        raise CloudTooLargeError(
            f'PointCloud2 has {n_points} points ({width}x{height}), maximum is {max_points}'
        )
    if point_step <= 0 or row_step < width * point_step:
        raise CloudLayoutError(
            f'PointCloud2 point_step {point_step} / row_step {row_step} invalid for width {width}'
        )
    data = np.asarray(msg.data, dtype=np.uint8)
    if data.size < row_step * height:
        raise CloudLayoutError(
            f'PointCloud2 data has {data.size} bytes, expected row_step {row_step} x height '
            f'{height} = {row_step * height}'
        )
    dtype = _cached_dtype(msg.fields, point_step, bool(msg.is_bigendian))
    if n_points == 0:
        empty = np.zeros((0, 3), np.float32)
        return Cloud(empty, np.zeros(0, np.float32), 0, 0)
    if row_step == width * point_step:
        records = np.frombuffer(data, dtype=dtype, count=n_points)
    else:  # padded rows: view each row, then flatten (one copy)
        rows = data[: row_step * height].reshape(height, row_step)[:, : width * point_step]
        records = np.frombuffer(np.ascontiguousarray(rows), dtype=dtype, count=n_points)
    # three strided field copies: 5x faster than one copy of the 12 leading bytes per record
    xyz = np.empty((n_points, 3), np.float32)
    xyz[:, 0] = records['x']
    xyz[:, 1] = records['y']
    xyz[:, 2] = records['z']
    if 'intensity' in dtype.names:
        intensity = records['intensity'].astype(np.float32)
    else:
        intensity = np.zeros(n_points, np.float32)
    n_bad = 0
    if not np.isfinite(xyz).all():  # per column: isfinite(...).all(axis=1) is 20x slower
        finite = np.isfinite(xyz[:, 0]) & np.isfinite(xyz[:, 1]) & np.isfinite(xyz[:, 2])
        n_bad = n_points - int(np.count_nonzero(finite))
        xyz, intensity = xyz[finite], intensity[finite]
    return Cloud(xyz, intensity, n_points, n_bad)


def pack_points(xyz_m: np.ndarray, intensity: np.ndarray | None = None) -> np.ndarray:
    """Pack points as the little-endian x, y, z, intensity float32 layout (16 bytes a point)."""
    n = int(xyz_m.shape[0])
    out = np.empty((n, 4), np.dtype('<f4'))
    out[:, :3] = xyz_m
    out[:, 3] = 0.0 if intensity is None else intensity
    return out.reshape(-1).view(np.uint8)


def cloud_to_msg(
    xyz_m: np.ndarray,
    intensity: np.ndarray | None = None,
    *,
    stamp_ns: int = 0,
    frame_id: str = 'lidar',
) -> Any:
    """Build a ``sensor_msgs/msg/PointCloud2`` (x, y, z, intensity as float32)."""
    from v2x_runtime import messages as m

    n = int(xyz_m.shape[0])
    fields = [
        m.new('sensor_msgs/msg/PointField', name=name, offset=4 * i, datatype=FLOAT32, count=1)
        for i, name in enumerate((*_XYZ, 'intensity'))
    ]
    return m.new(
        'sensor_msgs/msg/PointCloud2',
        header=m.header(stamp_ns, frame_id),
        height=1,
        width=n,
        fields=fields,
        is_bigendian=False,
        point_step=16,
        row_step=16 * n,
        data=pack_points(xyz_m, intensity),
        is_dense=bool(np.isfinite(xyz_m).all()),
    )

"""The one message representation: rosbags typestore dataclasses with ROS 2 field names.

The standard types come from rosbags' ROS 2 Jazzy store; the project's own types are parsed
from ``msg/*.msg`` at first use, so those files stay the single source of truth. The same CDR
bytes go to rclpy, to rosbag2 files and between components.

Numeric arrays are numpy arrays (rosbags' choice); treat received messages as immutable.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import MISSING
from dataclasses import fields as fields_of
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.interfaces import Nodetype
from rosbags.typesys import Stores, get_types_from_msg
from rosbags.typesys import get_typestore as _get_store
from rosbags.typesys.store import Typestore

from v2x_runtime import cdr
from v2x_runtime.errors import MessageError

PACKAGE = 'v2x_stack'

_NUMPY_DTYPES: dict[str, type] = {
    'bool': np.bool_,
    'byte': np.uint8,
    'char': np.uint8,
    'octet': np.uint8,
    'int8': np.int8,
    'uint8': np.uint8,
    'int16': np.int16,
    'uint16': np.uint16,
    'int32': np.int32,
    'uint32': np.uint32,
    'int64': np.int64,
    'uint64': np.uint64,
    'float32': np.float32,
    'float64': np.float64,
}


def interface_dir() -> Path:
    """Find the ``msg/`` folder: the source tree, a ROS install's share, or pip package data."""
    here = Path(__file__).resolve().parent
    candidates = [here.parent / 'msg', here / 'interfaces']
    try:  # a colcon install: share/v2x_stack/msg
        from ament_index_python.packages import get_package_share_directory

        candidates.append(Path(get_package_share_directory(PACKAGE)) / 'msg')
    except Exception:
        pass
    for path in candidates:
        if any(path.glob('*.msg')):
            return path
    raise MessageError(f'no {PACKAGE} interface files found in {[str(p) for p in candidates]}')


@cache
def typestore() -> Typestore:
    """The process-wide typestore: ROS 2 Jazzy's standard types plus ``msg/*.msg``."""
    store = _get_store(Stores.ROS2_JAZZY)
    types: dict[str, Any] = {}
    for path in sorted(interface_dir().glob('*.msg')):
        name = f'{PACKAGE}/msg/{path.stem}'
        try:
            types.update(get_types_from_msg(path.read_text(encoding='utf-8'), name))
        except Exception as err:
            raise MessageError(f'{path}: cannot parse message definition: {err}') from err
    store.register(types)
    cdr.bind(store)
    return store


def msg_class(msgtype: str) -> type:
    """The dataclass of ``msgtype`` (a full name such as ``sensor_msgs/msg/NavSatFix``)."""
    try:
        return typestore().types[msgtype]
    except KeyError:
        raise MessageError(f'unknown message type {msgtype!r}') from None


def known_type(msgtype: str) -> bool:
    return msgtype in typestore().types


def _field_default(desc: tuple[Any, Any]) -> Callable[[], Any]:
    kind, detail = desc
    if kind == Nodetype.BASE:
        base = detail[0]
        if base == 'string':
            return str
        if base == 'bool':
            return bool
        if base.startswith('float'):
            return float
        return int
    if kind == Nodetype.NAME:
        return _factory(detail)
    elem, count = detail
    if elem[0] == Nodetype.BASE and elem[1][0] in _NUMPY_DTYPES:
        dtype = _NUMPY_DTYPES[elem[1][0]]
        size = count if kind == Nodetype.ARRAY else 0
        return lambda: np.zeros(size, dtype=dtype)
    if kind == Nodetype.ARRAY:
        element = _field_default(elem)
        return lambda: [element() for _ in range(count)]
    return list


@cache
def _factory(msgtype: str) -> Callable[..., Any]:
    cls = msg_class(msgtype)
    _consts, fields = typestore().fielddefs[msgtype]
    defaults = {name: _field_default(desc) for name, desc in fields}

    # The instance dict is filled directly: the dataclass __init__ would also assign every
    # .msg constant and __msgtype__ one by one (36 writes for a Marker), at twice the cost.
    # Immutable values (constants, 0, 0.0, '', False) are shared and copied in one update;
    # only mutable ones (nested messages, arrays, lists) are made per message.
    shared = {f.name: f.default for f in fields_of(cls) if f.default is not MISSING}
    shared.update({n: d() for n, d in defaults.items() if d in (int, float, str, bool)})
    factories = tuple((n, d) for n, d in defaults.items() if n not in shared)
    names = _field_name_set(msgtype)
    allocate = object.__new__

    def make(**values: Any) -> Any:
        # hot: every message of every component; only the missing fields get defaults
        if not names.issuperset(values):
            unknown = values.keys() - names
            raise MessageError(f'{msgtype} has no field(s) {sorted(unknown)}')
        message = allocate(cls)
        state = message.__dict__
        state.update(shared)
        for name, factory in factories:
            if name not in values:
                state[name] = factory()
        state.update(values)
        return message

    return make


def new(msgtype: str, **fields: Any) -> Any:
    """A ``msgtype`` message; every field not given gets its default (0, '', empty, nested)."""
    return _factory(msgtype)(**fields)


def replace(message: Any, **changes: Any) -> Any:
    """A shallow copy of ``message`` with ``changes``: what ``dataclasses.replace`` makes, without
    re-running ``__init__`` over every field and constant (~5 µs for a V2xFrame)."""
    if not _field_name_set(message.__msgtype__).issuperset(changes):
        unknown = changes.keys() - _field_name_set(message.__msgtype__)
        raise MessageError(f'{message.__msgtype__} has no field(s) {sorted(unknown)}')
    copy = object.__new__(type(message))
    state = copy.__dict__
    state.update(message.__dict__)
    state.update(changes)
    return copy


@cache
def _field_name_set(msgtype: str) -> frozenset[str]:
    return frozenset(name for name, _ in typestore().fielddefs[msgtype][1])


def field_names(msgtype: str) -> list[str]:
    return [name for name, _ in typestore().fielddefs[msgtype][1]]


def serialize(message: Any) -> bytes:
    """CDR bytes (little endian, with the encapsulation header) of a message."""
    name = getattr(message, '__msgtype__', None)
    if name is None:
        raise MessageError(f'cannot serialize {type(message).__name__}: not a message')
    try:
        typestore()
        return cdr.serialize(message, name)
    except Exception as err:  # a malformed field value: wrong type, length or range
        raise MessageError(f'cannot serialize {name}: {err}') from err


def deserialize(data: bytes | memoryview, msgtype: str) -> Any:
    """A message from CDR bytes; raises MessageError for truncated or malformed data."""
    msg_class(msgtype)
    try:
        if len(data) >= 2 and data[1] == 0:  # big-endian CDR: rare, rosbags' generic path
            return typestore().deserialize_cdr(data, msgtype)
        return cdr.deserialize(data, msgtype)
    except Exception as err:  # untrusted bytes: any failure means malformed data
        raise MessageError(f'cannot deserialize {msgtype} from {len(data)} bytes: {err}') from err


def msgdef(msgtype: str) -> str:
    """The concatenated ``.msg`` definition (ros2msg) that rosbag2 and MCAP embed."""
    return typestore().generate_msgdef(msgtype, ros_version=2)[0]


def stamp(ns: int) -> Any:
    """``builtin_interfaces/msg/Time`` for a time in nanoseconds."""
    sec, nanosec = divmod(int(ns), 1_000_000_000)
    return msg_class('builtin_interfaces/msg/Time')(sec=sec, nanosec=nanosec)


def to_ns(time_msg: Any) -> int:
    """Nanoseconds of a ``builtin_interfaces/msg/Time`` (or Duration)."""
    return int(time_msg.sec) * 1_000_000_000 + int(time_msg.nanosec)


def header(ns: int, frame_id: str = '') -> Any:
    """``std_msgs/msg/Header`` stamped ``ns`` in ``frame_id``."""
    return msg_class('std_msgs/msg/Header')(stamp=stamp(ns), frame_id=frame_id)


def seconds(ns: int) -> float:
    return ns / 1e9


def finite(*values: float) -> bool:
    """True when every value is a finite number (the common NaN/inf input check)."""
    return all(math.isfinite(v) for v in values)

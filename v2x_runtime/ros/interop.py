"""Mapping of the project's message type names and QoS profiles to their rclpy counterparts."""

from __future__ import annotations

import importlib
from functools import cache

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from v2x_runtime.errors import MessageError
from v2x_runtime.qos import Durability, QosProfile, Reliability

_RELIABILITY = {
    Reliability.RELIABLE: ReliabilityPolicy.RELIABLE,
    Reliability.BEST_EFFORT: ReliabilityPolicy.BEST_EFFORT,
}
_DURABILITY = {
    Durability.VOLATILE: DurabilityPolicy.VOLATILE,
    Durability.TRANSIENT_LOCAL: DurabilityPolicy.TRANSIENT_LOCAL,
}


@cache
def rosidl_class(msgtype: str) -> type:
    """The rosidl-generated class of ``pkg/msg/Type`` (``pkg.msg.Type``).

    The adapter sends and receives raw CDR, so the class serves only as the type support that
    rclpy needs to create the endpoint. The project's own types come from the colcon build of
    ``msg/`` (the ``v2x_stack.msg`` module).
    """
    package, kind, name = [*msgtype.split('/'), '', ''][:3]
    if not package or kind != 'msg' or not name:
        raise MessageError(f'message type {msgtype!r} is not of the form package/msg/Type')
    try:
        module = importlib.import_module(f'{package}.msg')
    except ImportError as err:
        hint = (
            ' (build the package with colcon and source install/setup.bash)'
            if package == 'v2x_stack'
            else ''
        )
        raise MessageError(f'{msgtype}: cannot import {package}.msg{hint}: {err}') from err
    cls = getattr(module, name, None)
    if not isinstance(cls, type):
        raise MessageError(f'{msgtype}: {package}.msg has no message {name}')
    return cls


def ros_qos(profile: QosProfile) -> QoSProfile:
    """The rclpy QoS of a component's declared profile (keep-last ``depth``)."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=profile.depth,
        reliability=_RELIABILITY[profile.reliability],
        durability=_DURABILITY[profile.durability],
    )

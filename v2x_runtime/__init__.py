"""The component API and the runtimes that host components (embedded, and ROS 2 via rclpy)."""

from v2x_runtime.component import Component, ComponentContext, Publisher, Timer
from v2x_runtime.errors import (
    BagError,
    MessageError,
    ParameterError,
    RuntimeLayerError,
    TopologyError,
)
from v2x_runtime.qos import QOS_LATCHED, QOS_RELIABLE, QOS_SENSOR, QosProfile

__all__ = [
    'QOS_LATCHED',
    'QOS_RELIABLE',
    'QOS_SENSOR',
    'BagError',
    'Component',
    'ComponentContext',
    'MessageError',
    'ParameterError',
    'Publisher',
    'QosProfile',
    'RuntimeLayerError',
    'Timer',
    'TopologyError',
]

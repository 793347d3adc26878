"""The ROS 2 side of the runtime: any Component as an rclpy node, and the ``container``.

This sub-package is the only place in the project that imports rclpy. Nothing on the no-ROS
path (embedded runtime, CLI, topology loader) imports it, so pip installs without ROS work.
"""

from v2x_runtime.ros.adapter import ComponentNode, RosContext

__all__ = ['ComponentNode', 'RosContext']

"""The generic rclpy adapter: any ``Component`` hosted in an rclpy ``Node``.

One ``ComponentNode`` per component. Its ``RosContext`` implements ``ComponentContext`` with
real rclpy: parameters are declared ROS parameters (descriptor with description, type, range,
read-only unless dynamic), publishers and subscriptions carry raw CDR produced and consumed by
``v2x_runtime.messages``, timers run on the node's clock (so ``use_sim_time`` follows
``/clock``), and topic names are resolved by rclpy (namespace and remappings from the node's
ROS arguments). Each node publishes its component's diagnostics on ``diagnostics`` once a
period, as the embedded runtime does. A handler that raises is logged with its traceback and
counted as ``handler_exceptions``; the node goes on unless ``fail_fast`` is set.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.context import Context
from rclpy.exceptions import (
    InvalidParameterTypeException,
    InvalidParameterValueException,
)
from rclpy.node import Node
from rclpy.parameter import Parameter

from v2x_runtime import messages as m
from v2x_runtime.component import (
    Callback,
    Component,
    ComponentContext,
    Endpoint,
    Publisher,
    Timer,
)
from v2x_runtime.diagnostics import Diagnostics, ThrottledLogger, diagnostic_array
from v2x_runtime.errors import MessageError, ParameterError
from v2x_runtime.parameters import ParameterSpec, ParameterValue
from v2x_runtime.qos import QOS_RELIABLE, QosProfile
from v2x_runtime.ros.interop import ros_qos, rosidl_class
from v2x_runtime.ros.logging_bridge import component_logger
from v2x_runtime.ros.parameter_bridge import descriptor, from_ros, parameter_type

DIAGNOSTICS_TOPIC = 'diagnostics'
DIAGNOSTICS_TYPE = 'diagnostic_msgs/msg/DiagnosticArray'


class RosPublisher(Publisher):
    """Publishes typestore messages as CDR bytes through an rclpy publisher."""

    def __init__(self, ros_publisher: Any, topic: str, msgtype: str, owner: str) -> None:
        super().__init__(topic, msgtype, owner)
        self._pub = ros_publisher

    def _send(self, message: Any) -> None:
        self._pub.publish(m.serialize(message))


class _RosTimer(Timer):
    """An rclpy timer as the component API's Timer (rcl's cancel and reset: a reset timer
    fires one period after the reset, canceled or not)."""

    def __init__(self, timer: Any) -> None:
        self._timer = timer

    def cancel(self) -> None:
        self._timer.cancel()

    def reset(self) -> None:
        self._timer.reset()

    def is_canceled(self) -> bool:
        return bool(self._timer.is_canceled())


class HandlerGate:
    """Counts the handlers running (possibly on executor threads); once closed, skips new ones.

    Shutdown closes the gate and waits, so no handler still runs while components stop and
    nodes are destroyed (the multi-threaded executor runs handlers on a thread pool).
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._running = 0
        self._closed = False

    def enter(self) -> bool:
        with self._condition:
            if self._closed:
                return False
            self._running += 1
            return True

    def leave(self) -> None:
        with self._condition:
            self._running -= 1
            self._condition.notify_all()

    def close(self, timeout_s: float) -> bool:
        """Refuse new handlers; True once the running ones finished (False on timeout)."""
        with self._condition:
            self._closed = True
            return self._condition.wait_for(lambda: self._running == 0, timeout_s)


class RosContext(ComponentContext):
    """``ComponentContext`` over one rclpy node."""

    def __init__(
        self,
        node: Node,
        *,
        overrides: dict[str, Any],
        seed: int = 0,
        fail_fast: bool = False,
    ) -> None:
        self.node = node
        self.name = node.get_name()
        self.namespace = node.get_namespace()
        self.full_name = node.get_fully_qualified_name()
        self.fail_fast = fail_fast
        self.gate = HandlerGate()
        self._overrides = dict(overrides)
        self.parameters: dict[str, ParameterSpec] = {}
        self._declared: set[str] = set()
        self.endpoints: list[Endpoint] = []
        self.publishers: list[RosPublisher] = []
        ros_logger = node.get_logger()
        python_logger = component_logger(f'v2x.ros{self.full_name.replace("/", ".")}', ros_logger)
        self.logger = ThrottledLogger(python_logger, self.now_ns)
        self.diagnostics = Diagnostics(self.full_name, self.logger)
        self.random = np.random.default_rng([seed, zlib.crc32(self.full_name.encode())])
        node.add_on_set_parameters_callback(self._check_parameters)
        node.add_post_set_parameters_callback(self._parameters_changed)

    # --- parameters -------------------------------------------------------------
    def _bind_parameter(self, spec: ParameterSpec, value: ParameterValue) -> Any:
        name = spec.name
        initial: Any = value
        if isinstance(value, list) and not value:
            initial = parameter_type(spec)  # rclpy cannot infer the type of an empty list
        try:
            declared = self.node.declare_parameter(name, initial, descriptor(spec))
        except InvalidParameterTypeException as err:
            raise ParameterError(
                f'{self.full_name}: parameter {name}: ROS override has the wrong type: {err}'
            ) from None
        except InvalidParameterValueException as err:
            raise ParameterError(f'{self.full_name}: parameter {name}: {err}') from None
        self._declared.add(name)
        if declared.type_ == Parameter.Type.NOT_SET:
            return []
        return spec.validate(from_ros(declared.value))

    def _check_parameters(self, params: list[Parameter]) -> SetParametersResult:
        """Reject values the component's declaration forbids (rclpy checked type and range)."""
        for param in params:
            spec = self.parameters.get(param.name)
            if spec is None or param.type_ == Parameter.Type.NOT_SET:
                continue
            try:
                spec.validate(from_ros(param.value))
            except ParameterError as err:
                return SetParametersResult(successful=False, reason=str(err))
        return SetParametersResult(successful=True)

    def _parameters_changed(self, params: list[Parameter]) -> None:
        """Hand accepted run-time changes of dynamic parameters to the component."""
        for param in params:
            spec = self.parameters.get(param.name)
            if spec is None or param.name not in self._declared or spec.on_change is None:
                continue
            self.guarded(spec.on_change, spec.validate(from_ros(param.value)))

    # --- endpoints --------------------------------------------------------------
    def create_publisher(self, topic: str, msgtype: str, qos: QosProfile) -> Publisher:
        m.msg_class(msgtype)
        ros_pub = self.node.create_publisher(rosidl_class(msgtype), topic, ros_qos(qos))
        resolved = ros_pub.topic_name
        self.endpoints.append(Endpoint(resolved, msgtype, qos, publisher=True))
        publisher = RosPublisher(ros_pub, resolved, msgtype, self.full_name)
        self.publishers.append(publisher)
        return publisher

    def create_subscription(
        self, topic: str, msgtype: str, callback: Callback, qos: QosProfile
    ) -> None:
        m.msg_class(msgtype)
        resolved = self.resolve(topic)

        def deliver(data: bytes) -> None:
            try:
                message = m.deserialize(data, msgtype)
            except MessageError as err:
                self.diagnostics.reject('malformed', f'{resolved}: {err}')
                return
            callback(message)

        def on_bytes(data: bytes) -> None:
            self.guarded(deliver, data)

        self.node.create_subscription(
            rosidl_class(msgtype), topic, on_bytes, ros_qos(qos), raw=True
        )
        self.endpoints.append(Endpoint(resolved, msgtype, qos, publisher=False))

    def create_timer(
        self, period_s: float, callback: Callable[[], None], *, autostart: bool = True
    ) -> Timer:
        if not period_s > 0:
            raise ParameterError(f'{self.full_name}: timer period must be > 0 s, got {period_s}')
        timer = self.node.create_timer(period_s, lambda: self.guarded(callback))
        if not autostart:
            timer.cancel()
        return _RosTimer(timer)

    def now_ns(self) -> int:
        return int(self.node.get_clock().now().nanoseconds)

    def resolve(self, topic: str) -> str:
        return self.node.resolve_topic_name(topic)

    # --- errors -----------------------------------------------------------------
    def guarded(self, function: Callable[..., None], *args: Any) -> None:
        """Run a handler; an exception is logged, counted, and re-raised only if fail-fast."""
        if not self.gate.enter():
            return  # shutting down
        try:
            function(*args)
        except Exception as err:
            self.diagnostics.count('handler_exceptions')
            self.logger.exception(f'{self.full_name}: handler raised {err!r}')
            if self.fail_fast:
                raise
        finally:
            self.gate.leave()


class ComponentNode:
    """An rclpy node named after the component, hosting it through a ``RosContext``.

    ``namespace`` is the default: a ``__ns`` remapping in the ROS arguments wins, as for any
    ROS node. ``remappings`` (topic → topic) become this node's own ``-r`` arguments.
    Raises ParameterError (unknown, mistyped or out-of-range parameters) or MessageError.
    """

    def __init__(
        self,
        component_class: type[Component],
        *,
        name: str,
        context: Context,
        namespace: str = '/',
        parameters: dict[str, Any] | None = None,
        remappings: dict[str, str] | None = None,
        seed: int = 0,
        fail_fast: bool = False,
        diagnostics_period_s: float = 1.0,
    ) -> None:
        cli_args = ['--ros-args']
        for source, target in (remappings or {}).items():
            cli_args += ['-r', f'{source}:={target}']
        self.node = Node(
            name,
            namespace=namespace if namespace.startswith('/') else f'/{namespace}',
            context=context,
            cli_args=cli_args if len(cli_args) > 1 else None,
        )
        try:
            self.ctx = RosContext(
                self.node, overrides=parameters or {}, seed=seed, fail_fast=fail_fast
            )
            self.component = component_class(self.ctx)
            self.ctx.check_overrides()
            self._diagnostics_pub = self.node.create_publisher(
                rosidl_class(DIAGNOSTICS_TYPE), DIAGNOSTICS_TOPIC, ros_qos(QOS_RELIABLE)
            )
            if diagnostics_period_s > 0:
                self.node.create_timer(diagnostics_period_s, self.publish_diagnostics)
        except BaseException:
            self.node.destroy_node()
            raise
        self._started = False

    @property
    def full_name(self) -> str:
        return self.ctx.full_name

    def publish_diagnostics(self) -> None:
        self.ctx.guarded(self._publish_diagnostics)

    def _publish_diagnostics(self) -> None:
        status = self.ctx.diagnostics.to_status()
        self._diagnostics_pub.publish(m.serialize(diagnostic_array(self.ctx.now_ns(), [status])))

    def quiesce(self, timeout_s: float = 10.0) -> bool:
        """Let no new handler start and wait for running ones (before ``stop``/``destroy``)."""
        return self.ctx.gate.close(timeout_s)

    def start(self) -> None:
        if not self._started:
            self.component.start()
            self._started = True

    def stop(self) -> None:
        """Stop the component (once); errors are logged, never raised."""
        if self._started:
            self._started = False
            try:
                self.component.stop()
            except Exception:
                self.ctx.logger.exception(f'{self.full_name}: stop() raised')

    def destroy(self) -> None:
        self.stop()
        self.node.destroy_node()

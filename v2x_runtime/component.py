"""The component API: node logic as a plain class, free of ROS.

A component receives a ``ComponentContext`` in its constructor and declares through it its
parameters, publishers, subscriptions and timers. It gets time only from ``ctx.now_ns()``.
Construction must be cheap and free of side effects (topologies are validated by constructing
every component); open sockets or buses in ``start()`` and close them in ``stop()``.

Two runtimes implement the context: the embedded deterministic runtime
(``v2x_runtime.embedded``) and the rclpy adapter (``v2x_runtime.ros``).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from v2x_runtime.diagnostics import Diagnostics, ThrottledLogger
from v2x_runtime.errors import ParameterError, RuntimeLayerError
from v2x_runtime.parameters import ParameterSpec, ParameterValue, make_spec
from v2x_runtime.qos import QosProfile

Callback = Callable[[Any], None]


@dataclass(frozen=True)
class Endpoint:
    """A declared publisher or subscription, as the topology validator and tools see it."""

    topic: str  # fully resolved name
    msgtype: str
    qos: QosProfile
    publisher: bool


class Publisher(abc.ABC):
    """Returned by ``create_publisher``; ``publish`` takes a typestore message.

    Both runtimes refuse a message of another type than the one declared, the same way.
    """

    def __init__(self, topic: str, msgtype: str, owner: str) -> None:
        self.topic = topic
        self.msgtype = msgtype
        self._owner = owner

    def publish(self, message: Any) -> None:
        """Send ``message``; raises RuntimeLayerError when its type is not the declared one."""
        if getattr(message, '__msgtype__', None) != self.msgtype:
            raise RuntimeLayerError(
                f'{self._owner}: publishing {getattr(message, "__msgtype__", type(message))} '
                f'on {self.topic}, declared as {self.msgtype}'
            )
        self._send(message)

    @abc.abstractmethod
    def _send(self, message: Any) -> None:
        """Hand a message of the declared type to the runtime."""


class Timer(abc.ABC):
    """A timer a component made (``ctx.create_timer``): rclpy's ``cancel``/``reset`` so an
    idle component stops ticking and re-arms when work arrives. ``reset`` starts a fresh
    period from now (rclpy: a reset timer fires one period after the reset), canceled or
    not; a one-shot is a timer whose callback cancels it."""

    @abc.abstractmethod
    def cancel(self) -> None:
        """No firing until ``reset`` (a firing already due at this instant is dropped)."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Fire one period from now, then every period (also after ``cancel``)."""

    @abc.abstractmethod
    def is_canceled(self) -> bool: ...


class ComponentContext(abc.ABC):
    """What a component may use of its runtime. Both runtimes implement every method."""

    name: str
    namespace: str
    logger: ThrottledLogger
    diagnostics: Diagnostics
    random: np.random.Generator

    full_name: str
    parameters: dict[str, ParameterSpec]  # declared so far, by name
    _overrides: dict[str, Any]  # values the topology or command line set, by name

    def declare_parameter(
        self,
        name: str,
        default: ParameterValue,
        description: str,
        *,
        range: tuple[float, float] | None = None,
        choices: Sequence[str] | None = None,
        dynamic: bool = False,
        on_change: Callable[[Any], None] | None = None,
    ) -> Any:
        """Declare a parameter and return its value (the override if one is set, else default).

        Raises ParameterError when the override has the wrong type or is out of range.
        """
        if name in self.parameters:
            raise ParameterError(f'{self.full_name}: parameter {name} declared twice')
        spec = make_spec(
            name,
            default,
            description,
            range=range,
            choices=choices,
            dynamic=dynamic,
            on_change=on_change,
        )
        value = spec.validate(self._overrides[name]) if name in self._overrides else default
        self.parameters[name] = spec
        return self._bind_parameter(spec, value)

    @abc.abstractmethod
    def _bind_parameter(self, spec: ParameterSpec, value: ParameterValue) -> Any:
        """Make a checked declaration live in the runtime; return the value the component gets.

        ``value`` is the validated override, else the default.
        """

    def check_overrides(self) -> None:
        """Raise ParameterError naming every override the component did not declare."""
        unknown = sorted(set(self._overrides) - set(self.parameters))
        if unknown:
            raise ParameterError(
                f'{self.full_name}: unknown parameter(s) {", ".join(unknown)}; '
                f'declared: {", ".join(sorted(self.parameters)) or "none"}'
            )

    @abc.abstractmethod
    def create_publisher(self, topic: str, msgtype: str, qos: QosProfile) -> Publisher: ...

    @abc.abstractmethod
    def create_subscription(
        self, topic: str, msgtype: str, callback: Callback, qos: QosProfile
    ) -> None: ...

    @abc.abstractmethod
    def create_timer(
        self, period_s: float, callback: Callable[[], None], *, autostart: bool = True
    ) -> Timer:
        """A periodic timer on the runtime's clock, first firing one period from now;
        ``autostart=False`` makes it canceled until ``reset`` (as rclpy's ``autostart``)."""

    @abc.abstractmethod
    def now_ns(self) -> int:
        """Current time of the runtime's clock (simulated, ROS time or wall time) in ns."""

    @abc.abstractmethod
    def resolve(self, topic: str) -> str:
        """The fully qualified name of ``topic`` after remapping and namespacing."""


class Component:
    """Base of every node's logic. Subclasses declare everything in ``__init__``."""

    def __init__(self, ctx: ComponentContext) -> None:
        self.ctx = ctx

    def start(self) -> None:
        """Acquire external resources (sockets, buses, files); called once before spinning."""

    def stop(self) -> None:
        """Release what ``start`` acquired; called once at shutdown, also after errors."""


def resolve_name(name: str, namespace: str, node_name: str, remappings: dict[str, str]) -> str:
    """Expand a topic name as ROS 2 does: remap, then ``~`` and namespace expansion.

    Remapping rules match the name as written or its expanded form.
    """

    def expand(raw: str) -> str:
        if raw.startswith('/'):
            return raw
        ns = namespace.rstrip('/')
        if raw == '~' or raw.startswith('~/'):
            return f'{ns}/{node_name}{raw[1:]}'
        return f'{ns}/{raw}'

    if name in remappings:
        return expand(remappings[name])
    expanded = expand(name)
    if expanded in remappings:
        return expand(remappings[expanded])
    return expanded

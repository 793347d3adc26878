"""The embedded runtime: components in one process on a simulated clock, no ROS needed.

A deterministic discrete-event loop: events (timer firings, message deliveries) run ordered by
simulated time, then by the order they were scheduled. A message published at time t is
delivered to every subscriber at t, after the events already queued for t. The loop runs as
fast as it can, or paced to a real-time factor. Everything published can be recorded to a
rosbag2 MCAP file. The same topology and seed give byte-identical bags.

Usage::

    rt = EmbeddedRuntime(seed=1)
    rt.add_component(MyNode, name='my_node', namespace='/car1', parameters={'rate_hz': 5.0})
    rt.subscribe('/car1/v2x/tx', 'v2x_stack/msg/V2xFrame', received.append)   # a test probe
    rt.run(duration_s=10.0)
    rt.close()
"""

from __future__ import annotations

import heapq
import logging
import time
import zlib
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter, process_time
from typing import Any

import numpy as np

from v2x_runtime import messages as m
from v2x_runtime.accounting import CpuAccount
from v2x_runtime.bag import BagRecorder
from v2x_runtime.component import (
    Callback,
    Component,
    ComponentContext,
    Endpoint,
    Publisher,
    Timer,
    resolve_name,
)
from v2x_runtime.diagnostics import Diagnostics, ThrottledLogger, diagnostic_array
from v2x_runtime.errors import ParameterError, RuntimeLayerError, TopologyError
from v2x_runtime.parameters import ParameterSpec, ParameterValue
from v2x_runtime.qos import QOS_RELIABLE, QosProfile

NS_PER_S = 1_000_000_000
DIAGNOSTICS_TOPIC = 'diagnostics'
DIAGNOSTIC_ARRAY = 'diagnostic_msgs/msg/DiagnosticArray'


# A queued event: (time_ns, seq, callable, argument or _NO_ARG, owning context or None, the
# CPU account its time goes to). Plain tuples keep the heap fast; seq is unique, so comparison
# never reaches the callable.
_Event = tuple[int, int, Callable[..., None], Any, '_Context | None', CpuAccount]
_NO_ARG = object()


@dataclass
class _Subscription:
    msgtype: str
    callback: Callback
    owner: _Context | None
    account: CpuAccount


def _observer_name(callback: Callable[..., Any]) -> str:
    """The account name of an outside callback: its class (or function) name, e.g. ``Probe``."""
    return getattr(callback, '__qualname__', type(callback).__qualname__).split('.')[0]


class _Topic:
    """A topic's type, first declarer and subscribers."""

    def __init__(self, name: str, msgtype: str, qos: QosProfile, declared_by: str) -> None:
        self.name = name
        self.msgtype = msgtype
        self.qos = qos
        self.declared_by = declared_by
        self.subscriptions: list[_Subscription] = []
        self.publishers: list[str] = []
        self.recorded: bool | None = None  # does the recorder want it (None: not asked yet)


class _Arming:
    """One arming of a timer: re-queued at every firing (no closure per firing) until its
    timer is canceled or reset, which leaves it dead in the queue (skipped when it comes)."""

    __slots__ = ('_runtime', 'account', 'callback', 'dead', 'owner', 'period_ns', 'when_ns')

    def __init__(self, timer: _Timer) -> None:
        # the timer's values copied into slots: read at every firing
        self._runtime = timer.runtime
        self.period_ns = timer.period_ns
        self.callback = timer.callback
        self.owner = timer.owner
        self.account = timer.account
        self.when_ns = timer.runtime.now_ns() + timer.period_ns
        self.dead = False

    def __call__(self) -> None:
        if self.dead:
            return
        # the next firing is queued before this one runs (``_schedule`` inlined: hot)
        runtime = self._runtime
        self.when_ns += self.period_ns
        runtime._seq += 1
        heapq.heappush(
            runtime._queue, (self.when_ns, runtime._seq, self, _NO_ARG, self.owner, self.account)
        )
        self.callback()


class _Timer(Timer):
    """A periodic timer: its live arming is in the queue; cancel kills it, reset replaces it."""

    def __init__(
        self,
        runtime: EmbeddedRuntime,
        period_ns: int,
        callback: Callable[[], None],
        owner: _Context | None,
        account: CpuAccount,
        *,
        autostart: bool = True,
    ) -> None:
        self.runtime = runtime
        self.period_ns = period_ns
        self.callback = callback
        self.owner = owner
        self.account = account
        self._arming: _Arming | None = None
        if autostart:
            self.reset()

    def cancel(self) -> None:
        if self._arming is not None:
            self._arming.dead = True
            self._arming = None

    def reset(self) -> None:
        self.cancel()
        arming = self._arming = _Arming(self)
        self.runtime._schedule(arming.when_ns, arming, self.owner, self.account)

    def is_canceled(self) -> bool:
        return self._arming is None


class _EmbeddedPublisher(Publisher):
    def __init__(self, runtime: EmbeddedRuntime, topic: str, msgtype: str, owner: str) -> None:
        super().__init__(topic, msgtype, owner)
        self._runtime = runtime
        self._info = runtime.topics[topic]  # declared before the publisher is made

    def publish(self, message: Any) -> None:
        # hot (every message of every component): Publisher.publish's check, one call less
        if getattr(message, '__msgtype__', None) != self.msgtype:
            super().publish(message)  # raises the shared error
            return
        self._runtime._deliver(self._info, message)

    def _send(self, message: Any) -> None:
        self._runtime._deliver(self._info, message)


class _Context(ComponentContext):
    def __init__(
        self,
        runtime: EmbeddedRuntime,
        name: str,
        namespace: str,
        overrides: dict[str, Any],
        remappings: dict[str, str],
    ) -> None:
        self._runtime = runtime
        self.name = name
        self.namespace = namespace if namespace.startswith('/') else f'/{namespace}'
        self.full_name = f'{self.namespace.rstrip("/")}/{name}'
        self._overrides = dict(overrides)
        self._remappings = dict(remappings)
        self.parameters: dict[str, ParameterSpec] = {}
        self.values: dict[str, Any] = {}
        self.endpoints: list[Endpoint] = []
        self.logger = ThrottledLogger(
            logging.getLogger(f'v2x{self.full_name.replace("/", ".")}'), runtime.now_ns
        )
        self.diagnostics = Diagnostics(self.full_name, self.logger)
        self.random = np.random.default_rng([runtime.seed, zlib.crc32(self.full_name.encode())])
        self.component: Component | None = None
        self.account = CpuAccount(self.full_name, '?', self.namespace)
        self.diagnostics_topic = self.resolve(DIAGNOSTICS_TOPIC)  # where its status is published

    def _bind_parameter(self, spec: ParameterSpec, value: ParameterValue) -> Any:
        self.values[spec.name] = value
        return value

    def create_publisher(self, topic: str, msgtype: str, qos: QosProfile) -> Publisher:
        resolved = self.resolve(topic)
        self._runtime.declare_topic(resolved, msgtype, qos, self.full_name, publisher=True)
        self.endpoints.append(Endpoint(resolved, msgtype, qos, publisher=True))
        return _EmbeddedPublisher(self._runtime, resolved, msgtype, self.full_name)

    def create_subscription(
        self, topic: str, msgtype: str, callback: Callback, qos: QosProfile
    ) -> None:
        resolved = self.resolve(topic)
        self._runtime.declare_topic(resolved, msgtype, qos, self.full_name, publisher=False)
        self._runtime.topics[resolved].subscriptions.append(
            _Subscription(msgtype, callback, self, self.account)
        )
        self.endpoints.append(Endpoint(resolved, msgtype, qos, publisher=False))

    def create_timer(
        self, period_s: float, callback: Callable[[], None], *, autostart: bool = True
    ) -> Timer:
        if not period_s > 0:
            raise ParameterError(f'{self.full_name}: timer period must be > 0 s, got {period_s}')
        return self._runtime.add_timer(
            round(period_s * NS_PER_S), callback, self, self.account, autostart=autostart
        )

    def now_ns(self) -> int:
        return self._runtime.now_ns()

    def resolve(self, topic: str) -> str:
        return resolve_name(topic, self.namespace, self.name, self._remappings)


class EmbeddedRuntime:
    """Hosts components on a simulated clock. Not thread-safe: one loop, one thread."""

    def __init__(
        self,
        *,
        seed: int = 0,
        start_ns: int = 0,
        fail_fast: bool = False,
        real_time_factor: float | None = None,
        diagnostics_period_s: float = 1.0,
    ) -> None:
        self.seed = seed
        self.fail_fast = fail_fast
        self.real_time_factor = real_time_factor
        self._now_ns = start_ns
        self._start_ns = start_ns
        self._queue: list[_Event] = []
        # deliveries of messages published at the current time: a FIFO (their time is now
        # and their seq grows), merged with the heap by (time, seq) as they are run; a heap
        # push and pop each cost ~1 us more, for the ~2/3 of all events that are deliveries
        self._now_queue: deque[_Event] = deque()
        self._seq = 0
        self.topics: dict[str, _Topic] = {}
        self.contexts: list[_Context] = []
        self.components: dict[str, Component] = {}
        self._recorder: BagRecorder | None = None
        self._started = False
        self._closed = False
        self.events_run = 0
        self.stop_requested = False  # set by request_stop(), e.g. from a SIGINT handler
        self.handler_errors = 0
        # CPU accounting: every callback's time goes to its owner's account
        self.recorder_account = CpuAccount('<recorder>', 'BagRecorder', '<runtime>')
        self._observer_accounts: dict[str, CpuAccount] = {}
        self._current_account: CpuAccount | None = None
        self.loop_cpu_s = 0.0  # process CPU time of run(), accounted or not
        self.loop_wall_s = 0.0  # and its monotonic time
        self._diagnostics_enabled = diagnostics_period_s > 0
        if self._diagnostics_enabled:
            account = self._observer('<diagnostics>', 'Diagnostics', '<runtime>')
            self.add_timer(
                round(diagnostics_period_s * NS_PER_S), self._publish_diagnostics, None, account
            )

    # --- building ---------------------------------------------------------------
    def add_component(
        self,
        component_class: type[Component],
        *,
        name: str,
        namespace: str = '/',
        parameters: dict[str, Any] | None = None,
        remappings: dict[str, str] | None = None,
    ) -> Component:
        """Construct a component; raises ParameterError/TopologyError on a bad declaration."""
        ctx = _Context(self, name, namespace, parameters or {}, remappings or {})
        if ctx.full_name in self.components:
            raise TopologyError(f'two components are named {ctx.full_name}')
        ctx.account.kind = component_class.__name__
        component = component_class(ctx)
        ctx.check_overrides()
        ctx.component = component
        if self._diagnostics_enabled:
            self.declare_topic(
                ctx.resolve(DIAGNOSTICS_TOPIC),
                DIAGNOSTIC_ARRAY,
                QOS_RELIABLE,
                '<runtime>',
                publisher=True,
            )
        self.contexts.append(ctx)
        self.components[ctx.full_name] = component
        if self._started:
            component.start()
        return component

    def declare_topic(
        self, topic: str, msgtype: str, qos: QosProfile, owner: str, *, publisher: bool
    ) -> None:
        m.msg_class(msgtype)  # unknown types fail at declaration
        existing = self.topics.get(topic)
        if existing is None:
            existing = self.topics[topic] = _Topic(topic, msgtype, qos, owner)
        elif existing.msgtype != msgtype:
            raise TopologyError(
                f'{owner}: topic {topic} declared as {msgtype}, '
                f'but {existing.declared_by} declared it as {existing.msgtype}'
            )
        if publisher:
            existing.publishers.append(owner)

    def subscribe(self, topic: str, msgtype: str, callback: Callback) -> None:
        """Observe a topic from outside any component (tests, tools, the simulator's probes)."""
        self.declare_topic(topic, msgtype, QOS_RELIABLE, '<probe>', publisher=False)
        account = self._observer(_observer_name(callback))
        self.topics[topic].subscriptions.append(_Subscription(msgtype, callback, None, account))

    def add_timer(
        self,
        period_ns: int,
        callback: Callable[[], None],
        owner: _Context | None,
        account: CpuAccount | None = None,
        *,
        autostart: bool = True,
    ) -> Timer:
        if account is None:
            account = (
                owner.account if owner is not None else self._observer(_observer_name(callback))
            )
        return _Timer(self, period_ns, callback, owner, account, autostart=autostart)

    def _observer(
        self, name: str, kind: str | None = None, namespace: str = '<observer>'
    ) -> CpuAccount:
        """The account ``name`` of callbacks outside every component (``kind``: ``name``),
        made at its first use; ``cpu_accounts`` lists them all."""
        account = self._observer_accounts.get(name)
        if account is None:
            account = self._observer_accounts[name] = CpuAccount(name, kind or name, namespace)
        return account

    def record(self, path: str | Path, topics: Iterable[str] | None = None) -> BagRecorder:
        """Record every topic (or only ``topics``) published from now on to an MCAP rosbag2."""
        self._recorder = BagRecorder(path, topics=topics)
        for info in self.topics.values():
            info.recorded = None  # asked again at the next publish
        return self._recorder

    def set_parameter(self, component: str, name: str, value: Any) -> None:
        """Change a dynamic parameter at run time (as ``ros2 param set`` does)."""
        ctx = next((c for c in self.contexts if c.full_name == component), None)
        if ctx is None or name not in ctx.parameters:
            raise ParameterError(f'{component}: no parameter {name}')
        spec = ctx.parameters[name]
        if not spec.dynamic:
            raise ParameterError(f'{component}: parameter {name} is read-only')
        ctx.values[name] = spec.validate(value)
        if spec.on_change is not None:
            spec.on_change(ctx.values[name])

    # --- running ----------------------------------------------------------------
    def now_ns(self) -> int:
        return self._now_ns

    def publish(self, topic: str, message: Any, *, at_ns: int | None = None) -> None:
        """Publish on a resolved topic now, or inject at a later simulated time (replay)."""
        if at_ns is not None and at_ns > self._now_ns:
            account = self._observer('<inject>', 'Injected', '<runtime>')
            self._schedule(at_ns, lambda: self.publish(topic, message), None, account)
            return
        info = self.topics.get(topic)
        if info is None:
            info = self.topics[topic] = _Topic(topic, message.__msgtype__, QOS_RELIABLE, '<ext>')
        self._deliver(info, message)

    def _deliver(self, info: _Topic, message: Any) -> None:
        """Record ``message`` and queue it for every subscriber of ``info``, at now."""
        recorder = self._recorder
        if recorder is not None:
            if info.recorded is None:
                info.recorded = recorder.wants(info.name)
            if info.recorded:
                start = perf_counter()
                recorder.write_message(info.name, info.msgtype, info.qos, self._now_ns, message)
                spent = perf_counter() - start
                self.recorder_account.busy_s += spent
                self.recorder_account.calls += 1
                if self._current_account is not None:  # not the publisher's own work
                    self._current_account.busy_s -= spent
        subscriptions = info.subscriptions
        if subscriptions:
            now, append, seq = self._now_ns, self._now_queue.append, self._seq
            for sub in subscriptions:
                seq += 1
                append((now, seq, sub.callback, message, sub.owner, sub.account))
            self._seq = seq

    def _schedule(
        self,
        when_ns: int,
        action: Callable[[], None],
        owner: _Context | None,
        account: CpuAccount,
    ) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (when_ns, self._seq, action, _NO_ARG, owner, account))

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        for ctx in self.contexts:
            assert ctx.component is not None
            ctx.component.start()

    def run(
        self,
        *,
        duration_s: float | None = None,
        until_ns: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Run events up to ``until_ns`` (or now + duration); the clock ends there."""
        self.start()
        if until_ns is None:
            if duration_s is None:
                raise RuntimeLayerError('run() needs duration_s or until_ns')
            until_ns = self._now_ns + round(duration_s * NS_PER_S)
        begin_ns = self._now_ns
        wall_begin = time.monotonic()
        next_progress_ns = begin_ns
        step_ns = max(1, (until_ns - begin_ns) // 100)
        queue, pop, clock, no_arg = self._queue, heapq.heappop, perf_counter, _NO_ARG
        now_queue, pop_now = self._now_queue, self._now_queue.popleft
        pace = self.real_time_factor
        if progress is None:
            next_progress_ns = until_ns + 1  # never
        events = 0
        loop_start, loop_cpu_start = clock(), process_time()
        try:
            # hot: once per event (~15 000 a simulated second in a 100-vehicle run); locals
            # instead of attributes, the event's time on its owner's account
            while not self.stop_requested:
                if now_queue:  # deliveries at now, unless the heap holds an earlier event
                    if queue and queue[0] < now_queue[0]:  # (time, seq): seq is unique
                        when_ns, _, action, arg, owner, account = pop(queue)
                    else:
                        when_ns, _, action, arg, owner, account = pop_now()
                elif queue and queue[0][0] <= until_ns:
                    when_ns, _, action, arg, owner, account = pop(queue)
                else:
                    break
                if when_ns > self._now_ns:  # noqa: PLR1730 (a call per event less than max())
                    self._now_ns = when_ns
                if pace:
                    lag = (self._now_ns - begin_ns) / NS_PER_S / pace
                    delay = wall_begin + lag - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                events += 1
                self._current_account = account
                start = clock()
                try:
                    if arg is no_arg:
                        action()
                    else:
                        action(arg)
                except Exception as err:
                    self._handler_failed(err, owner)
                account.busy_s += clock() - start
                account.calls += 1
                if self._now_ns >= next_progress_ns:
                    assert progress is not None
                    progress(self._now_ns - begin_ns, until_ns - begin_ns)
                    next_progress_ns = self._now_ns + step_ns
        finally:
            self.events_run += events
            self._current_account = None
            self.loop_wall_s += clock() - loop_start
            self.loop_cpu_s += process_time() - loop_cpu_start
        if self.stop_requested:
            return  # the clock stays at the last event run
        self._now_ns = until_ns
        if progress is not None:
            progress(until_ns - begin_ns, until_ns - begin_ns)

    def request_stop(self) -> None:
        """End ``run`` after the event in progress; safe to call from a signal handler."""
        self.stop_requested = True

    def _handler_failed(self, err: Exception, owner: _Context | None) -> None:
        """Count and log a handler's exception (called while it is handled); re-raise it
        under ``fail_fast``."""
        self.handler_errors += 1
        if owner is not None:
            owner.diagnostics.count('handler_exceptions')
            owner.logger.exception(f'{owner.full_name}: handler raised {err!r}')
        else:
            logging.getLogger(__name__).exception('runtime event raised')
        if self.fail_fast:
            raise err

    def cpu_accounts(self) -> list[CpuAccount]:
        """Every account: the components', the observers' and the recorder's (summed up by
        ``accounting.cpu_summary`` with ``loop_cpu_s`` and ``loop_wall_s``)."""
        return [
            *(ctx.account for ctx in self.contexts),
            *self._observer_accounts.values(),
            self.recorder_account,
        ]

    def _publish_diagnostics(self) -> None:
        by_topic: dict[str, list[Any]] = defaultdict(list)
        for ctx in self.contexts:
            by_topic[ctx.diagnostics_topic].append(ctx.diagnostics.to_status())
        for topic, statuses in by_topic.items():
            self.publish(topic, diagnostic_array(self._now_ns, statuses))

    def close(self) -> None:
        """Stop every component (even after errors) and finish the bag."""
        if self._closed:
            return
        self._closed = True
        for ctx in reversed(self.contexts):
            if ctx.component is not None and self._started:
                try:
                    ctx.component.stop()
                except Exception:
                    ctx.logger.exception(f'{ctx.full_name}: stop() raised')
        if self._recorder is not None:
            self._recorder.close()

    def __enter__(self) -> EmbeddedRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def endpoints(self) -> dict[str, list[Endpoint]]:
        return {ctx.full_name: list(ctx.endpoints) for ctx in self.contexts}

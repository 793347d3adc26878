"""Replay: a recorded rosbag2 through a topology on the embedded runtime, outputs to a new bag.

Bag messages are published at their recorded times, so the components see the same inputs in
the same order every run; what the topology publishes (its outputs and diagnostics) is recorded.
A damaged bag is replayed as far as it can be read; the damage is reported, not hidden.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from v2x_runtime import messages as m
from v2x_runtime.bag import BagReadReport, read_bag
from v2x_runtime.embedded import EmbeddedRuntime
from v2x_runtime.errors import MessageError
from v2x_runtime.topology import Topology, build

_log = logging.getLogger(__name__)


@dataclass
class ReplayResult:
    input_messages: int = 0
    output_messages: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    read_errors: list[str] = field(default_factory=list)
    handler_errors: int = 0


def replay(
    bag: str | Path,
    topology: Topology,
    out: str | Path,
    *,
    namespace: str | None = None,
    seed: int = 0,
    fail_fast: bool = False,
    tail_s: float = 1.0,
) -> ReplayResult:
    """Feed ``bag`` through ``topology``; record the topology's outputs to ``out``.

    ``tail_s`` keeps the clock running after the last input so timers flush their work.
    """
    result = ReplayResult()
    report = BagReadReport(Path(bag))
    records = read_bag(bag, report)
    first = next(records, None)
    runtime = EmbeddedRuntime(
        seed=seed, start_ns=first.stamp_ns if first else 0, fail_fast=fail_fast
    )
    try:
        build(topology, runtime, namespace=namespace)
        outputs = [name for name, topic in runtime.topics.items() if topic.publishers]
        recorder = runtime.record(out, topics=outputs)
        if first is not None:
            for record in _chain(first, records):
                if record.stamp_ns < runtime.now_ns():
                    result.skipped['out_of_order'] += 1
                    _log.warning(
                        '%s: %s at %d is older than %d: skipped',
                        bag,
                        record.topic,
                        record.stamp_ns,
                        runtime.now_ns(),
                    )
                    continue
                try:
                    message = m.deserialize(record.data, record.msgtype)
                except MessageError as err:
                    result.skipped['undecodable'] += 1
                    _log.warning('%s: %s: %s', bag, record.topic, err)
                    continue
                runtime.run(until_ns=record.stamp_ns)
                runtime.publish(record.topic, message)
                result.input_messages += 1
        runtime.run(duration_s=tail_s)
    finally:
        runtime.close()
    result.output_messages = recorder.count
    result.read_errors = report.errors
    result.handler_errors = runtime.handler_errors
    for error in report.errors:
        _log.error('%s', error)
    return result


def _chain(first, rest):  # type: ignore[no-untyped-def]
    yield first
    yield from rest

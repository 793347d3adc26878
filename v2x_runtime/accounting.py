"""Time per component: where a run's time goes, at two clock reads per callback.

The embedded runtime keeps one ``CpuAccount`` per component (and one per outside observer:
the simulator's probes, the runtime's own diagnostics timer, the bag recorder) and adds the
time of every callback it runs to the account of the callback's owner. Recording a message
is taken out of the publishing component's time and booked on the recorder, so a
component's figure is its own work.

The clock per callback is the monotonic one (``time.perf_counter``, ~0.5 µs a read): the
process CPU clock (``time.process_time``) costs ~7 µs a read on this kind of machine, which
over the ~150 000 reads of a 15 s default run would be 7 % of the run. The whole run loop is
timed on both clocks, and ``cpu_summary`` turns each account's busy time into CPU seconds
with the loop's CPU/wall ratio: time the process was not running (other jobs on the cores)
is spread over the callbacks in proportion to their length, as it falls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class CpuAccount:
    """Busy seconds (monotonic clock) and callbacks of one component (``kind``: its class)."""

    name: str
    kind: str
    namespace: str
    busy_s: float = 0.0
    calls: int = 0


def _group(accounts: Iterable[CpuAccount], key: str) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for acc in accounts:
        label = getattr(acc, key)
        entry = groups.setdefault(label, {key: label, 'busy_s': 0.0, 'calls': 0, 'instances': 0})
        entry['busy_s'] += acc.busy_s
        entry['calls'] += acc.calls
        entry['instances'] += 1
    return sorted(groups.values(), key=lambda e: (-e['busy_s'], e[key]))


def cpu_summary(
    accounts: Iterable[CpuAccount],
    *,
    loop_cpu_s: float,
    loop_wall_s: float,
    top_types: int | None = None,
    top_namespaces: int | None = 15,
) -> dict[str, Any]:
    """Accounts grouped by type and namespace (the largest ``top_*`` of each, None: all),
    largest first, with CPU seconds estimated from the loop's CPU/wall ratio.

    ``unaccounted_s``: the loop's CPU outside every callback (the runtime's own dispatch and
    queueing).
    """
    accounts = [a for a in accounts if a.calls]
    busy = sum(a.busy_s for a in accounts)
    ratio = loop_cpu_s / loop_wall_s if loop_wall_s > 0 else 1.0

    def rounded(rows: list[dict[str, Any]], top: int | None) -> list[dict[str, Any]]:
        return [
            {
                **row,
                'busy_s': round(row['busy_s'], 3),
                'cpu_s': round(row['busy_s'] * ratio, 3),
                'share': round(row['busy_s'] / busy, 3) if busy > 0 else None,
            }
            for row in rows[:top]
        ]

    return {
        'loop_cpu_s': round(loop_cpu_s, 3),
        'loop_wall_s': round(loop_wall_s, 3),
        'accounted_s': round(busy * ratio, 3),
        'unaccounted_s': round(loop_cpu_s - busy * ratio, 3),
        'by_type': rounded(_group(accounts, 'kind'), top_types),
        'by_namespace': rounded(_group(accounts, 'namespace'), top_namespaces),
    }

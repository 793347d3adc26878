"""CPU time per component: where a run's time goes, at two clock reads per callback.

The embedded runtime keeps one ``CpuAccount`` per component (and one per outside observer:
the simulator's probes, the runtime's own diagnostics timer, the bag recorder) and adds the
process CPU time (``time.process_time``: it includes the threads a library starts, e.g.
open3d's ray casting) of every callback it runs to the account of the callback's owner.
Recording a message is taken out of the publishing component's time and booked on the
recorder, so a component's figure is its own work. ``cpu_summary`` groups the accounts by
component type and by namespace for the run's metrics and report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class CpuAccount:
    """CPU seconds and callbacks of one component (``kind``: its class name)."""

    name: str
    kind: str
    namespace: str
    cpu_s: float = 0.0
    calls: int = 0


def _group(accounts: Iterable[CpuAccount], key: str) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for acc in accounts:
        label = getattr(acc, key)
        entry = groups.setdefault(label, {key: label, 'cpu_s': 0.0, 'calls': 0, 'instances': 0})
        entry['cpu_s'] += acc.cpu_s
        entry['calls'] += acc.calls
        entry['instances'] += 1
    return sorted(groups.values(), key=lambda e: (-e['cpu_s'], e[key]))


def cpu_summary(
    accounts: Iterable[CpuAccount], *, loop_cpu_s: float | None = None, top_n: int = 15
) -> dict[str, Any]:
    """Accounts grouped by type and namespace (``top_n`` largest each), largest first.

    ``loop_cpu_s`` (the CPU time of the whole run loop) adds ``unaccounted_s``: the runtime's
    own dispatch and queueing, and whatever ran outside any callback.
    """
    accounts = [a for a in accounts if a.calls]
    total = sum(a.cpu_s for a in accounts)

    def rounded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for row in rows[:top_n]:
            share = round(row['cpu_s'] / total, 3) if total > 0 else None
            out.append({**row, 'cpu_s': round(row['cpu_s'], 3), 'share': share})
        return out

    summary: dict[str, Any] = {
        'accounted_s': round(total, 3),
        'by_type': rounded(_group(accounts, 'kind')),
        'by_namespace': rounded(_group(accounts, 'namespace')),
    }
    if loop_cpu_s is not None:
        summary['unaccounted_s'] = round(loop_cpu_s - total, 3)
    return summary

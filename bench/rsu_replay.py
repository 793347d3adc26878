"""Worker of ``bench_rsu.py --sim-replay``: one RSU stack of a source tree on recorded inputs.

``python bench/rsu_replay.py TREE BAG SECONDS OUT_BAG``: builds the default scenario's
``/rsu_1`` stack (config/sim_rsu.yaml with the runner's site parameters) from the source tree
TREE (put first on ``sys.path``, so a checkout of another commit runs its own code), feeds it
the recorded ``/rsu_1/lidar/points``, ``/sim/signals`` and ``/rsu_1/v2x/rx`` of BAG at their
stamps, records every ``/rsu_1`` output to OUT_BAG and prints one JSON line: thread CPU
seconds and calls per component kind. It runs in a process of its own because two trees
cannot share one interpreter's modules.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

INPUTS = ('/rsu_1/lidar/points', '/sim/signals', '/rsu_1/v2x/rx')


def main() -> None:
    tree, bag, seconds, out_bag = sys.argv[1:5]
    sys.path.insert(0, tree)
    import v2x_runtime.embedded as embedded
    from sim_nodes.scenarios import load_scenario
    from sim_nodes.scenarios.shared import shared_scenario
    from sim_nodes.stacks import (
        StackReport,
        build_stacks,
        read_topology,
        rsu_parameters,
        scenario_parameters,
        stack_map,
    )
    from v2x_runtime import messages as m
    from v2x_runtime.bag import read_bag

    # thread CPU around every callback: the machine's other processes stay out of the figures
    embedded.perf_counter = time.thread_time  # type: ignore[attr-defined]
    until_ns = round(float(seconds) * 1e9)
    scenario = load_scenario('default')
    built = shared_scenario(str(scenario.file), (), scenario.seed)
    site = Path(tempfile.mkdtemp(prefix='rsu_replay_'))
    lane_map = stack_map(built, site)
    rt = embedded.EmbeddedRuntime(seed=scenario.seed)
    build_stacks(
        rt,
        read_topology(scenario.rsu_topology, StackReport()),
        ['rsu_1'],
        StackReport(),
        imposed=scenario_parameters(scenario, lane_map),
        per_namespace=rsu_parameters(built, lane_map, site),
    )
    outputs = [t for t in rt.topics if t.startswith('/rsu_1/') and not t.endswith('lidar/points')]
    rt.record(out_bag, topics=[t for t in outputs if not t.endswith('diagnostics')])
    for rec in read_bag(bag):
        if rec.topic in INPUTS and rec.stamp_ns <= until_ns:
            rt.publish(rec.topic, m.deserialize(rec.data, rec.msgtype), at_ns=rec.stamp_ns)
    rt.run(until_ns=until_ns)
    rt.close()
    kinds: dict[str, list[float]] = {}
    for acc in rt.cpu_accounts():
        if acc.namespace == '/rsu_1':
            entry = kinds.setdefault(acc.kind, [0.0, 0])
            entry[0] += acc.busy_s
            entry[1] += acc.calls
    print(json.dumps(kinds))


if __name__ == '__main__':
    main()

"""The car slice of a scenario on its own recorded inputs: CPU and published bytes.

``python bench/car_replay.py record TREE SECONDS FILE [--kinds K1,K2] [--scenario NAME]`` runs
the scenario (default: ``default``; e.g. ``perf/dense_100``) from the source tree TREE and
pickles every callback of the car components of the
given kinds (default: CooperativeFusion, LocalizationFilter, MapMatcher,
EgoMotionCompensation and CommandGate; ``--kinds ApplicationSuite`` for the applications):
timer firings and delivered messages, in the order the runtime ran them (messages keep their
identity, as the shared conversions need), together with the components' construction
arguments.

``python bench/car_replay.py replay TREE FILE [--out DIGESTS]`` builds those components from
TREE (put first on ``sys.path``: a checkout of another commit runs its own code), feeds them
the recorded callbacks at their times, and prints the thread CPU per component kind in ms per
simulated second. ``--out`` writes a SHA-256 per published topic and per component's final
diagnostics: two trees whose digest files are equal published the same bytes. The run's GC
settings are those of ``sim_nodes.runner`` (frozen start-up objects, raised thresholds).

Two trees cannot share one interpreter's modules: replay each in a process of its own, and
alternate them (the machine is shared).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib
import io
import pickle
import sys
import time
from collections import defaultdict
from dataclasses import fields
from typing import Any

KINDS = 'CooperativeFusion,LocalizationFilter,MapMatcher,EgoMotionCompensation,CommandGate'


def _rebuild(msgtype: str, values: tuple[Any, ...]) -> Any:
    from v2x_runtime import messages as m

    return m.msg_class(msgtype)(*values)


class _Pickler(pickle.Pickler):
    """Messages by type name and field values (their classes are made at run time)."""

    def reducer_override(self, obj: Any) -> Any:
        msgtype = getattr(type(obj), '__msgtype__', None)
        if msgtype is not None and not isinstance(obj, type):
            return _rebuild, (msgtype, tuple(getattr(obj, f.name) for f in fields(obj)))
        return NotImplemented


def _hook(emb: Any, kinds: set[str], on_sub: Any, on_timer: Any) -> None:
    """Route the subscriptions and timers of ``kinds`` through ``on_sub`` / ``on_timer``."""
    create_sub, create_timer = emb._Context.create_subscription, emb._Context.create_timer

    def create_subscription(ctx: Any, topic: str, msgtype: str, callback: Any, qos: Any) -> None:
        if ctx.account.kind in kinds:
            callback = on_sub(ctx, f'sub:{topic}', callback)
        create_sub(ctx, topic, msgtype, callback, qos)

    def timer(ctx: Any, period_s: float, callback: Any, *, autostart: bool = True) -> Any:
        if ctx.account.kind in kinds:
            ctx._replay_timers = getattr(ctx, '_replay_timers', 0) + 1
            callback = on_timer(ctx, f'timer:{ctx._replay_timers}', callback)
        return create_timer(ctx, period_s, callback, autostart=autostart)

    emb._Context.create_subscription = create_subscription
    emb._Context.create_timer = timer


def record(tree: str, seconds: float, path: str, kinds: set[str], scenario: str) -> None:
    sys.path.insert(0, tree)
    import v2x_runtime.embedded as emb
    from sim_nodes.runner import run_scenario

    components: list[tuple[Any, ...]] = []
    events: list[tuple[int, str, str, Any]] = []
    add = emb.EmbeddedRuntime.add_component

    def add_component(rt: Any, cls: type, **kw: Any) -> Any:
        if cls.__name__ in kinds:
            where = (kw['name'], kw.get('namespace', '/'))
            settings = (dict(kw.get('parameters') or {}), dict(kw.get('remappings') or {}))
            components.append((cls.__module__, cls.__name__, *where, *settings))
        return add(rt, cls, **kw)

    def on_sub(ctx: Any, key: str, callback: Any) -> Any:
        def cb(msg: Any) -> None:
            events.append((ctx._runtime._now_ns, ctx.full_name, key, msg))
            callback(msg)

        return cb

    def on_timer(ctx: Any, key: str, callback: Any) -> Any:
        def cb() -> None:
            events.append((ctx._runtime._now_ns, ctx.full_name, key, None))
            callback()

        return cb

    emb.EmbeddedRuntime.add_component = add_component
    _hook(emb, kinds, on_sub, on_timer)
    run_scenario(scenario, out_dir=f'{path}.run', progress=False, duration_s=seconds)
    buf = io.BytesIO()
    _Pickler(buf, protocol=5).dump((components, events))
    with open(path, 'wb') as f:
        f.write(buf.getvalue())
    print(f'{len(events)} callbacks of {len(components)} components')


def replay(tree: str, path: str, out: str | None) -> None:
    sys.path.insert(0, tree)
    import v2x_runtime.embedded as emb
    from v2x_runtime import messages as m

    with open(path, 'rb') as f:
        components, events = pickle.load(f)
    handlers: dict[tuple[str, str], tuple[Any, str]] = {}

    def register(ctx: Any, key: str, callback: Any) -> Any:
        handlers[(ctx.full_name, key)] = (callback, ctx.account.kind)
        return callback

    _hook(emb, {component[1] for component in components}, register, register)
    rt = emb.EmbeddedRuntime(seed=1)
    for module, name, comp, namespace, parameters, remappings in components:
        cls = getattr(importlib.import_module(module), name)
        rt.add_component(
            cls, name=comp, namespace=namespace, parameters=parameters, remappings=remappings
        )
    for ctx in rt.contexts:
        ctx.component.start()
    published: list[tuple[str, Any]] = []
    rt._deliver = lambda info, message: published.append((info.name, message))
    cpu: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 1_000)  # sim_nodes.runner.RUN_GC_THRESHOLDS
    clock = time.thread_time
    for now_ns, name, key, msg in events:
        rt._now_ns = now_ns
        callback, kind = handlers[(name, key)]
        start = clock()
        if msg is None:
            callback()
        else:
            callback(msg)
        cpu[kind] += clock() - start
        calls[kind] += 1
    seconds = (events[-1][0] - events[0][0]) * 1e-9 if events else 1.0
    for kind in sorted(cpu, key=cpu.__getitem__, reverse=True):
        print(f'{kind:24s} {cpu[kind] / seconds * 1e3:7.2f} ms CPU/sim s  ({calls[kind]} calls)')
    print(f'{"total":24s} {sum(cpu.values()) / seconds * 1e3:7.2f} ms CPU/sim s')
    if out:
        digests: dict[str, Any] = defaultdict(hashlib.sha256)
        counts: dict[str, int] = defaultdict(int)
        for topic, message in published:
            digests[topic].update(m.serialize(message))
            counts[topic] += 1
        for ctx in rt.contexts:
            digests[f'diagnostics:{ctx.full_name}'].update(m.serialize(ctx.diagnostics.to_status()))
        with open(out, 'w') as f:
            f.writelines(f'{k} {counts[k]} {digests[k].hexdigest()}\n' for k in sorted(digests))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    rec = commands.add_parser('record', help='run a scenario, keep its car callbacks')
    rec.add_argument('tree', help='source tree to run')
    rec.add_argument('seconds', type=float, help='simulated seconds')
    rec.add_argument('file', help='pickle to write')
    rec.add_argument('--kinds', default=KINDS, help='component classes, comma-separated')
    rec.add_argument('--scenario', default='default', help='scenario name or path')
    rep = commands.add_parser('replay', help='feed a recording to the components of a tree')
    rep.add_argument('tree', help='source tree whose components replay')
    rep.add_argument('file', help='pickle written by record')
    rep.add_argument('--out', help='write SHA-256 digests of what was published here')
    args = parser.parse_args()
    if args.command == 'record':
        record(args.tree, args.seconds, args.file, set(args.kinds.split(',')), args.scenario)
    else:
        replay(args.tree, args.file, args.out)


if __name__ == '__main__':
    main()

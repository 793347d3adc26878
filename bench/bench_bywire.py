"""By-wire benchmark: command → CAN frames latency at 100 Hz on a python-can virtual bus.

Measured in one run, on the same bus:
- baseline: a bare cantools ``encode`` of the five command frames + ``bus.send`` each, until a
  second node on the bus has received all five;
- ours: ``Gate.on_command`` + ``Gate.step`` (arbitration, limits, watchdog) + the kit encoder
  (strict cantools, E2E counter and CRC-8) + ``CanPort.send``, until the same node has all five;
- gate CPU time per cycle (``Gate.step`` alone, process time over many cycles);
- the whole car chain (gate + bridge + simulated kit) in the embedded runtime, wall time per
  10 ms cycle.
Target: p99 ≤ 2 ms command → frames. Run: ``python bench/bench_bywire.py [--cycles N]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

import can
import numpy as np

from v2x_runtime.embedded import EmbeddedRuntime
from vehicle_nodes.bywire import (
    CanBridge,
    CommandGate,
    Gate,
    GateConfig,
    KitSimulator,
    SourceConfig,
)
from vehicle_nodes.bywire.bus import CanPort
from vehicle_nodes.bywire.codec import FrameCodec
from vehicle_nodes.bywire.convert import command_to_msg
from vehicle_nodes.bywire.dbc import load_dbc
from vehicle_nodes.bywire.kit import COMMAND_MESSAGES, encode_commands, find_default_dbc
from vehicle_nodes.bywire.values import MODE_AUTONOMOUS, Command, Status

PERIOD_S = 0.01


def receive_all(bus: can.BusABC, n: int) -> None:
    for _ in range(n):
        if bus.recv(timeout=1.0) is None:
            raise RuntimeError('frame lost on the virtual bus')


def paced(cycles: int, body) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Run ``body(i)`` at 100 Hz (sleeping to each period) and return its latencies in s."""
    lat = np.empty(cycles)
    next_t = time.perf_counter()
    for i in range(cycles):
        next_t += PERIOD_S
        lat[i] = body(i)
        delay = next_t - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    return lat


def bench_baseline(cycles: int, channel: str) -> np.ndarray:
    db = load_dbc(find_default_dbc()).db
    msgs = [db.get_message_by_name(name) for name in COMMAND_MESSAGES]
    values = [{s.name: 0 for s in msg.signals} for msg in msgs]
    with (
        can.Bus(interface='virtual', channel=channel) as tx,
        can.Bus(interface='virtual', channel=channel) as rx,
    ):

        def body(i: int) -> float:
            t0 = time.perf_counter()
            for msg, vals in zip(msgs, values, strict=True):
                tx.send(
                    can.Message(
                        arbitration_id=msg.frame_id, data=msg.encode(vals), is_extended_id=False
                    )
                )
            receive_all(rx, len(msgs))
            return time.perf_counter() - t0

        return paced(cycles, body)


def make_gate() -> Gate:
    return Gate(
        GateConfig(sources=(SourceConfig('planner', 1, 0.2), SourceConfig('remote', 2, 0.3)))
    )


def bench_ours(cycles: int, channel: str) -> np.ndarray:
    gate = make_gate()
    codec = FrameCodec(load_dbc(find_default_dbc()))
    port = CanPort('virtual', channel)
    port.open()
    t_ns = 0
    with can.Bus(interface='virtual', channel=channel) as rx:

        def body(i: int) -> float:
            nonlocal t_ns
            t_ns += 10_000_000
            t0 = time.perf_counter()
            gate.on_status(Status(stamp_ns=t_ns, speed_mps=10.0, mode=MODE_AUTONOMOUS), t_ns)
            gate.on_command(Command('planner', t_ns, 0.5 * np.sin(i / 50), 0.05), t_ns)
            out = gate.step(t_ns)
            for frame_id, data in encode_commands(codec, out, steer_rate_limit_radps=0.6):
                port.send(frame_id, data)
            receive_all(rx, len(COMMAND_MESSAGES))
            return time.perf_counter() - t0

        lat = paced(cycles, body)
    port.close()
    return lat


def bench_gate_cpu(cycles: int) -> float:
    gate = make_gate()
    cmds = [
        Command('planner', i * 10_000_000, 3.0 * np.sin(i / 7), 0.5 * np.cos(i / 11))
        for i in range(cycles)
    ]
    t0 = time.process_time_ns()
    for i, cmd in enumerate(cmds):
        t = i * 10_000_000
        gate.on_status(Status(stamp_ns=t, speed_mps=10.0, mode=MODE_AUTONOMOUS), t)
        gate.on_command(cmd, t)
        gate.step(t)
    return (time.process_time_ns() - t0) / cycles / 1e9


def bench_runtime_chain(seconds: float) -> float:
    rt = EmbeddedRuntime(seed=1, diagnostics_period_s=1.0)
    rt.add_component(KitSimulator, name='kit', parameters={'channel': 'bench-chain'})
    rt.add_component(CanBridge, name='bridge', parameters={'channel': 'bench-chain'})
    rt.add_component(CommandGate, name='gate')

    def planner() -> None:
        rt.publish('/control/command', command_to_msg(Command('planner', rt.now_ns(), 0.3, 0.02)))

    rt.add_timer(20_000_000, planner, None)
    t0 = time.perf_counter()
    rt.run(duration_s=seconds)
    wall = time.perf_counter() - t0
    rt.close()
    return wall / (seconds / PERIOD_S)


def pct(lat: np.ndarray) -> tuple[float, float, float]:
    p50, p99 = np.percentile(lat, [50, 99])
    return p50 * 1e3, p99 * 1e3, lat.max() * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cycles', type=int, default=500, help='paced 100 Hz cycles per case')
    args = parser.parse_args()
    base = bench_baseline(args.cycles, 'bench-base')
    ours = bench_ours(args.cycles, 'bench-ours')
    gate_cpu_s = bench_gate_cpu(20_000)
    chain_s = bench_runtime_chain(10.0)
    b50, b99, bmax = pct(base)
    o50, o99, omax = pct(ours)
    print(f'command → 5 CAN frames at 100 Hz, virtual bus, {args.cycles} cycles each')
    print(
        f'  baseline (cantools encode + bus.send): p50 {b50:.3f}  p99 {b99:.3f}  max {bmax:.3f} ms'
    )
    print(
        f'  gate + E2E encoder + CanPort:          p50 {o50:.3f}  p99 {o99:.3f}  max {omax:.3f} ms'
    )
    print(f'  ratio ours/baseline: p50 {o50 / b50:.2f}x  p99 {o99 / b99:.2f}x')
    print(f'  target p99 <= 2 ms: {"met" if o99 <= 2.0 else "NOT met"}')
    print(
        f'gate CPU per cycle (Gate.step + inputs): {gate_cpu_s * 1e6:.1f} us '
        f'({gate_cpu_s / PERIOD_S * 100:.3f} % of a 10 ms cycle)'
    )
    print(
        f'embedded runtime, gate + bridge + kit sim: {chain_s * 1e3:.3f} ms wall per 10 ms cycle '
        f'({PERIOD_S / chain_s:.0f}x real time)'
    )


if __name__ == '__main__':
    main()

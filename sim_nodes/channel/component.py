"""The radio channel between all V2X nodes of a scenario (connected vehicles and RSUs).

Topics: in ``/<node>/v2x/tx`` (v2x_stack/msg/V2xFrame) of every node, ``/sim/ground_truth``
(positions of the vehicles; RSUs stand where the scenario puts them); out ``/<node>/v2x/rx``
(V2xFrame, stamped at reception, with RSSI) of every other node that receives the frame.
Loss, obstruction, congestion and latency follow ``sim_nodes.channel.model``; each directed
link draws from its own seeded stream. A node that is not in the world (a vehicle not spawned
yet or gone) neither sends nor receives; its frames are counted as ``sender_absent``.
Parameters: scenario, sets, seed, ``tick_s`` (delivery resolution).
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim_nodes.channel.model import ChannelModel, Footprints, LinkRandom
from sim_nodes.scenarios.shared import declare_scenario_parameters
from sim_nodes.world.component import GROUND_TRUTH
from v2x_runtime import QOS_RELIABLE, QOS_SENSOR, Component, ComponentContext
from v2x_runtime import messages as m


@dataclass
class LinkStats:
    attempts: int = 0  # (frame, receiver) pairs within max range
    delivered: int = 0
    latencies_s: list[float] = field(default_factory=list)
    by_pair: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    samples: list[tuple[float, bool]] = field(default_factory=list)  # (distance, delivered)

    @property
    def delivery_ratio(self) -> float | None:
        return self.delivered / self.attempts if self.attempts else None


class RadioChannel(Component):
    """Delivers every node's transmissions to the others through the channel model."""

    def __init__(self, ctx: ComponentContext) -> None:
        super().__init__(ctx)
        self.built = declare_scenario_parameters(ctx)
        tick_s = ctx.declare_parameter(
            'tick_s', 0.005, 'Delivery time resolution', range=(1e-4, 0.1)
        )
        sc = self.built.scenario
        self.model = ChannelModel(sc.channel)
        self.links = LinkRandom(sc.seed)
        self.buildings = self.built.network.buildings
        self.footprints = Footprints(self.buildings)
        self.positions: dict[str, np.ndarray] = {
            r.name: np.array(r.position_m[:2]) for r in sc.rsus
        }
        self.fixed = set(self.positions)
        self.nodes = self.built.connected() + [r.name for r in sc.rsus]
        self.rx_pubs = {
            n: ctx.create_publisher(f'/{n}/v2x/rx', 'v2x_stack/msg/V2xFrame', QOS_RELIABLE)
            for n in self.nodes
        }
        for n in self.nodes:
            ctx.create_subscription(
                f'/{n}/v2x/tx',
                'v2x_stack/msg/V2xFrame',
                lambda msg, n=n: self.on_tx(n, msg),
                QOS_RELIABLE,
            )
        ctx.create_subscription(
            GROUND_TRUTH, 'v2x_stack/msg/ParticipantArray', self.on_truth, QOS_SENSOR
        )
        self.queue: list[tuple[int, int, str, Any]] = []
        self.seq = 0
        self.recent_tx: deque[int] = deque()
        self.stats = LinkStats()
        if self.nodes:
            ctx.create_timer(tick_s, self.on_tick)

    def on_truth(self, msg: Any) -> None:
        present = {n: self.positions[n] for n in self.fixed}
        wanted = set(self.nodes)
        for p in msg.participants:
            if p.source_id in wanted:
                present[p.source_id] = np.array([p.position.x, p.position.y])
        self.positions = present

    def channel_busy_ratio(self, now_ns: int) -> float:
        window = round(self.model.cfg.cbr_window_s * 1e9)
        while self.recent_tx and self.recent_tx[0] <= now_ns - window:
            self.recent_tx.popleft()
        return len(self.recent_tx) / self.model.cfg.cbr_capacity

    def on_tx(self, sender: str, frame: Any) -> None:
        now = self.ctx.now_ns()
        src = self.positions.get(sender)
        if src is None:
            self.ctx.diagnostics.count('sender_absent')
            return
        self.ctx.diagnostics.count('transmitted')
        self.recent_tx.append(now)
        cbr = self.channel_busy_ratio(now)
        self.ctx.diagnostics.set_value('channel_busy_ratio', round(cbr, 3))
        receivers = [n for n in self.nodes if n != sender and n in self.positions]
        if not receivers:
            return
        dst = np.array([self.positions[n] for n in receivers])
        dist = np.linalg.norm(dst - src, axis=1)
        blocked = self.footprints.obstructed(src, dst)
        p = self.model.pdr(dist, blocked) * (1.0 - self.model.congestion_loss(cbr))
        rssi = self.model.rssi_dbm(dist, blocked)
        # each link in range draws from its own stream, a uniform (delivered?) then a normal
        # (latency), in the receivers' order; the arithmetic then runs once per broadcast
        near = np.flatnonzero(~(dist > self.model.cfg.max_range_m)).tolist()
        if not near:
            return
        uniform, normal = [], []
        for j in near:
            rng = self.links(sender, receivers[j])
            uniform.append(rng.random())
            normal.append(rng.standard_normal())
        delivered = (np.array(uniform) < p[near]).tolist()
        latencies = self.model.latency_from_normal(np.array(normal)).tolist()
        dists, rssis = dist[near].tolist(), rssi[near].tolist()
        stats, diag, queue = self.stats, self.ctx.diagnostics, self.queue
        by_pair = stats.by_pair
        for k, j in enumerate(near):
            name, ok, latency = receivers[j], delivered[k], latencies[k]
            pair = by_pair.get((sender, name))
            if pair is None:
                pair = by_pair[sender, name] = [0, 0]
            pair[0] += 1
            stats.attempts += 1
            if len(stats.samples) < 200_000:
                stats.samples.append((dists[k], ok))
            if not ok:
                diag.count('lost')
                continue
            pair[1] += 1
            stats.delivered += 1
            stats.latencies_s.append(latency)
            diag.observe('latency_s', latency)
            self.seq += 1
            heapq.heappush(queue, (now + round(latency * 1e9), self.seq, name, (frame, rssis[k])))

    def on_tick(self) -> None:
        now = self.ctx.now_ns()
        while self.queue and self.queue[0][0] <= now:
            _, _, name, (frame, rssi) = heapq.heappop(self.queue)
            if name not in self.positions:
                self.ctx.diagnostics.count('receiver_gone')
                continue
            # the sent frame with the reception's header, RSSI and status
            rx = m.replace(
                frame,
                header=m.header(now, frame.header.frame_id),
                rssi_dbm=rssi,
                security_status=3 if len(frame.secured) else 0,  # UNVERIFIED if signed, or NONE
            )
            self.rx_pubs[name].publish(rx)
            self.ctx.diagnostics.count('delivered')

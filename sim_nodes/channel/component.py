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
from sim_nodes.world.truth_msgs import participants_arrays
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
    """Delivers every node's transmissions to the others through the channel model.

    The nodes' positions change only with the truth (each world step) while frames are sent
    many times a step: distance, obstruction, delivery probability before congestion and
    RSSI of every directed link are computed for all links at once, at the first frame after
    each truth, and a frame reads its sender's row (the same numbers, element by element, as
    computing its own links). Only the nodes in the world are in that table: in a 60 s
    ``perf/dense_100`` run 19 of its 35 nodes on average (~3 ms of CPU per simulated second
    less there).
    """

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
        self.nodes = self.built.connected() + [r.name for r in sc.rsus]
        self.index = {n: i for i, n in enumerate(self.nodes)}
        n = len(self.nodes)
        # every node's position (m, map frame) and whether it is in the world now; the RSUs
        # stand where the scenario puts them, always
        self.xy = np.zeros((n, 2))
        self.fixed = np.zeros(n, bool)
        for r in sc.rsus:
            self.xy[self.index[r.name]] = r.position_m[:2]
            self.fixed[self.index[r.name]] = True
        self.present = self.fixed.copy()
        self._present = self.present.tolist()  # the same, for per-delivery checks
        self._table: LinkTable | None = None  # of the current positions (None: not yet)
        self._members = np.zeros(0, np.int64)  # the nodes in the world: the table's rows
        self._row: dict[int, int] = {}  # node -> its row in the table
        self._reach: dict[int, Reach] = {}  # per sender, at the current positions
        self._streams: list[list[np.random.Generator | None]] = [[None] * n for _ in range(n)]
        self._pairs: list[list[list[int] | None]] = [[None] * n for _ in range(n)]
        self.rx_pubs = [
            ctx.create_publisher(f'/{name}/v2x/rx', 'v2x_stack/msg/V2xFrame', QOS_RELIABLE)
            for name in self.nodes
        ]
        for i, name in enumerate(self.nodes):
            ctx.create_subscription(
                f'/{name}/v2x/tx',
                'v2x_stack/msg/V2xFrame',
                lambda msg, i=i: self.on_tx(i, msg),
                QOS_RELIABLE,
            )
        ctx.create_subscription(
            GROUND_TRUTH, 'v2x_stack/msg/ParticipantArray', self.on_truth, QOS_SENSOR
        )
        self.queue: list[tuple[int, int, int, Any, float]] = []
        self.seq = 0
        self.recent_tx: deque[int] = deque()
        self.stats = LinkStats()
        if self.nodes:
            ctx.create_timer(tick_s, self.on_tick)

    def on_truth(self, msg: Any) -> None:
        truth = participants_arrays(msg)
        found = [(self.index.get(name), j) for j, name in enumerate(truth['names'].tolist())]
        rows = [(i, j) for i, j in found if i is not None and not self.fixed[i]]
        present = self.fixed.copy()
        if rows:
            mine, theirs = (list(c) for c in zip(*rows, strict=True))
            self.xy[mine] = truth['xyz'][theirs, :2]
            present[mine] = True
        self.present = present
        self._present = present.tolist()
        self._table = None
        self._reach = {}

    def channel_busy_ratio(self, now_ns: int) -> float:
        window = round(self.model.cfg.cbr_window_s * 1e9)
        while self.recent_tx and self.recent_tx[0] <= now_ns - window:
            self.recent_tx.popleft()
        return len(self.recent_tx) / self.model.cfg.cbr_capacity

    def _stream(self, src: int, dst: int) -> np.random.Generator:
        rng = self._streams[src][dst]
        if rng is None:
            rng = self._streams[src][dst] = self.links(self.nodes[src], self.nodes[dst])
        return rng

    def on_tx(self, sender: int, frame: Any) -> None:
        now = self.ctx.now_ns()
        diag = self.ctx.diagnostics
        if not self._present[sender]:
            diag.count('sender_absent')
            return
        diag.count('transmitted')
        self.recent_tx.append(now)
        cbr = self.channel_busy_ratio(now)
        diag.set_value('channel_busy_ratio', round(cbr, 3))
        reach = self._reach.get(sender)
        if reach is None:
            reach = self._reach[sender] = self._reach_of(sender)
        near, dists, rssis = reach.receivers, reach.distance, reach.rssi
        if not near:
            return
        # each link in range draws from its own stream, a uniform (delivered?) then a normal
        # (latency), in node order; the exponential runs once per broadcast
        factor = 1.0 - self.model.congestion_loss(cbr)
        delivered, normal = [], []
        for j, pdr in zip(near, reach.pdr, strict=True):
            rng = self._stream(sender, j)
            delivered.append(rng.random() < pdr * factor)
            normal.append(rng.standard_normal())
        latencies = self.model.latency_from_normal(np.array(normal)).tolist()
        stats, pairs = self.stats, self._pairs[sender]
        samples, room = stats.samples, 200_000 - len(stats.samples)
        if room > 0:
            samples.extend(zip(dists[:room], delivered[:room], strict=False))
        stats.attempts += len(near)
        kept = []  # the delivered links' latencies, in link order
        queue, seq, push = self.queue, self.seq, heapq.heappush
        for k, j in enumerate(near):
            pair = pairs[j]
            if pair is None:
                pair = pairs[j] = stats.by_pair.setdefault((self.nodes[sender], self.nodes[j]),
                                                           [0, 0])  # fmt: skip
            pair[0] += 1
            if delivered[k]:
                latency = latencies[k]
                pair[1] += 1
                kept.append(latency)
                seq += 1
                push(queue, (now + round(latency * 1e9), seq, j, frame, rssis[k]))
        self.seq = seq
        if len(kept) < len(near):
            diag.count('lost', len(near) - len(kept))
        if kept:
            stats.delivered += len(kept)
            stats.latencies_s += kept
            diag.observe_many('latency_s', kept)

    def _reach_of(self, sender: int) -> Reach:
        """The receivers of ``sender`` now (in the world, in range; node order), their links."""
        table = self._table
        if table is None:  # the links between the nodes in the world only
            members = np.flatnonzero(self.present)
            table = self._table = LinkTable.of(self.model, self.footprints, self.xy[members])
            self._members = members
            self._row = dict(zip(members.tolist(), range(len(members)), strict=True))
        k = self._row[sender]
        row = table.in_range[k].copy()
        row[k] = False
        others = np.flatnonzero(row)
        return Reach(
            self._members[others].tolist(),
            table.distance[k, others].tolist(),
            table.pdr[k, others].tolist(),
            table.rssi[k, others].tolist(),
        )

    def on_tick(self) -> None:
        queue = self.queue
        if not queue:
            return
        now = self.ctx.now_ns()
        headers: dict[str, Any] = {}  # one reception header per sender frame at this instant
        present, pubs, diag = self._present, self.rx_pubs, self.ctx.diagnostics
        while queue and queue[0][0] <= now:
            _, _, j, frame, rssi = heapq.heappop(queue)
            if not present[j]:
                diag.count('receiver_gone')
                continue
            frame_id = frame.header.frame_id
            header = headers.get(frame_id)
            if header is None:
                header = headers[frame_id] = m.header(now, frame_id)
            # the sent frame with the reception's header, RSSI and status
            rx = m.replace(
                frame,
                header=header,
                rssi_dbm=rssi,
                security_status=3 if len(frame.secured) else 0,  # UNVERIFIED if signed, or NONE
            )
            pubs[j].publish(rx)
            diag.count('delivered')


@dataclass(frozen=True)
class Reach:
    """One sender's receivers at one set of positions, with their links (plain lists: a
    frame's per-link work is Python)."""

    receivers: list[int]
    distance: list[float]
    pdr: list[float]  # before congestion
    rssi: list[float]


@dataclass(frozen=True)
class LinkTable:
    """Every directed link between positions (row: sender, column: receiver)."""

    distance: np.ndarray  # (N, N) m
    in_range: np.ndarray  # (N, N) bool: not beyond max_range_m
    pdr: np.ndarray  # (N, N) delivery probability before congestion
    rssi: np.ndarray  # (N, N) dBm

    @classmethod
    def of(cls, model: ChannelModel, footprints: Footprints, xy: np.ndarray) -> LinkTable:
        delta = xy[None, :, :] - xy[:, None, :]  # receiver - sender
        # as np.linalg.norm(..., axis=1) computes it: the square root of x² + y²
        distance = np.sqrt((delta * delta).sum(axis=-1))
        blocked = footprints.obstructed_all(xy)
        return cls(
            distance,
            ~(distance > model.cfg.max_range_m),
            model.pdr(distance, blocked),
            model.rssi_dbm(distance, blocked),
        )

"""The PC5 sidelink channel model: delivery vs distance, obstruction, congestion, latency.

Packet delivery ratio versus distance is a logistic curve::

    PDR(d) = pdr_max / (1 + exp((d - d50) / slope))        (0 beyond max_range_m)

with d50 the distance of 50 % delivery. The default d50 = 600 m, slope = 90 m puts PDR
above 90 % out to about 400 m and below 10 % past about 800 m in line of sight, the
shape reported for LTE-V2X PC5 (mode 4, 20 MHz at 5.9 GHz, 20-23 dBm) in open-road field
tests: 5GAA, "V2X Functional and Performance Test Report; Test Procedures and Results",
P-190033 (2019, the amended P-180106 report), and the Chinese industrial-park campaign of
Fan et al., "Network Performance Test and Analysis of LTE-V2X in Industrial Park Scenario",
Wireless Communications and Mobile Computing 2020. These parameters are chosen to follow
those reported ranges, not a least-squares fit to their raw data (which is not published);
every parameter is configurable per scenario.

Obstruction: when the straight line between sender and receiver crosses a building
footprint, d50 and slope shrink by ``obstruction_range_factor`` (NLOS corners at urban
intersections lose most of the range in the same reports). Congestion: the channel busy
ratio (CBR) is the share of the sub-channel capacity used in the last ``cbr_window_s``;
above ``cbr_threshold`` every packet suffers extra loss ``cbr_loss_slope * (CBR -
threshold)``. Latency is lognormal (median ``latency_ms``, shape ``latency_sigma``),
the sensing-based semi-persistent scheduling delay plus processing. RSSI is free-space
path loss at 5.905 GHz from 23 dBm, minus 20 dB when obstructed (for the rx metadata only).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from sim_nodes.scenarios.schema import ChannelConfig

TX_POWER_DBM = 23.0
OBSTRUCTION_DB = 20.0


class ChannelModel:
    def __init__(self, cfg: ChannelConfig) -> None:
        self.cfg = cfg
        self._log_median = np.log(cfg.latency_ms / 1000.0)  # of the latency, ln s

    def pdr(self, distance_m: np.ndarray, obstructed: np.ndarray | bool = False) -> np.ndarray:
        """Delivery probability of one packet over each link (before congestion)."""
        c = self.cfg
        d = np.asarray(distance_m, dtype=float)
        factor = np.where(obstructed, c.obstruction_range_factor, 1.0)
        z = np.clip((d - c.range_50_m * factor) / (c.slope_m * factor), -60.0, 60.0)
        p = c.pdr_max / (1.0 + np.exp(z))
        p = np.where(d > c.max_range_m, 0.0, p)
        return p * (1.0 - c.extra_loss)

    def congestion_loss(self, cbr: float) -> float:
        c = self.cfg  # once per frame sent: plain floats (np.clip of a scalar costs ~5 µs)
        return min(max(c.cbr_loss_slope * (cbr - c.cbr_threshold), 0.0), 1.0)

    def latency_s(self, rng: np.random.Generator, n: int | None = None) -> np.ndarray:
        return self.latency_from_normal(rng.standard_normal(n))

    def latency_from_normal(self, z: np.ndarray | float) -> np.ndarray:
        """Latencies from standard normal draws (one per link, each from its own stream)."""
        return np.exp(self._log_median + self.cfg.latency_sigma * np.asarray(z))

    @staticmethod
    def rssi_dbm(distance_m: np.ndarray, obstructed: np.ndarray) -> np.ndarray:
        d = np.maximum(np.asarray(distance_m, dtype=float), 1.0)
        fspl = 20 * np.log10(d) + 20 * np.log10(5.905e9) - 147.55
        return TX_POWER_DBM - fspl - OBSTRUCTION_DB * np.asarray(obstructed, dtype=float)


class Footprints:
    """The buildings' footprint edges, stacked once (the channel asks for every frame sent:
    stacking and rolling the polygons each time was half the cost of a broadcast)."""

    def __init__(self, buildings: Sequence[np.ndarray]) -> None:
        self.empty = not buildings
        if self.empty:
            return
        edges_a = np.vstack([b for b in buildings])
        edges_b = np.vstack([np.roll(b, -1, axis=0) for b in buildings])
        self.q, self.s = edges_a[None], (edges_b - edges_a)[None]  # (1, E, 2)

    def obstructed(self, src: np.ndarray, dsts: np.ndarray) -> np.ndarray:
        """Whether the segment src→dst crosses any footprint edge, for each dst (M, 2)."""
        if self.empty or len(dsts) == 0:
            return np.zeros(len(dsts), bool)
        return _crossing(src[None, None, :], (dsts - src)[:, None, :], self.q, self.s)

    def obstructed_all(self, xy: np.ndarray) -> np.ndarray:
        """(N, N): whether the segment xy[i]→xy[j] crosses a footprint edge, for every pair."""
        n = len(xy)
        if self.empty or n == 0:
            return np.zeros((n, n), bool)
        p = xy[:, None, None, :]  # (N, 1, 1, 2): the sender
        r = (xy[None, :, :] - xy[:, None, :])[:, :, None, :]  # (N, N, 1, 2)
        return _crossing(p, r, self.q[None], self.s[None])


def _crossing(p: np.ndarray, r: np.ndarray, q: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Whether segments p→p+r cross edges q→q+s (broadcast, edges on the second-last axis)."""
    denom = r[..., 0] * s[..., 1] - r[..., 1] * s[..., 0]
    qp = q - p
    # near-parallel pairs divide by a tiny denom (inf or overflow): the mask below drops them
    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):
        t = (qp[..., 0] * s[..., 1] - qp[..., 1] * s[..., 0]) / denom
        u = (qp[..., 0] * r[..., 1] - qp[..., 1] * r[..., 0]) / denom
    hit = (np.abs(denom) > 1e-12) & (t > 0) & (t < 1) & (u >= 0) & (u <= 1)
    return hit.any(axis=-1)


class LinkRandom:
    """One random stream per directed link, so adding a node never changes other links."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[tuple[str, str], np.random.Generator] = {}

    def __call__(self, src: str, dst: str) -> np.random.Generator:
        key = (src, dst)
        rng = self._streams.get(key)
        if rng is None:
            rng = np.random.default_rng(
                [self.seed, zlib.crc32(src.encode()), zlib.crc32(dst.encode())]
            )
            self._streams[key] = rng
        return rng

"""Helpers of the rx/tx/BSM tests: real PKI directories, two stacks on loopback, samples.

A uniquely named module in ``test/support`` (on sys.path via test/conftest.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from v2x_nodes.radio.bridge import RadioBridge
from v2x_nodes.rx import V2xReceiver
from v2x_nodes.security import Algorithm, MessageSigner
from v2x_nodes.security.pki import (
    PCA,
    ROOT,
    init_pki,
    issue_certificate,
    issue_into,
    load,
    load_credentials,
    make_authorization_ca,
    save,
)
from v2x_nodes.tx import DEFAULT_PSIDS, V2xTransmitter
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

NOW_S = 1_780_000_000  # 2026-05-28, after the last leap second
NOW_NS = NOW_S * 1_000_000_000
ORIGIN = (31.2, 121.5, 4.0)  # map frame origin of both stacks (Shanghai)
ALL_PSIDS = sorted(set(DEFAULT_PSIDS.values()))
FRAME = 'v2x_stack/msg/V2xFrame'


def make_pki_dir(directory: Path, algorithm: Algorithm, *, pseudonyms: int = 3) -> Path:
    """A PKI directory as ``v2x-stack pki init/issue`` writes it: rsu1, obu1, obu-0..K-1."""
    init_pki(directory, algorithm, now_s=NOW_S - 86400)
    for name in ('rsu1', 'obu1'):
        issue_into(directory, name=name, psids=ALL_PSIDS, duration_s=7 * 86400, now_s=NOW_S - 3600)
    for k in range(pseudonyms):
        issue_into(
            directory,
            name=f'obu-{k}',
            psids=ALL_PSIDS,
            duration_s=7 * 86400,
            now_s=NOW_S - 3600,
            pseudonym=True,
        )
    return directory


def make_expired_pca_dir(directory: Path, algorithm: Algorithm) -> Path:
    """A PKI whose authorisation CA expired an hour ago (its end entity 'obu1' is still
    within its own validity, so the signer signs; the receiver must refuse the chain)."""
    init_pki(directory, algorithm, now_s=NOW_S - 86400)
    root = load(directory, ROOT)
    pca = make_authorization_ca(root, start_posix_s=NOW_S - 7200, duration_s=3600)
    save(pca, directory, PCA)
    ee = issue_certificate(
        pca, psids=ALL_PSIDS, start_posix_s=NOW_S - 5400, duration_s=7 * 86400, name='obu1'
    )
    save(ee, directory / 'issued', 'obu1')
    return directory


def signer(pki_dir: Path, name: str = 'obu1', **options: Any) -> MessageSigner:
    return MessageSigner(load_credentials(pki_dir, name), **options)


def frame(data: bytes, stamp_ns: int = NOW_NS) -> Any:
    """A V2xFrame as the radio bridge publishes it on ``v2x/rx``."""
    return m.new(
        FRAME, header=m.header(stamp_ns), rssi_dbm=math.nan, payload=np.frombuffer(data, np.uint8)
    )


def origin_parameters() -> dict[str, float]:
    lat, lon, alt = ORIGIN
    return {'origin_lat_deg': lat, 'origin_lon_deg': lon, 'origin_alt_m': alt}


@dataclass
class Stacks:
    """Car and RSU stacks (tx + radio + rx each) in one embedded runtime, UDP between them."""

    rt: EmbeddedRuntime
    car_rx: V2xReceiver
    rsu_rx: V2xReceiver
    car_tx: V2xTransmitter
    rsu_tx: V2xTransmitter
    car_radio: RadioBridge
    rsu_radio: RadioBridge

    def run_until(self, condition: Any, *, timeout_s: float = 5.0, step_s: float = 0.02) -> bool:
        """Advance the simulated clock in steps until ``condition()`` (datagrams cross real
        loopback UDP meanwhile); False when ``timeout_s`` of simulated time passed."""
        for _ in range(round(timeout_s / step_s)):
            if condition():
                return True
            self.rt.run(duration_s=step_s)
        return condition()


def two_stacks(pki_dir: Path | None, *, tx_extra: dict[str, Any] | None = None) -> Stacks:
    """Build and start both stacks; ``pki_dir`` None runs them unsigned."""
    rt = EmbeddedRuntime(start_ns=NOW_NS, diagnostics_period_s=0)
    signed = pki_dir is not None
    rx_params = {'security': 'verify', 'pki_dir': str(pki_dir)} if signed else {}
    components = {}
    for ns, credential in (('car', 'obu1'), ('rsu', 'rsu1')):
        tx_params = {
            'ref_lat_deg': ORIGIN[0] + 0.0005,
            'ref_lon_deg': ORIGIN[1] + 0.0005,
            'ref_alt_m': ORIGIN[2],
            **origin_parameters(),
            **(tx_extra or {}),
        }
        if signed:
            tx_params.update(security='sign', pki_dir=str(pki_dir), credential=credential)
        if ns == 'rsu':
            tx_params.update(station_id='00000000000000a1', participants_as='both')
        components[f'{ns}_tx'] = rt.add_component(
            V2xTransmitter, name='v2x_tx', namespace=ns, parameters=tx_params
        )
        components[f'{ns}_radio'] = rt.add_component(
            RadioBridge,
            name='radio',
            namespace=ns,
            parameters={'bind_address': '127.0.0.1', 'bind_port': 0, 'device_port': 9},
        )
        components[f'{ns}_rx'] = rt.add_component(
            V2xReceiver,
            name='v2x_rx',
            namespace=ns,
            parameters={**rx_params, **origin_parameters()},
        )
    rt.start()
    car, rsu = components['car_radio'], components['rsu_radio']
    car.device_port, rsu.device_port = rsu.port, car.port  # ports chosen by the kernel
    return Stacks(rt=rt, **components)  # type: ignore[arg-type]


# Section: sample inputs
def participant(ident: int, east_m: float, north_m: float, *, stamp_ns: int = NOW_NS) -> Any:
    """A car at (east, north) of the map origin, heading north-east at 12.5 m/s."""
    from geo import LocalFrame

    lat, lon, alt = LocalFrame(*ORIGIN).geodetic_of(east_m, north_m, 0.0)
    yaw, speed = math.radians(40.0), 12.5
    cov = np.zeros(16)
    cov[[0, 5]] = 0.25
    cov[[10, 15]] = 0.04
    return m.new(
        'v2x_stack/msg/Participant',
        header=m.header(stamp_ns, 'map'),
        id=ident,
        participant_class=1,
        source=6,
        source_id=f'{ident:016x}',
        latitude_deg=lat,
        longitude_deg=lon,
        altitude_m=alt,
        heading_rad=yaw,
        velocity=m.new(
            'geometry_msgs/msg/Vector3', x=speed * math.cos(yaw), y=speed * math.sin(yaw)
        ),
        size=m.new('geometry_msgs/msg/Vector3', x=4.5, y=1.8, z=1.5),
        covariance=cov,
        heading_variance=0.01,
        confidence=0.9,
    )


def intersection_state(stamp_ns: int = NOW_NS) -> Any:
    phases = [
        m.new(
            'v2x_stack/msg/SignalPhase',
            phase_id=k + 1,
            light=(3, 6)[k % 2],
            start_s=0.0,
            min_end_s=5.0 + k,
            max_end_s=20.0 + k,
            likely_end_s=12.0 + k,
            confidence=1.0,
            next_start_s=math.nan,
            next_duration_s=math.nan,
        )
        for k in range(4)
    ]
    return m.new(
        'v2x_stack/msg/IntersectionState',
        header=m.header(stamp_ns, 'map'),
        region=1,
        intersection_id=42,
        status=32,
        phases=phases,
    )


def road_events(stamp_ns: int = NOW_NS) -> Any:
    from geo import LocalFrame

    lat, lon, alt = LocalFrame(*ORIGIN).geodetic_of(120.0, -35.0, 0.0)
    event = m.new(
        'v2x_stack/msg/RoadEvent',
        header=m.header(stamp_ns, 'map'),
        id=7,
        event_type=401,
        source=5,
        latitude_deg=lat,
        longitude_deg=lon,
        altitude_m=alt,
        radius_m=50.0,
        start_time=m.stamp(stamp_ns - stamp_ns % 60_000_000_000),
        priority=3,
        description='',
    )
    return m.new(
        'v2x_stack/msg/RoadEventArray',
        header=m.header(stamp_ns, 'map'),
        source_id='00000000000000a1',
        events=[event],
    )


def intersection_map(stamp_ns: int = NOW_NS) -> Any:
    from geo import LocalFrame

    frame_ = LocalFrame(*ORIGIN)
    lanes = []
    for lane_id, north in ((1, -3.5), (2, 0.0)):
        pts = [frame_.geodetic_of(-100.0 + 20 * i, north, 0.0) for i in range(4)]
        lanes.append(
            m.new(
                'v2x_stack/msg/MapLane',
                upstream_node_id=5,
                lane_id=lane_id,
                width_m=3.5,
                lane_type=0,
                speed_limit_mps=13.9,
                latitude_deg=np.array([p[0] for p in pts]),
                longitude_deg=np.array([p[1] for p in pts]),
                altitude_m=np.array([p[2] for p in pts]),
            )
        )
    return m.new(
        'v2x_stack/msg/IntersectionMap',
        header=m.header(stamp_ns - stamp_ns % 60_000_000_000, 'map'),
        region=1,
        node_id=42,
        name='demo',
        latitude_deg=ORIGIN[0],
        longitude_deg=ORIGIN[1],
        altitude_m=ORIGIN[2],
        lanes=lanes,
    )

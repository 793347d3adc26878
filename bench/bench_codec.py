"""Codec throughput: messages/s per type through the conversion layer vs bare asn1tools.

For each message type a representative ROS message is converted once to get its value; then
  layer encode = ROS message -> value (convert) -> checked UPER MessageFrame (uper.encode_frame)
  layer decode = bytes -> checked MessageFrame decode (uper.decode_frame) -> ROS message
and the baseline, in the same run, is asn1tools on the same value and bytes with
check_constraints=True (what our layer asks for; the unchecked figure is printed too). SSM
needs two asn1tools calls either way (inner message, then the frame). Target: overhead
(layer time / baseline time) <= 1.5x. Times are process CPU time, so the figures hold on a
machine shared with other jobs (rates are per core).

Our checked encode and decode are faster than asn1tools' own (one fused check pass before an
encode, ``encode_checks``; pruned checks after a decode, ``per_checks``), which pays for part
of the conversion. So the ``conv`` columns also give the conversion alone (ROS message <->
value, no codec) as a share of the bare asn1tools time: the overhead it would add on top of
asn1tools' own codec.

    /work/venv/bin/python bench/bench_codec.py [--seconds 0.5]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo import LocalFrame
from v2x_nodes.codec import convert as cv
from v2x_nodes.codec import uper
from v2x_nodes.codec.schema import load_schema
from v2x_runtime import messages as m

NOW_NS = 1_764_000_000_123_000_000
ORIGIN = LocalFrame(31.2, 121.5, 4.0)
REF = cv.GeoPoint.from_degrees(31.2, 121.5, 4.0)
K = uper.MessageKind
ROUNDS = 15  # short alternating rounds: the median ratio rides out load bursts


def _participant(i: int, cls_: int = 1) -> Any:
    lat, lon, alt = ORIGIN.geodetic_of(20.0 * i - 80, 7.0 * i, 0.5)
    cov = np.zeros(16)
    cov[[0, 5]] = 0.25
    cov[[10, 15]] = 0.04
    return m.new(
        'v2x_stack/msg/Participant',
        header=m.header(NOW_NS - i * 1_000_000, 'map'),
        id=100 + i,
        participant_class=cls_,
        source=6,
        latitude_deg=lat,
        longitude_deg=lon,
        altitude_m=alt,
        heading_rad=0.1 * i,
        velocity=m.new('geometry_msgs/msg/Vector3', x=8.0, y=1.0),
        size=m.new('geometry_msgs/msg/Vector3', x=4.6, y=1.9, z=1.5),
        covariance=cov,
        heading_variance=0.001,
        confidence=0.9,
    )


def _cases() -> dict[str, tuple[K, Callable[[], dict], Callable[[dict], Any]]]:
    state = cv.OwnVehicleState(
        temporary_id=b'\x10\x20\x30\x40\x50\x60\x70\x80',
        stamp_ns=NOW_NS,
        lat_deg=31.2001,
        lon_deg=121.5002,
        alt_m=5.0,
        heading_rad=0.3,
        speed_mps=13.0,
        gear=4,
        accel_long_mps2=0.3,
        yaw_rate_radps=0.02,
        length_m=4.6,
        width_m=1.9,
        height_m=1.5,
        position_accuracy_m=1.0,
        speed_accuracy_mps=0.5,
        brake_pedal=False,
        lights=8,
    )
    array = m.new(
        'v2x_stack/msg/ParticipantArray',
        header=m.header(NOW_NS, 'map'),
        participants=[_participant(i, (1, 2, 4, 5)[i % 4]) for i in range(8)],
    )
    ssm_array = m.new(
        'v2x_stack/msg/ParticipantArray',
        header=m.header(NOW_NS, 'map'),
        participants=[_participant(i, (1, 5, 6)[i % 3]) for i in range(8)],
    )
    phases = [
        m.new(
            'v2x_stack/msg/SignalPhase',
            phase_id=p,
            light=(3, 6, 7)[p % 3],
            start_s=0.0,
            min_end_s=5.0,
            max_end_s=40.0,
            likely_end_s=12.0,
            confidence=0.8,
            next_start_s=60.0,
            next_duration_s=30.0,
        )
        for p in range(1, 9)
    ]
    inter = m.new(
        'v2x_stack/msg/IntersectionState',
        header=m.header(NOW_NS, ''),
        intersection_id=12,
        status=64,
        phases=phases,
    )
    events = m.new(
        'v2x_stack/msg/RoadEventArray',
        header=m.header(NOW_NS, 'map'),
        events=[
            m.new(
                'v2x_stack/msg/RoadEvent',
                id=i,
                event_type=401 if i % 2 else 0,
                sign_type=0 if i % 2 else 38,
                source=5,
                latitude_deg=31.2 + 0.001 * i,
                longitude_deg=121.5,
                altitude_m=4.0,
                radius_m=50.0,
                priority=5,
                description='Road works ahead',
                path=[m.new('geometry_msgs/msg/Point', x=10.0 * k, y=5.0) for k in range(4)],
                path_radius_m=5.0,
            )
            for i in range(4)
        ],
    )
    lanes = []
    for up in range(4):
        for lane in range(3):
            geo = [
                ORIGIN.geodetic_of(-100.0 * (up + 1) + 10 * k, 3.5 * lane, 0.0) for k in range(6)
            ]
            lanes.append(
                m.new(
                    'v2x_stack/msg/MapLane',
                    upstream_node_id=up + 20,
                    lane_id=lane + 1,
                    width_m=3.5,
                    lane_type=0,
                    maneuvers=3,
                    maneuvers_known=True,
                    speed_limit_mps=16.7,
                    latitude_deg=np.array([g[0] for g in geo]),
                    longitude_deg=np.array([g[1] for g in geo]),
                    altitude_m=np.array([g[2] for g in geo]),
                    connection_region=np.array([0], dtype=np.uint16),
                    connection_node_id=np.array([30], dtype=np.uint16),
                    connection_lane_id=np.array([2], dtype=np.uint8),
                    connection_phase_id=np.array([up + 1], dtype=np.uint8),
                )
            )
    node = m.new(
        'v2x_stack/msg/IntersectionMap',
        header=m.header(NOW_NS, 'map'),
        node_id=12,
        latitude_deg=31.2,
        longitude_deg=121.5,
        altitude_m=4.0,
        lanes=lanes,
    )
    rsu = '00000000000000a1'
    bsm_sender = _participant(3)
    bsm_sender.source_id = '1020304050607080'
    return {
        'BSM (state)': (
            K.BSM,
            lambda: cv.bsm_from_state(state),
            lambda v: cv.state_from_bsm(v, NOW_NS),
        ),
        'BSM (participant)': (
            K.BSM,
            lambda: cv.bsm_from_participant(bsm_sender),
            lambda v: cv.participant_from_bsm(v, NOW_NS, origin=ORIGIN),
        ),
        'RSM (8 ptc)': (
            K.RSM,
            lambda: cv.rsm_from_participants(array, rsu_id=rsu, ref=REF),
            lambda v: cv.participants_from_rsm(v, NOW_NS),
        ),
        'SSM (8 obj)': (
            K.SSM,
            lambda: cv.ssm_from_participants(ssm_array, sender_id=rsu, sensor_pos=REF),
            lambda v: cv.participants_from_ssm(v, NOW_NS),
        ),
        'SPAT (8 phases)': (
            K.SPAT,
            lambda: cv.spat_from_intersections([inter]),
            lambda v: cv.intersections_from_spat(v, NOW_NS),
        ),
        'RSI (4 events)': (
            K.RSI,
            lambda: cv.rsi_from_events(events, rsu_id=rsu, ref=REF, origin=ORIGIN),
            lambda v: cv.events_from_rsi(v, NOW_NS),
        ),
        'MAP (12 lanes)': (
            K.MAP,
            lambda: cv.map_from_intersections([node]),
            lambda v: cv.intersections_from_map(v, NOW_NS),
        ),
    }


def _batch(fn: Callable[[], Any], seconds: float) -> int:
    """A call count that takes about ``seconds``."""
    count = 1
    while True:
        start = time.process_time()
        for _ in range(count):
            fn()
        if time.process_time() - start > seconds:
            return count
        count *= 2


def _time(fn: Callable[[], Any], count: int) -> float:
    """CPU seconds per call: process time, so other processes on a busy machine do not count."""
    start = time.process_time()
    for _ in range(count):
        fn()
    return (time.process_time() - start) / count


def compare(
    layer: Callable[[], Any], bare: Callable[[], Any], seconds: float
) -> tuple[float, float, float]:
    """(layer rate, bare rate, overhead): rounds alternate layer and bare, so a busy machine
    slows both alike; the overhead is the median of the per-round ratios, the rates the best."""
    count = _batch(bare, seconds / ROUNDS / 2)
    ratios, best_layer, best_bare = [], math.inf, math.inf
    for _ in range(ROUNDS):
        t_layer, t_bare = _time(layer, count), _time(bare, count)
        best_layer, best_bare = min(best_layer, t_layer), min(best_bare, t_bare)
        ratios.append(t_layer / t_bare)
    return 1.0 / best_layer, 1.0 / best_bare, statistics.median(ratios)


def rate(fn: Callable[[], Any], seconds: float) -> float:
    count = _batch(fn, seconds / ROUNDS)
    return 1.0 / min(_time(fn, count) for _ in range(ROUNDS))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=1.5, help='time per comparison')
    parser.add_argument('--only', default='', help='rows whose name contains this (e.g. BSM)')
    args = parser.parse_args()
    spec = load_schema().uper
    header = (
        f'{"message":18} {"bytes":>5} | {"enc layer/s":>11} {"enc bare/s":>10} {"ratio":>5} '
        f'{"conv":>4} {"(unchk/s)":>10} | {"dec layer/s":>11} {"dec bare/s":>10} {"ratio":>5} '
        f'{"conv":>4} {"(unchk/s)":>10}'
    )
    print(header)
    print('-' * len(header))
    worst = worst_conv = 0.0
    for name, (kind, to_value, from_value) in _cases().items():
        if args.only not in name:
            continue
        value = to_value()
        data = uper.encode_frame(kind, value)
        if kind in uper.FRAME_ALTERNATIVES:
            frame = (uper.FRAME_ALTERNATIVES[kind], value)

            def bare_encode(check=True, frame=frame):
                return spec.encode('MessageFrame', frame, check_constraints=check)

            def bare_decode(check=True, data=data):
                return spec.decode('MessageFrame', data, check_constraints=check)
        else:
            type_name = uper.TYPE_NAMES[kind]

            def bare_encode(check=True, value=value, type_name=type_name):
                inner = spec.encode(type_name, value, check_constraints=check)
                ext = {'messageId': uper.EXT_MESSAGE_IDS[K.SSM], 'value': inner}
                return spec.encode('MessageFrame', ('msgFrameExt', ext), check_constraints=check)

            def bare_decode(check=True, data=data, type_name=type_name):
                _, ext = spec.decode('MessageFrame', data, check_constraints=check)
                return spec.decode(type_name, ext['value'], check_constraints=check)

        def layer_encode(to_value=to_value, kind=kind):
            return uper.encode_frame(kind, to_value())

        def layer_decode(data=data, from_value=from_value):
            return from_value(uper.decode_frame(data).value)

        decoded = uper.decode_frame(data).value
        enc_l, enc_b, enc_r = compare(layer_encode, bare_encode, args.seconds)
        enc_c = compare(to_value, bare_encode, args.seconds / 2)[2]
        enc_u = rate(lambda f=bare_encode: f(False), args.seconds / 2)
        dec_l, dec_b, dec_r = compare(layer_decode, bare_decode, args.seconds)
        dec_c = compare(lambda f=from_value, v=decoded: f(v), bare_decode, args.seconds / 2)[2]
        dec_u = rate(lambda f=bare_decode: f(False), args.seconds / 2)
        worst = max(worst, enc_r, dec_r)
        worst_conv = max(worst_conv, enc_c, dec_c)
        print(
            f'{name:18} {len(data):5d} | {enc_l:11,.0f} {enc_b:10,.0f} {enc_r:5.2f} {enc_c:4.2f} '
            f'{enc_u:10,.0f} | {dec_l:11,.0f} {dec_b:10,.0f} {dec_r:5.2f} {dec_c:4.2f} '
            f'{dec_u:10,.0f}'
        )
    print(
        f'\nworst overhead (layer time / bare checked time, median of {ROUNDS} rounds): '
        f'{worst:.2f}x (target <= 1.5x)\n'
        f'largest conversion share (conversion alone / bare checked time): {worst_conv:.2f}, '
        f"i.e. {1 + worst_conv:.2f}x over asn1tools with asn1tools' own checks"
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())

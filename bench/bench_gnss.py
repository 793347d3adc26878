"""GNSS benchmarks: NMEA sentences/s and RTCM 3 framing MB/s, each against a baseline
measured in the same run (pynmea2.parse alone; pyrtcm's RTCMReader), and the localisation
filter's per-fix conversions (NavSatFix in and out of the map frame, CPU µs per call) against
the same code at ``baseline_source.CARPERF_BASELINE`` (git).

Run: /work/venv/bin/python bench/bench_gnss.py [--seconds 1.0]
Uses the real logs in ../shared/realdata when present, else generated sentences and frames.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pynmea2
import pyrtcm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from baseline_source import CARPERF_BASELINE, baseline_module  # noqa: E402

from geo import LocalFrame  # noqa: E402
from v2x_runtime import messages as m  # noqa: E402
from vehicle_nodes.fusion import ros_conversions  # noqa: E402
from vehicle_nodes.fusion.localizer import Estimate  # noqa: E402
from vehicle_nodes.gnss.gga_writer import build_gga  # noqa: E402
from vehicle_nodes.gnss.nmea import parse_sentence  # noqa: E402
from vehicle_nodes.gnss.stream import NmeaStream  # noqa: E402
from vehicle_nodes.ntrip.crc24q import crc24q, crc24q_many  # noqa: E402
from vehicle_nodes.ntrip.rtcm import RtcmFramer, encode_frame  # noqa: E402

REALDATA = Path(os.environ.get('V2X_REALDATA', ROOT.parent / 'shared' / 'realdata'))


def rate(work: Callable[[], int], seconds: float) -> float:
    """Units of work per second, best of repeated runs filling ``seconds``."""
    best = 0.0
    end = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        units = work()
        elapsed = time.perf_counter() - start
        best = max(best, units / elapsed)
        if time.perf_counter() > end:
            return best


def nmea_corpus() -> list[str]:
    lines: list[str] = []
    folder = REALDATA / 'nmea'
    if folder.is_dir():
        for path in sorted(folder.glob('*.log')):
            for raw in path.read_text(errors='replace').splitlines():
                if raw.startswith('$') and '*' in raw:
                    lines.append(raw.strip())
    if not lines:
        lines = [
            build_gga(time_s=i, lat_deg=39.9 + i * 1e-6, lon_deg=116.3, alt_msl_m=50.0)
            for i in range(1000)
        ]
    return lines


def rtcm_corpus() -> bytes:
    folder = REALDATA / 'rtcm'
    if folder.is_dir():
        data = b''.join(p.read_bytes() for p in sorted(folder.glob('*.rtcm3')))
        if data:
            return data
    rng = np.random.default_rng(1)
    return b''.join(
        encode_frame(rng.integers(0, 256, int(rng.integers(20, 1000)), np.uint8).tobytes())
        for _ in range(500)
    )


def bench_nmea(seconds: float) -> None:
    lines = nmea_corpus()
    kinds = {'GGA', 'RMC', 'GST', 'GSA', 'VTG', 'HDT', 'THS', 'ZDA'}
    decoded = [ln for ln in lines if ln[3:6] in kinds]
    blob = ('\r\n'.join(lines) + '\r\n').encode()

    def baseline(sample: list[str]) -> Callable[[], int]:
        def work() -> int:
            for line in sample:
                with contextlib.suppress(pynmea2.ParseError):
                    pynmea2.parse(line, check=True)
            return len(sample)

        return work

    def ours(sample: list[str]) -> Callable[[], int]:
        def work() -> int:
            for line in sample:
                parse_sentence(line)
            return len(sample)

        return work

    def stream() -> int:
        s = NmeaStream()
        s.feed(blob)
        s.flush()
        return len(lines)

    print(f'NMEA: {len(lines)} sentences ({len(decoded)} of the decoded kinds)')
    for label, sample in (('all sentences', lines), ('decoded kinds', decoded)):
        base = rate(baseline(sample), seconds)
        mine = rate(ours(sample), seconds)
        print(
            f'  {label:14s} pynmea2.parse {base:10,.0f}/s   parse_sentence {mine:10,.0f}/s'
            f'   ratio {mine / base:5.2f}x'
        )
    base = rate(baseline(lines), seconds)
    full = rate(stream, seconds)
    print(
        f'  full NmeaStream (bytes → lines → records → fixes) {full:10,.0f} sentences/s'
        f'   ratio vs pynmea2.parse alone {full / base:5.2f}x'
    )


def bench_rtcm(seconds: float) -> None:
    data = rtcm_corpus()
    mb = len(data) / 1e6

    def ours() -> int:
        framer = RtcmFramer()
        framer.feed(data)
        framer.flush()
        return len(data)

    def ours_chunked() -> int:
        framer = RtcmFramer()
        for start in range(0, len(data), 1460):  # one TCP segment at a time
            framer.feed(data[start : start + 1460])
        framer.flush()
        return len(data)

    def pyrtcm_raw() -> int:
        for _ in pyrtcm.RTCMReader(io.BytesIO(data), quitonerror=0, parsed=0):
            pass
        return len(data)

    def pyrtcm_checked() -> int:
        for raw, _ in pyrtcm.RTCMReader(io.BytesIO(data), quitonerror=0, parsed=0):
            if pyrtcm.calc_crc24q(raw):
                raise RuntimeError('bad CRC in the benchmark corpus')
        return len(data)

    def pyrtcm_parsed() -> int:
        for _ in pyrtcm.RTCMReader(io.BytesIO(data), quitonerror=0, parsed=1):
            pass
        return len(data)

    print(f'RTCM 3: {mb:.2f} MB of frames')
    raw = rate(pyrtcm_raw, seconds) / 1e6
    base = rate(pyrtcm_checked, seconds) / 1e6
    parsed = rate(pyrtcm_parsed, seconds) / 1e6
    mine = rate(ours, seconds) / 1e6
    chunked = rate(ours_chunked, seconds) / 1e6
    print(f'  pyrtcm RTCMReader parsed=0 (framing only, no CRC check) {raw:8.2f} MB/s')
    print(f'  pyrtcm RTCMReader parsed=0 + calc_crc24q (baseline)     {base:8.2f} MB/s')
    print(f'  pyrtcm RTCMReader parsed=1 (full decode, CRC checked)   {parsed:8.2f} MB/s')
    print(
        f'  RtcmFramer (CRC checked), one buffer       {mine:8.2f} MB/s   ratio {mine / base:6.2f}x'
    )
    print(
        f'  RtcmFramer (CRC checked), 1460-byte chunks {chunked:8.2f} MB/s   '
        f'ratio {chunked / base:6.2f}x'
    )

    frames = RtcmFramer().feed(data)
    spans = [bytes(f.data[:-3]) for f in frames]
    arr = np.frombuffer(b''.join(spans), np.uint8)
    lengths = np.array([len(s) for s in spans])
    starts = np.concatenate([[0], np.cumsum(lengths[:-1])])
    total = int(lengths.sum())

    def crc_table() -> int:
        for s in spans:
            crc24q(s)
        return total

    def crc_vector() -> int:
        crc24q_many(arr, starts, lengths)
        return total

    def crc_pyrtcm() -> int:
        for s in spans:
            pyrtcm.calc_crc24q(s)
        return total

    ref = rate(crc_pyrtcm, seconds) / 1e6
    table = rate(crc_table, seconds) / 1e6
    vector = rate(crc_vector, seconds) / 1e6
    print(
        f'  CRC-24Q pyrtcm.calc_crc24q {ref:8.2f} MB/s; byte table {table:8.2f} MB/s '
        f'({table / ref:.2f}x); vectorised {vector:8.2f} MB/s ({vector / ref:.2f}x)'
    )


def bench_fix_conversions(seconds: float) -> None:
    """NavSatFix → map position (every GNSS fix) and estimate → NavSatFix (every output)."""
    frame = LocalFrame(31.2837, 121.1638, 0.0)
    rng = np.random.default_rng(2)
    fixes = []
    for e, n in rng.uniform(-300.0, 300.0, (200, 2)):
        lat, lon, alt = frame.geodetic_of(e, n, 3.0)
        cov = np.zeros(9)
        cov[[0, 4, 8]] = 0.02**2, 0.02**2, 0.05**2
        fixes.append(m.new('sensor_msgs/msg/NavSatFix', latitude=lat, longitude=lon, altitude=alt,
                           status=m.new('sensor_msgs/msg/NavSatStatus', status=2),
                           position_covariance=cov, position_covariance_type=3))  # fmt: skip
    estimates = [
        Estimate(
            t_s=1.0,
            x_m=float(e),
            y_m=float(n),
            yaw_rad=0.3,
            speed_mps=10.0,
            yaw_rate_radps=0.0,
            gyro_bias_radps=0.0,
            accel_bias_mps2=0.0,
            covariance=np.eye(6) * 1e-3,
            gnss_age_s=0.1,
        )
        for e, n in rng.uniform(-300.0, 300.0, (200, 2))
    ]

    def to_map(mod: Any) -> Callable[[], int]:
        def work() -> int:
            for fix in fixes:
                mod.navsatfix_to_position(fix, frame)
            return len(fixes)

        return work

    def to_fix(mod: Any) -> Callable[[], int]:
        def work() -> int:
            for est in estimates:
                mod.estimate_to_navsatfix(est, frame, 3.0, 0.01, 'base_link')
            return len(estimates)

        return work

    def cpu_us(work: Callable[[], int]) -> float:
        best = float('inf')
        end = time.perf_counter() + seconds
        while True:
            c0 = time.process_time()
            units = work()
            best = min(best, (time.process_time() - c0) / units * 1e6)
            if time.perf_counter() > end:
                return best

    def map_xy(mod: Any) -> Any:
        return mod.navsatfix_to_position(fixes[0], frame).xy_m

    def lat_lon(mod: Any) -> Any:
        fix = mod.estimate_to_navsatfix(estimates[0], frame, 3.0, 0.01, 'base_link')
        return fix.latitude, fix.longitude

    old = baseline_module('vehicle_nodes/fusion/ros_conversions.py')
    print(f'localisation fix conversions, CPU µs per call (baseline {CARPERF_BASELINE}, same run)')
    cases = (
        ('NavSatFix -> map position', to_map, map_xy),
        ('estimate -> NavSatFix', to_fix, lat_lon),
    )
    for label, make, check in cases:
        ours = cpu_us(make(ros_conversions))
        if old is None:
            print(f'  {label:28s} {ours:7.1f} µs (baseline: git history absent)')
            continue
        base = cpu_us(make(old))
        diff = float(np.max(np.abs(np.subtract(check(ros_conversions), check(old)))))
        print(
            f'  {label:28s} {ours:7.1f} µs   baseline {base:7.1f} µs   ×{base / ours:5.1f}'
            f'   results differ by {diff:.1e}'
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=1.0, help='time per measurement')
    args = parser.parse_args()
    bench_nmea(args.seconds)
    bench_rtcm(args.seconds)
    bench_fix_conversions(args.seconds)


if __name__ == '__main__':
    main()

"""Reference station positions from 1005/1006, against pyrtcm and the published coordinates."""

import pyrtcm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vehicle_nodes.ntrip.rtcm import RtcmFrame, RtcmFramer, encode_frame
from vehicle_nodes.ntrip.station import decode_station

# (file, type, lat, lon) as the sources list them (SOURCES.md of the realdata folder)
KNOWN = [
    ('gpsd_rtcm3-2.rtcm3', 1006, 43.7547, 6.920562),
    ('pygpsdata-NTRIP-USCL00CHL0.log', 1005, -33.449846, -70.681351),
    ('pygpsdata-RTCM3.log', 1005, 32.065833, 34.773819),
]


@pytest.mark.parametrize(('name', 'kind', 'lat', 'lon'), KNOWN)
def test_station_coordinates(rtcm_dir, name, kind, lat, lon):
    frames = RtcmFramer().feed((rtcm_dir / name).read_bytes())
    stations = [(f, decode_station(f)) for f in frames if f.message_type == kind]
    assert stations
    for frame, station in stations:
        ref = pyrtcm.RTCMReader.parse(frame.data)
        assert (station.x_m, station.y_m, station.z_m) == pytest.approx(
            (ref.DF025, ref.DF026, ref.DF027), abs=1e-6
        )
        got_lat, got_lon, _ = station.geodetic()
        assert got_lat == pytest.approx(lat, abs=1e-6) and got_lon == pytest.approx(lon, abs=1e-6)


def pack_1006(station_id, x, y, z, height):
    fields = [
        (1006, 12),
        (station_id, 12),
        (0, 6),
        (0b1001, 4),
        (x & (2**38 - 1), 38),
        (0, 2),
        (y & (2**38 - 1), 38),
        (0, 2),
        (z & (2**38 - 1), 38),
        (height, 16),
    ]
    value, size = 0, 0
    for field, bits in fields:
        value = (value << bits) | field
        size += bits
    return encode_frame(value.to_bytes(size // 8, 'big'))


coordinate = st.integers(-(2**37), 2**37 - 1)


@settings(deadline=None)
@given(st.integers(0, 4095), coordinate, coordinate, coordinate, st.integers(0, 65535))
def test_1006_round_trip(station_id, x, y, z, height):
    station = decode_station(RtcmFrame(pack_1006(station_id, x, y, z, height)))
    assert station.station_id == station_id
    assert (station.x_m, station.y_m, station.z_m) == pytest.approx((x * 1e-4, y * 1e-4, z * 1e-4))
    assert station.antenna_height_m == pytest.approx(height * 1e-4)


def test_short_or_other_frames_give_none():
    assert decode_station(RtcmFrame(encode_frame(bytes([0x3E, 0xD0]) + bytes(5)))) is None
    assert decode_station(RtcmFrame(encode_frame(bytes([0x3F, 0x40]) + bytes(30)))) is None

"""Reference station position from RTCM 3 messages 1005/1006 (antenna reference point, ECEF).

Field layout (RTCM 10403.3, DF002-DF028): type 12, station id 12, ITRF year 6, GPS/GLONASS/
Galileo/reference-station flags 4, X int38, oscillator 1, reserved 1, Y int38, quarter cycle 2,
Z int38 (0.1 mm); 1006 adds the antenna height uint16 (0.1 mm). The client uses it to report
the base station and the baseline length in diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo import ecef_to_geodetic
from vehicle_nodes.ntrip.rtcm import RtcmFrame

ARP_TYPES = (1005, 1006)


@dataclass(frozen=True)
class ReferenceStation:
    station_id: int
    itrf_year: int
    x_m: float
    y_m: float
    z_m: float
    antenna_height_m: float  # 0 for 1005

    def geodetic(self) -> tuple[float, float, float]:
        """(lat deg, lon deg, ellipsoidal height m) of the ARP on WGS84."""
        lat, lon, h = ecef_to_geodetic(self.x_m, self.y_m, self.z_m)
        return float(lat), float(lon), float(h)


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, 'big')
        self.size = 8 * len(data)
        self.pos = 0

    def unsigned(self, n: int) -> int:
        if self.pos + n > self.size:
            raise ValueError(f'needs {self.pos + n} bits, payload has {self.size}')
        out = (self.value >> (self.size - self.pos - n)) & ((1 << n) - 1)
        self.pos += n
        return out

    def signed(self, n: int) -> int:
        raw = self.unsigned(n)
        return raw - (1 << n) if raw >> (n - 1) else raw


def decode_station(frame: RtcmFrame) -> ReferenceStation | None:
    """The station of a 1005/1006 frame, None for other types or a short payload."""
    if frame.message_type not in ARP_TYPES:
        return None
    bits = _Bits(frame.payload)
    try:
        message_type = bits.unsigned(12)
        station_id = bits.unsigned(12)
        itrf_year = bits.unsigned(6)
        bits.unsigned(4)
        x = bits.signed(38)
        bits.unsigned(2)
        y = bits.signed(38)
        bits.unsigned(2)
        z = bits.signed(38)
        height = bits.unsigned(16) if message_type == 1006 else 0
    except ValueError:
        return None
    return ReferenceStation(station_id, itrf_year, x * 1e-4, y * 1e-4, z * 1e-4, height * 1e-4)

"""The HD map model: frozen records in local ENU metres with numpy centre lines.

Two-way lanelets get an inverted twin, so that every record is travelled in the direction
of its centre line; a twin's ``key`` is the negated lanelet id, its ``id`` the file's id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vehicle_nodes.hdmap.geometry import FloatArray


@dataclass(frozen=True)
class LineMarking:
    """A lanelet boundary: the linestring's id, type/subtype and lane-change permission."""

    way_id: int
    type: str
    subtype: str
    crossable: bool  # may a vehicle cross it from this lanelet to the neighbour across


@dataclass(frozen=True, eq=False)
class TrafficLight:
    """A traffic-light regulatory element: its stop line and the SPAT signal group it shows.

    ``signal_group`` comes from the tag ``signal_group`` on the regulatory element (or on one
    of its light linestrings); ``intersection_id`` from the tag ``intersection_id``. Both
    are 0 / -1 when the map does not say.
    """

    id: int
    stop_line_xy: FloatArray | None  # (N, 2) of the ref_line; None: the lanelet's end
    light_way_ids: tuple[int, ...]
    signal_group: int
    intersection_id: int


@dataclass(frozen=True, eq=False)
class Lanelet:
    """One direction of travel over one lanelet, with its resampled centre line.

    Arrays are read-only; ``s_m`` is the arc length table of ``centre_xy`` and ``width_m``
    the lane width at each centre-line point; ``heading_rad`` holds one yaw per segment.
    """

    key: int
    id: int
    inverted: bool
    subtype: str
    drivable: bool
    turn_direction: str  # 'left', 'right', 'straight' or ''
    left: LineMarking
    right: LineMarking
    left_xy: FloatArray
    right_xy: FloatArray
    centre_xy: FloatArray
    s_m: FloatArray
    width_m: FloatArray
    heading_rad: FloatArray
    speed_limit_mps: float  # NaN: the map does not say
    end_nodes: tuple[int, int, int, int]  # left start, left end, right start, right end
    traffic_light: TrafficLight | None = None
    stop_line_s_m: float = float('nan')  # arc length of the stop line; NaN when none
    regulatory_ids: tuple[int, ...] = field(default=())

    @property
    def length_m(self) -> float:
        return float(self.s_m[-1])

    @property
    def has_stop_line(self) -> bool:
        return not np.isnan(self.stop_line_s_m)

    def width_at(self, s_m: float) -> float:
        return float(np.interp(s_m, self.s_m, self.width_m))

    def heading_at(self, s_m: float) -> float:
        last = len(self.heading_rad) - 1
        i = int(np.clip(np.searchsorted(self.s_m, s_m, side='right') - 1, 0, last))
        return float(self.heading_rad[i])

    def point_at(self, s_m: float) -> tuple[float, float]:
        return (
            float(np.interp(s_m, self.s_m, self.centre_xy[:, 0])),
            float(np.interp(s_m, self.s_m, self.centre_xy[:, 1])),
        )

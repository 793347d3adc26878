"""What the HMI shows, as plain records in the map frame (REP 103: metres, rad, m/s).

Both outputs (the browser page's JSON and the RViz/Foxglove markers) are built from a
``Scene``; the conversions from ROS messages live in ``conversions.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from v2x_nodes.hmi.priority import LEVEL_NAMES


@dataclass(frozen=True)
class Ego:
    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float
    length_m: float
    width_m: float


@dataclass(frozen=True)
class Target:
    key: str  # '<source_id>:<id>' ('<origin>:<id>' without a source id): unique
    id: int
    source_id: str
    participant_class: int
    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float
    length_m: float
    width_m: float
    source: int
    trust: int
    topic: str  # which input it came from (remote_vehicles or roadside_participants)


@dataclass(frozen=True)
class Phase:
    phase_id: int
    light: int
    remaining_s: float  # to the likely (else the earliest) end of the light; NaN when unknown
    min_remaining_s: float
    max_remaining_s: float


@dataclass(frozen=True)
class Signal:
    region: int
    intersection_id: int
    status: int
    phases: tuple[Phase, ...]


@dataclass(frozen=True)
class ShownWarning:
    application: str
    level: int
    target_id: str
    time_to_collision_s: float
    distance_m: float
    text: str

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level] if 0 <= self.level < len(LEVEL_NAMES) else str(self.level)


@dataclass(frozen=True)
class Advice:
    application: str
    min_speed_mps: float
    max_speed_mps: float
    recommended_speed_mps: float
    stop: bool
    distance_m: float
    phase_id: int
    text: str


@dataclass(frozen=True)
class Scene:
    t_s: float
    ego: Ego | None = None
    targets: tuple[Target, ...] = ()
    signals: tuple[Signal, ...] = ()
    warning: ShownWarning | None = None
    advice: Advice | None = None

    def light_of(self, signal_group: int) -> int | None:
        """The light of a signal group in the first intersection that reports it."""
        for sig in self.signals:
            for ph in sig.phases:
                if ph.phase_id == signal_group:
                    return ph.light
        return None


@dataclass(frozen=True)
class StopLine:
    lanelet_id: int
    signal_group: int  # 0 when the map names none
    points_xy: np.ndarray  # (N, 2)


@dataclass(frozen=True)
class LaneGeometry:
    """Lane boundaries and stop lines to draw; empty when the HMI runs without a map."""

    source: str = ''
    boundaries: tuple[np.ndarray, ...] = ()  # each (N, 2), deduplicated by way
    lanes: tuple[tuple[int, np.ndarray, np.ndarray], ...] = ()  # (lanelet id, left, right)
    stop_lines: tuple[StopLine, ...] = ()
    bounds_xy: np.ndarray = field(default_factory=lambda: np.zeros((2, 2)))

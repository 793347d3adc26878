"""Actuated signal plans: the plan (stages, detection zones, recall) and its config format.

The behaviour is described in ``rsu_nodes.signals.actuated`` (the controller); this module
holds what a plan file says, checked at load: ``actuated_plan_from_dict`` raises ``PlanError``
naming the stage or zone and the field.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from perception_nodes.lidar.geometry import points_in_polygon, polygon_area
from rsu_nodes.signals.plan import PlanError

VEHICLE_CLASSES = frozenset({1, 2, 3, 7})  # Participant car, truck/bus, motorcycle, emergency
CLASS_NAMES = {'vehicle': VEHICLE_CLASSES, 'cyclist': frozenset({4}), 'pedestrian': frozenset({5})}


class Recall(enum.Enum):
    NONE = 'none'
    MIN = 'min'
    MAX = 'max'
    PED = 'ped'


@dataclass(frozen=True)
class DetectionZone:
    """A polygon in the participants' frame (map); participants of ``classes`` in it call."""

    name: str
    polygon_m: np.ndarray  # (M, 2)
    classes: frozenset[int]

    def count(self, xy: np.ndarray, cls: np.ndarray) -> int:
        """How many of the participants (xy (N, 2), class (N,)) are in the zone."""
        pick = np.isin(cls, list(self.classes))
        if not pick.any():
            return 0
        return int(points_in_polygon(xy[pick], self.polygon_m).sum())


@dataclass(frozen=True)
class ActuatedStage:
    min_green_s: float
    max_green_s: float
    passage_s: float
    vehicle_groups: tuple[int, ...] = ()
    pedestrian_groups: tuple[int, ...] = ()
    detectors: tuple[str, ...] = ()
    ped_detectors: tuple[str, ...] = ()
    recall: Recall = Recall.NONE
    walk_s: float = 0.0
    ped_clearance_s: float = 0.0
    yellow_s: float = 3.0
    all_red_s: float = 2.0
    permissive: bool = False

    @property
    def clearance_s(self) -> float:
        return self.yellow_s + self.all_red_s

    def min_with_walk(self, walk: bool) -> float:
        return max(self.min_green_s, self.walk_s + self.ped_clearance_s if walk else 0.0)


@dataclass
class ActuatedPlan:
    stages: tuple[ActuatedStage, ...]
    zones: dict[str, DetectionZone]
    intersection_id: int = 1
    headway_s: float = 2.0  # saturation headway: the likely green of a queue of n is n x this

    def __post_init__(self) -> None:
        if not self.stages:
            raise PlanError('an actuated plan needs at least one stage')
        seen: dict[int, int] = {}
        for i, s in enumerate(self.stages):
            if not (0 < s.min_green_s <= s.max_green_s) or s.passage_s < 0:
                raise PlanError(
                    f'stages[{i}]: expected 0 < min_green_s <= max_green_s and passage_s >= 0, '
                    f'got {s.min_green_s}, {s.max_green_s}, {s.passage_s}'
                )
            if s.yellow_s < 0 or s.all_red_s < 0 or s.walk_s < 0 or s.ped_clearance_s < 0:
                raise PlanError(f'stages[{i}]: negative yellow_s, all_red_s, walk_s or clearance')
            if s.pedestrian_groups and s.walk_s + s.ped_clearance_s > s.max_green_s:
                raise PlanError(
                    f'stages[{i}]: walk_s + ped_clearance_s = {s.walk_s + s.ped_clearance_s} '
                    f'exceeds max_green_s {s.max_green_s}'
                )
            if s.pedestrian_groups and s.walk_s <= 0:
                raise PlanError(f'stages[{i}]: pedestrian groups need walk_s > 0')
            for name in (*s.detectors, *s.ped_detectors):
                if name not in self.zones:
                    raise PlanError(f'stages[{i}]: unknown detector zone {name!r}')
            for g in (*s.vehicle_groups, *s.pedestrian_groups):
                if g in seen:
                    raise PlanError(
                        f'stages[{i}]: group {g} already in stages[{seen[g]}] (an actuated '
                        'plan gives each group one stage)'
                    )
                seen[g] = i
        if not seen:
            raise PlanError('an actuated plan needs signal groups')

    @property
    def groups(self) -> list[int]:
        return sorted(g for s in self.stages for g in (*s.vehicle_groups, *s.pedestrian_groups))


def _zone(name: str, data: Any, where: str) -> DetectionZone:
    try:
        coords = [float(v) for v in data['polygon_m']]
        classes = data.get('classes', ['vehicle'])
        cls: set[int] = set()
        for c in classes:
            if c not in CLASS_NAMES:
                raise PlanError(
                    f'{where}: detector_zones.{name}.classes: expected one of '
                    f'{sorted(CLASS_NAMES)}, got {c!r}'
                )
            cls |= CLASS_NAMES[c]
    except (KeyError, TypeError, ValueError) as err:
        raise PlanError(
            f'{where}: detector_zones.{name}: expected polygon_m [x0, y0, ...]: {err}'
        ) from None
    poly = np.asarray(coords).reshape(-1, 2) if len(coords) % 2 == 0 else np.zeros((0, 2))
    if len(poly) < 3 or abs(polygon_area(poly)) <= 0 or not np.isfinite(poly).all():
        raise PlanError(f'{where}: detector_zones.{name}: expected >= 3 vertices enclosing an area')
    return DetectionZone(name, poly, frozenset(cls))


def actuated_plan_from_dict(data: Mapping[str, Any], *, where: str = 'signal plan') -> ActuatedPlan:
    """Build an actuated plan from ``{intersection_id, detector_zones, stages: [...]}``."""
    try:
        zones = {
            str(k): _zone(str(k), v, where) for k, v in dict(data.get('detector_zones', {})).items()
        }
        stages = []
        for i, s in enumerate(data['stages']):
            recall = str(s.get('recall', 'none'))
            if recall not in {r.value for r in Recall}:
                raise PlanError(
                    f'stages[{i}].recall: expected none, min, max or ped, got {recall!r}'
                )
            stages.append(
                ActuatedStage(
                    min_green_s=float(s['min_green_s']),
                    max_green_s=float(s['max_green_s']),
                    passage_s=float(s.get('passage_s', 3.0)),
                    vehicle_groups=tuple(int(g) for g in s.get('vehicle_groups', ())),
                    pedestrian_groups=tuple(int(g) for g in s.get('pedestrian_groups', ())),
                    detectors=tuple(str(z) for z in s.get('detectors', ())),
                    ped_detectors=tuple(str(z) for z in s.get('ped_detectors', ())),
                    recall=Recall(recall),
                    walk_s=float(s.get('walk_s', 0.0)),
                    ped_clearance_s=float(s.get('ped_clearance_s', 0.0)),
                    yellow_s=float(s.get('yellow_s', 3.0)),
                    all_red_s=float(s.get('all_red_s', 2.0)),
                    permissive=bool(s.get('permissive', False)),
                )
            )
        return ActuatedPlan(
            tuple(stages),
            zones,
            intersection_id=int(data.get('intersection_id', 1)),
            headway_s=float(data.get('headway_s', 2.0)),
        )
    except PlanError as err:
        raise PlanError(f'{where}: {err}') from None
    except (KeyError, TypeError, ValueError) as err:
        raise PlanError(
            f'{where}: expected stages with min_green_s and max_green_s: {err}'
        ) from None

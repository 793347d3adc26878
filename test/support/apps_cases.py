"""The per-application scenarios (positive + benign twin) shared by the scenario tests and
the robustness sweep. Geometry: the example maps (road: 3 + 3 lanes eastbound at y < 0;
intersection: four arms, signal groups per approach lane)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apps_world import (
    CLASS_EMERGENCY,
    CLASS_PEDESTRIAN,
    INTERSECTION,
    ROAD,
    Actor,
    Ego,
    Mover,
    World,
    lane_path,
    line,
    road_event,
    signal,
)

from v2x_nodes.applications import apps

EAST_1 = line(0, -1.75, 1000, -1.75)  # eastbound lanes, median outwards
EAST_2 = line(0, -5.25, 1000, -5.25)
EAST_3 = line(0, -8.75, 1000, -8.75)
WEST_1 = line(1000, 1.75, 0, 1.75)
LEFT_LIGHT, RIGHT_LIGHT = 1, 2
RED, GREEN = 3, 6


@dataclass
class Case:
    """One scenario: the world, which component runs, and what must (not) happen."""

    name: str
    component: type
    world: Callable[[], World]
    duration_s: float
    app: str
    positive: bool
    map_path: Any = ROAD
    params: dict[str, Any] = field(default_factory=dict)
    min_lead_s: float = 0.0  # positive: raised at least this long before ...
    deadline: Callable[[World], float] | None = None  # ... this time (conflict, zone entry)


def _lights(on_from_s: float, bits: int) -> Callable[[float], int]:
    return lambda t: bits if t >= on_from_s else 0


def fcw(benign: bool) -> World:
    lead = EAST_2 if benign else EAST_1
    return World(
        Ego(Mover(EAST_1, 20.0, start_m=100)),
        [Actor(7, Mover(lead, 20.0, start_m=140, brake_at_s=2.0, brake_mps2=-6.0))],
    )


ICW_EGO = lane_path(INTERSECTION, [1158, 1133, 1604, 1021])
ICW_CROSS = lane_path(INTERSECTION, [1211, 1186, 1751, 1074])


def icw(benign: bool) -> World:
    late = 12.0 * 4.0 if benign else 0.0  # the benign twin arrives 4 s after us
    return World(
        Ego(Mover(ICW_EGO, 12.0, start_m=60)),
        [Actor(8, Mover(ICW_CROSS, 12.0, start_m=49.5 - late))],
    )


LTA_EGO = lane_path(INTERSECTION, [1157, 1128, 1555, 1073])
LTA_ONCOMING = lane_path(INTERSECTION, [1052, 1027, 1310, 1127])


def lta(benign: bool) -> World:
    late = 12.0 * 5.0 if benign else 0.0
    return World(
        Ego(Mover(LTA_EGO, 8.0, start_m=100), lights=_lights(0.0, LEFT_LIGHT)),
        [Actor(9, Mover(LTA_ONCOMING, 12.0, start_m=161 - 12 * 61 / 8 - late))],
    )


def bsw(benign: bool) -> World:
    behind = 40.0 if benign else 6.0
    return World(
        Ego(Mover(EAST_2, 20.0, start_m=200)),
        [Actor(10, Mover(EAST_1, 20.0, start_m=200 - behind))],
    )


def lcw(benign: bool) -> World:
    speed = 20.0 if benign else 30.0
    return World(
        Ego(Mover(EAST_2, 20.0, start_m=200), lights=_lights(1.0, LEFT_LIGHT)),
        [Actor(11, Mover(EAST_1, speed, start_m=140))],
    )


def dnpw(benign: bool) -> World:
    lights = _lights(1.0, 0 if benign else LEFT_LIGHT)
    return World(
        Ego(Mover(EAST_1, 18.0, start_m=100), lights=lights),
        [Actor(12, Mover(WEST_1, 20.0, start_m=1000 - 450))],
    )


def ebw(benign: bool) -> World:
    decel = -2.0 if benign else -6.0
    return World(
        Ego(Mover(EAST_1, 20.0, start_m=100)),
        [Actor(13, Mover(EAST_1, 20.0, start_m=170, brake_at_s=2.0, brake_mps2=decel))],
    )


def avw(benign: bool) -> World:
    where = Mover(WEST_1, 0.0, start_m=1000 - 500) if benign else Mover(EAST_1, 0.0, start_m=500)
    return World(Ego(Mover(EAST_1, 20.0, start_m=100)), [Actor(14, where)])


def clw(benign: bool) -> World:
    def skid(t: float) -> float:
        return 0.0 if t < 2.0 else min(math.radians(35.0), 1.2 * (t - 2.0))

    def lane_change(t: float) -> float:
        return 0.0  # the body follows the course: a controlled manoeuvre

    path = line(0, -1.75, 300, -1.75) if not benign else line(0, -1.75, 290, -1.75)
    if benign:  # drifts smoothly into the next lane over 60 m
        path = line(0, -1.75, 280, -1.75)
        path = [*path.tolist(), [340, -5.25], [1000, -5.25]]
    import numpy as np

    mover = Mover(np.array(path, float), 20.0, start_m=180,
                  heading_offset=lane_change if benign else skid)  # fmt: skip
    return World(Ego(Mover(EAST_1, 20.0, start_m=100)), [Actor(15, mover)])


def hlw(benign: bool) -> World:
    y = 8.75 if benign else -1.75  # the benign twin: on the other carriageway
    ev = road_event(1, 600.0, y, radius_m=3.0 if benign else 20.0, event_type=401,
                    description='road works')  # fmt: skip
    return World(Ego(Mover(EAST_1, 20.0, start_m=300)), events=[ev])


def ivs(benign: bool) -> World:
    y = 8.75 if benign else -1.75
    ev = road_event(2, 600.0, y, radius_m=3.0 if benign else 20.0, sign_type=2,
                    description='sharp bend')  # fmt: skip
    return World(Ego(Mover(EAST_1, 20.0, start_m=300)), events=[ev])


def slw(benign: bool) -> World:
    return World(Ego(Mover(EAST_1, 20.0 if benign else 25.0, start_m=100)))


def slw_sign(benign: bool) -> World:
    ev = road_event(3, 150.0, -1.75, radius_m=100.0, sign_type=38,
                    description='90 km/h' if benign else '60 km/h')  # fmt: skip
    return World(Ego(Mover(EAST_1, 20.0, start_m=100)), events=[ev])


def rlvw(benign: bool) -> World:
    light = GREEN if benign else RED
    nxt = RED if benign else GREEN
    return World(
        Ego(Mover(ICW_EGO, 12.0, start_m=60)),
        spat=lambda t: signal(t, phase_id=8, light=light, end_s=30.0, next_light=nxt),
    )


def vrucw(benign: bool) -> World:
    walk = line(160, -9.25, 160, 20) if not benign else line(100, -12.5, 400, -12.5)
    ped = Actor(16, Mover(walk, 1.5), cls=CLASS_PEDESTRIAN, length_m=0.5, width_m=0.5,
                roadside=True)  # fmt: skip
    return World(Ego(Mover(EAST_1, 12.0, start_m=100)), [ped])


def tjw(benign: bool) -> World:
    speed = 20.0 if benign else 2.0
    queue = [Actor(20 + i, Mover(lane, speed, start_m=500 + 12 * i))
             for i, lane in enumerate((EAST_1, EAST_2, EAST_1, EAST_2, EAST_1))]  # fmt: skip
    return World(Ego(Mover(EAST_1, 20.0, start_m=100)), queue)


def evw(benign: bool) -> World:
    amb = (Mover(WEST_1, 30.0, start_m=1000 - 150) if benign
           else Mover(EAST_1, 30.0, start_m=100 - 150 + 200))  # fmt: skip
    return World(
        Ego(Mover(EAST_1, 15.0, start_m=200)),
        [Actor(30, amb, cls=CLASS_EMERGENCY, length_m=6.0, width_m=2.1)],
    )


def _conflict(world: World) -> float:
    from apps_world import conflict_time

    return min(conflict_time(world.ego, a, 20.0) for a in world.actors)


def _zone_entry(x_zone: float) -> Callable[[World], float]:
    def entry(world: World) -> float:
        m = world.ego.mover
        return (x_zone - m.start_m) / m.speed_mps

    return entry


def _stop_line(world: World) -> float:
    return (144.0 - world.ego.mover.start_m) / world.ego.mover.speed_mps


def _abeam(world: World) -> float:
    """When the closing vehicle draws level with the ego rear."""
    ego, tgt = world.ego.mover, world.actors[0].mover
    return (ego.start_m - tgt.start_m - 4.6) / (tgt.speed_mps - ego.speed_mps)


def cases() -> list[Case]:
    """Every application's positive scenario and benign twin."""
    spec = [
        # name, component, world, duration, app, lead, deadline
        ('fcw', apps.ForwardCollisionWarning, fcw, 6.0, 'FCW', 2.7, _conflict, ROAD),
        ('icw', apps.IntersectionCollisionWarning, icw, 9.0, 'ICW', 3.5, _conflict, INTERSECTION),
        ('lta', apps.LeftTurnAssist, lta, 8.0, 'LTA', 3.5, _conflict, INTERSECTION),
        ('bsw', apps.BlindSpotLaneChangeWarning, bsw, 3.0, 'BSW', 0.0, None, ROAD),
        ('lcw', apps.BlindSpotLaneChangeWarning, lcw, 6.0, 'LCW', 2.5, _abeam, ROAD),
        ('dnpw', apps.DoNotPassWarning, dnpw, 4.0, 'DNPW', 0.0, None, ROAD),
        ('ebw', apps.EmergencyBrakeWarning, ebw, 5.0, 'EBW', 0.0, None, ROAD),
        ('avw', apps.AbnormalVehicleWarning, avw, 12.0, 'AVW', 8.0, _conflict, ROAD),
        ('clw', apps.ControlLossWarning, clw, 5.0, 'CLW', 0.0, None, ROAD),
        ('hlw', apps.HazardousLocationWarning, hlw, 12.0, 'HLW', 9.0, _zone_entry(580.0), ROAD),
        ('ivs', apps.InVehicleSignage, ivs, 12.0, 'IVS', 9.0, _zone_entry(580.0), ROAD),
        ('slw', apps.SpeedLimitWarning, slw, 2.0, 'SLW', 0.0, None, ROAD),
        ('slw_sign', apps.SpeedLimitWarning, slw_sign, 2.0, 'SLW', 0.0, None, ROAD),
        ('rlvw', apps.RedLightViolationWarning, rlvw, 7.0, 'RLVW', 3.5, _stop_line, INTERSECTION),
        ('vrucw', apps.VulnerableRoadUserCollisionWarning, vrucw, 6.0, 'VRUCW', 3.0, _conflict,
         ROAD),
        ('tjw', apps.TrafficJamWarning, tjw, 8.0, 'TJW', 0.0, None, ROAD),
        ('evw', apps.EmergencyVehicleWarning, evw, 3.0, 'EVW', 0.0, None, ROAD),
    ]  # fmt: skip
    out = []
    for name, comp, build, dur, app, lead, deadline, map_path in spec:
        for benign in (False, True):
            out.append(Case(f'{name}_benign' if benign else name, comp,
                            (lambda b=build, bb=benign: b(bb)), dur, app, not benign, map_path,
                            min_lead_s=lead, deadline=deadline))  # fmt: skip
    return out


# When the positive scenario's hazard appears (the warning must come within a cycle or two
# of it): the applications without a lead-time bound are checked against this instead.
ONSET_S = {'bsw': 0.0, 'dnpw': 1.0, 'ebw': 2.0, 'clw': 2.0, 'slw': 0.0, 'slw_sign': 0.0,
           'tjw': 5.5, 'evw': 0.0}  # fmt: skip

"""One component per T/CSAE 53-2020 Day-1 application (plugins for the topologies).

Each is the common ``ApplicationNode`` cycle running its row(s) of the application table;
see ``node`` for topics and common parameters and docs/applications.md for the thresholds.
"""

from __future__ import annotations

from v2x_nodes.applications.node import ApplicationNode


class ForwardCollisionWarning(ApplicationNode):
    """FCW: collision predicted with a vehicle ahead in the own lane."""

    APPLICATIONS = ('FCW',)


class IntersectionCollisionWarning(ApplicationNode):
    """ICW: a crossing vehicle reaches the conflict zone at the same time."""

    APPLICATIONS = ('ICW',)


class LeftTurnAssist(ApplicationNode):
    """LTA: oncoming traffic across the left-turn path."""

    APPLICATIONS = ('LTA',)


class BlindSpotLaneChangeWarning(ApplicationNode):
    """BSW (vehicle in the blind zone) and LCW (indicator on towards a closing vehicle)."""

    APPLICATIONS = ('BSW', 'LCW')


class DoNotPassWarning(ApplicationNode):
    """DNPW: oncoming vehicle in the passing lane while overtaking is intended."""

    APPLICATIONS = ('DNPW',)


class EmergencyBrakeWarning(ApplicationNode):
    """EBW: a vehicle ahead brakes hard."""

    APPLICATIONS = ('EBW',)


class AbnormalVehicleWarning(ApplicationNode):
    """AVW: stopped or very slow vehicle ahead on a lane."""

    APPLICATIONS = ('AVW',)


class ControlLossWarning(ApplicationNode):
    """CLW: a vehicle ahead skids or spins."""

    APPLICATIONS = ('CLW',)


class HazardousLocationWarning(ApplicationNode):
    """HLW: RSI event zone on the path ahead."""

    APPLICATIONS = ('HLW',)


class SpeedLimitWarning(ApplicationNode):
    """SLW: above the map / RSI sign speed limit (also SpeedAdvice)."""

    APPLICATIONS = ('SLW',)


class RedLightViolationWarning(ApplicationNode):
    """RLVW: reaching the stop line on red without braking enough."""

    APPLICATIONS = ('RLVW',)


class VulnerableRoadUserCollisionWarning(ApplicationNode):
    """VRUCW: pedestrian, cyclist or motorcycle on a collision course."""

    APPLICATIONS = ('VRUCW',)


class GreenLightOptimalSpeedAdvisory(ApplicationNode):
    """GLOSA: speed band to pass the next stop line on green (SpeedAdvice)."""

    APPLICATIONS = ('GLOSA',)


class InVehicleSignage(ApplicationNode):
    """IVS: RSI road signs ahead shown in the vehicle."""

    APPLICATIONS = ('IVS',)


class TrafficJamWarning(ApplicationNode):
    """TJW: a queue of slow vehicles ahead."""

    APPLICATIONS = ('TJW',)


class EmergencyVehicleWarning(ApplicationNode):
    """EVW: an emergency vehicle approaching."""

    APPLICATIONS = ('EVW',)

"""The application table: every T/CSAE 53-2020 Day-1 application as a row.

Threshold sources. T/CSAE 53-2020 describes each application's trigger (scenario, main
flow) and its performance requirements (e.g. FCW: speeds up to 130 km/h, range >= 300 m,
10 Hz, end-to-end latency <= 100 ms, position accuracy <= 1.5 m) but leaves the warning
timing to the implementer. The defaults below are engineering values, each with its reason:
- FCW 3.0 s: the 2.7 s lead time the project requires (ISO 15623 / NHTSA NCAP give 2.1-2.7 s)
  plus one 10 Hz cycle and the 100 ms latency budget of CSAE 53;
- EBW -4 m/s²: the CSAE 53 EBW definition's "emergency braking" taken as harder than normal
  service braking (about -3 m/s²), also the issue's default;
- the others: see each parameter's description.
"""

from __future__ import annotations

from v2x_nodes.applications import infrastructure as infra
from v2x_nodes.applications import safety
from v2x_nodes.applications.spec import AppSpec, Param

_RANGE = (0.0, 1000.0)


def _p_min_speed(default: float = 1.0) -> Param:
    return Param('min_speed_mps', default, 'Ego speed below which the application is quiet, m/s',
                 (0.0, 50.0))  # fmt: skip


def _p_range(default: float) -> Param:
    return Param('range_m', default, 'Targets farther than this are not considered, m', _RANGE)


def _p_ttc(warn: float, critical: float, why: str) -> tuple[Param, Param]:
    return (
        Param('ttc_warning_s', warn, f'Raise at predicted TTC <= this, s ({why})', (0.5, 15.0)),
        Param('ttc_critical_s', critical, 'Level CRITICAL at TTC <= this, s', (0.0, 10.0)),
    )


_LAT = Param('lateral_margin_m', 0.3, 'Added to the half widths in the overlap test, m', (0.0, 3.0))


def _p_gap(default: float) -> tuple[Param, Param]:
    return (Param('time_gap_s', default, 'Conflict when both reach the conflict zone within this '
                  'time of each other, s (path prediction uncertainty along track)', (0.0, 5.0)),
            Param('lateral_growth_mps', 0.3, 'Lateral uncertainty growth of the prediction, m/s',
                  (0.0, 3.0)))  # fmt: skip


FCW = AppSpec('FCW', 'Forward collision warning', safety.fcw,
              (_p_min_speed(), _p_range(300.0),
               *_p_ttc(3.0, 1.5, '2.7 s required lead + 10 Hz cycle + 100 ms latency'), _LAT),
              clear_margin=0.5, margin_unit='s')  # fmt: skip
_STOP_DECEL = Param('stop_decel_mps2', 3.5, 'A crossing vehicle facing red that can stop '
                    'braking no harder than this is predicted to stop, m/s² (firm but normal '
                    'braking for a light)', (0.5, 10.0))  # fmt: skip
_SPAT_AGE = Param('spat_max_age_s', 1.0, 'SPAT older than this is stale, s', (0.1, 10.0))
ICW = AppSpec('ICW', 'Intersection collision warning', safety.icw,
              (_p_min_speed(), _p_range(200.0), *_p_ttc(4.0, 2.0, 'reaction 1.5 s + braking '
               'from 50 km/h at 5 m/s² 2.8 s, less the crossing time gap'), _LAT, *_p_gap(1.0),
               _STOP_DECEL, _SPAT_AGE),
              clear_margin=0.5, margin_unit='s', inputs=('targets', 'spat'))  # fmt: skip
LTA = AppSpec('LTA', 'Left turn assist', safety.lta,
              (_p_min_speed(0.5), _p_range(200.0),
               *_p_ttc(4.0, 2.0, 'as ICW: oncoming traffic crossing the turn path'), _LAT,
               *_p_gap(1.0), _STOP_DECEL, _SPAT_AGE),
              clear_margin=0.5, margin_unit='s', inputs=('targets', 'spat'))  # fmt: skip
_BLIND = Param(
    'blind_zone_length_m',
    3.0,
    'Blind zone behind the ego rear in the adjacent lanes, m: a vehicle whose front is '
    'within it (ISO 17387 blind-spot zone: 3 m behind the rear; farther back the mirror '
    'shows it)',
    (0.0, 50.0),
)
BSW = AppSpec('BSW', 'Blind spot warning', safety.bsw,
              (_p_min_speed(2.0), _p_range(60.0), _BLIND), clear_margin=1.0, margin_unit='m',
              hold_s=0.5)  # fmt: skip
LCW = AppSpec('LCW', 'Lane change warning', safety.lcw,
              (_p_min_speed(2.0), _p_range(100.0), _BLIND,
               Param('ttc_warning_s', 3.5, 'Raise when a vehicle in the target lane closes in '
                     'within this TTC, s (ISO 17387 closing-vehicle zone)', (0.5, 10.0))),
              clear_margin=0.5, margin_unit='s', hold_s=0.5)  # fmt: skip
DNPW = AppSpec('DNPW', 'Do not pass warning', safety.dnpw,
               (_p_min_speed(5.0), _p_range(500.0),
                Param('passing_time_s', 10.0, 'Time an overtaking manoeuvre needs: raise when an '
                      'oncoming vehicle in the passing lane meets us sooner, s', (2.0, 30.0))),
               clear_margin=1.0, margin_unit='s')  # fmt: skip
EBW = AppSpec('EBW', 'Emergency brake warning', safety.ebw,
              (_p_min_speed(2.0), _p_range(200.0),
               Param('decel_threshold_mps2', -4.0, 'A vehicle ahead decelerating harder than this '
                     'is braking in an emergency, m/s²', (-10.0, -1.0)),
               Param('reaction_time_s', 1.0, 'Driver reaction before braking, s', (0.0, 3.0)),
               Param('follow_decel_mps2', 2.0, 'It concerns us when stopping behind the point '
                     'where it stops needs more than this after the reaction time, m/s² (as '
                     'RLVW: 1-1.5 m/s² is ordinary braking)', (0.5, 8.0))),
              clear_margin=1.0, margin_unit='m/s2', hold_s=2.0)  # fmt: skip
AVW = AppSpec('AVW', 'Abnormal vehicle warning', safety.avw,
              (_p_min_speed(5.0), _p_range(300.0),
               Param('slow_speed_mps', 1.5, 'A vehicle on a lane slower than this is stopped / '
                     'abnormal, m/s', (0.0, 10.0)),
               Param('time_to_reach_s', 10.0, 'Raise when we reach it within this at the current '
                     'speed, s', (1.0, 60.0)),
               Param('min_still_s', 3.0, 'It must have stood this long (a car braking to a '
                     'stop in front of us is not abnormal), s', (0.0, 60.0)),
               Param('queue_gap_m', 20.0, 'Standing within this before a stop line, or behind '
                     'a waiting vehicle, is waiting in a queue, m', (0.0, 100.0))),
              clear_margin=1.0, margin_unit='s')  # fmt: skip
CLW = AppSpec('CLW', 'Control loss warning', safety.clw,
              (_p_min_speed(2.0), _p_range(300.0),
               Param('min_target_speed_mps', 5.0, 'Slower vehicles are not checked, m/s', (0, 50)),
               Param('sideslip_deg', 20.0, 'Body heading vs direction of motion beyond this is '
                     'a skid, deg', (5.0, 90.0)),
               Param('yaw_rate_radps', 0.8, 'Yaw rate beyond this at speed is a spin, rad/s',
                     (0.1, 5.0))), clear_margin=0.1, margin_unit='rad', hold_s=3.0)  # fmt: skip
VRUCW = AppSpec('VRUCW', 'Vulnerable road user collision warning', safety.vrucw,
                (_p_min_speed(1.0), _p_range(150.0),
                 *_p_ttc(3.5, 1.5, 'FCW timing + 0.5 s for less predictable road users'),
                 _LAT, *_p_gap(0.5),
                 Param('reaction_time_s', 1.0, 'Driver reaction before braking for a walker on a '
                       'crosswalk ahead, s', (0.0, 3.0)),
                 Param('yield_decel_mps2', 2.0, 'The driver is expected to yield to a walker on a '
                       'crosswalk ahead while stopping before it needs no more than this after '
                       'the reaction time, m/s² (as RLVW: 1-1.5 m/s² is how drivers brake for '
                       'a stop)', (0.5, 8.0)),
                 _SPAT_AGE),
                clear_margin=0.5, margin_unit='s', inputs=('targets', 'spat'))  # fmt: skip
EVW = AppSpec('EVW', 'Emergency vehicle warning', safety.evw,
              (_p_range(300.0),
               Param('time_to_reach_s', 20.0, 'Raise when the emergency vehicle reaches us within '
                     'this, s (time to find a place to give way)', (1.0, 120.0))),
              clear_margin=5.0, margin_unit='s', hold_s=2.0)  # fmt: skip
TJW = AppSpec('TJW', 'Traffic jam warning', safety.tjw_vehicles,
              (_p_min_speed(5.0), _p_range(500.0),
               Param('jam_speed_mps', 5.0, 'Vehicles slower than this are queued (GB/T 33171 '
                     'severe congestion < 20 km/h urban), m/s', (0.0, 20.0)),
               Param('min_vehicles', 3, 'Slow vehicles ahead needed to call it a jam', (1, 50)),
               Param('time_to_reach_s', 15.0, 'Raise when we reach the queue tail within this, s',
                     (1.0, 120.0)),
               Param('queue_gap_m', 20.0, 'Standing within this before a stop line, or behind a '
                     'vehicle that waits there, is a signal queue, not a jam, m', (0.0, 100.0))),
              clear_margin=3.0, margin_unit='s', hold_s=3.0)  # fmt: skip
_EVENT_AGE = Param('event_max_age_s', 5.0, 'RSI events not heard for this long are stale (RSUs '
                   'repeat RSI while an event lasts), s', (0.5, 3600.0))  # fmt: skip
_ZONE = (Param('min_distance_m', 150.0, 'Raise at least this far before the zone, m', _RANGE),
         Param('warning_time_s', 10.0, 'or this long before reaching it at the current speed, s',
               (1.0, 60.0)), _EVENT_AGE)  # fmt: skip
HLW = AppSpec('HLW', 'Hazardous location warning', infra.hlw, _ZONE, clear_margin=20.0,
              margin_unit='m', hold_s=2.0, inputs=('events',))  # fmt: skip
IVS = AppSpec('IVS', 'In-vehicle signage', infra.ivs, _ZONE, clear_margin=20.0, margin_unit='m',
              hold_s=2.0, inputs=('events',))  # fmt: skip
SLW = AppSpec('SLW', 'Speed limit warning', infra.slw,
              (Param('tolerance_mps', 5.0 / 3.6, 'Raise above the limit plus this, m/s '
                     '(5 km/h, speedometer tolerance)', (0.0, 10.0)),
               Param('sign_types', [38], 'RSI sign_type codes of speed-limit signs (GB 5768 '
                     'code; the value is read from the sign description)'), _EVENT_AGE),
              clear_margin=0.5, margin_unit='m/s', advise=infra.slw_advice,
              inputs=('events', 'lane'))  # fmt: skip
_SIGNAL = (Param('range_m', 300.0, 'Stop lines farther than this are not considered, m', _RANGE),
           _SPAT_AGE)  # fmt: skip
RLVW = AppSpec(
    'RLVW',
    'Red light violation warning',
    infra.rlvw,
    (
        *_SIGNAL,
        _p_min_speed(2.0),
        Param('reaction_time_s', 1.0, 'Driver reaction before braking starts, s', (0.0, 3.0)),
        Param(
            'warn_decel_mps2',
            2.0,
            'Raise when stopping before the line needs this much '
            'braking, m/s² (a driver who brakes for the light needs 1-1.5 m/s² at that '
            'point; 2 m/s² plus 1 s reaction gives 4 s lead at 50 km/h)',
            (0.5, 8.0),
        ),
    ),
    clear_margin=0.5,
    margin_unit='m/s2',
    inputs=('spat', 'lane'),
)
GLOSA = AppSpec('GLOSA', 'Green light optimal speed advisory', infra.glosa,
                (*_SIGNAL,
                 Param('min_speed_mps', 5.0, 'Lowest speed advised, m/s (slower blocks traffic)',
                       (0.0, 30.0)),
                 Param('max_speed_mps', 50.0 / 3.6, 'Highest speed advised when the map gives no '
                       'limit, m/s', (1.0, 50.0)),
                 Param('margin_s', 1.0, 'Arrive this long after green starts / before it ends, s',
                       (0.0, 10.0))),
                clear_margin=0.0, margin_unit='-', advise=infra.glosa_advice,
                inputs=('spat', 'lane'))  # fmt: skip

APPLICATIONS: dict[str, AppSpec] = {
    s.name: s for s in (FCW, ICW, LTA, BSW, LCW, DNPW, EBW, AVW, CLW, HLW, SLW, RLVW, VRUCW,
                        GLOSA, IVS, TJW, EVW)
}  # fmt: skip

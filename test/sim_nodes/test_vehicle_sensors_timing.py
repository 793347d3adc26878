"""The simulated IMU and GNSS sample the fresh truth: an IMU sample is the mean motion over
the period ending at its stamp (a real IMU's integration), published before the GNSS epoch
of the same instant, and the Doppler velocity is the antenna's (the car's centre, which
slides sideways in a turn) — what the localizer assumes (vehicle_nodes.fusion)."""

import math

import numpy as np

from sim_nodes.sensors.vehicle_sensors import VehicleSensors
from sim_nodes.world.component import WorldComponent
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

SCENARIO = 'applications/vrucw_turning_into_pedestrian'  # turner_1 turns right at ~20 s
CAR = 'turner_1'


def _run(duration_s: float) -> tuple[list, list, list, list]:
    rt = EmbeddedRuntime(seed=3, diagnostics_period_s=0)
    params = {'scenario': SCENARIO}
    rt.add_component(WorldComponent, name='world', namespace='/sim', parameters=params)
    rt.add_component(VehicleSensors, name='vehicle_sensors', namespace='/sim', parameters=params)
    truth, imu, vel, order = [], [], [], []
    rt.subscribe('/sim/ground_truth', 'v2x_stack/msg/ParticipantArray', truth.append)

    def on_imu(msg):
        imu.append(msg)
        order.append(('imu', m.to_ns(msg.header.stamp)))

    def on_fix(msg):
        order.append(('fix', m.to_ns(msg.header.stamp)))

    rt.subscribe(f'/{CAR}/imu/data', 'sensor_msgs/msg/Imu', on_imu)
    rt.subscribe(f'/{CAR}/localization/gnss/fix', 'sensor_msgs/msg/NavSatFix', on_fix)
    rt.subscribe(f'/{CAR}/localization/gnss/velocity',
                 'geometry_msgs/msg/TwistWithCovarianceStamped', vel.append)  # fmt: skip
    rt.run(duration_s=duration_s)
    rt.close()
    return truth, imu, vel, order


def test_imu_is_the_mean_over_the_period_ending_at_its_stamp_and_doppler_the_antennas():
    truth, imu, vel, order = _run(23.0)
    car = {}  # stamp -> (x, y, heading)
    for msg in truth:
        for p in msg.participants:
            if p.source_id == CAR:
                car[m.to_ns(msg.header.stamp)] = (p.position.x, p.position.y, p.heading_rad)
    stamps = sorted(car)
    rates = []
    for msg in imu:
        t = m.to_ns(msg.header.stamp)
        prev = t - 100_000_000
        assert t in car and prev in car  # stamped at a truth instant, one period after another
        dyaw = (car[t][2] - car[prev][2] + math.pi) % (2 * math.pi) - math.pi
        rates.append((dyaw / 0.1, msg.angular_velocity.z))
    rates = np.array(rates)
    assert np.abs(rates[:, 0]).max() > 0.5  # the turn is in there
    # noise 0.002 rad/s and a bias of 0.0005 rad/s σ: the sample is the period's mean rate
    assert np.abs(rates[:, 1] - rates[:, 0]).max() < 0.015
    # IMU before the GNSS at every shared instant
    first, kinds = {}, {}
    for kind, t in order:
        first.setdefault(t, kind)
        kinds.setdefault(t, set()).add(kind)
    shared = [t for t, k in kinds.items() if k == {'imu', 'fix'}]
    assert len(shared) > 100 and all(first[t] == 'imu' for t in shared)
    # Doppler: the centre's velocity (central difference of the truth positions)
    errors, slide = [], []
    for msg in vel:
        t = m.to_ns(msg.header.stamp)
        a, b = t - 100_000_000, t + 100_000_000
        if a not in car or b not in car or t == stamps[-1]:
            continue
        centre = (np.array(car[b][:2]) - np.array(car[a][:2])) / 0.2
        v = msg.twist.twist.linear
        errors.append(math.hypot(v.x - centre[0], v.y - centre[1]))
        heading = car[t][2]
        slide.append(abs(-math.sin(heading) * centre[0] + math.cos(heading) * centre[1]))
    assert max(slide) > 0.5  # the centre slid sideways in the turn...
    assert max(errors) < 0.3  # ...and the Doppler velocity says so (5 cm/s noise)

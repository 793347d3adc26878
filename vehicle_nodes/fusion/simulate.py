"""Simulated drives with ground truth and sensor streams, for tests and benchmarks.

The truth is integrated at the IMU rate from a yaw-rate and acceleration profile; each IMU
sample is the mean over the period ending at its stamp (as a real IMU's); sensors add white
noise and constant biases; GNSS can drop out over windows and jump at chosen
epochs. Everything is drawn from one seeded generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vehicle_nodes.fusion.ekf import FloatArray


@dataclass(frozen=True)
class SensorModel:
    imu_rate_hz: float = 100.0
    gnss_rate_hz: float = 10.0
    wheel_rate_hz: float = 50.0
    gyro_noise_radps: float = 0.005
    gyro_bias_radps: float = 0.005
    accel_noise_mps2: float = 0.05
    accel_bias_mps2: float = 0.08
    wheel_noise_mps: float = 0.03
    gnss_sigma_m: float = 0.02
    gnss_velocity_sigma_mps: float = 0.03
    lever_arm_m: tuple[float, float] = (1.2, 0.3)
    outages_s: Sequence[tuple[float, float]] = field(default_factory=tuple)  # [start, end)
    jumps: Sequence[tuple[float, float, float]] = field(default_factory=tuple)  # t, dx, dy


@dataclass(frozen=True)
class Drive:
    t_imu_s: FloatArray
    truth: FloatArray  # (N, 4): x, y, yaw, speed of base_link at t_imu_s
    gyro_radps: FloatArray
    accel_mps2: FloatArray
    t_wheel_s: FloatArray
    wheel_mps: FloatArray
    t_gnss_s: FloatArray
    gnss_xy_m: FloatArray  # antenna, with noise (and jumps)
    gnss_v_mps: FloatArray
    gnss_valid: np.ndarray  # False inside outages


def simulate(duration_s: float, speed_mps: float, model: SensorModel, seed: int) -> Drive:
    """A winding drive: speed around ``speed_mps``, curves of up to ~0.1 rad/s."""
    rng = np.random.default_rng(seed)
    dt = 1.0 / model.imu_rate_hz
    t = np.arange(0.0, duration_s, dt)
    phase = rng.uniform(0, 2 * math.pi, 3)
    yaw_rate = 0.08 * np.sin(2 * math.pi * t / 40.0 + phase[0]) + 0.04 * np.sin(
        2 * math.pi * t / 13.0 + phase[1]
    )
    accel = 0.5 * np.sin(2 * math.pi * t / 25.0 + phase[2])
    speed = speed_mps + np.concatenate(([0.0], np.cumsum(accel[:-1]) * dt))
    yaw = np.concatenate(([rng.uniform(-math.pi, math.pi)], np.cumsum(yaw_rate[:-1]) * dt))
    yaw[1:] += yaw[0]
    # Exact arc integration between samples (constant yaw rate and acceleration per step).
    ym = yaw + 0.5 * yaw_rate * dt
    step = (speed + 0.5 * accel * dt) * dt
    x = np.concatenate(([0.0], np.cumsum(step[:-1] * np.cos(ym[:-1]))))
    y = np.concatenate(([0.0], np.cumsum(step[:-1] * np.sin(ym[:-1]))))
    truth = np.column_stack((x, y, yaw, speed))
    # An IMU sample is the mean over the period ending at its stamp (a real IMU integrates):
    # the truth moved with rate[k-1] from t[k-1] to t[k] (the first sample: its own).
    held_rate = np.concatenate((yaw_rate[:1], yaw_rate[:-1]))
    held_accel = np.concatenate((accel[:1], accel[:-1]))
    gyro = held_rate + model.gyro_bias_radps + rng.normal(0, model.gyro_noise_radps, t.size)
    acc = held_accel + model.accel_bias_mps2 + rng.normal(0, model.accel_noise_mps2, t.size)

    every_wheel = round(model.imu_rate_hz / model.wheel_rate_hz)
    wi = np.arange(0, t.size, every_wheel)
    wheel = speed[wi] + rng.normal(0, model.wheel_noise_mps, wi.size)

    every_gnss = round(model.imu_rate_hz / model.gnss_rate_hz)
    gi = np.arange(0, t.size, every_gnss)
    lx, ly = model.lever_arm_m
    c, s = np.cos(yaw[gi]), np.sin(yaw[gi])
    ant = np.column_stack((x[gi] + c * lx - s * ly, y[gi] + s * lx + c * ly))
    ant += rng.normal(0, model.gnss_sigma_m, ant.shape)
    w = yaw_rate[gi]
    vb = np.column_stack((speed[gi] - w * ly, w * lx))
    vel = np.column_stack((c * vb[:, 0] - s * vb[:, 1], s * vb[:, 0] + c * vb[:, 1]))
    vel += rng.normal(0, model.gnss_velocity_sigma_mps, vel.shape)
    tg = t[gi]
    return Drive(t, truth, gyro, acc, t[wi], wheel, tg, ant, vel, _gnss_faults(tg, ant, model))


def _gnss_faults(t_gnss_s: FloatArray, ant: FloatArray, model: SensorModel) -> np.ndarray:
    """Add the model's jumps to the antenna positions ``ant`` (in place); the epochs outside
    its outages (the ``gnss_valid`` mask)."""
    valid = np.ones(t_gnss_s.size, dtype=bool)
    for a, b in model.outages_s:
        valid &= ~((t_gnss_s >= a) & (t_gnss_s < b))
    for tj, dx, dy in model.jumps:
        ant[int(np.argmin(np.abs(t_gnss_s - tj)))] += (dx, dy)
    return valid


@dataclass(frozen=True)
class Replay:
    """Per GNSS epoch after alignment: time, horizontal error (m), NEES of x/y/yaw/speed."""

    t_s: FloatArray
    error_m: FloatArray
    nees: FloatArray
    outcomes: list[tuple[float, str]]  # GNSS position outcomes (t, Outcome.value)

    def error_at(self, t_s: float) -> float:
        return float(self.error_m[int(np.argmin(np.abs(self.t_s - t_s)))])


def replay(drive: Drive, localizer, *, fix_kind, fix_sigma_m: float, velocity_sigma_mps: float):  # type: ignore[no-untyped-def]
    """Feed a drive through a ``Localizer`` in time order and score it against the truth."""
    events = sorted(
        [(t, 0, i) for i, t in enumerate(drive.t_imu_s)]
        + [(t, 1, i) for i, t in enumerate(drive.t_wheel_s)]
        + [(t, 2, i) for i, t in enumerate(drive.t_gnss_s)]
    )
    rate = 1.0 / float(drive.t_imu_s[1] - drive.t_imu_s[0])
    ts, errs, nees, outcomes = [], [], [], []
    cov_fix = np.eye(2) * fix_sigma_m**2
    cov_vel = np.eye(2) * velocity_sigma_mps**2
    for t, kind, i in events:
        if kind == 0:
            localizer.on_imu(t, drive.gyro_radps[i], drive.accel_mps2[i])
        elif kind == 1:
            localizer.on_wheel_speed(t, drive.wheel_mps[i])
        else:
            if drive.gnss_valid[i]:
                out = localizer.on_gnss_position(t, drive.gnss_xy_m[i], cov_fix, fix_kind)
                outcomes.append((float(t), out.value))
                localizer.on_gnss_velocity(t, drive.gnss_v_mps[i], cov_vel)
            est = localizer.estimate()
            if est is None:
                continue
            j = round(t * rate)
            truth = drive.truth[j]
            err = np.array([est.x_m - truth[0], est.y_m - truth[1],
                            (est.yaw_rad - truth[2] + math.pi) % (2 * math.pi) - math.pi,
                            est.speed_mps - truth[3]])  # fmt: skip
            ts.append(t)
            errs.append(math.hypot(err[0], err[1]))
            nees.append(float(err @ np.linalg.solve(est.covariance[:4, :4], err)))
    return Replay(np.array(ts), np.array(errs), np.array(nees), outcomes)


def simulate_spin(duration_s: float, speed_mps: float, model: SensorModel, seed: int, *,
                  skid_at_s: float, spin_rate_radps: float, decel_mps2: float = 3.0,
                  wheels_locked: bool = True) -> Drive:  # fmt: skip
    """A loss of control: straight at ``speed_mps`` until ``skid_at_s``, then the body yaws at
    ``spin_rate_radps`` while base_link slides on along the course it had, decelerating at
    ``decel_mps2`` to a stop. The IMU measures the deceleration in the body frame (along the
    course, so −decel·cos(course − yaw) longitudinally); the wheels read 0 while sliding when
    ``wheels_locked`` (braked), else the ground speed; the truth speed (column 3) is base_link's
    forward body velocity. GNSS: antenna position and Doppler velocity (yaw rate × lever arm)."""
    rng = np.random.default_rng(seed)
    dt = 1.0 / model.imu_rate_hz
    t = np.arange(0.0, duration_s, dt)
    course = rng.uniform(-math.pi, math.pi)
    sliding = t >= skid_at_s
    ground = np.where(sliding, np.maximum(speed_mps - decel_mps2 * (t - skid_at_s), 0.0),
                      speed_mps)  # fmt: skip
    moving = ground > 0.0
    yaw_rate = np.where(sliding & moving, spin_rate_radps, 0.0)
    accel_ground = np.where(sliding & moving, -decel_mps2, 0.0)
    yaw = course + np.concatenate(([0.0], np.cumsum(yaw_rate[:-1]) * dt))
    step = np.concatenate(([0.0], 0.5 * (ground[1:] + ground[:-1]) * dt))
    x = np.cumsum(step) * math.cos(course)
    y = np.cumsum(step) * math.sin(course)
    slip = course - yaw
    truth = np.column_stack((x, y, yaw, ground * np.cos(slip)))
    # the period ending at each stamp (as simulate(): held from the sample before)
    held_rate = np.concatenate((yaw_rate[:1], yaw_rate[:-1]))
    held_accel = np.concatenate((accel_ground[:1], accel_ground[:-1])) * np.cos(slip)
    gyro = held_rate + model.gyro_bias_radps + rng.normal(0, model.gyro_noise_radps, t.size)
    acc = held_accel + model.accel_bias_mps2 + rng.normal(0, model.accel_noise_mps2, t.size)

    wi = np.arange(0, t.size, round(model.imu_rate_hz / model.wheel_rate_hz))
    wheel_true = np.where(sliding[wi] & wheels_locked, 0.0, ground[wi])
    wheel = wheel_true + rng.normal(0, model.wheel_noise_mps, wi.size)

    gi = np.arange(0, t.size, round(model.imu_rate_hz / model.gnss_rate_hz))
    lx, ly = model.lever_arm_m
    c, s = np.cos(yaw[gi]), np.sin(yaw[gi])
    ant = np.column_stack((x[gi] + c * lx - s * ly, y[gi] + s * lx + c * ly))
    ant += rng.normal(0, model.gnss_sigma_m, ant.shape)
    w = yaw_rate[gi]
    vel = np.column_stack((ground[gi] * math.cos(course) - w * (s * lx + c * ly),
                           ground[gi] * math.sin(course) + w * (c * lx - s * ly)))  # fmt: skip
    vel += rng.normal(0, model.gnss_velocity_sigma_mps, vel.shape)
    tg = t[gi]
    return Drive(t, truth, gyro, acc, t[wi], wheel, tg, ant, vel, _gnss_faults(tg, ant, model))

"""Draw docs/figures/positioning_spin.png: a car spinning at 1.2 rad/s from 14 m/s (the CLW
scenario's skidder) through the localisation filter with and without its sliding model
(run from the repository root).

python docs/figures/make_positioning_spin_figure.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np

from vehicle_nodes.fusion import FilterConfig, FixKind, Localizer, LocalizerConfig
from vehicle_nodes.fusion.simulate import SensorModel, replay, simulate_spin
from vehicle_nodes.fusion.skid import SkidConfig

OUT = Path(__file__).resolve().parent
NEVER = SkidConfig(grip_limit_mps2=1e9, side_slip_mps=1e9, exit_lateral_mps=1.0)


def track(drive, model, skid: SkidConfig):  # type: ignore[no-untyped-def]
    """Replay ``drive``; the estimated base_link positions at each GNSS epoch, and the errors."""
    loc = Localizer(LocalizerConfig(filter=FilterConfig(lever_arm_m=model.lever_arm_m,
                                                        imu_rate_hz=model.imu_rate_hz),
                                    skid=skid))  # fmt: skip
    xy = []
    original = loc.on_gnss_velocity

    def velocity(*args):  # type: ignore[no-untyped-def]
        out = original(*args)
        est = loc.estimate()
        if est is not None:
            xy.append((est.x_m, est.y_m))
        return out

    loc.on_gnss_velocity = velocity  # type: ignore[method-assign]
    r = replay(drive, loc, fix_kind=FixKind.RTK_FIXED, fix_sigma_m=model.gnss_sigma_m,
               velocity_sigma_mps=model.gnss_velocity_sigma_mps)  # fmt: skip
    return np.array(xy), r


def main() -> None:
    model = SensorModel(imu_rate_hz=10.0, wheel_rate_hz=10.0, lever_arm_m=(0.0, 0.0))
    drive = simulate_spin(11.0, 14.0, model, 26, skid_at_s=4.0, spin_rate_radps=1.2,
                          wheels_locked=False)  # fmt: skip
    rolling, r_roll = track(drive, model, NEVER)
    sliding, r_slide = track(drive, model, SkidConfig())
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.2))
    x0, y0 = drive.truth[0, :2]
    ax0.plot(drive.truth[:, 0] - x0, drive.truth[:, 1] - y0, 'k-', lw=3, alpha=0.3,
             label='truth')  # fmt: skip
    ax0.plot(rolling[:, 0] - x0, rolling[:, 1] - y0, 'C3.-', ms=3, lw=0.8,
             label='rolling model only (before)')  # fmt: skip
    ax0.plot(sliding[:, 0] - x0, sliding[:, 1] - y0, 'C0.', ms=3, label='with sliding model')
    ax0.set_aspect('equal')
    ax0.set_xlabel('x (m)')
    ax0.set_ylabel('y (m)')
    ax0.set_title('base_link, 10 Hz: spin from 4 s at 1.2 rad/s')
    ax0.legend(fontsize=8)
    ax1.semilogy(r_roll.t_s, np.maximum(r_roll.error_m, 1e-3), 'C3', label='rolling only')
    ax1.semilogy(r_slide.t_s, np.maximum(r_slide.error_m, 1e-3), 'C0', label='with sliding')
    for t, out in r_roll.outcomes:
        if out != 'accepted':
            ax1.axvline(t, color='C3', alpha=0.08)
    ax1.axvline(4.0, color='k', ls=':')
    ax1.set_xlabel('t (s)')
    ax1.set_ylabel('position error (m)')
    ax1.set_title('error; shaded: RTK fixes refused (gate) or reset')
    ax1.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / 'positioning_spin.png', dpi=90)
    for name, r in (('rolling', r_roll), ('sliding', r_slide)):
        spin = r.t_s >= 4.0
        e = r.error_m[spin]
        print(f'{name}: max {e.max():.3f} m, rms {np.sqrt(np.mean(e**2)):.3f} m')


if __name__ == '__main__':
    main()

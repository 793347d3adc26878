"""IMM filter of a constant-velocity and a coordinated-turn model, vectorised over tracks.

State per model: ``[x, y, vx, vy, omega]`` (m, m/s, rad/s), ENU. The CV model moves in a
straight line and lets omega drift slowly; the CT model turns the velocity at rate omega
(extended Kalman filter, Jacobian by central differences in omega). Arrays carry every track
at once: states ``(T, 2, 5)``, covariances ``(T, 2, 5, 5)``, mode probabilities ``(T, 2)``;
index 0 is CV, 1 is CT. Measurements are positions ``(x, y)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

N_STATE = 5
N_MODES = 2
CV, CT = 0, 1
_H = np.zeros((2, N_STATE))
_H[0, 0] = _H[1, 1] = 1.0


@dataclass(frozen=True)
class ImmParams:
    """Process noise and the model switching probabilities (per second)."""

    accel_cv_mps2: float = 1.5  # white-noise acceleration, std
    accel_ct_mps2: float = 1.0
    omega_ct_rps2: float = 0.3  # omega random walk in CT, std per sqrt(s)
    omega_cv_rps2: float = 0.02
    switch_rate_hz: float = 0.2  # expected model switches per second

    def transition(self, dt_s: float) -> np.ndarray:
        p = 1.0 - np.exp(-self.switch_rate_hz * max(dt_s, 0.0))
        p = min(max(p, 1e-3), 0.5)
        return np.array([[1.0 - p, p], [p, 1.0 - p]])


def _ct_terms(w: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """sin(w dt) / w, (1 - cos(w dt)) / w (their small-omega limits), cos(w dt), sin(w dt)."""
    wt = w * dt
    small = np.abs(wt) < 1e-6
    w_safe = np.where(small, 1.0, w)
    sin_w = np.where(small, dt, np.sin(wt) / w_safe)
    cos_w = np.where(small, 0.5 * w * dt * dt, (1.0 - np.cos(wt)) / w_safe)
    return sin_w, cos_w, np.cos(wt), np.sin(wt)


def _ct_move_terms(
    s: np.ndarray, dt: float
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """``_ct_move`` and the ``_ct_terms`` it used."""
    x, y, vx, vy, w = (s[..., i] for i in range(5))
    terms = sin_w, cos_w, c, s_ = _ct_terms(w, dt)
    out = np.empty_like(s)
    out[..., 0] = x + sin_w * vx - cos_w * vy
    out[..., 1] = y + cos_w * vx + sin_w * vy
    out[..., 2] = c * vx - s_ * vy
    out[..., 3] = s_ * vx + c * vy
    out[..., 4] = w
    return out, terms


def _ct_move(s: np.ndarray, dt: float) -> np.ndarray:
    """Coordinated-turn motion of states (..., 5); the small-omega limit is the CV motion."""
    return _ct_move_terms(s, dt)[0]


_OMEGA_EPS = 1e-4  # central difference step of the Jacobian's omega column


def _ct_jacobian_of(
    terms: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    moved_hi: np.ndarray,
    moved_lo: np.ndarray,
) -> np.ndarray:
    """The Jacobian from the states' ``_ct_terms`` and their moves with omega +- eps."""
    sin_w, cos_w, c, s_ = terms
    jac = np.zeros((sin_w.shape[0], N_STATE, N_STATE))
    jac[:, 0, 0] = jac[:, 1, 1] = jac[:, 4, 4] = 1.0
    jac[:, 0, 2], jac[:, 0, 3] = sin_w, -cos_w
    jac[:, 1, 2], jac[:, 1, 3] = cos_w, sin_w
    jac[:, 2, 2], jac[:, 2, 3] = c, -s_
    jac[:, 3, 2], jac[:, 3, 3] = s_, c
    jac[:, :4, 4] = ((moved_hi - moved_lo)[:, :4]) / (2 * _OMEGA_EPS)
    return jac


def _omega_shifted(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hi, lo = s.copy(), s.copy()
    hi[:, 4] += _OMEGA_EPS
    lo[:, 4] -= _OMEGA_EPS
    return hi, lo


def _ct_jacobian(s: np.ndarray, dt: float) -> np.ndarray:
    """Jacobian of ``_ct_move`` at states (T, 5): linear in x..vy, numeric in omega."""
    hi, lo = _omega_shifted(s)
    return _ct_jacobian_of(_ct_terms(s[:, 4], dt), _ct_move(hi, dt), _ct_move(lo, dt))


def _ct_predict(s: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """``_ct_move(s)`` and ``_ct_jacobian(s)`` with one move of the states and their two
    omega-shifted copies stacked (the same element-wise arithmetic, a third of the calls)."""
    t = s.shape[0]
    moved, terms = _ct_move_terms(np.concatenate([s, *_omega_shifted(s)]), dt)
    own = tuple(term[:t] for term in terms)
    return moved[:t], _ct_jacobian_of(own, moved[t : 2 * t], moved[2 * t :])  # type: ignore[arg-type]


def _accel_noise(dt: float, sigma: float) -> np.ndarray:
    g = np.array([[0.5 * dt * dt, 0.0], [0.0, 0.5 * dt * dt], [dt, 0.0], [0.0, dt], [0.0, 0.0]])
    return sigma * sigma * (g @ g.T)


@lru_cache(maxsize=64)
def _models(dt: float, params: ImmParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CV transition matrix and the CV and CT process noises for a step of ``dt``: a sensor
    runs at a fixed rate, so they are built once per step length, not per frame."""
    f_cv = np.eye(N_STATE)
    f_cv[0, 2] = f_cv[1, 3] = dt
    q_cv = _accel_noise(dt, params.accel_cv_mps2)
    q_cv[4, 4] = params.omega_cv_rps2**2 * dt
    q_ct = _accel_noise(dt, params.accel_ct_mps2)
    q_ct[4, 4] = params.omega_ct_rps2**2 * dt
    for array in (f_cv, q_cv, q_ct):
        array.flags.writeable = False
    return f_cv, q_cv, q_ct


@lru_cache(maxsize=64)
def _transition(dt: float, params: ImmParams) -> np.ndarray:
    trans = params.transition(dt)
    trans.flags.writeable = False
    return trans


def init_state(
    xy_m: np.ndarray,
    pos_var_m2: np.ndarray,
    vel_std_mps: float,
    omega_std_rps: float,
    mode_prior: tuple[float, float] = (0.8, 0.2),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """States, covariances and mode probabilities for new tracks at positions (K, 2)."""
    k = xy_m.shape[0]
    x = np.zeros((k, N_MODES, N_STATE))
    x[:, :, :2] = xy_m[:, None, :]
    p = np.zeros((k, N_MODES, N_STATE, N_STATE))
    p[:, :, 0, 0] = pos_var_m2[:, None]
    p[:, :, 1, 1] = pos_var_m2[:, None]
    p[:, :, 2, 2] = p[:, :, 3, 3] = vel_std_mps**2
    p[:, :, 4, 4] = omega_std_rps**2
    mu = np.tile(np.asarray(mode_prior, dtype=float), (k, 1))
    return x, p, mu


def predict(
    x: np.ndarray, p: np.ndarray, mu: np.ndarray, dt_s: float, params: ImmParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IMM mixing then each model's prediction; returns (x, P, predicted mode probabilities)."""
    if x.shape[0] == 0:
        return x, p, mu
    trans = _transition(float(dt_s), params)
    c = mu @ trans  # (T, 2): predicted mode probabilities
    mix = mu[:, :, None] * trans[None, :, :] / np.maximum(c[:, None, :], 1e-12)  # [t, i, j]
    x0 = np.einsum('tij,tia->tja', mix, x)
    d = x[:, :, None, :] - x0[:, None, :, :]  # [t, i, j, a]
    p0 = np.einsum('tij,tiab->tjab', mix, p) + np.einsum('tij,tija,tijb->tjab', mix, d, d)

    dt = float(dt_s)
    f_cv, q_cv, q_ct = _models(dt, params)

    xp = np.empty_like(x0)
    pp = np.empty_like(p0)
    xp[:, CV] = x0[:, CV] @ f_cv.T
    pp[:, CV] = f_cv @ p0[:, CV] @ f_cv.T + q_cv
    xp[:, CT], jac = _ct_predict(x0[:, CT], dt)
    pp[:, CT] = jac @ p0[:, CT] @ np.swapaxes(jac, 1, 2) + q_ct
    return xp, pp, c


def update(
    x: np.ndarray, p: np.ndarray, c: np.ndarray, z_m: np.ndarray, r_m2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Update tracks (T) with positions ``z_m`` (T, 2), covariances ``r_m2`` (T, 2, 2)."""
    if x.shape[0] == 0:
        return x, p, c
    s = p[:, :, :2, :2] + r_m2[:, None, :, :]  # (T, M, 2, 2)
    det = np.maximum(s[..., 0, 0] * s[..., 1, 1] - s[..., 0, 1] * s[..., 1, 0], 1e-12)
    s_inv = np.empty_like(s)  # closed-form 2x2 inverse (np.linalg.inv is slow on tiny batches)
    s_inv[..., 0, 0] = s[..., 1, 1] / det
    s_inv[..., 1, 1] = s[..., 0, 0] / det
    s_inv[..., 0, 1] = -s[..., 0, 1] / det
    s_inv[..., 1, 0] = -s[..., 1, 0] / det
    k = np.einsum('tmab,tmbc->tmac', p[:, :, :, :2], s_inv)  # (T, M, 5, 2)
    nu = z_m[:, None, :] - x[:, :, :2]  # (T, M, 2)
    xu = x + np.einsum('tmab,tmb->tma', k, nu)
    i_kh = np.eye(N_STATE)[None, None] - np.einsum('tmab,bc->tmac', k, _H)
    # Joseph form keeps P symmetric and positive under round-off
    pu = i_kh @ p @ np.swapaxes(i_kh, -1, -2) + k @ r_m2[:, None] @ np.swapaxes(k, -1, -2)
    d2 = np.einsum('tma,tmab,tmb->tm', nu, s_inv, nu)
    like = np.exp(-0.5 * np.minimum(d2, 200.0)) / (2 * np.pi * np.sqrt(det))
    mu = like * c
    total = mu.sum(axis=1, keepdims=True)
    mu = np.where(total > 1e-300, mu / np.maximum(total, 1e-300), c)
    return xu, pu, mu


def combine(x: np.ndarray, p: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Moment-matched combined state (T, 5) and covariance (T, 5, 5)."""
    xc = np.einsum('tm,tma->ta', mu, x)
    d = x - xc[:, None, :]
    pc = np.einsum('tm,tmab->tab', mu, p) + np.einsum('tm,tma,tmb->tab', mu, d, d)
    return xc, pc

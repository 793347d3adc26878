"""Vehicle frame (``base_link``) → map frame for onboard objects, ego pose uncertainty included.

An object at ``r`` (body axes) of an ego at ``(xₑ, yₑ, ψ)`` is at ``pₑ + R(ψ) r`` in the map.
Its covariance there is ``R Pᵣ Rᵀ + J Σₑ Jᵀ`` with J the Jacobian with respect to the ego pose:
the ego's position error moves every object with it, and a yaw error swings it by ``R'(ψ) r``
— 1° of yaw at 30 m is 0.5 m sideways, more than a good lidar's own error.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from perception_nodes.fusion.errors import ObjectInputError, TransformError
from v2x_runtime import messages as m


@dataclass(frozen=True)
class EgoPose:
    """Ego state in the map: pose (m, rad), body-axis twist (m/s, rad/s) and covariances."""

    stamp_ns: int
    x_m: float
    y_m: float
    yaw_rad: float
    vx_body_mps: float
    vy_body_mps: float
    yaw_rate_rps: float
    pose_cov: np.ndarray  # (3, 3) over x, y, yaw
    vel_cov: np.ndarray  # (2, 2) over body vx, vy

    def at(self, stamp_ns: int) -> EgoPose:
        """The pose moved to ``stamp_ns`` by its own twist (short gaps between odometry)."""
        dt = (stamp_ns - self.stamp_ns) * 1e-9
        c, s = math.cos(self.yaw_rad), math.sin(self.yaw_rad)
        vx = c * self.vx_body_mps - s * self.vy_body_mps
        vy = s * self.vx_body_mps + c * self.vy_body_mps
        return EgoPose(
            stamp_ns,
            self.x_m + vx * dt,
            self.y_m + vy * dt,
            self.yaw_rad + self.yaw_rate_rps * dt,
            self.vx_body_mps,
            self.vy_body_mps,
            self.yaw_rate_rps,
            self.pose_cov,
            self.vel_cov,
        )


def _clean_var(v: float, floor: float) -> float:
    return v if math.isfinite(v) and v > 0.0 else floor


_POSE_FLAT = tuple(6 * i + j for i in (0, 1, 5) for j in (0, 1, 5))  # x, y, yaw of the 6x6
_LAST: list[tuple[Any, EgoPose] | None] = [None]  # the latest message and its pose


def pose_from_odometry(msg: Any) -> EgoPose:
    """EgoPose from nav_msgs/msg/Odometry (pose in its frame, twist in the child frame).

    Raises ObjectInputError on non-finite values. Unset (zero or negative) variances get a
    small floor so that the result stays positive definite. The pose of the latest message
    is remembered: a vehicle's fusion and ego-motion compensation get the same message one
    after the other (messages are never changed once published; the pose is frozen).
    """
    last = _LAST[0]  # one tuple: read and replaced whole (threads)
    if last is not None and last[0] is msg:
        return last[1]
    pose = _pose_from_odometry(msg)
    _LAST[0] = (msg, pose)
    return pose


def _pose_from_odometry(msg: Any) -> EgoPose:
    pose, twist = msg.pose.pose, msg.twist.twist
    q = pose.orientation
    yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
    vals = (pose.position.x, pose.position.y, yaw, twist.linear.x, twist.linear.y, twist.angular.z)
    if not all(math.isfinite(v) for v in vals):
        raise ObjectInputError(f'odometry at {m.to_ns(msg.header.stamp)} ns: non-finite {vals}')
    # the (x, y, yaw) block of the pose covariance and the (vx, vy) block of the twist's, as
    # floats: a dozen values, where array indexing and checks cost more than the values
    pc = np.asarray(msg.pose.covariance, dtype=float).ravel().tolist()
    tc = np.asarray(msg.twist.covariance, dtype=float).ravel().tolist()
    xx, xy, xh, yx, yy, yh, hx, hy, hh = (pc[i] for i in _POSE_FLAT)
    vxx, vxy, vyx, vyy = tc[0], tc[1], tc[6], tc[7]
    xx, yy, hh = _clean_var(xx, 1e-6), _clean_var(yy, 1e-6), _clean_var(hh, 1e-8)
    vxx, vyy = _clean_var(vxx, 1e-6), _clean_var(vyy, 1e-6)
    if not all(map(math.isfinite, (xy, xh, yx, yh, hx, hy, vxy, vyx))):
        raise ObjectInputError('odometry covariance: non-finite entries')
    pose_cov = np.array([[xx, xy, xh], [yx, yy, yh], [hx, hy, hh]])
    vel_cov = np.array([[vxx, vxy], [vyx, vyy]])
    return EgoPose(
        m.to_ns(msg.header.stamp), *vals[:2], yaw, vals[3], vals[4], vals[5], pose_cov, vel_cov
    )


class PoseBuffer:
    """The recent ego poses, looked up by stamp (nearest, then moved by its twist)."""

    def __init__(self, horizon_s: float = 2.0, max_gap_s: float = 0.25) -> None:
        self.horizon_ns = int(horizon_s * 1e9)
        self.max_gap_ns = int(max_gap_s * 1e9)
        self._stamps: list[int] = []
        self._poses: list[EgoPose] = []

    def add(self, pose: EgoPose) -> None:
        i = bisect.bisect_right(self._stamps, pose.stamp_ns)
        self._stamps.insert(i, pose.stamp_ns)
        self._poses.insert(i, pose)
        cut = bisect.bisect_left(self._stamps, self._stamps[-1] - self.horizon_ns)
        del self._stamps[:cut], self._poses[:cut]

    def _nearest(self, stamp_ns: int) -> tuple[int, int]:
        """Index of the pose nearest ``stamp_ns`` (the earlier on a tie) and its gap, ns."""
        stamps = self._stamps
        i = bisect.bisect_left(stamps, stamp_ns)
        if i == len(stamps) or (i > 0 and stamp_ns - stamps[i - 1] <= stamps[i] - stamp_ns):
            i -= 1
        return i, abs(stamps[i] - stamp_ns)

    def covers(self, stamp_ns: int) -> bool:
        """Whether ``lookup(stamp_ns)`` finds a pose (without making it)."""
        return bool(self._stamps) and self._nearest(stamp_ns)[1] <= self.max_gap_ns

    def lookup(self, stamp_ns: int) -> EgoPose:
        """Raises TransformError when no pose lies within ``max_gap_s`` of ``stamp_ns``."""
        if not self._stamps:
            raise TransformError('no odometry received yet')
        j, gap = self._nearest(stamp_ns)
        if gap > self.max_gap_ns:
            raise TransformError(
                f'no odometry within {self.max_gap_ns * 1e-9:.3f} s of {stamp_ns} ns '
                f'(nearest {gap * 1e-9:.3f} s away)'
            )
        return self._poses[j].at(stamp_ns)


def body_to_map(
    x_body: np.ndarray, p_body: np.ndarray, ego: EgoPose, *, velocity_relative: bool
) -> tuple[np.ndarray, np.ndarray]:
    """States (N, 4) and covariances (N, 4, 4) from base_link axes into the map.

    With ``velocity_relative`` the body velocities are relative to the moving ego (what a
    tracker in the vehicle frame measures): the ego's velocity and the ``ω × r`` term are added
    and the ego's velocity uncertainty folded in.
    """
    c, s = math.cos(ego.yaw_rad), math.sin(ego.yaw_rad)
    rot = np.array([[c, -s], [s, c]])
    drot = np.array([[-s, -c], [c, -s]])  # dR/dψ
    r = x_body[:, :2]
    v = x_body[:, 2:].copy()
    if velocity_relative:
        v[:, 0] += ego.vx_body_mps - ego.yaw_rate_rps * r[:, 1]
        v[:, 1] += ego.vy_body_mps + ego.yaw_rate_rps * r[:, 0]
    out = np.empty_like(x_body)
    out[:, :2] = r @ rot.T + (ego.x_m, ego.y_m)
    out[:, 2:] = v @ rot.T
    big = np.zeros((4, 4))
    big[:2, :2] = big[2:, 2:] = rot
    p = big @ p_body @ big.T
    n = x_body.shape[0]
    jac = np.zeros((n, 4, 3))  # d(map state)/d(xₑ, yₑ, ψ)
    jac[:, 0, 0] = jac[:, 1, 1] = 1.0
    jac[:, :2, 2] = r @ drot.T
    jac[:, 2:, 2] = v @ drot.T
    p = p + jac @ ego.pose_cov @ np.swapaxes(jac, 1, 2)
    if velocity_relative:
        p[:, 2:, 2:] += rot @ ego.vel_cov @ rot.T
    return out, 0.5 * (p + np.swapaxes(p, 1, 2))

"""ROS messages → scene records. Each returns None (or skips an element) for what is unusable;
the caller counts it. Times are ns on the component's clock.
"""

from __future__ import annotations

import math
from typing import Any

from v2x_nodes.hmi.scene import Advice, Ego, Phase, ShownWarning, Signal, Target
from v2x_runtime import messages as m


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """Yaw (rotation about z, ENU, rad) of a unit quaternion."""
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def ego_from_odometry(msg: Any, *, length_m: float, width_m: float) -> Ego | None:
    """nav_msgs/Odometry → Ego; None when the position or orientation is not finite."""
    pos, q = msg.pose.pose.position, msg.pose.pose.orientation
    values = (pos.x, pos.y, q.x, q.y, q.z, q.w)
    if not all(math.isfinite(v) for v in values) or q.x == q.y == q.z == q.w == 0.0:
        return None
    lin = msg.twist.twist.linear
    speed = math.hypot(lin.x, lin.y)
    return Ego(
        x_m=float(pos.x),
        y_m=float(pos.y),
        yaw_rad=yaw_from_quaternion(q.x, q.y, q.z, q.w),
        speed_mps=speed if math.isfinite(speed) else math.nan,
        length_m=length_m,
        width_m=width_m,
    )


DEFAULT_SIZE_M = {  # (length, width) by Participant class when the size is unknown
    0: (4.0, 1.8),
    1: (4.6, 1.9),
    2: (10.0, 2.5),
    3: (2.0, 0.8),
    4: (1.8, 0.6),
    5: (0.6, 0.6),
    6: (1.0, 1.0),
    7: (5.5, 2.1),
}


# The name of a sender-less target's origin in its key, by input topic (as the applications
# name their warnings' targets, v2x_nodes.applications.targets).
ORIGIN_NAMES = {'v2x/remote_vehicles': 'remote_vehicle', 'v2x/roadside_participants': 'roadside'}


def target_key(source_id: str, participant_id: int, topic: str) -> str:
    """``source_id:id``; without a source id, the origin's name: ``roadside:3``."""
    return f'{source_id or ORIGIN_NAMES.get(topic, topic)}:{participant_id}'


def target_from_participant(p: Any, topic: str) -> Target | None:
    """v2x_stack/Participant → Target; None when the position is not finite."""
    if not (math.isfinite(p.position.x) and math.isfinite(p.position.y)):
        return None
    length, width = float(p.size.x), float(p.size.y)
    if not (math.isfinite(length) and math.isfinite(width) and length > 0 and width > 0):
        length, width = DEFAULT_SIZE_M.get(int(p.participant_class), DEFAULT_SIZE_M[0])
    speed = math.hypot(p.velocity.x, p.velocity.y)
    yaw = float(p.heading_rad)
    return Target(
        key=target_key(p.source_id, int(p.id), topic),
        id=int(p.id),
        source_id=p.source_id,
        participant_class=int(p.participant_class),
        x_m=float(p.position.x),
        y_m=float(p.position.y),
        yaw_rad=yaw if math.isfinite(yaw) else 0.0,
        speed_mps=speed if math.isfinite(speed) else math.nan,
        length_m=length,
        width_m=width,
        source=int(p.source),
        trust=int(p.trust),
        topic=topic,
    )


def signal_from_spat(msg: Any, now_ns: int) -> Signal:
    """IntersectionState → Signal with the time left of each light counted to ``now_ns``."""
    age_s = (now_ns - m.to_ns(msg.header.stamp)) / 1e9
    phases = []
    for ph in msg.phases:
        likely = ph.likely_end_s if math.isfinite(ph.likely_end_s) else ph.min_end_s
        phases.append(
            Phase(
                phase_id=int(ph.phase_id),
                light=int(ph.light),
                remaining_s=_left(likely, age_s),
                min_remaining_s=_left(ph.min_end_s, age_s),
                max_remaining_s=_left(ph.max_end_s, age_s),
            )
        )
    phases.sort(key=lambda p: p.phase_id)
    return Signal(int(msg.region), int(msg.intersection_id), int(msg.status), tuple(phases))


def _left(end_s: float, age_s: float) -> float:
    if not math.isfinite(end_s):
        return math.nan
    return max(0.0, float(end_s) - age_s)


def warning_from_message(msg: Any) -> ShownWarning | None:
    """hmi/active_warning → ShownWarning; None for LEVEL_NONE (nothing shown)."""
    if msg.level == 0:
        return None
    return ShownWarning(
        application=msg.application,
        level=int(msg.level),
        target_id=msg.target_id,
        time_to_collision_s=float(msg.time_to_collision_s),
        distance_m=float(msg.distance_m),
        text=msg.text,
    )


def advice_from_message(msg: Any) -> Advice:
    return Advice(
        application=msg.application,
        min_speed_mps=float(msg.min_speed_mps),
        max_speed_mps=float(msg.max_speed_mps),
        recommended_speed_mps=float(msg.recommended_speed_mps),
        stop=bool(msg.stop),
        distance_m=float(msg.distance_m),
        phase_id=int(msg.phase_id),
        text=msg.text,
    )

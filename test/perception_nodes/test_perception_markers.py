"""Markers of a ParticipantArray: one builder for the detector, the tracker and the fusion.

The oracle is the construction the three used before they shared ``participant_markers``:
every message made with ``m.new`` and keywords; the shared builder (message classes, every
field given, parts shared) must serialise to the same bytes.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perception_nodes.fusion.conversions import fused_markers
from perception_nodes.markers import CLASS_COLOURS, MarkerThrottle, participant_markers
from v2x_runtime import messages as m

MARKER = 'visualization_msgs/msg/Marker'


def _quaternion_z(yaw_rad):
    return m.new('geometry_msgs/msg/Quaternion', z=math.sin(yaw_rad / 2), w=math.cos(yaw_rad / 2))


def _markers_plain(msg, namespace, lifetime_s, label_namespace=None):
    """participant_markers and the fusion's labels as first written, with m.new."""
    header = msg.header
    markers = [m.new(MARKER, header=header, ns=namespace, action=3)]
    sec = int(lifetime_s)
    life = m.new(
        'builtin_interfaces/msg/Duration', sec=sec, nanosec=round((lifetime_s - sec) * 1e9)
    )
    labels = []
    for p in msg.participants:
        r, g, b = CLASS_COLOURS.get(int(p.participant_class), CLASS_COLOURS[0])
        colour = m.new('std_msgs/msg/ColorRGBA', r=r, g=g, b=b, a=0.6)
        pose = m.new(
            'geometry_msgs/msg/Pose', position=p.position, orientation=_quaternion_z(p.heading_rad)
        )
        scale = m.new(
            'geometry_msgs/msg/Vector3',
            x=max(p.size.x, 0.1),
            y=max(p.size.y, 0.1),
            z=max(p.size.z, 0.1),
        )
        markers.append(
            m.new(
                MARKER,
                header=header,
                ns=namespace,
                id=2 * int(p.id),
                type=1,
                pose=pose,
                scale=scale,
                color=colour,
                lifetime=life,
            )
        )
        speed = math.hypot(p.velocity.x, p.velocity.y)
        if speed > 0.5:
            arrow_pose = m.new(
                'geometry_msgs/msg/Pose',
                position=p.position,
                orientation=_quaternion_z(math.atan2(p.velocity.y, p.velocity.x)),
            )
            markers.append(
                m.new(
                    MARKER,
                    header=header,
                    ns=namespace,
                    id=2 * int(p.id) + 1,
                    type=0,
                    pose=arrow_pose,
                    color=colour,
                    lifetime=life,
                    scale=m.new('geometry_msgs/msg/Vector3', x=speed, y=0.2, z=0.2),
                )
            )
        if label_namespace is None:
            continue
        position = m.new(
            'geometry_msgs/msg/Point',
            x=p.position.x,
            y=p.position.y,
            z=p.position.z + max(p.size.z, 1.0) + 0.5,
        )
        labels.append(
            m.new(
                MARKER,
                header=header,
                ns=label_namespace,
                id=int(p.id),
                type=9,
                pose=m.new('geometry_msgs/msg/Pose', position=position),
                scale=m.new('geometry_msgs/msg/Vector3', z=0.8),
                color=m.new('std_msgs/msg/ColorRGBA', r=1.0, g=1.0, b=1.0, a=0.9),
                text=f'{p.id}: {p.source_id}',
                lifetime=life,
            )
        )
    return m.new('visualization_msgs/msg/MarkerArray', markers=markers + labels)


def _participants(rng, n):
    parts = []
    for i in range(n):
        parts.append(
            m.new(
                'v2x_stack/msg/Participant',
                header=m.header(5, 'map'),
                id=int(rng.integers(0, 5000)) if i % 3 else i,
                participant_class=int(rng.integers(0, 10)),
                source_id=str(rng.choice(['', 'rsu1', 'onboard+rsu:rsu1'])),
                position=m.new(
                    'geometry_msgs/msg/Point', x=float(rng.uniform(-50, 50)), y=1.0, z=-0.5
                ),
                heading_rad=float(rng.choice([math.nan, rng.uniform(-4, 4)])),
                velocity=m.new(
                    'geometry_msgs/msg/Vector3',
                    x=float(rng.choice([0.0, 0.3, rng.normal(0, 5)])),
                    y=float(rng.normal(0, 0.3)),
                ),
                size=m.new(
                    'geometry_msgs/msg/Vector3',
                    x=float(rng.choice([0.0, -1.0, rng.uniform(0, 6)])),
                    y=1.8,
                    z=float(rng.choice([0.0, 1.5, 3.0])),
                ),
            )
        )
    return m.new('v2x_stack/msg/ParticipantArray', header=m.header(5, 'map'), participants=parts)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 8),
    seed=st.integers(0, 2**31),
    lifetime=st.sampled_from([0.3, 1.0, 2.5]),
    labelled=st.booleans(),
)
def test_shared_builder_serialises_as_the_m_new_construction(n, seed, lifetime, labelled):
    msg = _participants(np.random.default_rng(seed), n)
    label_ns = 'fused_label' if labelled else None
    fast = participant_markers(
        msg, namespace='tracked_objects', lifetime_s=lifetime, label_namespace=label_ns
    )
    plain = _markers_plain(msg, 'tracked_objects', lifetime, label_ns)
    assert m.serialize(fast) == m.serialize(plain)
    # the fusion's view is the same builder in its namespaces, with labels
    fused = fused_markers(msg, lifetime_s=lifetime)
    assert m.serialize(fused) == m.serialize(_markers_plain(msg, 'fused', lifetime, 'fused_label'))


def test_labels_follow_the_boxes_in_their_own_namespace():
    part = m.new(
        'v2x_stack/msg/Participant',
        id=7,
        source_id='rsu:r1',
        position=m.new('geometry_msgs/msg/Point', x=1.0, y=2.0, z=-3.0),
        velocity=m.new('geometry_msgs/msg/Vector3', x=2.0),
        size=m.new('geometry_msgs/msg/Vector3', x=4.0, y=1.8, z=0.4),
    )
    msg = m.new('v2x_stack/msg/ParticipantArray', participants=[part])
    markers = participant_markers(msg, namespace='a', label_namespace='b').markers
    assert [(mk.ns, mk.type, mk.id) for mk in markers] == [
        ('a', 0, 0), ('a', 1, 14), ('a', 0, 15), ('b', 9, 7)
    ]  # fmt: skip
    assert markers[0].action == 3 and markers[3].text == '7: rsu:r1'
    assert markers[3].pose.position.z == pytest.approx(-3.0 + 1.0 + 0.5)  # flat box: 1 m


def test_marker_throttle_lets_one_array_out_per_period():
    throttle = MarkerThrottle(period_s=0.5)
    stamps = [0, 100_000_000, 499_000_000, 500_000_000, 600_000_000, 200_000_000]
    # the stamp going back (a replay) lets one out at once
    assert [throttle.due(s) for s in stamps] == [True, False, False, True, False, True]
    assert throttle.lifetime_s == 1.0 and MarkerThrottle(0.0).lifetime_s == 0.3

"""Random and malformed inputs never crash the applications: every bad participant is
counted, every cycle runs. And the suite raises what the single-application component does."""

from __future__ import annotations

import math

from apps_cases import fcw
from apps_world import INTERSECTION, NS, ROAD, START_NS, odometry, run
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from v2x_nodes.applications import APPLICATIONS, ApplicationSuite
from v2x_nodes.applications.apps import ForwardCollisionWarning
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime

floats = st.one_of(st.floats(-500, 500), st.sampled_from([math.nan, math.inf, -math.inf, 1e300]))
participant = st.fixed_dictionaries({
    'id': st.integers(0, 5), 'cls': st.integers(0, 255), 'trust': st.integers(0, 255),
    'x': floats, 'y': floats, 'vx': floats, 'vy': floats, 'heading': floats,
    'length': floats, 'width': floats, 'stamp_ms': st.integers(-5000, 5000),
})  # fmt: skip


def _msg(t_ns: int, items: list[dict]) -> object:
    ps = []
    for it in items:
        stamp = max(t_ns + it['stamp_ms'] * 1_000_000, 0)
        ps.append(m.new(
            'v2x_stack/msg/Participant', header=m.header(stamp, 'map'), id=it['id'],
            participant_class=it['cls'], trust=it['trust'], source_id=f'{it["id"]:x}',
            position=m.new('geometry_msgs/msg/Point', x=it['x'], y=it['y']),
            velocity=m.new('geometry_msgs/msg/Vector3', x=it['vx'], y=it['vy']),
            heading_rad=it['heading'],
            size=m.new('geometry_msgs/msg/Vector3', x=it['length'], y=it['width']),
        ))  # fmt: skip
    return m.new('v2x_stack/msg/ParticipantArray', header=m.header(t_ns, 'map'), participants=ps)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)  # no long shrinking in CI
@given(st.lists(st.lists(participant, max_size=6), min_size=1, max_size=8))
def test_random_participants_never_crash(batches: list[list[dict]]) -> None:
    rt = EmbeddedRuntime(start_ns=START_NS, fail_fast=True)
    rt.add_component(ApplicationSuite, name='apps', namespace=NS,
                     parameters={'map_file': str(INTERSECTION)})  # fmt: skip
    for k, items in enumerate(batches):
        t_ns = START_NS + k * 100_000_000
        rt.publish(f'{NS}/localization/odometry', odometry(t_ns, -40.0, -5.25, 0.0, 10.0),
                   at_ns=t_ns)  # fmt: skip
        topic = 'remote_vehicles' if k % 2 else 'roadside_participants'
        rt.publish(f'{NS}/v2x/{topic}', _msg(t_ns, items), at_ns=t_ns)
    rt.run(duration_s=0.1 * len(batches) + 0.2)
    assert rt.handler_errors == 0
    counters = rt.contexts[0].diagnostics.counters
    bad = sum(1 for items in batches for it in items
              if not all(math.isfinite(it[k]) for k in ('x', 'y', 'vx', 'vy')))  # fmt: skip
    assert counters['rejected.missing_fields'] == bad


def test_suite_raises_what_the_single_component_raises() -> None:
    single = run(fcw(benign=False), [(ForwardCollisionWarning, {})], 6.0, map_path=ROAD)
    suite = run(fcw(benign=False), [(ApplicationSuite, {'applications': ['FCW', 'EBW']})], 6.0,
                map_path=ROAD)  # fmt: skip
    assert suite.first('FCW') == single.first('FCW')
    assert suite.raised('EBW')  # the same braking lead is an EBW as well
    assert set(APPLICATIONS) >= {'FCW', 'EBW', 'GLOSA', 'BSW', 'LCW'}

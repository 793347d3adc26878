"""Stale, misbehaving, unverified and single-message remote data never trigger a warning,
and are counted; emergency-brake commands only when allowed; configuration errors."""

from __future__ import annotations

from dataclasses import replace

import pytest
from apps_cases import fcw
from apps_world import (
    NS,
    ROAD,
    START_NS,
    TRUST_MISBEHAVING,
    TRUST_UNVERIFIED,
    odometry,
    run,
)

from v2x_nodes.applications import ApplicationSuite, ConfigError
from v2x_nodes.applications.apps import ForwardCollisionWarning
from v2x_runtime import messages as m
from v2x_runtime.embedded import EmbeddedRuntime


def _fcw(params=None, **actor_changes):
    world = fcw(benign=False)
    world.actors[0] = replace(world.actors[0], **actor_changes)
    return run(world, [(ForwardCollisionWarning, params or {})], 6.0, map_path=ROAD)


def test_reference_case_warns() -> None:
    assert _fcw().raised('FCW')


def test_misbehaving_sender_is_ignored_and_counted() -> None:
    result = _fcw(trust=TRUST_MISBEHAVING)
    assert not result.raised('FCW')
    assert result.counter('app0', 'untrusted_targets') > 0


def test_stale_reports_are_ignored_and_counted() -> None:
    result = _fcw(latency_s=1.5)  # every report arrives 1.5 s old (max_age_s 1.0)
    assert not result.raised('FCW')
    assert result.counter('app0', 'stale_targets') > 0


def test_unverified_data_with_verification_required() -> None:
    assert _fcw(trust=TRUST_UNVERIFIED).raised('FCW')  # verification off: warns
    result = _fcw({'require_verified': True}, trust=TRUST_UNVERIFIED)
    assert not result.raised('FCW')
    assert result.counter('app0', 'untrusted_targets') > 0


def test_a_single_verified_message_never_warns() -> None:
    """One BSM of a vehicle already stopped right ahead: a collision within the TTC, but
    with require_verified one message is not enough."""
    world = fcw(benign=False)
    world.actors[0] = replace(world.actors[0], until_s=0.05)
    world.actors[0].mover.start_m = 150.0
    world.actors[0].mover.speed_mps = 0.0
    params = {'require_verified': True, 'max_age_s': 5.0, 'expire_s': 10.0}
    assert not run(world, [(ForwardCollisionWarning, params)], 3.0, map_path=ROAD).raised('FCW')
    params['require_verified'] = False
    assert run(world, [(ForwardCollisionWarning, params)], 3.0, map_path=ROAD).raised('FCW')


def test_missing_fields_are_counted() -> None:
    """A participant with a NaN position is rejected and counted; no own state: no cycle."""
    rt = EmbeddedRuntime(start_ns=START_NS)
    rt.add_component(ForwardCollisionWarning, name='fcw', namespace=NS)
    bad = m.new('v2x_stack/msg/Participant', header=m.header(START_NS, 'map'), id=1,
                position=m.new('geometry_msgs/msg/Point', x=float('nan')))  # fmt: skip
    rt.publish(f'{NS}/v2x/remote_vehicles',
               m.new('v2x_stack/msg/ParticipantArray', header=m.header(START_NS, 'map'),
                     participants=[bad]))  # fmt: skip
    rt.run(duration_s=0.5)
    assert rt.contexts[0].diagnostics.counters['rejected.missing_fields'] == 1
    assert rt.contexts[0].diagnostics.counters['no_ego_state'] > 0
    assert rt.handler_errors == 0


def test_brake_commands_only_when_allowed() -> None:
    assert _fcw().commands == []
    result = _fcw({'send_brake_commands': True})
    assert result.commands, 'no brake advice on a CRITICAL FCW'
    cmd = result.commands[0]
    assert cmd.source == 'v2x'
    assert -6.0 <= cmd.acceleration_mps2 <= -2.0
    critical = [w for w in result.raised('FCW') if w.level == 4]
    assert critical and critical[0].header.stamp == cmd.header.stamp


def test_unknown_application_fails_at_start() -> None:
    rt = EmbeddedRuntime()
    with pytest.raises(ConfigError, match='XYZ'):
        rt.add_component(ApplicationSuite, name='apps', parameters={'applications': ['FCW', 'XYZ']})


def test_bad_map_file_fails_at_start(tmp_path) -> None:
    rt = EmbeddedRuntime()
    with pytest.raises(ConfigError, match='map_file'):
        rt.add_component(ForwardCollisionWarning, name='fcw',
                         parameters={'map_file': str(tmp_path / 'missing.osm')})  # fmt: skip


def test_threshold_out_of_range_fails_at_start() -> None:
    from v2x_runtime import ParameterError

    rt = EmbeddedRuntime()
    with pytest.raises(ParameterError, match='fcw_ttc_warning_s'):
        rt.add_component(ForwardCollisionWarning, name='fcw',
                         parameters={'fcw_ttc_warning_s': 100.0})  # fmt: skip


def test_a_republished_report_is_not_a_second_message() -> None:
    """v2x_rx republishes each sender's latest state: the same stamp twice is one message."""
    rt = EmbeddedRuntime(start_ns=START_NS)
    rt.add_component(ForwardCollisionWarning, name='fcw', namespace=NS,
                     parameters={'require_verified': True, 'map_file': str(ROAD)})  # fmt: skip
    stopped = m.new('v2x_stack/msg/Participant', header=m.header(START_NS, 'map'), id=3,
                    source_id='00000003', trust=1, participant_class=1,
                    position=m.new('geometry_msgs/msg/Point', x=130.0, y=-1.75))  # fmt: skip
    arr = m.new('v2x_stack/msg/ParticipantArray', header=m.header(START_NS, 'map'),
                participants=[stopped])  # fmt: skip
    warnings: list = []
    rt.subscribe(f'{NS}/v2x/warnings', 'v2x_stack/msg/Warning', warnings.append)
    for k in range(20):
        t_ns = START_NS + k * 100_000_000
        rt.publish(
            f'{NS}/localization/odometry',
            odometry(t_ns, 100.0 + 10.0 * k * 0.1, -1.75, 0.0, 10.0),
            at_ns=t_ns,
        )
        rt.publish(f'{NS}/v2x/remote_vehicles', arr, at_ns=t_ns)  # the same report each time
    rt.run(duration_s=2.0)
    counters = rt.contexts[0].diagnostics.counters
    assert counters['repeated_reports'] >= 15
    assert counters['rejected.out_of_order'] == 0
    assert warnings == []  # one verified message only: never a warning
